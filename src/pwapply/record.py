"""What pwapply applied in this repository, for `pwapply check`.

At apply time we remember, for each Message-ID, its series and server, so that the
pre-push check needs no lookup per commit; and, for each commit made, its author line
and subject, so that a commit whose Link trailer was lost (an amend, a rebase with a
message rewrite) is still recognised.  One JSON file in the git common dir, written
atomically, bounded in size; read into a typed Record here, where it enters.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Optional, Tuple

MAX_ENTRIES = 20000


@dataclass(frozen=True)
class Applied:
    msgid: str
    series_id: int
    server: str
    project: str
    version: int


@dataclass
class Record:
    patches: Dict[str, Applied] = field(default_factory=dict)  # Message-ID -> what it was applied from
    commits: Dict[str, str] = field(default_factory=dict)  # commit_key(author, subject) -> Message-ID

    def lookup(self, msgid: str) -> Optional[Applied]:
        return self.patches.get(msgid)

    def lost_trailer_msgid(self, author: str, subject: str) -> Optional[str]:
        """The Message-ID of the patch pwapply made this commit from, if it made it."""
        return self.commits.get(commit_key(author, subject))


def path(common_dir: str) -> str:
    return os.path.join(common_dir, "pwapply", "applied.json")


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
    return record


def _applied(msgid: str, entry: Any) -> Optional[Applied]:
    if not isinstance(entry, dict):
        return None
    try:
        return Applied(
            msgid,
            int(entry["series"]),
            str(entry["server"]),
            str(entry.get("project", "")),
            int(entry.get("version", 1)),
        )
    except (KeyError, TypeError, ValueError):
        return None


def add(common_dir: str, applied: Iterable[Applied], commits: Iterable[Tuple[str, str, str]]) -> None:
    """Remember applied patches and the (author, subject, msgid) of the commits made.
    Never fails the apply: a record that cannot be written only costs lookups later."""
    record = load(common_dir)
    for a in applied:
        record.patches.pop(a.msgid, None)  # re-insert: the newest last
        record.patches[a.msgid] = a
    for author, subject, msgid in commits:
        key = commit_key(author, subject)
        record.commits.pop(key, None)
        record.commits[key] = msgid
    for table in (record.patches, record.commits):
        while len(table) > MAX_ENTRIES:
            table.pop(next(iter(table)))
    data = {
        "patches": {
            a.msgid: {"series": a.series_id, "server": a.server, "project": a.project, "version": a.version}
            for a in record.patches.values()
        },
        "commits": record.commits,
    }
    target = path(common_dir)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".applied-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, target)
    except OSError:
        pass
