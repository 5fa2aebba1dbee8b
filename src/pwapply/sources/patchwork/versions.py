"""The versions of a Patchwork series.

Patchwork stores each version as a series of its own; nothing links v1 to v2 but the
project, the submitter, the name and the dates.  We list the submitter's series in the
project around that date (one paginated request) and keep those whose name is the same
once version prefixes are gone, or, when the cover letter was renamed, at least half of
whose patch subjects are the same.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Dict, List, Optional, Sequence, Set, Tuple

from ... import naming, process
from .client import PatchworkClient
from .models import Series

WINDOW_DAYS = 730  # how far back to look for earlier versions


# ------------------------------------------------------------------ matching (pure)


def normalize_name(name: Optional[str]) -> str:
    """``[v2,0/6] Foo: Bar`` / ``[PATCH v3 1/3] foo: bar`` -> ``foo: bar``."""
    text = naming.strip_subject_prefixes(name or "")
    return " ".join(text.lower().split())


def subjects(series: Series) -> Set[str]:
    return {n for n in (normalize_name(p.name) for p in series.patches) if n}


def same_series(a: Series, b: Series) -> bool:
    """Two series are versions of one another when their names agree once version
    prefixes and case are gone, or when at least half of their patch subjects do."""
    na, nb = normalize_name(a.name), normalize_name(b.name)
    if na and na == nb:
        return True
    sa, sb = subjects(a), subjects(b)
    if not sa or not sb:
        return False
    return 2 * len(sa & sb) >= max(len(sa), len(sb))


def order_key(s: Series) -> Tuple[int, str, int]:
    return (s.version, s.date, s.id)


def _since(date: str) -> Optional[str]:
    try:
        when = datetime.fromisoformat(date[:19])
    except ValueError:
        return None
    return (when - timedelta(days=WINDOW_DAYS)).strftime("%Y-%m-%dT%H:%M:%S")


# ------------------------------------------------------------------ finding


def find(client: PatchworkClient, current: Series) -> List[Series]:
    """Every version of ``current`` on the server, oldest first (``current`` included)."""
    if not current.project:
        return [current]
    q = None
    if current.submitter_id is None:  # no submitter to filter on: narrow by name instead
        q = normalize_name(current.name)[:100] or None
    candidates = client.series_list(
        project=current.project, submitter=current.submitter_id, since=_since(current.date), q=q
    )
    found: Dict[int, Series] = {current.id: current}
    for s in candidates:
        if s.id in found:
            continue
        if current.submitter_id is None and s.submitter_email.lower() != current.submitter_email.lower():
            continue
        if same_series(current, s):
            found[s.id] = s
    return sorted(found.values(), key=order_key)


def newest(client: PatchworkClient, current: Series) -> Optional[Series]:
    """Its newest version, when one newer than ``current`` is on the server."""
    later = [v for v in find(client, current) if order_key(v) > order_key(current)]
    return max(later, key=order_key) if later else None


def find_many(client: PatchworkClient, series: Sequence[Series]) -> Dict[int, List[Series]]:
    """find() for each of ``series``, with one listing for all those of one submitter
    in one project (from the earliest one's window on) instead of one listing each."""
    groups: Dict[Tuple[str, int], List[Series]] = {}
    alone: List[Series] = []
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
    out: Dict[int, List[Series]] = {}
    for members, listing in asked:
        candidates: List[Series] = process.result(listing, what="versions")
        for current in members:
            found = {current.id: current}
            found.update({c.id: c for c in candidates if c.id != current.id and same_series(current, c)})
            out[current.id] = sorted(found.values(), key=order_key)
    for s, future in asked_alone:
        out[s.id] = process.result(future, what="versions")
    return out
