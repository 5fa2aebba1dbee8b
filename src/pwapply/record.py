"""What pwapply applied in this repository, for `pwapply check`.

At apply time we remember, for each Message-ID, its series and server, so that the
pre-push check needs no lookup per commit; and, for each commit made, its author line
and subject, so that a commit whose Link trailer was lost (an amend, a rebase with a
message rewrite) is still recognised.  One JSON file in the git common dir, written
atomically, bounded in size.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Optional, Tuple

MAX_ENTRIES = 20000


@dataclass(frozen=True)
class Applied:
    msgid: str
    series_id: int
    server: str
    project: str
    version: int


def path(common_dir: str) -> str:
    return os.path.join(common_dir, "pwapply", "applied.json")


def load(common_dir: str) -> Dict[str, Any]:
    try:
        with open(path(common_dir), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {"patches": {}, "commits": {}}
    if not isinstance(data, dict):
        return {"patches": {}, "commits": {}}
    data.setdefault("patches", {})
    data.setdefault("commits", {})
    return data


def lookup(data: Dict[str, Any], msgid: str) -> Optional[Applied]:
    entry = data.get("patches", {}).get(msgid)
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


def commit_key(author: str, subject: str) -> str:
    """Author line (name, email, date) and subject: what survives a reworded message."""
    return f"{author}\0{subject}"


def lost_trailer_msgid(data: Dict[str, Any], author: str, subject: str) -> Optional[str]:
    value = data.get("commits", {}).get(commit_key(author, subject))
    return value if isinstance(value, str) else None


def add(
    common_dir: str,
    applied: Iterable[Applied],
    commits: Iterable[Tuple[str, str, str]],
) -> None:
    """Remember applied patches and the (author, subject, msgid) of the commits made.
    Never fails the apply: a record that cannot be written only costs lookups later."""
    data = load(common_dir)
    patches: Dict[str, Any] = data["patches"]
    for a in applied:
        patches.pop(a.msgid, None)  # re-insert: the newest last
        patches[a.msgid] = {"series": a.series_id, "server": a.server, "project": a.project, "version": a.version}
    commit_map: Dict[str, Any] = data["commits"]
    for author, subject, msgid in commits:
        key = commit_key(author, subject)
        commit_map.pop(key, None)
        commit_map[key] = msgid
    for table in (patches, commit_map):
        while len(table) > MAX_ENTRIES:
            table.pop(next(iter(table)))
    target = path(common_dir)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".applied-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, target)
    except OSError:
        pass
