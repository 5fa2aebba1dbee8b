"""Where a series lives and what a source says of it, in one shape whatever the source
(a Patchwork server, the list's archive, a local mbox).  Pure: no I/O.

- ``Key``: which source holds a series, where, and what in it.  Everything after the fetch
  carries keys, never a source's own ids or answers.
- ``Series``: a series as the apply needs it: its patches in order, what replies said,
  where each patch's page is, what it names as its bases.
- ``Summary`` and ``Facts``: what a source says of a series now (its versions, the states
  and checks of its patches, the review tags and Nacked-by given since), for `versions`,
  `diff`, `check`, `status`, `update` and `list`.
- ``Known``: a series as the record keeps it, enough for its source to find it again.

A source fills in the words a series is told by (``Summary.label``, ``Summary.ref``,
``Series.label``): nothing after it asks which source that was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, Optional, Tuple

from .. import deps
from ..frozen import frozen
from ..trailers import Trailer
from .keys import ARCHIVE, MBOX, PATCHWORK, Key, Known, Want

if TYPE_CHECKING:
    from .. import mbox

__all__ = ["ARCHIVE", "MBOX", "PATCHWORK", "Facts", "Key", "Known", "Node", "PatchState", "Series", "Summary", "Want"]


@frozen
class Summary:
    """What a source says a series is.  ``label`` is how it is told (``series 500889
    v2``; ``Fix the thing v2`` for a series of the archive), ``ref`` what to type to
    apply it (``500889``, or its page in the archive)."""

    key: Key
    name: str
    version: int
    label: str
    ref: str
    short: str  # how a note names it in passing: "series 500889", or its page
    held: str  # where it is, as a sentence says it: "on patchwork.ozlabs.org", "in the archive"
    page: str = ""  # its web page
    total: int = 0
    received: Optional[int] = None  # the patches that reached the source (None: all of them)
    date: str = ""  # when it was posted (ISO, as the source has it)
    submitter: str = ""
    sender: str = ""  # the submitter's address
    titles: Tuple[str, ...] = ()  # its patches' subjects, for telling versions apart
    first_msgid: str = ""  # the Message-ID of its first mail (its cover letter, else its first patch)


@frozen
class PatchState:
    """A patch's state (new, under-review, accepted, superseded ...), the summary of its
    CI checks (pending, success, warning, fail; "" where a source has none) and its page."""

    state: str
    check: str
    page: str


@dataclass
class Facts:
    """What a source says of one series now."""

    series: Summary
    newer: Optional[Summary] = None  # its newest version, when it is not the newest
    patches: Dict[str, PatchState] = field(default_factory=dict)  # msgid -> state and checks
    tags: Dict[str, List[Trailer]] = field(default_factory=dict)  # msgid -> review tags given on the list
    nacks: Dict[str, List[Trailer]] = field(default_factory=dict)  # msgid -> Nacked-by given on the list


@frozen
class Series:
    """A series ready to apply, wherever it came from.  Its source words it: ``label``
    (``series 500889 v2``, ``v2 from <archive>``, ``the mbox``), ``title`` for notes
    about it (``series 500889 v2 (Fix the thing)``), ``plan`` for a chain's plan line
    (``500889 v2``)."""

    key: Key
    label: str
    title: str
    plan: str
    patches: "Tuple[mbox.Patch, ...]"
    name: Optional[str]
    version: int
    project: str
    submitter: str
    cover_tags: Callable[[], Tuple[Trailer, ...]]  # replies to the cover letter: may wait for them
    patch_tags: Mapping[str, Tuple[Trailer, ...]]  # msgid -> tags from replies to the patch
    web_urls: Mapping[str, str]  # msgid -> the patch's page
    cover_text: Callable[[], str]  # the cover letter's text ("" without one): may wait for it
    whose: str  # "series 500889", "the series", "the mbox": where a line of it stands, as notes say
    named: deps.Found = deps.Found((), ())  # the bases its source's own record names (Patchwork 3.3's field)
    ident: str = ""  # its source's number for it, for a branch name's {id} (Patchwork's series id)
    cover_known: bool = True  # its cover letter's text is at hand (not on its way)
    total: int = 0  # the patches it announced
    cover_msgid: Optional[str] = None
    incomplete: Optional[str] = None  # why the series is incomplete, if it is
    notes: Tuple[str, ...] = ()  # things the user should know, not errors
    warnings: Tuple[str, ...] = ()  # told even with -q: a newer version in the thread, a Nacked-by
    known: Optional[Known] = None  # what the record keeps of it (None: nothing to find it by again)
    archive_url: str = ""  # the list archive its source names for its project (Patchwork's list_archive_url)
    archive: Optional[str] = None  # the list archive it, or some of its patches, came from
    filled: Tuple[int, ...] = ()  # the numbers of the patches the archive gave a series that lacked them
    # What another source adds once git am ran (the archive's review tags of a series
    # Patchwork had whole): the Series completed, asked for only when the trailers are
    # written (the same answer each call).
    later: "Optional[Callable[[], Series]]" = None

    @property
    def first_subject(self) -> Optional[str]:
        return self.patches[0].subject if self.patches else None

    def completed(self) -> "Series":
        """The series with what ``later`` adds (itself without it)."""
        return self.later() if self.later is not None else self


@dataclass
class Node:
    """One series of a chain, as its source found it: the one asked for (``named`` None,
    depth 0), or a base a series of the chain named."""

    series: Series
    named: Optional[deps.Prereq]
    depth: int
    needs: List[Key] = field(default_factory=list)  # the series it is based on
