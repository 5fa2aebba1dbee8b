"""`pwapply check` against the servers: group the commits by series (recorded at apply
time, or looked up once per series), ask each series' facts once, judge each commit by
the rules (rules.py).  Requests grow with the number of series, not of commits; a range
with no trailer of ours makes no request at all, and loads no configuration.  The whole
check is bounded by --timeout: a server that does not answer in time is reported, not
waited for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple, Union

from .. import process, record, threads
from ..errors import NotFoundError
from .rules import Commit, Finding, Report, archived_links, judge, links, lost_trailers, per_series

if TYPE_CHECKING:
    from ..archive.client import ArchiveClient
    from ..patchwork.client import Connection, PatchworkClient
    from ..patchwork.models import SeriesFacts


@dataclass(frozen=True)
class Context:
    """What the check needs from the configuration, read only when a commit calls for it."""

    severities: Mapping[str, str]  # check name -> error | warn | off
    server: Optional[str]
    project: Optional[str]
    conn: "Connection"


def run(
    commits: Sequence[Commit],
    *,
    common_dir: str,
    load_context: Callable[[], Context],
    offline: bool,
    timeout: float,
) -> Report:
    report = Report()
    data = record.load(common_dir)
    lost = lost_trailers(commits, data.lost_trailer_msgid)
    wanted: List[Tuple[Commit, Optional[str], str]] = []
    for c in commits:
        for server, msgid in links(c.message):
            wanted.append((c, server, msgid))
    report.commits = len(commits)
    report.ours = len({c.id for c, _, _ in wanted} | {c.id for c, _ in lost})
    if not lost and not wanted:
        return report  # nothing of ours: no config, no network
    ctx = load_context()
    sev = ctx.severities
    if sev["trailer"] != "off":
        for c, msgid in lost:
            report.findings.append(
                Finding(
                    sev["trailer"],
                    c.id,
                    c.subject,
                    f"pwapply applied it from <{msgid}> but its Link trailer is gone",
                    "put the trailer back (git rebase -i, reword) or re-apply the series",
                )
            )
    if offline or not wanted or all(sev[k] == "off" for k in ("superseded", "state", "tags", "checks")):
        return report
    default_server, project = ctx.server, ctx.project
    by_server: Dict[str, List[Tuple[Commit, str]]] = {}
    archives: Set[str] = set()  # the keys of by_server that are list archives
    serverless: Set[str] = set()
    for c, server, msgid in wanted:
        applied = data.lookup(msgid)
        if applied is not None and applied.archive is not None:  # applied from the list's archive
            archives.add(applied.server.rstrip("/"))
            by_server.setdefault(applied.server.rstrip("/"), []).append((c, msgid))
            continue
        target = server or (applied.server if applied else None) or default_server
        if target:
            by_server.setdefault(target.rstrip("/"), []).append((c, msgid))
        else:
            serverless.add(c.id)
    report.no_server = len(serverless)
    results: Dict[str, Union[List[Finding], Exception]] = {}
    in_archive: Dict[str, str] = {m: a for c, _, _ in wanted for m, a in archived_links(c.message).items()}
    missed: List[Tuple[Commit, str]] = []  # Message-IDs Patchwork does not know
    rerouted: Dict[str, List[Tuple[Commit, str]]] = {}  # ... looked up in the archive their Link names

    def work() -> None:
        for server, items in by_server.items():
            try:
                if server in archives:
                    results[server] = _ask_archive(ctx.conn.archive(server), items, data, sev)
                else:
                    results[server] = _ask(ctx.conn.client(server), server, items, data, project, sev, missed)
            except Exception as exc:  # noqa: BLE001 - any failure means: could not check
                results[server] = exc
        for c, msgid in missed:
            if msgid in in_archive:
                rerouted.setdefault(in_archive[msgid].rstrip("/"), []).append((c, msgid))
        for archive, items in rerouted.items():
            try:
                results[archive] = _ask_archive(ctx.conn.archive(archive), items, data, sev)
            except Exception as exc:  # noqa: BLE001 - any failure means: could not check
                results[archive] = exc

    from concurrent.futures import TimeoutError as FutureTimeout

    try:
        process.result(threads.in_thread(work, "pwapply-check"), timeout, what="check")
    except FutureTimeout:
        pass  # the servers that did not answer are told below
    elsewhere = {c.id for c, m in missed if m in in_archive}
    unknown = sorted({m for _, m in missed if m not in in_archive})
    if unknown:  # neither Patchwork nor an archive named by its Link knows it: said, not judged
        report.unreachable.append(
            f"{len(unknown)} Message-ID(s) no server knows (<{unknown[0]}>"
            + (f" and {len(unknown) - 1} more" if len(unknown) > 1 else "")
            + "): not checked"
        )
    for server, items in [*by_server.items(), *rerouted.items()]:
        host = server.split("://", 1)[-1]
        outcome = results.get(server)
        many = len({c.id for c, _ in items} - (set() if server in rerouted else elsewhere))
        counted = f"{many} commit{'s' if many != 1 else ''}"
        if outcome is None:
            report.unreachable.append(f"{host} (no answer within {timeout:g} s): {counted}")
        elif isinstance(outcome, BaseException):
            report.unreachable.append(f"{host} ({getattr(outcome, 'message', None) or outcome}): {counted}")
        else:
            report.findings.extend(outcome)
            report.checked += many
    report.findings = per_series(report.findings)
    return report


def _ask_archive(
    client: "ArchiveClient", items: Sequence[Tuple[Commit, str]], data: record.Record, sev: Mapping[str, str]
) -> List[Finding]:
    """The commits applied from the list's archive, judged by what their threads say
    now (and the later versions their senders posted)."""
    from ..archive.facts import gather
    from ..record import ArchiveSeries

    newer = sev["superseded"] != "off"
    with client:
        # Recorded at apply: each series' thread and its sender's later posts, all at once.
        recorded = {m: a for _, m in items for a in [data.lookup(m)] if a is not None and a.archive is not None}
        series = {a.archive.root: (a.archive, a.version) for a in recorded.values() if a.archive is not None}
        facts = gather(client, list(series.values()), newer)
        by_msgid: Dict[str, "SeriesFacts"] = {
            m: facts[a.archive.root] for m, a in recorded.items() if a.archive is not None and a.archive.root in facts
        }
        # Else (a Link to the archive, the series unknown to Patchwork): the thread of the
        # commit's patch, once for all the patches of its series.
        for _, msgid in items:
            if msgid in by_msgid or msgid in recorded:
                continue
            got = gather(client, [(ArchiveSeries(msgid, "", ""), 0)], newer).get(msgid)
            if got is not None:
                by_msgid.update({m: got for m in got.tags})
                by_msgid[msgid] = got
        out: List[Finding] = []
        for commit, msgid in items:
            if msgid in by_msgid:
                out.extend(judge(commit, msgid, by_msgid[msgid], sev, client.host))
        return out


def _ask(
    client: "PatchworkClient",
    server: str,
    items: Sequence[Tuple[Commit, str]],
    data: record.Record,
    project: Optional[str],
    sev: Mapping[str, str],
    missed: Optional[List[Tuple[Commit, str]]] = None,
) -> List[Finding]:
    """Group the commits by series (recorded, or looked up once per series) and judge.
    A Message-ID the server does not know goes to ``missed`` (when given)."""
    from ..facts import Want, gather

    host = server.split("://", 1)[-1]
    want = Want(newer=sev["superseded"] != "off", tags=sev["tags"] != "off" or sev["nacked"] != "off")
    with client:
        series_of: Dict[str, int] = {}
        for _, msgid in items:
            applied = data.lookup(msgid)
            if applied is not None and applied.server.rstrip("/") == server:
                series_of[msgid] = applied.series_id
        facts: Dict[int, SeriesFacts] = {}
        for msgid in [m for _, m in items if m not in series_of]:
            if msgid in series_of:
                continue  # learnt from an earlier lookup's patch list
            try:
                sid, _ = client.series_of_msgid(msgid, project, cover_first=False)
            except NotFoundError:
                if missed is None:
                    raise
                missed.extend((c, m) for c, m in items if m == msgid)
                continue
            facts.update(gather(client, [sid], want))
            for other in facts[sid].patches:
                series_of.setdefault(other, sid)
            series_of.setdefault(msgid, sid)
        facts.update(gather(client, sorted(set(series_of.values()) - set(facts)), want))
        out: List[Finding] = []
        for commit, msgid in items:
            known = series_of.get(msgid)
            if known is not None:
                out.extend(judge(commit, msgid, facts[known], sev, host))
        return out
