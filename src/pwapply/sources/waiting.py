"""What is waiting for review, in one shape whatever the source: the question (``Query``),
one line of the answer (``Waiting``: a series' newest version, how ready it is), and the
rules every source applies alike (how ready a series is from its review tags; versions
folded into the newest).  Pure: no I/O.

A source answers ``Source.waiting(query)`` with a ``Listing``; sources/policy.py merges
the answers of several; the `list` command (listing.py) adds what the repository knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .. import naming
from ..frozen import frozen
from ..trailers import Trailer
from .keys import Key

WAITING_STATES: Tuple[str, ...] = ("new", "under-review")
# Patchwork's own states (a server may have more: kernel.org's "queued", "mainlined"...).
KNOWN_STATES: Tuple[str, ...] = (
    "new",
    "under-review",
    "accepted",
    "rejected",
    "rfc",
    "not-applicable",
    "changes-requested",
    "awaiting-upstream",
    "superseded",
    "deferred",
)
# How bad a CI check is: the worst of a series' patches is the series'.
CHECK_ORDER: Dict[str, int] = {"": 0, "pending": 1, "success": 2, "warning": 3, "fail": 4}
REVIEWED = frozenset({"reviewed-by", "acked-by"})


@frozen
class Query:
    """Which series to list.  ``states`` empty: any state; ``archived`` None: archived or
    not; ``since`` an ISO date (YYYY-MM-DD) or ""; ``limit`` 0: all that match."""

    states: Tuple[str, ...] = WAITING_STATES
    archived: Optional[bool] = False
    since: str = ""
    submitter: str = ""
    search: str = ""
    mine: bool = False  # only what is delegated to the token's user
    me: str = ""  # who that is, as far as the settings say (a username, or an address)
    limit: int = 20

    @property
    def default_states(self) -> bool:
        return self.states == WAITING_STATES and self.archived is False


@frozen
class Readiness:
    """How ready a series is: its patches with a Reviewed-by or Acked-by (``reviewed``)
    out of ``patches``; those with a Tested-by; who said Nacked-by."""

    patches: int = 0
    reviewed: int = 0
    tested: int = 0
    nacked: Tuple[str, ...] = ()


@frozen
class Waiting:
    """One series waiting for action: its newest version (``key`` and the words its
    source tells it by: ``ref`` is what to type to apply it), and how ready it is."""

    key: Key
    ref: str  # what to type: "500889", or the Message-ID of its first mail
    name: str
    version: int
    date: str  # when it was posted (ISO)
    submitter: str
    sender: str  # the submitter's address
    total: int  # the patches it announced
    received: int  # the patches that reached the source
    page: str = ""  # its web page
    earlier: int = 0  # versions before it (posted, waiting or not)
    folded: Tuple[Key, ...] = ()  # its earlier versions that were waiting too, folded into it
    readiness: Optional[Readiness] = None  # None: not asked (its source did not answer)
    check: str = ""  # the worst of its patches' CI checks ("" where its source has none)
    states: Tuple[Tuple[str, int], ...] = ()  # (state, patches in it)
    msgids: Tuple[str, ...] = ()  # its patches' Message-IDs, as far as known
    only_in: str = ""  # "the archive": the series only the archive has, when both were asked
    state: str = ""  # "merged" when every patch is accepted

    @property
    def incomplete(self) -> bool:
        return 0 < self.received < self.total


@dataclass
class Listing:
    """A source's answer: the series, newest first; ``more``: more matched than shown."""

    items: List[Waiting] = field(default_factory=list)
    more: bool = False
    notes: List[str] = field(default_factory=list)


# ------------------------------------------------------------------ rules


def readiness(
    tags: Mapping[str, Sequence[Trailer]], nacks: Mapping[str, Sequence[Trailer]], patches: Iterable[str]
) -> Readiness:
    """How ready the series whose patches' Message-IDs are ``patches`` is, from the review
    tags each one has (given to it, to the cover letter, or carried in its own message)."""
    ids = list(dict.fromkeys(patches))
    reviewed = sum(1 for m in ids if any(t.key.lower() in REVIEWED for t in tags.get(m, ())))
    tested = sum(1 for m in ids if any(t.key.lower() == "tested-by" for t in tags.get(m, ())))
    who: List[str] = []
    for m in ids:
        for t in nacks.get(m, ()):
            name = t.value.split("<", 1)[0].strip() or t.value.strip()
            if name not in who:
                who.append(name)
    return Readiness(len(ids), reviewed, tested, tuple(who))


def worst_check(checks: Iterable[str]) -> str:
    out = ""
    for c in checks:
        if CHECK_ORDER.get(c, 0) > CHECK_ORDER.get(out, 0):
            out = c
    return out


def same_name(name: str) -> str:
    """A series' name as its versions share it: prefixes, case and spacing gone."""
    return " ".join(naming.strip_subject_prefixes(name or "").lower().split())


def fold(items: Sequence[Waiting]) -> List[Waiting]:
    """One line a series: the versions of one (same sender, same name) folded into the
    newest, which counts the earlier ones; newest posted first."""
    groups: Dict[Tuple[str, str], List[Waiting]] = {}
    for w in items:
        name = same_name(w.name)
        groups.setdefault((w.sender.lower(), name) if name else ("", w.key.what), []).append(w)
    out = []
    for members in groups.values():
        members.sort(key=lambda w: (w.version, w.date), reverse=True)
        top, rest = members[0], members[1:]
        out.append(
            replace(
                top,
                earlier=max(top.earlier, top.version - 1, len(rest)),
                folded=(*top.folded, *(w.key for w in rest), *(k for w in rest for k in w.folded)),
            )
        )
    out.sort(key=lambda w: w.date, reverse=True)
    return out


def cut(items: List[Waiting], limit: int) -> Tuple[List[Waiting], bool]:
    """The first ``limit`` (all with 0), and whether there were more."""
    if limit and len(items) > limit:
        return items[:limit], True
    return items, False
