"""Patches the base already has: a series merged upstream since, applied again, or a
patch picked ahead of its series.  git am -3 skips such a patch ("No changes -- Patch
already applied") and, on a big tree, may stop on it as a conflict instead: both are
told for what they are, by the commit that carries each patch, and the rest applies.

Looked for only when git am made fewer commits than patches or stopped, so that an
apply that went well pays nothing: first by Message-ID in the base's recent messages
(Link or Message-ID trailers), then by `git patch-id` of the base's recent commits.
"""

from __future__ import annotations

import re
from typing import Dict, List, Sequence

from ..errors import RepoStateError
from ..frozen import frozen
from ..git.repo import Repo
from ..mbox import Patch

LOOKBACK = 2000  # commits of the base whose messages are searched for the patches' Message-IDs
PATCH_ID_LOOKBACK = 300  # commits of the base whose patch-ids are compared


@frozen
class There:
    """Where the base has a patch: the commit, its subject, and how it was known."""

    commit: str
    subject: str
    by_msgid: bool  # a trailer of the commit names the patch's Message-ID (else: by patch-id)


def find(repo: Repo, base: str, patches: Sequence[Patch]) -> Dict[int, There]:
    """Position in ``patches`` -> the commit of the base that carries that patch, for the
    patches the base has (patches of several series may be asked at once)."""
    found: Dict[int, There] = {}
    history = repo.git.run(["log", f"-n{LOOKBACK}", "--format=%H%x00%s%x00%B%x01", base, "--"]).stdout.decode(
        "utf-8", "surrogateescape"
    )
    for entry in history.split("\x01"):
        parts = entry.strip("\n").split("\x00")
        if len(parts) < 3:
            continue
        commit, subject, message = parts[0], parts[1], parts[2]
        for i, p in enumerate(patches):
            if i not in found and p.msgid and p.msgid in message and _names(message, p.msgid):
                found[i] = There(commit, subject, True)
    unsure = [i for i in range(len(patches)) if i not in found]
    ids = patch_ids(repo, [patches[i] for i in unsure]) if unsure else []
    if not any(ids):
        return found
    log = repo.git.run(["log", "-p", "--no-merges", f"-n{PATCH_ID_LOOKBACK}", "--format=commit %H", base, "--"])
    by_id: Dict[str, str] = {}
    for line in repo.git.run(["patch-id", "--stable"], input=log.stdout).stdout.decode().splitlines():
        fields = line.split()
        if len(fields) == 2:
            by_id.setdefault(fields[0], fields[1])
    subjects = _subjects(repo, [by_id[i] for i in ids if i in by_id])
    for i, pid in zip(unsure, ids):
        if pid and pid in by_id:
            found[i] = There(by_id[pid], subjects.get(by_id[pid], ""), False)
    return found


def patch_ids(repo: Repo, patches: Sequence[object]) -> List[str]:
    """git patch-id of each patch's diff, in order ("" where it has none)."""
    chunks = []
    for i, p in enumerate(patches, start=1):
        raw = getattr(p, "raw", b"")
        chunks.append(b"commit %040x\n" % i + raw + b"\n")
    out = repo.git.run(["patch-id", "--stable"], input=b"".join(chunks)).stdout.decode()
    found = {int(line.split()[1], 16): line.split()[0] for line in out.splitlines() if len(line.split()) == 2}
    return [found.get(i, "") for i in range(1, len(patches) + 1)]


def _names(message: str, msgid: str) -> bool:
    """Whether a trailer of ``message`` names ``msgid`` (a Link to it, a Message-ID)."""
    return re.search(rf"^(Link|Message-I[dD]):.*{re.escape(msgid)}", message, re.M) is not None


def _subjects(repo: Repo, commits: List[str]) -> Dict[str, str]:
    if not commits:
        return {}
    out = repo.git.out(["log", "--no-walk", "--format=%H %s", *commits])
    return {line[:40]: line[41:] for line in out.splitlines() if len(line) > 41}


def notes(there: Dict[int, There], patches: Sequence[Patch], label: str) -> List[str]:
    """One line for each patch the base has (``there`` as find() gives it)."""
    out = []
    for i, p in enumerate(patches):
        t = there.get(i)
        if t is not None:
            out.append(
                f"{label} patch {p.index}/{len(patches)} ({p.title}) is already in the base, as {t.commit[:12]} "
                f"({t.subject}): not applied again"
            )
    return out


def partly_in_base(what: str, have: int, total: int) -> RepoStateError:
    """The refusal of a prerequisite the base commit has only some patches of."""
    return RepoStateError(
        f"{what}, a prerequisite, is only partly in the base: {have} of its {total} patches",
        "apply on a base that has all of it or none of it (--base REF), or the series alone (--no-deps)",
    )
