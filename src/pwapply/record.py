"""What pwapply applied in this repository, for `pwapply check`.

At apply time we remember, for each Message-ID, its series and server, so that the
pre-push check needs no lookup per commit; and, for each commit made, its author line
and subject, so that a commit whose Link trailer was lost (an amend, a rebase with a
message rewrite) is still recognised.  One JSON file in the git common dir, written
atomically (a crash leaves the old record or the new, never half of one), bounded in
size; read into a typed Record here, where it enters.  Every read-modify-write holds
the repository's lock (lock.repo_lock), so that two runs never lose an entry.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from .frozen import frozen
from .lock import repo_lock
from .sources.keys import Key, Known, earlier_chain, earlier_known

MAX_ENTRIES = 20000


@frozen
class Applied:
    """A patch pwapply applied: the series it came from, as its source finds it again."""

    msgid: str
    series: Known
    project: str

    @property
    def key(self) -> Key:
        return self.series.key


@frozen
class Branch:
    """A branch pwapply made: what it was made of, and where."""

    name: str
    series: Known  # the series asked for
    chain: Tuple[Key, ...]  # the chain, the series asked for last
    label: str  # how it is told: "series 500889 v2", "v1 from the archive"
    project: str
    base: str  # the commit it was made on
    tip: str  # its tip when pwapply made it

    @property
    def key(self) -> Key:
        return self.series.key

    @property
    def version(self) -> int:
        return self.series.version

    @property
    def where(self) -> str:
        """The server or archive it was applied from."""
        return self.series.key.where


@frozen
class Pending:
    """A commit being pushed whose patch is to be marked accepted once the push is seen
    on the remote (pwapply hooks install --accept)."""

    commit: str
    msgid: str
    server: str


@dataclass
class Record:
    patches: Dict[str, Applied] = field(default_factory=dict)  # Message-ID -> what it was applied from
    commits: Dict[str, str] = field(default_factory=dict)  # commit_key(author, subject) -> Message-ID
    branches: Dict[str, Branch] = field(default_factory=dict)  # branch name -> how pwapply made it
    pending: Dict[str, Pending] = field(default_factory=dict)  # commit id -> its acceptance, after the push

    def lookup(self, msgid: str) -> Optional[Applied]:
        return self.patches.get(msgid)

    def lost_trailer_msgid(self, author: str, subject: str) -> Optional[str]:
        """The Message-ID of the patch pwapply made this commit from, if it made it."""
        return self.commits.get(commit_key(author, subject))


def path(common_dir: str) -> str:
    return os.path.join(common_dir, "pwapply", "applied.json")


def pending_marker(common_dir: str) -> str:
    """A file that exists while acceptances wait for a push: the reference-transaction
    hook looks for it before it starts pwapply (a fetch then costs no Python start)."""
    return os.path.join(common_dir, "pwapply", "accept-pending")


def commit_key(author: str, subject: str) -> str:
    """Author line (name, email, date) and subject: what survives a reworded message."""
    return f"{author}\0{subject}"


def load(common_dir: str) -> Record:
    """The record; an empty one when there is none or it cannot be read (it only saves
    look-ups: losing it loses nothing else)."""
    try:
        with open(path(common_dir), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return Record()
    record = Record()
    if not isinstance(data, dict):
        return record
    patches = data.get("patches")
    for msgid, entry in (patches if isinstance(patches, dict) else {}).items():
        applied = _applied(msgid, entry)
        if applied is not None:
            record.patches[msgid] = applied
    commits = data.get("commits")
    for key, msgid in (commits if isinstance(commits, dict) else {}).items():
        if isinstance(msgid, str):
            record.commits[key] = msgid
    branches = data.get("branches")
    for name, entry in (branches if isinstance(branches, dict) else {}).items():
        branch = _branch(name, entry)
        if branch is not None:
            record.branches[name] = branch
    pending = data.get("pending")
    for commit, entry in (pending if isinstance(pending, dict) else {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("msgid"), str) and isinstance(entry.get("server"), str):
            record.pending[commit] = Pending(commit, entry["msgid"], entry["server"])
    return record


def _known(entry: Dict[str, Any], series: Any) -> Known:
    """The series an entry names: its source's key, or, written by an earlier version,
    what sources/keys.py makes of that version's fields."""
    version = int(entry.get("version", 1))
    key = Key.from_json(entry.get("source"))
    if key is not None:
        return Known(
            key,
            version,
            str(entry.get("name", "")),
            str(entry.get("sender", "")),
            str(entry.get("posted", "")),
            str(entry.get("label", "")),
        )
    return earlier_known(str(entry["server"]), series, version, entry.get("archive"))


def _known_json(k: Known) -> Dict[str, Any]:
    return {
        "source": k.key.json(),
        "version": k.version,
        "name": k.name,
        "sender": k.sender,
        "posted": k.posted,
        "label": k.label,
    }


def _branch(name: str, entry: Any) -> Optional[Branch]:
    if not isinstance(entry, dict):
        return None
    try:
        chain: List[Key] = []
        if "chain" in entry:
            series = _known(entry, 0)
            label = str(entry.get("label", ""))
            chain = [k for k in (Key.from_json(k) for k in entry["chain"]) if k is not None]
        else:  # an earlier version's: its series ids on its server, the one asked for last
            ids = [int(i) for i in entry["series"]]
            series = _known(entry, ids[-1] if ids else 0)
            chain, label = earlier_chain(series, ids)
        return Branch(
            name,
            series,
            tuple(chain) or (series.key,),
            label,
            str(entry.get("project", "")),
            str(entry["base"]),
            str(entry["tip"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _applied(msgid: str, entry: Any) -> Optional[Applied]:
    if not isinstance(entry, dict):
        return None
    try:
        return Applied(msgid, _known(entry, entry.get("series", 0)), str(entry.get("project", "")))
    except (KeyError, TypeError, ValueError):
        return None


def add(
    common_dir: str,
    applied: Iterable[Applied],
    commits: Iterable[Tuple[str, str, str]],
    branch: Optional[Branch] = None,
) -> None:
    """Remember applied patches, the (author, subject, msgid) of the commits made and the
    branch made.  Never fails the apply: a record that cannot be written only costs
    lookups later."""
    with repo_lock(common_dir):
        _add(common_dir, applied, commits, branch)


def _add(
    common_dir: str,
    applied: Iterable[Applied],
    commits: Iterable[Tuple[str, str, str]],
    branch: Optional[Branch],
) -> None:
    record = load(common_dir)
    if branch is not None:
        record.branches.pop(branch.name, None)
        record.branches[branch.name] = branch
    for a in applied:
        record.patches.pop(a.msgid, None)  # re-insert: the newest last
        record.patches[a.msgid] = a
    for author, subject, msgid in commits:
        key = commit_key(author, subject)
        record.commits.pop(key, None)
        record.commits[key] = msgid
    save(common_dir, record)


def update(common_dir: str, change: "Callable[[Record], None]") -> None:
    """Read the record, change it, write it back (never failing the command), under
    the repository's lock: two runs never lose each other's entries."""
    with repo_lock(common_dir):
        record = load(common_dir)
        change(record)
        save(common_dir, record)


def save(common_dir: str, record: Record) -> None:
    """Write the record atomically, bounded in size; a write that fails is let go."""
    for table in (record.patches, record.commits, record.branches, record.pending):
        while len(table) > MAX_ENTRIES:
            table.pop(next(iter(table)))
    data = {
        "patches": {a.msgid: {**_known_json(a.series), "project": a.project} for a in record.patches.values()},
        "commits": record.commits,
        "branches": {
            b.name: {
                **_known_json(b.series),
                "chain": [k.json() for k in b.chain],
                "label": b.label,
                "project": b.project,
                "base": b.base,
                "tip": b.tip,
            }
            for b in record.branches.values()
        },
        "pending": {p.commit: {"msgid": p.msgid, "server": p.server} for p in record.pending.values()},
    }
    target = path(common_dir)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".applied-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, target)
        marker = pending_marker(common_dir)
        if record.pending:
            open(marker, "a").close()
        elif os.path.exists(marker):
            os.unlink(marker)
    except OSError:
        pass
