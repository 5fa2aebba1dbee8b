"""`pwapply list`: what waits for review (sources/policy.py says which sources are asked;
each answers in sources/waiting.py's shape), with what this repository has of each
series: a branch pwapply made from it, or from an earlier version of it.  Nothing here
asks where a series came from.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Dict, List, Optional, Sequence

from . import record
from .errors import InputError
from .frozen import frozen
from .git import repo as gitrepo
from .git.repo import Repo
from .sources.policy import Sources
from .sources.waiting import KNOWN_STATES, Listing, Query, Waiting, same_name


@frozen
class Line:
    """A series waiting, and what the repository has of it: ``here`` is "applied" (a
    branch made from this version), "v2 applied, v3 out" (from an earlier one), or ""."""

    waiting: Waiting
    here: str = ""
    branch: str = ""  # the branch ``here`` speaks of


def list_waiting(sources: Sources, query: Query, repo: Optional[Repo], *, archive: bool) -> "Listed":
    listing = sources.waiting(query, archive=archive)
    unknown = [s for s in query.states if s not in KNOWN_STATES]
    if unknown and not listing.items:  # a typo, most likely: the server has no such state
        listing.notes.append(
            f"no series in state {', '.join(unknown)}: Patchwork's own states are {', '.join(KNOWN_STATES)}"
        )
    made = _branches(repo) if repo is not None and listing.items else []
    return Listed([mark(w, made) for w in listing.items], listing)


@frozen
class Listed:
    lines: List[Line]
    listing: Listing


def _branches(repo: Repo) -> List[record.Branch]:
    """The branches pwapply made here that still exist."""
    made = record.load(repo.common_dir).branches
    if not made:
        return []
    heads = gitrepo.heads(repo)
    return [b for name, b in made.items() if name in heads]


def mark(w: Waiting, made: Sequence[record.Branch]) -> Line:
    """What the repository has of ``w``: a branch of this version, else of the newest
    earlier version it has a branch of."""
    for b in made:
        if b.key == w.key:
            return Line(w, "applied", b.name)
    name = same_name(w.name)
    earlier = [
        b
        for b in made
        if b.key in w.folded
        or (
            name
            and same_name(b.series.name) == name
            and b.series.sender.lower() == w.sender.lower()
            and b.version < w.version
        )
    ]
    if earlier:
        b = max(earlier, key=lambda b: b.version)
        return Line(w, f"v{b.version} applied, v{w.version} out", b.name)
    return Line(w, "merged" if w.state == "merged" else "")


# ------------------------------------------------------------------ the command line's values


def since(text: str, today: Optional[date] = None) -> str:
    """``--since``: a date (2026-11-30) or a span back from today (3d, 2w, 1m, 1y), as
    YYYY-MM-DD."""
    text = text.strip()
    today = today or datetime.now(timezone.utc).date()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    days = {"d": 1, "w": 7, "m": 30, "y": 365}
    unit = text[-1:].lower()
    if unit in days and text[:-1].isdigit():
        return (today - timedelta(days=int(text[:-1]) * days[unit])).isoformat()
    raise InputError(f"--since {text!r}: not a date", "give a date (--since 2026-11-30) or a span (--since 2w)")


def query(
    *,
    states: Sequence[str],
    every: bool,
    since_text: Optional[str],
    submitter: Optional[str],
    search: Optional[str],
    mine: bool,
    me: str,
    limit: int,
) -> Query:
    """The command line's filters as a Query (``me``: who the settings say the user is)."""
    if limit < 0:
        raise InputError(f"-n {limit}: not a number of series", "give -n 20, or -n 0 for all")
    if every and states:
        raise InputError("--all and --state say different things", "give one of them")
    chosen = tuple(s.strip().lower() for s in states if s.strip())
    values: Dict[str, object] = {}
    if every:
        values.update(states=(), archived=None)
    elif chosen:
        values.update(states=chosen)
    return Query(
        since=since(since_text) if since_text else "",
        submitter=(submitter or "").strip(),
        search=(search or "").strip(),
        mine=mine,
        me=me,
        limit=limit,
        **values,  # type: ignore[arg-type]
    )
