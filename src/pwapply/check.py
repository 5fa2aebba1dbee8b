"""`pwapply check`: is what is about to be pushed still the latest, accepted version of
each series, with every review tag?

For each commit whose Link or Message-ID trailer names a patch:

1. superseded: a newer version of its series exists                       (error)
2. its state is rejected/superseded/changes-requested/not-applicable       (error)
   rfc/deferred                                                             (warning)
3. review tags given on the list (to the patch, or to the cover letter)
   that the commit lacks                                                    (warning)
4. CI checks on Patchwork failed                                            (warning)
5. a commit pwapply applied has lost its trailer (no server needed)         (error)

Requests grow with the number of series, not of commits: the series of each Message-ID
is taken from what pwapply recorded when it applied it, and looked up only when unknown
(one lookup per series: the series' patch list names its other Message-IDs).  A range
with no such trailer makes no request at all, and imports no HTTP library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from . import record, trailers
from .resolve import MSGID, resolve

if TYPE_CHECKING:
    from .patchwork import PatchState, PatchworkClient, Series

CHECKS = ("superseded", "state", "tags", "checks", "trailer")
DEFAULT_SEVERITY = {"superseded": "error", "state": "error", "tags": "warn", "checks": "warn", "trailer": "error"}
BAD_STATES = {"rejected", "superseded", "changes-requested", "not-applicable"}
DOUBTFUL_STATES = {"rfc", "deferred"}
LINK_KEYS = ("link", "message-id")


@dataclass(frozen=True)
class Commit:
    id: str
    author: str  # "Name <email> 1700000000 +0000"
    subject: str
    message: str


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warn
    commit: str
    subject: str
    problem: str
    todo: str

    def line(self) -> str:
        label = "error" if self.severity == "error" else "warning"
        return f"{label}: {self.commit[:12]} {self.subject}: {self.problem}; {self.todo}"


@dataclass
class Report:
    findings: List[Finding] = field(default_factory=list)
    unreachable: List[str] = field(default_factory=list)  # servers that could not be asked
    checked: int = 0  # commits with a trailer

    def errors(self, strict: bool) -> bool:
        return any(f.severity == "error" for f in self.findings) or (strict and bool(self.unreachable))


# ------------------------------------------------------------------ pure parts


def links(message: str) -> List[Tuple[Optional[str], str]]:
    """(server or None, msgid) for each Link/Message-ID trailer that names a patch."""
    out: List[Tuple[Optional[str], str]] = []
    for t in trailers.existing(message) + trailers.below_title(message):
        if t.key.lower() not in LINK_KEYS:
            continue
        value = t.value.strip()
        try:
            ref = resolve(value)
        except Exception:  # not a form we know: not ours
            continue
        if ref.kind == MSGID and (ref.value not in [m for _, m in out]):
            out.append((ref.server, ref.value))
    return out


def severities(gitconfig: Mapping[str, str]) -> Dict[str, str]:
    out = dict(DEFAULT_SEVERITY)
    for name in CHECKS:
        value = gitconfig.get(f"pwapply.check.{name}")
        if value:
            value = value.strip().lower()
            out[name] = {"warning": "warn", "false": "off", "none": "off"}.get(value, value)
            if out[name] not in ("error", "warn", "off"):
                out[name] = DEFAULT_SEVERITY[name]
    return out


def lost_trailers(commits: Sequence[Commit], data: Dict[str, Any]) -> List[Tuple[Commit, str]]:
    """Commits pwapply made (same author line and subject) that have no Link any more."""
    if not data.get("commits"):
        return []
    found = []
    for c in commits:
        msgid = record.lost_trailer_msgid(data, c.author, c.subject)
        if msgid and not links(c.message):
            found.append((c, msgid))
    return found


@dataclass
class Facts:
    """What the server says about one series."""

    series: "Series"
    newer: Optional["Series"] = None
    patches: Dict[str, "PatchState"] = field(default_factory=dict)  # msgid -> state
    tags: Dict[str, List[trailers.Trailer]] = field(default_factory=dict)  # msgid -> tags on the list


def judge(commit: Commit, msgid: str, facts: Facts, sev: Mapping[str, str], host: str) -> List[Finding]:
    out: List[Finding] = []
    s = facts.series
    if facts.newer is not None and sev["superseded"] != "off":
        n = facts.newer
        out.append(
            Finding(
                sev["superseded"],
                commit.id,
                commit.subject,
                f"v{s.version} (series {s.id}) is superseded by v{n.version} (series {n.id})",
                f"apply the new version: pwapply {n.id}",
            )
        )
    state = facts.patches.get(msgid)
    if state is not None and sev["state"] != "off":
        if state.state in BAD_STATES:
            out.append(
                Finding(
                    sev["state"],
                    commit.id,
                    commit.subject,
                    f"is '{state.state}' on {host}",
                    "drop it from the push, or ask why: " + (state.web_url or f"series {s.id}"),
                )
            )
        elif state.state in DOUBTFUL_STATES:
            out.append(
                Finding(
                    "warn", commit.id, commit.subject, f"is '{state.state}' on {host}", "make sure it is meant to go in"
                )
            )
    if state is not None and state.check == "fail" and sev["checks"] != "off":
        out.append(
            Finding(
                sev["checks"],
                commit.id,
                commit.subject,
                f"CI checks failed on {host}",
                "look at them before pushing: " + (state.web_url or f"series {s.id}"),
            )
        )
    if sev["tags"] != "off":
        have = trailers.existing(commit.message) + trailers.below_title(commit.message)
        missing = [t for t in facts.tags.get(msgid, []) if not any(t.same_as(h) for h in have)]
        if missing:
            out.append(
                Finding(
                    sev["tags"],
                    commit.id,
                    commit.subject,
                    "lacks " + ", ".join(t.line() for t in missing),
                    f"re-apply to collect them: pwapply {s.id} -b <new branch>",
                )
            )
    return out


# ------------------------------------------------------------------ the check


ClientFactory = Callable[[str], "PatchworkClient"]


@dataclass(frozen=True)
class Context:
    """What the check needs from the configuration, read only when a commit calls for it."""

    gitconfig: Mapping[str, str]
    server: Optional[str]
    project: Optional[str]


def run(
    commits: Sequence[Commit],
    *,
    common_dir: str,
    load_context: Callable[[], Context],
    client_for: ClientFactory,
    offline: bool,
    timeout: float,
) -> Report:
    report = Report()
    data = record.load(common_dir)
    lost = lost_trailers(commits, data)
    wanted: List[Tuple[Commit, Optional[str], str]] = []
    for c in commits:
        for server, msgid in links(c.message):
            wanted.append((c, server, msgid))
    report.checked = len({c.id for c, _, _ in wanted})
    if not lost and not wanted:
        return report  # nothing of ours: no config, no network
    ctx = load_context()
    sev = severities(ctx.gitconfig)
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
    serverless: Set[str] = set()
    for c, server, msgid in wanted:
        applied = record.lookup(data, msgid)
        target = server or (applied.server if applied else None) or default_server
        if target:
            by_server.setdefault(target.rstrip("/"), []).append((c, msgid))
        else:
            serverless.add(c.id)
    if serverless:
        report.unreachable.append(
            f"no Patchwork server for {len(serverless)} commit(s) whose Link names none (git config pwapply.server URL)"
        )
    results: Dict[str, Any] = {}

    def work() -> None:
        for server, items in by_server.items():
            try:
                results[server] = _ask(client_for(server), server, items, data, project, sev)
            except Exception as exc:  # noqa: BLE001 - any failure means: could not check
                results[server] = exc

    from concurrent.futures import TimeoutError as FutureTimeout

    from . import process

    try:
        process.result(process.in_thread(work, "pwapply-check"), timeout, what="check")
    except FutureTimeout:
        pass  # the servers that did not answer are told below
    for server in by_server:
        host = server.split("://", 1)[-1]
        outcome = results.get(server)
        if outcome is None:
            report.unreachable.append(f"{host} did not answer within {timeout:g} s")
        elif isinstance(outcome, BaseException):
            report.unreachable.append(f"{host}: {getattr(outcome, 'message', None) or outcome}")
        else:
            report.findings.extend(outcome)
    return report


def _ask(
    client: "PatchworkClient",
    server: str,
    items: Sequence[Tuple[Commit, str]],
    data: Dict[str, Any],
    project: Optional[str],
    sev: Mapping[str, str],
) -> List[Finding]:
    """Group the commits by series (recorded, or looked up once per series) and judge."""

    from . import mbox
    from .patchwork import request_pool
    from .versions import find, order_key

    host = server.split("://", 1)[-1]
    with client:
        series_of: Dict[str, int] = {}
        for _, msgid in items:
            applied = record.lookup(data, msgid)
            if applied is not None and applied.server.rstrip("/") == server:
                series_of[msgid] = applied.series_id
        facts: Dict[int, Facts] = {}

        def gather(sid: int) -> Facts:
            s = client.series(sid)
            f = Facts(series=s)
            with request_pool() as pool:
                versions = pool.submit(find, client, s) if sev["superseded"] != "off" else None
                states = pool.submit(client.patch_states, sid)
                want_tags = sev["tags"] != "off"
                box = pool.submit(client.series_mbox, sid) if want_tags else None
                comments = pool.submit(client.cover_comments, s.cover.id) if want_tags and s.cover else None
                if versions is not None:
                    newer = [v for v in versions.result() if order_key(v) > order_key(s)]
                    f.newer = max(newer, key=order_key) if newer else None
                f.patches = {p.msgid: p for p in states.result()}
                cover_tags: List[trailers.Trailer] = []
                for body in comments.result() if comments else ():
                    cover_tags += [
                        t for t in trailers.tags_from_reply(body) if not any(t.same_as(o) for o in cover_tags)
                    ]
                if box is not None:
                    for p in mbox.read(box.result(), reorder=False).patches:
                        text = p.raw.decode("utf-8", "replace").split("\n---", 1)[0]
                        f.tags[p.msgid] = trailers.tags_from_reply(text) + cover_tags
            return f

        pending = [m for _, m in items if m not in series_of]
        for msgid in pending:
            if msgid in series_of:
                continue  # learnt from an earlier lookup's patch list
            sid, _ = client.series_of_msgid(msgid, project, cover_first=False)
            facts[sid] = gather(sid)
            for other in facts[sid].patches:
                series_of.setdefault(other, sid)
            series_of.setdefault(msgid, sid)
        for sid in sorted(set(series_of.values()) - set(facts)):
            facts[sid] = gather(sid)
        out: List[Finding] = []
        for commit, msgid in items:
            known = series_of.get(msgid)
            if known is not None:
                out.extend(judge(commit, msgid, facts[known], sev, host))
        return out
