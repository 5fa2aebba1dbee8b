"""PatchworkClient: what pwapply asks a Patchwork server, one method an endpoint, and
the fetch plan of an apply.  ``Connection`` is how a run reaches servers (timeout, CA
bundle, token and the one server it belongs to, -v log): made once, it makes every
client of the run.

Requests (see DESIGN.md): a series id costs the series JSON and its mbox, fetched
concurrently (the mbox URL is known from the id), then the cover letter's comments when
the series has a cover letter: 3 requests in 2 round trips.  A Message-ID costs one
lookup more, and the lookup is checked: servers before API 1.2 ignore ``?msgid=`` and
answer with every patch.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

from .. import process, threads
from ..errors import NetworkError, NotFoundError
from . import models
from .models import PatchState, Series
from .transport import API_VERSION, DEFAULT_MAX_MBOX, Logger, Transport, _q, request_pool

if TYPE_CHECKING:
    from ..archive.client import ArchiveClient

__all__ = ["Connection", "Fetched", "MailHit", "PatchworkClient", "Preload", "request_pool"]


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class MailHit:
    """A mail found by its Message-ID: its series, and its id when it is a cover letter."""

    series_id: int
    cover_id: Optional[int]


class PatchworkClient(Transport):
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
        status, headers, body = self._get(
            f"{self.server}/series/{series_id}/mbox/",
            what=f"the mbox of series {series_id}",
            stream_limit=self.max_mbox,
        )
        if status == 404:
            raise NotFoundError(f"series {series_id} has no mbox on {self.host}", "check the series id")
        self._check_status(status, f"the mbox of series {series_id}")
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
        query = f"?msgid={_q(msgid)}" + (f"&project={_q(project)}" if project else "")
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
        query = "&".join(f"{k}={_q(v)}" for k, v in params)
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
        import json

        what = f"the state of patch {patch_id}"
        if not self.sends_token:
            raise NetworkError(
                f"no token to send to {self.host}: changing {what} needs one",
                "set the token of a maintainer: git config pwapply.token <token> (or PWAPPLY_TOKEN)",
            )
        data = {"state": state, **({"commit_ref": commit_ref} if commit_ref else {})}
        status, _, body = self._request(
            "PATCH", f"{self.api}/patches/{patch_id}/", what, body=json.dumps(data).encode()
        )
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
        self._check_status(status, what)

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


# ------------------------------------------------------------------ making clients


class Preload:
    """httpx (110 ms to import with its transport, here) loaded in a thread while git
    checks the repository, and, once the server is known to be https, its default TLS
    context (loading the CA bundle: 20-30 ms more) made there too."""

    def __init__(self) -> None:
        self._modules: "Optional[Future[None]]" = None
        self._tls: "Optional[Future[Any]]" = None

    def start(self) -> None:
        if self._modules is None:
            self._modules = threads.in_thread(_import_httpx, "pwapply-preload")

    def want_tls(self) -> None:
        if self._tls is None:
            self._tls = threads.in_thread(_default_tls, "pwapply-tls")

    def tls(self, timeout: float = 30.0) -> Any:
        """The TLS context made ahead, or None (an import that failed here fails again,
        and is reported, where the client is made; one that takes over ``timeout``
        seconds is made again there)."""
        if self._tls is None:
            return None
        try:
            return process.result(self._tls, timeout, what="preload")
        except Exception:  # noqa: BLE001
            return None


def _import_httpx() -> None:
    import httpcore  # noqa: F401 -- httpx's transport imports it when a client is made
    import httpx  # noqa: F401


def _default_tls() -> Any:
    import httpx

    return httpx.create_ssl_context()


@dataclass(frozen=True)
class Connection:
    """How this run reaches Patchwork servers.  The token goes only to ``token_server``
    (the configured server), never to a server named only by a URL or a trailer."""

    timeout: float = 30.0
    ca_bundle: Optional[str] = None
    max_mbox: int = DEFAULT_MAX_MBOX
    log: Optional[Logger] = None
    token: Optional[str] = None
    token_server: Optional[str] = None
    preload: Optional[Preload] = None

    def warm(self, server: str) -> None:
        """Start making what a client of ``server`` will need (its TLS context), so that
        it is ready by the time the client is made."""
        if server.startswith("https://") and not self.ca_bundle and self.preload is not None:
            self.preload.want_tls()

    def archive(self, base: str) -> "ArchiveClient":
        """A client of the list archive at ``base`` (never given the token)."""
        from ..archive.client import ArchiveClient

        https = base.startswith("https://")
        self.warm(base)
        return ArchiveClient(
            base,
            timeout=self.timeout,
            log=self.log,
            max_mbox=self.max_mbox,
            ca_bundle=self.ca_bundle,
            tls=self.preload.tls if self.preload is not None and https and not self.ca_bundle else None,
        )

    def client(self, server: str) -> PatchworkClient:
        mine = self.token_server is not None and server.rstrip("/") == self.token_server.rstrip("/")
        https = server.startswith("https://")
        self.warm(server)
        return PatchworkClient(
            server,
            token=self.token if mine else None,
            timeout=self.timeout,
            log=self.log,
            max_mbox=self.max_mbox,
            ca_bundle=self.ca_bundle,
            tls=self.preload.tls if self.preload is not None and https and not self.ca_bundle else None,
        )
