"""The list's archive (public-inbox, what lore.kernel.org runs) as a source of series
(sources/base.py's Source): its client (client.py, one request a thread, on the one HTTP
transport), the series picked out of a thread (series.py, thread.py), and what it says
now of them (facts.py).  Everything leaves here in the sources' one shape."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ... import deps, process
from ...errors import InputError, NotFoundError
from ...resolve import MSGID, SeriesRef
from ...ui import UI
from ..base import BaseNotFound
from ..model import ARCHIVE, Facts, Key, Known, Node, PatchState, Series, Summary, Want
from ..waiting import Listing, Query
from .client import ArchiveClient, page
from .facts import gather, listing
from .series import from_thread, key_of, pick, summary
from . import waiting

__all__ = ["ArchiveClient", "ArchiveSource", "page"]


class ArchiveSource:
    """One inbox of an archive (``https://lore.kernel.org/qemu-devel``)."""

    kind = ARCHIVE

    def __init__(self, client: ArchiveClient, project: Optional[str]) -> None:
        self.client = client
        self.project = project
        self.where = client.server

    def close(self) -> None:
        self.client.close()

    def fetch(self, ref: SeriesRef, *, cover_text: bool = True, meanwhile: Callable[[], None] = lambda: None) -> Series:
        if ref.kind != MSGID:
            raise NotFoundError(f"the archive ({self.where}) is asked by Message-ID", "give a Message-ID or its URL")
        return self.series(ref.value, process.result(self.client.submit(self.client.thread, ref.value), what="thread"))

    def series(self, msgid: str, data: Optional[bytes], patchwork: str = "") -> Series:
        """The series of ``msgid`` in its thread ``data`` (None: the archive does not have
        it; ``patchwork`` names the Patchwork that did not know it either, if one was)."""
        if data is None:
            raise NotFoundError(
                f"<{msgid}> is not on Patchwork ({patchwork}) nor in the archive ({self.where})"
                if patchwork
                else f"<{msgid}> is not in the archive ({self.where})",
                "check the Message-ID, or where pwapply looks (pwapply config; --server, --project, --archive)",
            )
        return from_thread(pick(data, msgid, self.where), self.where, self.project or "")

    def get(self, key: Key, *, fresh: bool = False) -> Series:
        return self.fetch(SeriesRef(MSGID, key.what))

    def summary(self, ref: SeriesRef) -> Summary:
        if ref.kind != MSGID:
            raise InputError(
                "a series of the archive is compared with another version by number, or by a Message-ID",
                "give --against vN (pwapply versions lists them), or the other version's Message-ID",
            )
        data = process.result(self.client.submit(self.client.thread, ref.value), what="thread")
        if data is None:
            raise NotFoundError(f"<{ref.value}> is not in the archive ({self.where})", "check the Message-ID")
        ts = pick(data, ref.value, self.where)
        return summary(ts.name, ts.version, ts.total, self.where, ts.root, ts.sender)

    def locate(self, msgids: Sequence[str]) -> Dict[str, Key]:
        """The series of each Message-ID, from its thread: once for all the patches of a
        series."""
        out: Dict[str, Key] = {}
        for msgid in msgids:
            if msgid in out:
                continue
            data = process.result(self.client.submit(self.client.thread, msgid), what="thread")
            if data is None:
                continue
            ts = pick(data, msgid, self.where)
            key = key_of(self.where, ts.root)
            for p in ts.patches:
                out.setdefault(p.msgid, key)
            out.setdefault(msgid, key)
        return out

    def bases(self, root: Series, found: deps.Found, ui: UI) -> Tuple[List[Node], List[str]]:
        """The series ``found``'s Based-on lines name, their threads asked at once; one
        level (what they name in turn is not followed)."""
        named = [p for p in found.prereqs if p.ref.kind == MSGID]
        notes = [
            f"{p.line} ({p.where}): not followed, the archive is asked by Message-ID"
            for p in found.prereqs
            if p not in named
        ]
        asked = {p.ref.value: self.client.submit(self.client.thread, p.ref.value) for p in named}
        top = Node(root, None, 0)
        nodes: Dict[Key, Node] = {root.key: top}
        for p in named:
            data = process.result(asked[p.ref.value], what="a base's thread")
            if data is None:
                raise BaseNotFound(p, f"the archive ({self.where})")
            ts = pick(data, p.ref.value, self.where)
            src = from_thread(ts, self.where, self.project or "")
            if src.key in nodes:
                continue
            if src.incomplete:
                raise InputError(f"{p.line} ({p.where}): {src.incomplete}", "apply the series alone with --no-deps")
            nodes[src.key] = Node(src, p, 1)
            top.needs.append(src.key)
        return list(nodes.values()), notes

    def newest(self, key: Key) -> Optional[Summary]:
        return None  # a base from the archive is applied as named; its versions are not looked for

    def facts(self, known: Sequence[Known], want: Want) -> Dict[Key, Facts]:
        return gather(self.client, known, want.newer)

    def versions(self, ref: SeriesRef) -> Tuple[Summary, List[Summary]]:
        if ref.kind != MSGID:
            raise NotFoundError(f"the archive ({self.where}) is asked by Message-ID", "give a Message-ID or its URL")
        return listing(self.client, ref.value)

    def states(self, keys: Sequence[Key]) -> Dict[Key, List[PatchState]]:
        return {}  # an archive keeps no states

    def waiting(self, query: Query) -> Listing:
        return waiting.waiting(self.client, query)
