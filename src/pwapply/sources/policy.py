"""Which source is asked, and when: the one policy of every command.

Patchwork first, when a server is known: its ids, states and checks are the ones
maintainers work with.  The list's archive fills in: a Message-ID Patchwork does not
know, the patches of a series Patchwork lost, the review tags of replies Patchwork did
not see, the bases Patchwork does not know; and it stands alone where there is no
Patchwork.  A Message-ID is asked of both at once: the archive's thread costs no round
trip more.  A local mbox is read, not asked.

``Sources`` opens each source as it is first needed (sources/table.py says which adapter
a kind is) and closes them all at the end; past this module, nothing asks which source a
series came from: it carries its Key.
"""

from __future__ import annotations

import functools
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from .. import deps, process, threads
from ..config import require_server
from ..errors import InputError, NotFoundError, PwapplyError
from ..frozen import frozen
from ..resolve import MSGID, SeriesRef
from ..steps import step
from ..ui import UI
from .archive import ArchiveSource
from .archive.series import complete, first_msgid, pick
from .base import BaseNotFound, Source
from .connection import Connection
from .mbox import MboxSource
from .model import ARCHIVE, PATCHWORK, Facts, Key, Known, Node, PatchState, Series, Summary, Want
from .patchwork import PatchworkSource
from .table import open_source
from .waiting import Listing, Query, Waiting, cut

Answer = Union[Dict[Key, Facts], BaseException]


@frozen
class Versions:
    """Every version of a series: the one named, and all of them in order (with the
    states of their patches, where the source keeps states)."""

    current: Summary
    versions: Tuple[Summary, ...]
    states: Dict[Key, Tuple[str, ...]]


class Sources:
    """The sources of a run: its Patchwork server and project, its list archive."""

    def __init__(
        self,
        conn: Connection,
        *,
        server: Optional[str],
        project: Optional[str],
        archive: Optional[str],
        ui: UI,
        read_stdin: Callable[[], bytes] = lambda: b"",
    ) -> None:
        self.conn, self.server, self.project, self.archive_url, self.ui = conn, server, project, archive, ui
        self.read_stdin = read_stdin
        self._open: Dict[Tuple[str, str], Source] = {}

    def __enter__(self) -> "Sources":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for source in self._open.values():
            source.close()
        self._open.clear()

    # ------------------------------------------------------------------ the sources

    def of(self, kind: str, where: str) -> Source:
        """The source of that kind at ``where``, opened once."""
        where = where.rstrip("/")
        if (kind, where) not in self._open:
            self._open[(kind, where)] = open_source(kind, where, self.conn, self.project)
        return self._open[(kind, where)]

    def for_key(self, key: Key) -> Source:
        return self.of(key.kind, key.where)

    def patchwork(self, server: Optional[str] = None) -> PatchworkSource:
        source = self.of(PATCHWORK, require_server(server or self.server))
        assert isinstance(source, PatchworkSource)
        return source

    def archive(self, where: Optional[str] = None) -> Optional[ArchiveSource]:
        url = where or self.archive_url
        if not url:
            return None
        source = self.of(ARCHIVE, url)
        assert isinstance(source, ArchiveSource)
        return source

    # ------------------------------------------------------------------ the apply

    def fetch(self, ref: SeriesRef, *, cover_text: bool = True, meanwhile: Callable[[], None] = lambda: None) -> Series:
        """The series to apply.  Its cover letter's replies (and, with ``cover_text``,
        its text) are left on their way: they arrive while git am runs."""
        if ref.offline:  # a local mbox, or stdin: read, not asked
            return MboxSource(ref.value, self.project, self.read_stdin).fetch(ref)
        archive = self.archive()
        asked = archive.client.submit(archive.client.thread, ref.value) if archive and ref.kind == MSGID else None
        if archive is not None and asked is not None and not (self.server or ref.server):  # the archive alone
            self.ui.progress(f"Fetching from {archive.where} ...")
            meanwhile()
            return archive.series(ref.value, process.result(asked, what="thread"))
        patchwork = self.patchwork(ref.server)
        self.ui.progress(f"Fetching from {patchwork.where} ...")
        try:
            src = patchwork.fetch(ref, cover_text=cover_text, meanwhile=meanwhile)
        except NotFoundError:
            if asked is None or archive is None:
                raise
            where = f"project {self.project}" if self.project else patchwork.client.host
            return archive.series(ref.value, process.result(asked, what="thread"), where)
        if archive is None and src.incomplete and src.archive_url:
            archive = self.archive(src.archive_url)  # the project's own archive, named by Patchwork
        if archive is None or (asked is None and not src.incomplete):
            return src
        msgid = ref.value if asked is not None else first_msgid(src)
        if msgid is None:
            return src
        return self._completed(src, archive, msgid, asked)

    def _completed(self, src: Series, archive: ArchiveSource, msgid: str, asked: "Optional[Future[object]]") -> Series:
        """``src`` with what the archive's thread of ``msgid`` adds: now when patches are
        missing, else once git am ran (``later``)."""
        thread = asked if asked is not None else archive.client.submit(archive.client.thread, msgid)
        where = archive.where

        def completed() -> Series:
            try:
                data = process.result(thread, what="thread")
                ts = pick(data, msgid, where) if isinstance(data, bytes) else None
                why = "" if data is not None else f"it does not have <{msgid}>"
            except PwapplyError as exc:  # the series stands: the archive only adds to it
                ts, why = None, exc.message
            return complete(src, ts, where, why)

        if src.incomplete:  # the missing patches are needed before git am
            self.ui.progress(f"Asking the archive ({where}) for the patches Patchwork lost ...")
            return completed()
        return replace(src, later=functools.lru_cache(maxsize=None)(completed))

    def bases(self, root: Series, found: deps.Found) -> Tuple[List[Node], List[str]]:
        """The chain ``found`` names (``root`` first): followed on Patchwork, where one is
        known; what Patchwork does not know, or with no Patchwork, in the archive."""
        patchwork = self.server or (root.key.where if root.key.kind == PATCHWORK else None)
        archive = self.archive()
        if not patchwork:
            if archive is None:
                lines = "; ".join(p.line for p in found.prereqs)
                return [Node(root, None, 0)], [
                    f"{root.whose} names what it is based on ({lines}), which was not applied: no Patchwork server"
                ]
            return archive.bases(root, found, self.ui)
        try:
            return self.patchwork(patchwork).bases(root, found, self.ui)
        except NotFoundError:
            if archive is None:
                raise
        try:
            return archive.bases(root, found, self.ui)  # a base Patchwork does not know: the archive's
        except BaseNotFound as exc:
            raise NotFoundError(
                f"{exc.prereq.line} ({exc.prereq.where}) names a mail neither Patchwork nor the archive "
                f"({archive.where}) has",
                exc.hint,
            ) from None

    # ------------------------------------------------------------------ versions

    def versions(self, ref: SeriesRef) -> Versions:
        """Every version of the series ``ref`` names: Patchwork's, and, with an archive,
        the archive's that Patchwork does not have (its thread and its sender's posts,
        asked beside Patchwork); for a Message-ID Patchwork does not know (or with no
        Patchwork), the archive's alone."""
        archive = self.archive()
        if archive is not None and ref.kind == MSGID and not (self.server or ref.server):
            self.ui.progress(f"Asking the archive ({archive.where}) ...")
            current, found = archive.versions(ref)
            return Versions(current, tuple(found), {})
        patchwork = self.patchwork(ref.server)
        self.ui.progress(f"Fetching from {patchwork.where} ...")
        besides = self._archive_versions(archive, ref) if archive is not None and ref.kind == MSGID else None
        try:
            current, found = patchwork.versions(ref)
        except NotFoundError:
            if besides is None:
                raise
            current, found = process.result(besides, what="the archive")
            return Versions(current, tuple(found), {})
        if archive is not None and besides is None and current.first_msgid:
            besides = self._archive_versions(archive, SeriesRef(MSGID, current.first_msgid))
        states = {k: tuple(p.state for p in v) for k, v in patchwork.states([s.key for s in found]).items()}
        if besides is not None:
            found = self._merged(found, besides, archive.where if archive else "")
        return Versions(current, tuple(found), states)

    def _archive_versions(self, archive: ArchiveSource, ref: SeriesRef) -> "Future[Tuple[Summary, List[Summary]]]":
        return threads.in_thread(lambda: archive.versions(ref), "pwapply-archive")

    def _merged(
        self, versions: List[Summary], besides: "Future[Tuple[Summary, List[Summary]]]", archive: str
    ) -> List[Summary]:
        """Patchwork's versions, and the archive's of the other version numbers (a version
        on both is Patchwork's); an archive that cannot be asked leaves a note."""
        try:
            _, found = process.result(besides, what="the archive")
        except PwapplyError as exc:
            self.ui.info(f"note: the archive ({archive}) could not be asked: {exc.message}")
            return versions
        have = {s.version for s in versions}
        return sorted(
            [*versions, *(s for s in found if s.version not in have)],
            key=lambda s: (s.version, s.key.kind != PATCHWORK),
        )

    def newest(self, key: Key) -> Optional[Summary]:
        """The newest version of the series ``key`` names, when a newer one is posted."""
        return self.for_key(key).newest(key)

    # ------------------------------------------------------------------ facts

    def facts(self, known: Sequence[Known], want: Optional[Want] = None) -> Dict[Tuple[str, str], "Future[Answer]"]:
        """What each source says now of its series, asked at once, a thread a source;
        each source's answer (its facts, or what stopped it) on its way."""

        asked = want or Want()

        def one(kind: str, where: str, members: List[Known]) -> Answer:
            try:
                return self.of(kind, where).facts(members, asked)
            except Exception as exc:  # noqa: BLE001 -- any failure means: could not ask
                return exc

        groups: Dict[Tuple[str, str], List[Known]] = {}
        for k in known:
            groups.setdefault(k.key.source, []).append(k)
        step("ask the servers")
        return {
            source: threads.in_thread(functools.partial(one, source[0], source[1], members), "pwapply-facts")
            for source, members in groups.items()
        }

    @staticmethod
    def answers(
        asking: Dict[Tuple[str, str], "Future[Answer]"], deadline: float, timeout: float
    ) -> Dict[Tuple[str, str], Answer]:
        """What each source answered by ``deadline`` (git was read meanwhile)."""
        results: Dict[Tuple[str, str], Answer] = {}
        for source, future in asking.items():
            try:
                results[source] = process.result(future, max(0.0, deadline - time.monotonic()), what="status")
            except FutureTimeout:
                results[source] = TimeoutError(f"no answer within {timeout:g} s")
        return results

    def states(self, keys: Sequence[Key]) -> Dict[Key, List[PatchState]]:
        out: Dict[Key, List[PatchState]] = {}
        groups: Dict[Tuple[str, str], List[Key]] = {}
        for k in keys:
            groups.setdefault(k.source, []).append(k)
        for (kind, where), members in groups.items():
            out.update(self.of(kind, where).states(members))
        return out

    # ------------------------------------------------------------------ what waits

    def waiting(self, query: Query, *, archive: bool = False) -> Listing:
        """What waits for action: Patchwork's series, when a server is known; the archive's
        beside them, asked at once, with ``archive`` (alone without a server).  A series
        both have is shown once, as Patchwork's; one Patchwork does not have at all is
        marked so; one it has in another state is not waiting."""
        pw = self.patchwork() if self.server else None
        ar = self.archive() if archive or pw is None else None
        if pw is None and ar is None:
            raise InputError(
                "no Patchwork server and no list archive to ask what waits",
                "pwapply list --server URL --project NAME, or --archive URL (git config pwapply.server)",
            )
        if pw is None:
            assert ar is not None
            return ar.waiting(query)
        notes: List[str] = []
        if ar is not None and (not query.default_states or query.mine):
            notes.append("the list's archive has no states or delegates: only Patchwork's series are listed")
            ar = None
        from_archive = None
        if ar is not None:  # all of its window: one request either way, and merged below
            from_archive = threads.in_thread(functools.partial(ar.waiting, replace(query, limit=0)), "pwapply-list")
        listing = pw.waiting(query)
        listing.notes[:0] = notes
        if from_archive is None:
            return listing
        try:
            extra = process.result(from_archive, what="the archive's series")
        except PwapplyError as exc:
            listing.notes.append(f"could not ask the archive ({exc.message}): only Patchwork's series are listed")
            return listing
        assert isinstance(extra, Listing)
        return _merged(listing, extra, pw, query.limit)

    # ------------------------------------------------------------------ links

    @staticmethod
    def named_by_link(server: str) -> Tuple[str, str]:
        """The source a Link to a patch on ``server`` names (or the configured server, for
        a Link that names none)."""
        return PATCHWORK, server.rstrip("/")

    @staticmethod
    def archive_of(url: str) -> Tuple[str, str]:
        """The source a Link to the archive at ``url`` names: where a Message-ID Patchwork
        does not know is asked next."""
        return ARCHIVE, url.rstrip("/")


def _merged(pw: Listing, ar: Listing, patchwork: PatchworkSource, limit: int) -> Listing:
    """Patchwork's listing with the archive's series it does not have, newest first.  An
    archive series that shares a patch with a listed one is that one; one that would be
    shown is asked of Patchwork (one request a series, all at once): a series Patchwork
    has in another state is not waiting, one it lacks is shown, marked."""
    listed = {m for w in pw.items for m in (*w.msgids, w.ref)}
    rest = [w for w in ar.items if not listed.intersection((*w.msgids, w.ref))]
    checked: Dict[str, bool] = {}  # first Message-ID -> Patchwork lacks it
    while True:
        merged = sorted(
            [*pw.items, *(w for w in rest if checked.get(_first(w), True))], key=lambda w: w.date, reverse=True
        )
        shown, more = cut(merged, limit)
        ask = [_first(w) for w in shown if w.key.kind == ARCHIVE and _first(w) not in checked]
        if not ask:
            break
        known = patchwork.knows(ask)
        checked.update({m: m not in known for m in ask})
    items = [replace(w, only_in="the archive") if w.key.kind == ARCHIVE else w for w in shown]
    return Listing(items=items, more=more or pw.more, notes=[*pw.notes, *ar.notes])


def _first(w: Waiting) -> str:
    return w.msgids[0] if w.msgids else w.ref
