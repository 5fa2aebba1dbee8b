"""The versions of a series.

Patchwork stores each version as a series of its own; nothing links v1 to v2 but the
project, the submitter, the name and the dates.  We list the submitter's series in the
project around that date (one paginated request) and keep those whose name is the same
once version prefixes are gone, or, when the cover letter was renamed, at least half of
whose patch subjects are the same.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

from . import naming, process, threads
from .errors import InputError
from .resolve import SeriesRef
from .ui import UI

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .archive.client import ArchiveClient
    from .patchwork.client import Connection, PatchworkClient
    from .patchwork.models import Series

WINDOW_DAYS = 730  # how far back to look for earlier versions


# ------------------------------------------------------------------ matching (pure)


def normalize_name(name: Optional[str]) -> str:
    """``[v2,0/6] Foo: Bar`` / ``[PATCH v3 1/3] foo: bar`` -> ``foo: bar``."""
    text = naming.strip_subject_prefixes(name or "")
    return " ".join(text.lower().split())


def subjects(series: "Series") -> Set[str]:
    return {n for n in (normalize_name(p.name) for p in series.patches) if n}


def same_series(a: "Series", b: "Series") -> bool:
    """Two series are versions of one another when their names agree once version
    prefixes and case are gone, or when at least half of their patch subjects do."""
    na, nb = normalize_name(a.name), normalize_name(b.name)
    if na and na == nb:
        return True
    sa, sb = subjects(a), subjects(b)
    if not sa or not sb:
        return False
    return 2 * len(sa & sb) >= max(len(sa), len(sb))


def order_key(s: "Series") -> Tuple[int, str, int]:
    return (s.version, s.date, s.id)


def closest_earlier(versions: Sequence["Series"], current: "Series") -> Optional["Series"]:
    earlier = [s for s in versions if s.id != current.id and order_key(s) < order_key(current)]
    return max(earlier, key=order_key) if earlier else None


def _since(date: str) -> Optional[str]:
    try:
        when = datetime.fromisoformat(date[:19])
    except ValueError:
        return None
    return (when - timedelta(days=WINDOW_DAYS)).strftime("%Y-%m-%dT%H:%M:%S")


# ------------------------------------------------------------------ finding


def find(client: "PatchworkClient", current: "Series") -> List["Series"]:
    """Every version of ``current`` on the server, oldest first (``current`` included)."""
    if not current.project:
        return [current]
    q = None
    if current.submitter_id is None:  # no submitter to filter on: narrow by name instead
        q = normalize_name(current.name)[:100] or None
    candidates = client.series_list(
        project=current.project, submitter=current.submitter_id, since=_since(current.date), q=q
    )
    found: Dict[int, "Series"] = {current.id: current}
    for s in candidates:
        if s.id in found:
            continue
        if current.submitter_id is None and s.submitter_email.lower() != current.submitter_email.lower():
            continue
        if same_series(current, s):
            found[s.id] = s
    return sorted(found.values(), key=order_key)


def find_many(client: "PatchworkClient", series: Sequence["Series"]) -> Dict[int, List["Series"]]:
    """find() for each of ``series``, with one listing for all those of one submitter
    in one project (from the earliest one's window on) instead of one listing each."""
    groups: Dict[Tuple[str, int], List["Series"]] = {}
    alone: List["Series"] = []
    for s in series:
        if s.project and s.submitter_id is not None:
            groups.setdefault((s.project, s.submitter_id), []).append(s)
        else:
            alone.append(s)
    asked_alone = [(s, client.submit(find, client, s)) for s in alone]
    asked = []
    for (project, submitter), members in groups.items():
        since = min((_since(s.date) or "" for s in members), default="") or None
        listing = client.submit(
            functools.partial(client.series_list, project=project, submitter=submitter, since=since)
        )
        asked.append((members, listing))
    out: Dict[int, List["Series"]] = {}
    for members, listing in asked:
        candidates: List["Series"] = process.result(listing, what="versions")
        for current in members:
            found = {current.id: current}
            found.update({c.id: c for c in candidates if c.id != current.id and same_series(current, c)})
            out[current.id] = sorted(found.values(), key=order_key)
    for s, future in asked_alone:
        out[s.id] = process.result(future, what="versions")
    return out


@dataclass(frozen=True)
class Listing:
    current: "Series"
    versions: Tuple["Series", ...]
    states: Dict[int, Tuple[str, ...]]


def list_versions(
    ref: SeriesRef,
    server: Optional[str],
    project: Optional[str],
    conn: "Connection",
    ui: UI,
    archive: Optional[str] = None,
) -> Listing:
    """Every version of the series ``ref`` names: Patchwork's, and, with an ``archive``,
    the archive's that Patchwork does not have (its thread and its sender's posts, asked
    beside Patchwork); for a Message-ID Patchwork does not know (or with no Patchwork),
    the archive's alone."""
    from contextlib import ExitStack

    from .config import require_server
    from .errors import NotFoundError
    from .patchwork.client import request_pool
    from .patchwork.locate import locate
    from .resolve import MSGID

    need_server(ref)
    if archive and ref.kind == MSGID and not server:
        return _in_archive(ref.value, archive, conn, ui)
    server = require_server(server)
    ui.progress(f"Fetching from {server} ...")
    with ExitStack() as stack:
        client = stack.enter_context(conn.client(server))
        arch = stack.enter_context(conn.archive(archive)) if archive else None
        besides = _archive_listing(arch, ref.value) if arch is not None and ref.kind == MSGID else None
        try:
            sid, _ = locate(client, ref, project)
        except NotFoundError:
            if besides is None:
                raise
            current, found = process.result(besides, what="the archive")
            return Listing(current=current, versions=tuple(found), states={})
        current = client.series(sid)
        first = current.cover or (current.patches[0] if current.patches else None)
        if arch is not None and besides is None and first is not None:
            besides = _archive_listing(arch, first.msgid)
        versions = find(client, current)
        with request_pool() as pool:
            asked = [(s.id, pool.submit(client.patch_states, s.id)) for s in versions]
            states = {sid: tuple(p.state for p in process.result(f, what="states")) for sid, f in asked}
        if besides is not None:
            versions = _merged(versions, besides, archive or "", ui)
    return Listing(current=current, versions=tuple(versions), states=states)


def _archive_listing(client: "ArchiveClient", msgid: str) -> "Future[Tuple[Series, List[Series]]]":
    from .archive.facts import listing

    return threads.in_thread(lambda: listing(client, msgid), "pwapply-archive")


def _merged(
    versions: List["Series"], besides: "Future[Tuple[Series, List[Series]]]", archive: str, ui: UI
) -> List["Series"]:
    """Patchwork's versions, and the archive's of the other version numbers (a version
    on both is Patchwork's); an archive that cannot be asked leaves a note."""
    from .errors import PwapplyError

    try:
        _, found = process.result(besides, what="the archive")
    except PwapplyError as exc:
        ui.info(f"note: the archive ({archive}) could not be asked: {exc.message}")
        return versions
    have = {s.version for s in versions}
    return sorted([*versions, *(s for s in found if s.version not in have)], key=lambda s: (s.version, s.id == 0))


def _in_archive(msgid: str, archive: str, conn: "Connection", ui: UI) -> Listing:
    from .archive.facts import listing

    ui.progress(f"Asking the archive ({archive}) ...")
    with conn.archive(archive) as client:
        current, versions = listing(client, msgid)
    return Listing(current=current, versions=tuple(versions), states={})


def summarize_states(states: Sequence[str]) -> str:
    counts: Dict[str, int] = {}
    for state in states:
        counts[state or "?"] = counts.get(state or "?", 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "-"


def need_server(ref: SeriesRef) -> None:
    if ref.offline:
        raise InputError(
            "versions of a series are found on a Patchwork server, not in an mbox",
            "give a series id, Message-ID or Patchwork URL",
        )
