"""PatchworkClient: what pwapply asks a Patchwork server, one method an endpoint, and
the fetch plan of an apply, on the one HTTP transport (net/transport.py): its JSON, its
paginated lists, and its token (sent only to this server, over https or to this machine).

Requests (see DESIGN.md): a series id costs the series JSON and its mbox, fetched
concurrently (the mbox URL is known from the id), then the cover letter's comments when
the series has a cover letter: 3 requests in 2 round trips.  A Message-ID costs one
lookup more, and the lookup is checked: servers before API 1.2 ignore ``?msgid=`` and
answer with every patch.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import Future
from typing import Any, Callable, Dict, List, Optional, Tuple

from ... import process
from ...errors import NetworkError, NotFoundError
from ...frozen import frozen
from ...net.transport import Service, Transport, quoted
from . import models
from .models import PatchState, Series

API_VERSION = "1.2"  # the first with ?msgid= filters; every field we read exists there
PATCHWORK = Service("Patchwork", "check the server URL (pwapply config)", "--server")


@frozen
class Fetched:
    series: Series
    mbox: bytes
    pending_comments: "Optional[Future[Tuple[str, ...]]]"  # replies to the cover letter, still on their way
    pending_cover: "Optional[Future[str]]" = None  # the cover letter's text, still on its way

    def cover_comments(self) -> Tuple[str, ...]:
        """Bodies of the replies to the cover letter (waits for them if need be)."""
        if self.pending_comments is None:
            return ()
        return process.result(self.pending_comments, what="cover comments")

    def cover_text(self) -> str:
        """The cover letter's text ("" without one; waits for it if need be)."""
        if self.pending_cover is None:
            return ""
        return process.result(self.pending_cover, what="cover letter")


@frozen
class MailHit:
    """A mail found by its Message-ID: its series, and its id when it is a cover letter."""

    series_id: int
    cover_id: Optional[int]


class PatchworkClient(Transport):
    """One Patchwork server (``https://patchwork.ozlabs.org``), API pinned to API_VERSION
    for what every version has, with ``token`` when it is the server's."""

    SERVICE = PATCHWORK
    ACCEPT = "application/json"

    def __init__(self, server: str, *, token: Optional[str] = None, **transport: Any) -> None:
        """``transport``: Transport's settings (timeout, log, max_size, ca_bundle...)."""
        super().__init__(server, credentials={"Authorization": f"Token {token}"} if token else None, **transport)
        self.api = f"{self.server}/api/{API_VERSION}"

    @property
    def sends_token(self) -> bool:
        return self.sends_credentials

    # ------------------------------------------------------------------ JSON

    def _json(self, url: str, *, what: str, missing: str) -> Any:
        status, headers, body = self.get(url, what=what)
        data = _parse_json(body)
        if status == 404:
            if isinstance(data, dict) and "detail" in data:
                raise NotFoundError(f"{missing} on {self.host}", "check the id; -v shows the request")
            raise NetworkError(
                f"{self.host} has no Patchwork API {API_VERSION} at {url}",
                "is this a Patchwork server (version 2.2 or newer)? check pwapply.server",
            )
        self._check(status, what)
        if data is None:
            raise NetworkError(
                f"{self.host} did not answer with JSON for {what}: is this a Patchwork server?",
                "check the server URL (pwapply config)",
            )
        return data

    def _check(self, status: int, what: str) -> None:
        self.check_status(status, what, "check pwapply.token, or whether this project is public")

    def _list(self, url: str, *, what: str) -> List[Any]:
        """GET a list endpoint, following Link: rel="next" pagination."""
        return self._pages(url, what=what)[0]

    def _pages(
        self, url: str, *, what: str, enough: Callable[[List[Any]], bool] = lambda items: False, pages_max: int = 100
    ) -> Tuple[List[Any], bool]:
        """GET a list endpoint, following Link: rel="next" pagination until ``enough``
        says the items so far are; and whether pages were left."""
        items: List[Any] = []
        next_url: Optional[str] = url
        pages = 0
        while next_url and pages < pages_max and not (pages and enough(items)):
            pages += 1
            status, headers, body = self.get(next_url, what=what)
            self._check(status, what)
            data = _parse_json(body)
            if not isinstance(data, list):
                raise NetworkError(
                    f"{self.host} did not answer with a JSON list for {what}: is this a Patchwork server?",
                    "check the server URL (pwapply config)",
                )
            items.extend(data)
            next_url = _next_link(headers.get("link", ""))
        return items, next_url is not None

    # ------------------------------------------------------------------ endpoints

    def series(self, series_id: int) -> Series:
        # The server's own API version, not the one pinned: Patchwork 3.3 (API 1.4)
        # lists the series' dependencies there; older servers answer in their shape,
        # which has every other field we read.
        data = self._json(
            f"{self.server}/api/series/{series_id}/",
            what=f"series {series_id}",
            missing=f"series {series_id} not found",
        )
        return models.series(data)

    def series_mbox(self, series_id: int) -> bytes:
        status, headers, body = self.get(
            f"{self.server}/series/{series_id}/mbox/",
            what=f"the mbox of series {series_id}",
            stream_limit=self.max_size,
        )
        if status == 404:
            raise NotFoundError(f"series {series_id} has no mbox on {self.host}", "check the series id")
        self._check(status, f"the mbox of series {series_id}")
        if body.lstrip()[:1] == b"<" and b"<html" in body[:2000].lower():
            raise NetworkError(
                f"{self.host} sent a web page instead of the mbox of series {series_id}", "is this a Patchwork server?"
            )
        return body

    def cover_comments(self, cover_id: int) -> Tuple[str, ...]:
        items = self._list(
            f"{self.api}/covers/{cover_id}/comments/?per_page=100", what=f"the comments on cover letter {cover_id}"
        )
        return tuple(str(c.get("content") or "") for c in items if isinstance(c, dict))

    def series_of_patch(self, patch_id: int, *, cover: bool = False) -> int:
        kind = "covers" if cover else "patches"
        label = "cover letter" if cover else "patch"
        data = self._json(
            f"{self.api}/{kind}/{patch_id}/", what=f"{label} {patch_id}", missing=f"{label} {patch_id} not found"
        )
        return models.first_series(data, f"{label} {patch_id}")

    def series_of_msgid(self, msgid: str, project: Optional[str], cover_first: bool) -> Tuple[int, Optional[int]]:
        """(series id, cover id when the msgid is the cover letter's), asking the likelier
        kind first."""
        for kind in ("covers", "patches") if cover_first else ("patches", "covers"):
            hit = self.find_mail(kind, msgid, project)
            if hit is not None:
                return hit.series_id, hit.cover_id
        raise self.unknown_msgid(msgid, project)

    def find_mail(self, kind: str, msgid: str, project: Optional[str]) -> Optional[MailHit]:
        """The cover letter (``kind`` "covers") or patch ("patches") with this Message-ID."""
        query = f"?msgid={quoted(msgid)}" + (f"&project={quoted(project)}" if project else "")
        items = self._list(f"{self.api}/{kind}/{query}", what=f"Message-ID {msgid}")
        # An old server ignores ?msgid= and lists everything: trust only exact matches.
        hits = [i for i in items if isinstance(i, dict) and models.strip_brackets(str(i.get("msgid", ""))) == msgid]
        if items and not hits and len(items) > 1:
            raise NetworkError(
                f"{self.host} ignored the Message-ID filter (Patchwork API older than {API_VERSION})",
                "give the series id or its URL instead",
            )
        if not hits:
            return None
        series_id = models.first_series(hits[0], f"Message-ID {msgid}")
        return MailHit(series_id, int(hits[0]["id"]) if kind == "covers" else None)

    def unknown_msgid(self, msgid: str, project: Optional[str]) -> NotFoundError:
        where = f" in project {project}" if project else ""
        return NotFoundError(
            f"no patch or cover letter with Message-ID <{msgid}>{where} on {self.host}",
            "check the Message-ID, or the project (pwapply config)",
        )

    def series_list(
        self,
        *,
        project: str,
        submitter: Optional[int] = None,
        since: Optional[str] = None,
        before: Optional[str] = None,
        q: Optional[str] = None,
    ) -> List[Series]:
        """Every series matching the filters, newest first, across all pages."""
        params = [("project", project), ("order", "-date"), ("per_page", "100")]
        if submitter is not None:
            params.append(("submitter", str(submitter)))
        for key, value in (("since", since), ("before", before), ("q", q)):
            if value:
                params.append((key, value))
        query = "&".join(f"{k}={quoted(v)}" for k, v in params)
        items = self._list(f"{self.api}/series/?{query}", what=f"the series of project {project}")
        out = [models.series(item) for item in items if isinstance(item, dict)]
        # A filter the server does not know is ignored: keep only what was asked for.
        return [
            s
            for s in out
            if (not project or s.project == project) and (submitter is None or s.submitter_id == submitter)
        ]

    def patch_states(self, series_id: int) -> List[PatchState]:
        """Each patch of a series with its state (new, accepted, superseded ...) and the
        summary of its CI checks (pending, success, warning, fail)."""
        items = self._list(
            f"{self.api}/patches/?series={series_id}&per_page=100", what=f"the patches of series {series_id}"
        )
        return [models.patch_state(i) for i in items if isinstance(i, dict)]

    def waiting_patches(
        self, filters: List[Tuple[str, str]], enough: Callable[[List[models.ListedPatch]], bool], pages_max: int
    ) -> Tuple[List[models.ListedPatch], bool]:
        """The patches matching ``filters`` (project, state, archived, since ...), newest
        first, a page of 100 at a time until ``enough`` says so; and whether more pages
        were left."""
        query = "&".join(f"{k}={quoted(v)}" for k, v in [*filters, ("order", "-date"), ("per_page", "100")])
        items, left = self._pages(
            f"{self.api}/patches/?{query}",
            what="the patches waiting",
            enough=lambda items: enough([p for p in map(models.listed_patch, items) if p is not None]),
            pages_max=pages_max,
        )
        return [p for p in map(models.listed_patch, items) if p is not None], left

    def covers_of(self, series_ids: List[int]) -> Dict[int, int]:
        """The cover letter of each of ``series_ids`` that has one (series id -> cover
        id), in one request (Patchwork's series filter takes several ids)."""
        query = "&".join(f"series={i}" for i in series_ids)
        items = self._list(f"{self.api}/covers/?{query}&per_page=100", what="the series' cover letters")
        return {sid: cid for sid, (cid, _) in _covers(items).items() if sid in series_ids}

    def recent_covers(self, filters: List[Tuple[str, str]]) -> Tuple[Dict[int, int], str]:
        """The newest 100 cover letters matching ``filters`` (series id -> cover id), in
        one request; and, when there are older ones, the date of the oldest here (a
        series posted since has its cover letter here if it has one)."""
        query = "&".join(f"{k}={quoted(v)}" for k, v in [*filters, ("order", "-date"), ("per_page", "100")])
        items, left = self._pages(f"{self.api}/covers/?{query}", what="the newest cover letters", pages_max=1)
        found = _covers(items)
        return {sid: cid for sid, (cid, _) in found.items()}, min(
            (d for _, d in found.values()), default=""
        ) if left else ""

    def users(self, search: str) -> List[models.User]:
        """The users whose name or address contains ``search`` (a token is needed)."""
        items = self._list(f"{self.api}/users/?q={quoted(search)}", what="Patchwork's users")
        return [u for u in map(models.user, items) if u is not None]

    def user(self, user_id: int) -> Optional[models.User]:
        data = self._json(f"{self.api}/users/{user_id}/", what=f"user {user_id}", missing=f"user {user_id} not found")
        return models.user(data)

    def cover_content(self, cover_id: int) -> str:
        data = self._json(
            f"{self.api}/covers/{cover_id}/",
            what=f"cover letter {cover_id}",
            missing=f"cover letter {cover_id} not found",
        )
        return models.text(data.get("content")) if isinstance(data, dict) else ""

    def set_state(self, patch_id: int, state: str, commit_ref: Optional[str] = None) -> None:
        """Change a patch's state (and the commit it went in as), as a maintainer of its
        project: 403 for anyone else, 400 for a state the server does not have."""
        what = f"the state of patch {patch_id}"
        if not self.sends_token:
            raise NetworkError(
                f"no token to send to {self.host}: changing {what} needs one",
                "set the token of a maintainer: git config pwapply.token <token> (or PWAPPLY_TOKEN)",
            )
        data = {"state": state, **({"commit_ref": commit_ref} if commit_ref else {})}
        status, _, body = self.request("PATCH", f"{self.api}/patches/{patch_id}/", what, body=json.dumps(data).encode())
        if status == 400:
            detail = body.decode("utf-8", "replace")
            raise NetworkError(
                f"{self.host} refused {what}: {detail[:200]}",
                "check git config pwapply.acceptState against the server's states",
            )
        if status == 404:
            raise NotFoundError(f"patch {patch_id} not found on {self.host}", "was it deleted?")
        if status in (401, 403):
            raise NetworkError(
                f"{self.host} refused to change {what} (HTTP {status}): not a maintainer of its project?",
                "only the project's maintainers (or the patch's delegate or submitter) may; check pwapply.token",
            )
        self._check(status, what)

    # ------------------------------------------------------------------ fetch plans

    def fetch(
        self,
        series_id: int,
        *,
        known_cover: Optional[int] = None,
        cover_text: bool = True,
        meanwhile: Callable[[], None] = lambda: None,
    ) -> Fetched:
        """Series JSON and mbox concurrently; the cover letter's replies (and, with
        ``cover_text``, its text, for the Based-on: lines it may hold) are asked for as
        soon as the cover is known (at once when it already is) and left on their way:
        the caller applies the patches meanwhile and collects them with
        ``cover_comments()`` and ``cover_text()``.  The caller's ``meanwhile`` runs while
        the first requests are in flight."""
        self.ready()
        f_series = self.submit(self.series, series_id)
        f_mbox = self.submit(self.series_mbox, series_id)
        later = self.ask_cover(known_cover, cover_text) if known_cover else (None, None)
        try:
            meanwhile()
            series = process.result(f_series, what="series")
        except BaseException:
            f_mbox.cancel()
            raise
        if known_cover is None and series.cover is not None:
            later = self.ask_cover(series.cover.id, cover_text)
        mbox = process.result(f_mbox, what="mbox")
        return Fetched(series=series, mbox=mbox, pending_comments=later[0], pending_cover=later[1])

    def ask_cover(
        self, cover_id: int, text: bool = True
    ) -> "Tuple[Optional[Future[Tuple[str, ...]]], Optional[Future[str]]]":
        """A cover letter's replies and (with ``text``) its text, both asked for at once."""
        return self.submit(self.cover_comments, cover_id), self.submit(self.cover_content, cover_id) if text else None


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _next_link(header: str) -> Optional[str]:
    for part in header.split(","):
        m = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', part)
        if m:
            return m.group(1)
    return None


def _covers(items: List[Any]) -> Dict[int, Tuple[int, str]]:
    """Items of /api/covers/ -> series id -> (cover id, its date)."""
    out: Dict[int, Tuple[int, str]] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            continue
        found = item.get("series")
        for s in found if isinstance(found, list) else [found] if isinstance(found, dict) else []:
            if isinstance(s, dict) and isinstance(s.get("id"), int):
                out[int(s["id"])] = (int(item["id"]), models.text(item.get("date")))
    return out
