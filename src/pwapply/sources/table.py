"""The table of sources: which adapter a kind of Key is (as pre-commit's table of
languages).  A new source is a module implementing sources/base.py's Source, a kind of
its own (sources/model.py), and a line here."""

from __future__ import annotations

from typing import Callable, Dict, Optional

from ..errors import InputError
from .archive import ArchiveSource
from .base import Source
from .connection import Connection
from .mbox import MboxSource
from .model import ARCHIVE, MBOX, PATCHWORK
from .patchwork import PatchworkSource

Opener = Callable[[str, Connection, Optional[str]], Source]

SOURCES: Dict[str, Opener] = {
    PATCHWORK: lambda where, conn, project: PatchworkSource(conn.client(where), project),
    ARCHIVE: lambda where, conn, project: ArchiveSource(conn.archive(where), project),
    MBOX: lambda where, conn, project: MboxSource(where, project),
}


def open_source(kind: str, where: str, conn: Connection, project: Optional[str]) -> Source:
    """The source of kind ``kind`` at ``where``, opened (its client made, nothing asked yet)."""
    opener = SOURCES.get(kind)
    if opener is None:
        raise InputError(f"no source of series of the kind {kind!r} ({where})", "is the record of a newer pwapply?")
    return opener(where, conn, project)
