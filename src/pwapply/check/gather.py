"""`pwapply check` against the sources: group the commits by series (recorded at apply
time, or looked up once per series), ask each series' facts once, judge each commit by
the rules (rules.py).  Requests grow with the number of series, not of commits; a range
with no trailer of ours makes no request at all, and loads no configuration.  The whole
check is bounded by --timeout: a source that does not answer in time is reported, not
waited for.

Whose series a commit is: the record's, else the Patchwork server its Link names (or the
configured one); a Message-ID Patchwork does not know is looked up in the archive its
Link names, if it names one.
"""

from __future__ import annotations

from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple, Union

from .. import process, record, threads
from ..frozen import frozen
from ..sources.keys import Key, Known, Want
from .rules import Commit, Finding, Report, archived_links, judge, links, lost_trailers, per_series

if TYPE_CHECKING:
    from ..sources.policy import Sources  # made by the caller, with the configuration

Item = Tuple[Commit, str, Optional[Known]]  # a commit, the Message-ID it names, its series when recorded


@frozen
class Context:
    """What the check needs from the configuration, read only when a commit calls for it."""

    severities: Mapping[str, str]  # check name -> error | warn | off
    server: Optional[str]
    sources: "Sources"


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
    groups: Dict[Tuple[str, str], List[Item]] = {}
    serverless: Set[str] = set()
    for c, server, msgid in wanted:
        applied = data.lookup(msgid)
        if applied is not None:
            groups.setdefault(applied.key.source, []).append((c, msgid, applied.series))
            continue
        target = server or ctx.server
        if target:
            groups.setdefault(ctx.sources.named_by_link(target), []).append((c, msgid, None))
        else:
            serverless.add(c.id)
    report.no_server = len(serverless)
    results: Dict[Tuple[str, str], Union[List[Finding], Exception]] = {}
    in_archive: Dict[str, str] = {m: a for c, _, _ in wanted for m, a in archived_links(c.message).items()}
    missed: List[Item] = []  # Message-IDs their source does not know
    rerouted: Dict[Tuple[str, str], List[Item]] = {}  # ... looked up in the archive their Link names

    def work() -> None:
        for source, items in groups.items():
            try:
                results[source] = _ask(ctx, source, items, sev, missed)
            except Exception as exc:  # noqa: BLE001 - any failure means: could not check
                results[source] = exc
        for c, msgid, _ in missed:
            if msgid in in_archive:
                rerouted.setdefault(ctx.sources.archive_of(in_archive[msgid]), []).append((c, msgid, None))
        for source, items in rerouted.items():
            try:
                results[source] = _ask(ctx, source, items, sev, None)
            except Exception as exc:  # noqa: BLE001 - any failure means: could not check
                results[source] = exc

    try:
        process.result(threads.in_thread(work, "pwapply-check"), timeout, what="check")
    except FutureTimeout:
        pass  # the sources that did not answer are told below
    elsewhere = {c.id for c, m, _ in missed if m in in_archive}
    unknown = sorted({m for _, m, _ in missed if m not in in_archive})
    if unknown:  # neither Patchwork nor an archive named by its Link knows it: said, not judged
        report.unreachable.append(
            f"{len(unknown)} Message-ID(s) no server knows (<{unknown[0]}>"
            + (f" and {len(unknown) - 1} more" if len(unknown) > 1 else "")
            + "): not checked"
        )
    for source, items in [*groups.items(), *rerouted.items()]:
        host = source[1].split("://", 1)[-1]
        outcome = results.get(source)
        many = len({c.id for c, _, _ in items} - (set() if source in rerouted else elsewhere))
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


def _ask(
    ctx: Context,
    where: Tuple[str, str],
    items: Sequence[Item],
    sev: Mapping[str, str],
    missed: Optional[List[Item]],
) -> List[Finding]:
    """The commits of one source, judged by what it says of their series: those
    recorded, and those it finds by their Message-IDs (once a series).  A Message-ID it
    does not know goes to ``missed`` (when given, else it is left unjudged)."""
    source = ctx.sources.of(*where)
    host = where[1].split("://", 1)[-1]
    want = Want(newer=sev["superseded"] != "off", tags=sev["tags"] != "off" or sev["nacked"] != "off")
    found = source.locate([m for _, m, k in items if k is None])
    series: Dict[Key, Known] = {}
    of: Dict[str, Key] = {}
    for c, msgid, known in items:
        if known is None:
            key = found.get(msgid)
            if key is None:
                if missed is not None:
                    missed.append((c, msgid, None))
                continue
            known = series.get(key) or Known(key, 0)
        series.setdefault(known.key, known)
        of[msgid] = known.key
    facts = source.facts(list(series.values()), want)
    out: List[Finding] = []
    for commit, msgid, _ in items:
        key = of.get(msgid)
        if key is not None and key in facts:
            out.extend(judge(commit, msgid, facts[key], sev, host))
    return out
