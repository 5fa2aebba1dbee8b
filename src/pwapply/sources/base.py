"""What every source of a series does: the one interface the commands ask, whatever the
source.  One adapter a source implements it (patchwork/, archive/, mbox.py), and the
table in sources/table.py names them, as pre-commit's languages are one module each
and one table.  A source that cannot answer one of the questions says so by raising
NotFoundError (it does not know that series) or InputError (it has no such thing: a local
mbox has no versions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Protocol, Sequence, Tuple

from ..errors import InputError, NotFoundError

if TYPE_CHECKING:
    from .. import deps
    from ..resolve import SeriesRef
    from ..ui import UI
    from .model import Facts, Key, Known, Node, PatchState, Series, Summary, Want
    from .waiting import Listing, Query


class Source(Protocol):
    """A source of series.  ``kind`` is its key's kind, ``where`` its key's place."""

    kind: str
    where: str

    def fetch(self, ref: "SeriesRef", *, cover_text: bool = True) -> "Series":
        """The series ``ref`` names, ready to apply (NotFoundError: not here)."""

    def get(self, key: "Key", *, fresh: bool = False) -> "Series":
        """The series ``key`` names, ready to apply (with ``fresh``, not from a cache)."""

    def summary(self, ref: "SeriesRef") -> "Summary":
        """What the source says the series ``ref`` names is (NotFoundError: not here)."""

    def locate(self, msgids: Sequence[str]) -> "Dict[str, Key]":
        """The series each Message-ID belongs to, as far as this source knows them."""

    def bases(self, root: "Series", found: "deps.Found", ui: "UI") -> "Tuple[List[Node], List[str]]":
        """The series ``found`` names and, level by level, what they name in turn, as far
        as this source follows them, ``root`` first; and notes of what it did not follow
        (NotFoundError: a base this source does not know)."""

    def newest(self, key: "Key") -> "Optional[Summary]":
        """The newest version of the series ``key`` names, when a newer one is posted."""

    def facts(self, known: "Sequence[Known]", want: "Want") -> "Dict[Key, Facts]":
        """What it says now of each series, asked all at once."""

    def versions(self, ref: "SeriesRef") -> "Tuple[Summary, List[Summary]]":
        """(the series ``ref`` names, every version of it in order)."""

    def states(self, keys: "Sequence[Key]") -> "Dict[Key, List[PatchState]]":
        """The state of each patch of each series (empty where a source has none)."""

    def waiting(self, query: "Query") -> "Listing":
        """The series waiting for action that ``query`` asks for, one line a series (its
        versions folded into the newest), newest first."""

    def close(self) -> None: ...


def unsupported(what: str, where: str) -> InputError:
    """A question a source has no answer to (a local mbox has no versions, say)."""
    return InputError(f"{where} has no {what}", "give a series id, a Message-ID or a Patchwork or archive URL")


class BaseNotFound(NotFoundError):
    """A source does not know a series another names as its base (``prereq``)."""

    def __init__(self, prereq: "deps.Prereq", where: str) -> None:
        super().__init__(
            f"{prereq.line} ({prereq.where}) names a mail {where} does not have",
            "check the Message-ID; or apply the series alone with --no-deps",
        )
        self.prereq = prereq
