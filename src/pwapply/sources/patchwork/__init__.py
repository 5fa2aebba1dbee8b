"""Patchwork as a source of series (sources/base.py's Source): its client (client.py,
on the one HTTP transport), its JSON as typed values (models.py), and what the commands
ask of it: a series to apply, the chain of its bases, its versions, its facts (states,
checks, tags since), the series waiting for review.  Everything leaves here in the
sources' one shape (sources/model.py)."""

from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from ... import deps, process
from ...cache import MboxCache
from ...errors import NotFoundError
from ...net.transport import request_pool
from ...resolve import SeriesRef
from ...ui import UI
from ..model import PATCHWORK, Facts, Key, Known, Node, PatchState, Series, Summary, Want
from ..waiting import Listing, Query
from . import models
from .chain import follow
from .client import Fetched, PatchworkClient
from .facts import gather
from .locate import locate
from .series import from_server, key_of, summary
from .versions import find, newest
from . import waiting


class PatchworkSource:
    """One Patchwork server, and the project Message-IDs are looked up in."""

    kind = PATCHWORK

    def __init__(self, client: PatchworkClient, project: Optional[str]) -> None:
        self.client = client
        self.project = project
        self.where = client.server
        self._json: Dict[int, models.Series] = {}  # the series' JSON this run has, by id

    def close(self) -> None:
        self.client.close()

    def fetch(self, ref: SeriesRef, *, cover_text: bool = True, meanwhile: Callable[[], None] = lambda: None) -> Series:
        series_id, known_cover = locate(self.client, ref, self.project)
        got = self.client.fetch(series_id, known_cover=known_cover, cover_text=cover_text, meanwhile=meanwhile)
        self._json[series_id] = got.series
        MboxCache().put(self.client.server, series_id, got.mbox)  # for pwapply diff later
        return from_server(got, self.client.server)

    def get(self, key: Key, *, fresh: bool = False) -> Series:
        """The series ``key`` names: its JSON (this run's, if asked already), its mbox
        (from the cache, unless ``fresh``) and its cover letter's text, at once."""
        sid = int(key.what)
        cache = MboxCache()
        asked_json = None if sid in self._json else self.client.submit(self.client.series, sid)
        data = None if fresh else cache.get(self.client.server, sid)
        asked_mbox = self.client.submit(self.client.series_mbox, sid) if data is None else None
        s = self._json[sid] if asked_json is None else process.result(asked_json, what="series")
        self._json[sid] = s
        cover = self.client.submit(self.client.cover_content, s.cover.id) if s.cover is not None else None
        if asked_mbox is not None:
            data = process.result(asked_mbox, what="mbox")
            cache.put(self.client.server, sid, data)
        assert data is not None
        return from_server(Fetched(s, data, None, cover), self.client.server)

    def summary(self, ref: SeriesRef) -> Summary:
        sid, _ = locate(self.client, ref, self.project)
        return summary(self._series(sid), self.client.server)

    def locate(self, msgids: Sequence[str]) -> Dict[str, Key]:
        """The series of each Message-ID the server knows: one look-up a series (a
        Message-ID of a series found already costs nothing)."""
        out: Dict[str, Key] = {}
        for msgid in msgids:
            if msgid in out:
                continue
            try:
                sid, _ = self.client.series_of_msgid(msgid, self.project, cover_first=False)
            except NotFoundError:
                continue
            s = self._json.get(sid) or self.client.series(sid)
            self._json[sid] = s
            key = key_of(self.client.server, sid)
            for p in s.patches:
                out.setdefault(p.msgid, key)
            out.setdefault(msgid, key)
        return out

    def bases(self, root: Series, found: deps.Found, ui: UI) -> Tuple[List[Node], List[str]]:
        nodes, ignored, seen = follow(self.client, root, found, self.project, ui)
        self._json.update(seen)
        return nodes, ignored

    def newest(self, key: Key) -> Optional[Summary]:
        current = self._series(int(key.what))
        later = newest(self.client, current)
        return summary(later, self.client.server) if later is not None else None

    def facts(self, known: Sequence[Known], want: Want) -> Dict[Key, Facts]:
        ids = [int(k.key.what) for k in known]
        return gather(self.client, ids, want, {i: self._json[i] for i in ids if i in self._json})

    def versions(self, ref: SeriesRef) -> Tuple[Summary, List[Summary]]:
        sid, _ = locate(self.client, ref, self.project)
        current = self._series(sid)
        found = find(self.client, current)
        return summary(current, self.client.server), [summary(v, self.client.server) for v in found]

    def states(self, keys: Sequence[Key]) -> Dict[Key, List[PatchState]]:
        with request_pool() as pool:
            asked = [(k, pool.submit(self.client.patch_states, int(k.what))) for k in keys]
            out: Dict[Key, List[PatchState]] = {}
            for k, f in asked:
                got: List[models.PatchState] = process.result(f, what="states")
                out[k] = [PatchState(p.state, p.check, p.web_url) for p in got]
            return out

    def waiting(self, query: Query) -> Listing:
        return waiting.waiting(self.client, self.project, query)

    def knows(self, msgids: Sequence[str]) -> Set[str]:
        """Those of ``msgids`` that are patches here (whatever their state), asked at once."""
        with request_pool() as pool:
            asked = [(m, pool.submit(self.client.find_mail, "patches", m, self.project)) for m in msgids]
            return {m for m, f in asked if process.result(f, what="a Message-ID") is not None}

    def _series(self, series_id: int) -> models.Series:
        if series_id not in self._json:
            self._json[series_id] = self.client.series(series_id)
        return self._json[series_id]
