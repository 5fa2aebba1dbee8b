"""The rules of `pwapply check`, pure (no I/O): which trailers name a patch, how severe
each check is, and what the server's facts about a series say of one commit.

1. superseded: a newer version of its series exists                       (error)
2. its state is rejected/superseded/changes-requested/not-applicable       (error)
   rfc/deferred                                                             (warning)
3. review tags given on the list (to the patch, or to the cover letter)
   that the commit lacks                                                    (warning)
4. CI checks on Patchwork failed                                            (warning)
5. a commit pwapply applied has lost its trailer (no server needed)         (error)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

from .. import trailers
from ..errors import PwapplyError
from ..frozen import frozen
from ..resolve import MSGID, resolve

if TYPE_CHECKING:
    from ..sources.model import Facts  # the model, beyond the keys, is loaded where facts are asked


class Commit(Protocol):
    """What the rules read of a commit (git/repo.py's Commit has it)."""

    @property
    def id(self) -> str: ...
    @property
    def author(self) -> str: ...  # "Name <email> 1700000000 +0000"
    @property
    def subject(self) -> str: ...
    @property
    def message(self) -> str: ...


CHECKS = ("superseded", "state", "nacked", "tags", "checks", "trailer")
DEFAULT_SEVERITY = {
    "superseded": "error",
    "state": "error",
    "nacked": "error",
    "tags": "warn",
    "checks": "warn",
    "trailer": "error",
}
BAD_STATES = {"rejected", "superseded", "changes-requested", "not-applicable"}
DOUBTFUL_STATES = {"rfc", "deferred"}


@frozen
class Finding:
    severity: str  # error | warn
    commit: str
    subject: str
    problem: str
    todo: str
    series: str = ""  # "series 500888 v1" for a finding about the whole series (told once for it)
    commits: int = 1  # how many commits a series' finding stands for

    def line(self) -> str:
        label = "error" if self.severity == "error" else "warning"
        if self.series:
            many = f"{self.commits} commit{'s' if self.commits != 1 else ''}"
            return f"{label}: {self.series}, {many}: {self.problem}; {self.todo}"
        return f"{label}: {self.commit[:12]} {self.subject}: {self.problem}; {self.todo}"


def per_series(findings: Sequence[Finding]) -> List[Finding]:
    """A finding about a whole series once for it, with how many of the commits it
    stands for (a push of a superseded 44-patch series is one line, not 44), where the
    first of them stood."""
    out: List[Finding] = []
    seen: Dict[Tuple[str, str], int] = {}
    for f in findings:
        if not f.series:
            out.append(f)
            continue
        key = (f.series, f.problem)
        if key in seen:
            first = out[seen[key]]
            out[seen[key]] = Finding(**{**first.__dict__, "commits": first.commits + 1})
        else:
            seen[key] = len(out)
            out.append(f)
    return out


@dataclass
class Report:
    findings: List[Finding] = field(default_factory=list)
    unreachable: List[str] = field(default_factory=list)  # "host (why): N commits" of servers not asked
    no_server: int = 0  # commits naming a patch, with no server known to ask
    commits: int = 0  # commits looked at
    ours: int = 0  # of them, those naming a patch (or applied by pwapply)
    checked: int = 0  # of them, those a server was asked about

    def errors(self, strict: bool) -> bool:
        unchecked = bool(self.unreachable) or self.no_server > 0
        return any(f.severity == "error" for f in self.findings) or (strict and unchecked)


# ------------------------------------------------------------------ pure parts


def links(message: str) -> List[Tuple[Optional[str], str]]:
    """(server or None, msgid) for each Link/Message-ID trailer that names a patch."""
    out: List[Tuple[Optional[str], str]] = []
    for t in trailers.existing(message) + trailers.below_title(message):
        if t.key.lower() not in trailers.LINK_KEYS:
            continue
        value = t.value.strip()
        try:
            ref = resolve(value)
        except (PwapplyError, ValueError):  # not a form we know: not ours
            continue
        if ref.kind == MSGID and (ref.value not in [m for _, m in out]):
            out.append((ref.server, ref.value))
    return out


def archived_links(message: str) -> Dict[str, str]:
    """msgid -> the list archive a Link trailer names it in (``https://host/<inbox>/<msgid>/``),
    for looking a commit up there when Patchwork does not know it."""
    out: Dict[str, str] = {}
    for t in trailers.existing(message) + trailers.below_title(message):
        if t.key.lower() not in trailers.LINK_KEYS:
            continue
        try:
            ref = resolve(t.value.strip())
        except (PwapplyError, ValueError):  # not a form we know: not ours
            continue
        if ref.kind == MSGID and ref.archive:
            out.setdefault(ref.value, ref.archive)
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


def lost_trailers(
    commits: Sequence[Commit], made_from: Callable[[str, str], Optional[str]]
) -> List[Tuple[Commit, str]]:
    """Commits pwapply made that have no Link any more: ``made_from(author, subject)``
    names the Message-ID pwapply applied a commit from (see record.py)."""
    found = []
    for c in commits:
        msgid = made_from(c.author, c.subject)
        if msgid and not links(c.message):
            found.append((c, msgid))
    return found


def judge(commit: Commit, msgid: str, facts: "Facts", sev: Mapping[str, str], host: str) -> List[Finding]:
    out: List[Finding] = []
    s = facts.series
    if facts.newer is not None and sev["superseded"] != "off":
        n = facts.newer
        out.append(
            Finding(
                sev["superseded"],
                commit.id,
                commit.subject,
                f"superseded by v{n.version} ({n.short})",
                f"apply the new version: pwapply {n.ref}",
                series=s.label,
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
                    "drop it from the push, or ask why: " + (state.page or s.short),
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
                "look at them before pushing: " + (state.page or s.short),
            )
        )
    nacks = facts.nacks.get(msgid, [])
    if nacks and sev["nacked"] != "off":
        out.append(
            Finding(
                sev["nacked"],
                commit.id,
                commit.subject,
                "was nacked on the list (" + ", ".join(t.value for t in nacks) + ")",
                "drop it from the push, or settle it with the reviewer first",
            )
        )
    if sev["tags"] != "off":
        missing = missing_tags(commit.message, facts.tags.get(msgid, []))
        if missing:
            out.append(
                Finding(
                    sev["tags"],
                    commit.id,
                    commit.subject,
                    "lacks " + ", ".join(t.line() for t in missing),
                    "add them to the branch's commits: pwapply update",
                )
            )
    return out


def missing_tags(message: str, given: Sequence[trailers.Trailer]) -> List[trailers.Trailer]:
    """The review tags given on the list that a commit's message does not carry."""
    have = trailers.existing(message) + trailers.below_title(message)
    return [t for t in given if not any(t.same_as(h) for h in have)]
