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
from ..resolve import MSGID, resolve

if TYPE_CHECKING:
    from ..patchwork.models import PatchState, Series


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


CHECKS = ("superseded", "state", "tags", "checks", "trailer")
DEFAULT_SEVERITY = {"superseded": "error", "state": "error", "tags": "warn", "checks": "warn", "trailer": "error"}
BAD_STATES = {"rejected", "superseded", "changes-requested", "not-applicable"}
DOUBTFUL_STATES = {"rfc", "deferred"}
LINK_KEYS = ("link", "message-id")


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
