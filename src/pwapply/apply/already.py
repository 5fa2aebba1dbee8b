"""Patches the base already has: a series merged upstream since, applied again, or a
patch picked ahead of its series.  git am -3 skips such a patch ("No changes -- Patch
already applied") and, on a big tree, may stop on it as a conflict instead: both are
told for what they are, by the commit that carries each patch, and the rest applies.

Looked for only when git am made fewer commits than patches or stopped, so that an
apply that went well pays nothing: first by Message-ID in the base's recent messages
(Link or Message-ID trailers), then by `git patch-id` of the base's recent commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Sequence

from .chain import LOOKBACK, PATCH_ID_LOOKBACK, _patch_ids

if TYPE_CHECKING:
    from ..git.repo import Repo
    from ..mbox import Patch


@dataclass(frozen=True)
class There:
    """Where the base has a patch: the commit and its subject."""

    commit: str
    subject: str


def find(repo: "Repo", base: str, patches: Sequence["Patch"]) -> Dict[int, There]:
    """patch.index -> the commit of the base that carries it, for the patches it has."""
    found: Dict[int, There] = {}
    history = repo.git.run(["log", f"-n{LOOKBACK}", "--format=%H%x00%s%x00%B%x01", base, "--"]).stdout.decode(
        "utf-8", "surrogateescape"
    )
    for entry in history.split("\x01"):
        parts = entry.strip("\n").split("\x00")
        if len(parts) < 3:
            continue
        commit, subject, message = parts[0], parts[1], parts[2]
        for p in patches:
            if p.index not in found and p.msgid and f"{p.msgid}" in message and _names(message, p.msgid):
                found[p.index] = There(commit, subject)
    unsure = [p for p in patches if p.index not in found]
    if not unsure:
        return found
    ids = _patch_ids(repo, unsure)
    if not any(ids):
        return found
    log = repo.git.run(["log", "-p", "--no-merges", f"-n{PATCH_ID_LOOKBACK}", "--format=commit %H", base, "--"])
    by_id: Dict[str, str] = {}
    for line in repo.git.run(["patch-id", "--stable"], input=log.stdout).stdout.decode().splitlines():
        fields = line.split()
        if len(fields) == 2:
            by_id.setdefault(fields[0], fields[1])
    subjects = _subjects(repo, [by_id[i] for i in ids if i in by_id])
    for p, pid in zip(unsure, ids):
        if pid and pid in by_id:
            found[p.index] = There(by_id[pid], subjects.get(by_id[pid], ""))
    return found


def _names(message: str, msgid: str) -> bool:
    """Whether a trailer of ``message`` names ``msgid`` (a Link to it, a Message-ID)."""
    import re

    return re.search(rf"^(Link|Message-I[dD]):.*{re.escape(msgid)}", message, re.M) is not None


def _subjects(repo: "Repo", commits: List[str]) -> Dict[str, str]:
    if not commits:
        return {}
    out = repo.git.out(["log", "--no-walk", "--format=%H %s", *commits])
    return {line[:40]: line[41:] for line in out.splitlines() if len(line) > 41}


def notes(there: Dict[int, There], patches: Sequence["Patch"], label: str) -> List[str]:
    """One line for each patch the base has."""
    total = len(patches)
    out = []
    for p in patches:
        t = there.get(p.index)
        if t is not None:
            out.append(
                f"{label} patch {p.index}/{total} ({p.title}) is already in the base, as {t.commit[:12]} "
                f"({t.subject}): not applied again"
            )
    return out
