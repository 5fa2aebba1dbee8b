"""PatchworkClient: the only module that speaks HTTP.

One httpx client per run: base URL, pinned API version, timeout, User-Agent and token
set once.  JSON is turned into frozen dataclasses here; nothing past this module sees a
dict from the server.

Requests (see DESIGN.md): a series id costs the series JSON and its mbox, fetched
concurrently (the mbox URL is known from the id), then the cover letter's comments when
the series has a cover letter: 3 requests in 2 round trips.  A Message-ID costs one
lookup more, and the lookup is checked: servers before API 1.2 ignore ``?msgid=`` and
answer with every patch.
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

from . import __version__
from .errors import NetworkError, NotFoundError

if TYPE_CHECKING:
    import httpx

API_VERSION = "1.2"  # the first with ?msgid= filters; every field we read exists there
DEFAULT_MAX_MBOX = 64 * 1024 * 1024
RETRIES = 3
MAX_RETRY_AFTER = 10.0
MAX_REDIRECTS = 5

Logger = Callable[[str], None]


@dataclass(frozen=True)
class PatchRef:
    id: int
    msgid: str  # without <>
    name: str
    web_url: str


@dataclass(frozen=True)
class CoverRef:
    id: int
    msgid: str
    name: str
    web_url: str


@dataclass(frozen=True)
class Series:
    id: int
    name: Optional[str]
    version: int
    total: int
    received_total: int
    received_all: bool
    project: str  # link name
    submitter_name: str
    submitter_email: str
    submitter_id: Optional[int]
    web_url: str
    date: str
    cover: Optional[CoverRef]
    patches: Tuple[PatchRef, ...]


@dataclass(frozen=True)
class PatchState:
    id: int
    msgid: str
    state: str
    check: str
    web_url: str


@dataclass(frozen=True)
class Fetched:
    series: Series
    mbox: bytes
    pending_comments: "Optional[Future[Tuple[str, ...]]]"  # replies to the cover letter, still on their way

    def cover_comments(self) -> Tuple[str, ...]:
        """Bodies of the replies to the cover letter (waits for them if need be)."""
        from . import process

        if self.pending_comments is None:
            return ()
        return process.result(self.pending_comments, what="cover comments")


def _strip_brackets(msgid: str) -> str:
    return msgid.strip().strip("<>").strip()


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@contextmanager
def request_pool(workers: int = 4) -> Iterator[ThreadPoolExecutor]:
    """A thread pool for concurrent requests that, on an error or Ctrl-C, does not wait
    for the requests still running: nobody will read them, and waiting for them could
    hold the exit up to --timeout."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pwapply-http")
    try:
        yield pool
    finally:
        # Never waiting: every result wanted was waited for (process.result), and a
        # request still running after an error or Ctrl-C is one nobody will read.
        pool.shutdown(wait=False, cancel_futures=True)


def preload(https: bool) -> Any:
    """Import httpx and the transport it loads on its first client (110 ms together
    here), and for an https server make its default TLS context (loading the CA bundle:
    20-30 ms more) and return it.  apply calls this in a thread while git checks the
    repository, so the two overlap, and gives the context to its client."""
    import httpcore  # noqa: F401 -- httpx's transport imports it when a client is made
    import httpx

    return httpx.create_ssl_context() if https else None


class PatchworkClient:
    def __init__(
        self,
        server: str,
        *,
        token: Optional[str] = None,
        timeout: float = 30.0,
        log: Optional[Logger] = None,
        max_mbox: int = DEFAULT_MAX_MBOX,
        sleep: Optional[Callable[[float], None]] = None,
        ca_bundle: Optional[str] = None,
        tls: Optional[Callable[[], Any]] = None,
    ) -> None:
        self.server = server.rstrip("/")
        parts = urlsplit(self.server)
        self.host = parts.hostname or ""
        self.api = f"{self.server}/api/{API_VERSION}"
        self.timeout = timeout
        self.max_mbox = max_mbox
        self._log = log
        self._sleep = sleep
        self._token = token
        self._ca_bundle = ca_bundle
        self._tls = tls  # gives a TLS context made ahead (preload), or None
        # The token only travels encrypted, or to this machine.
        self.sends_token = bool(token) and (parts.scheme == "https" or is_loopback(self.host))
        if token and not self.sends_token and log:
            log(f"not sending the token to {self.host} over plain http")
        # Plain http needs no TLS context (building one loads the whole CA bundle); a
        # redirect to https gets a client of its own that verifies.
        self._http = self._client(https=parts.scheme == "https", token=self.sends_token)
        # --timeout bounds all of this client's network time (counted from here, after
        # httpx is loaded), not each read: a server that answers a byte at a time cannot
        # hold a run for long.
        self._deadline = time.monotonic() + timeout
        self._upgraded: Optional["httpx.Client"] = None
        self._moved: Optional[Tuple[str, str]] = None  # (from, to) after a move to https
        self._upgrade_lock = threading.Lock()
        self._pool: Optional[ThreadPoolExecutor] = None

    def _client(self, *, https: bool, token: bool) -> "httpx.Client":
        import httpx

        headers = {"User-Agent": f"pwapply/{__version__}", "Accept": "application/json"}
        if token and self._token:
            headers["Authorization"] = f"Token {self._token}"
        verify: Any = https
        if https and not self._ca_bundle and self._tls is not None:
            verify = self._tls() or True
        if https and self._ca_bundle:
            import ssl

            try:
                verify = ssl.create_default_context(cafile=self._ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                raise NetworkError(
                    f"cannot read the CA bundle {self._ca_bundle}: {exc}", "give a PEM file of CA certificates"
                ) from None
        # Redirects are followed by _get, which decides where the token may go.
        return httpx.Client(
            headers=headers, timeout=httpx.Timeout(self.timeout), follow_redirects=False, verify=verify, trust_env=True
        )

    def _submit(self, fn: Callable[..., Any], *args: Any) -> "Future[Any]":
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="pwapply-http")
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            # Not waiting: a request still running is one nobody will read (after an
            # error or Ctrl-C), and waiting for it would hold the exit up to --timeout.
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()
        if self._upgraded is not None:
            self._upgraded.close()

    def __enter__(self) -> "PatchworkClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport

    def _url(self, url: str) -> str:
        """Server-given URLs are fetched from our server with our scheme (ozlabs hands
        out http:// links; we stay on https)."""
        parts = urlsplit(url)
        if parts.scheme and parts.hostname and parts.hostname.lower() != self.host.lower():
            raise NetworkError(
                f"the server pointed to another host ({parts.hostname})",
                "is the server URL right? pwapply only follows links on the server it asks",
            )
        if parts.scheme:
            url = self.server.split("://", 1)[0] + "://" + url.split("://", 1)[1]
        if self._moved is not None and url.startswith(self._moved[0]):
            url = self._moved[1] + url[len(self._moved[0]) :]  # the server moved to https
        return url

    def _get(self, url: str, what: str, stream_limit: Optional[int] = None) -> Tuple[int, Dict[str, str], bytes]:
        """GET with retries of 5xx/429 and redirects: on this host (a relative Location,
        or the same host upgraded to https) they are followed; to another host, refused.
        Asked from the main thread, the request runs in the pool and the main thread
        waits on it as on anything else: a signal ends the wait at once (process.result)."""
        if threading.current_thread() is threading.main_thread():
            from . import process

            asked: "Future[Tuple[int, Dict[str, str], bytes]]" = self._submit(self._get, url, what, stream_limit)
            return process.result(asked, what=what)
        url = self._url(url)
        attempt = hops = 0
        while True:
            attempt += 1
            started = time.monotonic()
            status, headers, body = self._get_once(url, what, stream_limit)
            if self._log:
                ms = (time.monotonic() - started) * 1000
                self._log(f"GET {url} -> {status} ({ms:.0f} ms, {len(body)} bytes)")
            if status in (301, 302, 303, 307, 308) and headers.get("location"):
                hops += 1
                if hops > MAX_REDIRECTS:
                    raise NetworkError(f"too many redirects fetching {what}", "check the server URL (pwapply config)")
                url = self._redirect(url, headers["location"], what)
                continue
            if (status >= 500 or status == 429) and attempt < RETRIES:
                delay = min(_retry_after(headers.get("retry-after"), attempt), max(self._remaining(), 0.0))
                if self._log:
                    self._log(f"retrying in {delay:g} s")
                (self._sleep or time.sleep)(delay)
                continue
            return status, headers, body

    def _remaining(self) -> float:
        return self._deadline - time.monotonic()

    def _too_slow(self, what: str, answered: bool) -> NetworkError:
        told = f"did not finish sending {what} within" if answered else "did not answer within"
        return NetworkError(
            f"{self.host} {told} {self.timeout:g} s" + ("" if answered else f" ({what})"),
            "try again later, or allow more time with --timeout",
        )

    def _redirect(self, url: str, location: str, what: str) -> str:
        from urllib.parse import urljoin

        target = urljoin(url, location)
        old, new = urlsplit(url), urlsplit(target)
        if (new.hostname or "").lower() != self.host.lower() or new.scheme not in ("http", "https"):
            where = f"{new.scheme}://{new.netloc}" if new.netloc else target
            raise NetworkError(
                f"{self.host} redirected {what} to another server ({where})",
                f"if that is the Patchwork server, use it: --server {where} (the token is not sent on)",
            )
        if new.scheme == "https" and old.scheme == "http":
            with self._upgrade_lock:  # the series and its mbox may both be redirected at once
                if self._upgraded is None:
                    if self._log:
                        self._log(f"{self.host} moved to https; following")
                    # Same host, now encrypted: the token may go with it, and the next
                    # requests go there straight.
                    self._upgraded = self._client(https=True, token=True)
                    self._moved = (f"{old.scheme}://{old.netloc}", f"{new.scheme}://{new.netloc}")
        if new.scheme == "http" and old.scheme == "https":
            raise NetworkError(
                f"{self.host} redirected {what} from https to plain http", "refusing to go on unencrypted"
            )
        return target

    def _get_once(self, url: str, what: str, stream_limit: Optional[int]) -> Tuple[int, Dict[str, str], bytes]:
        from . import process

        remaining = self._remaining()
        if remaining <= 0:
            raise self._too_slow(what, answered=False)
        label = "GET " + re.sub(r"\d+", "N", urlsplit(url).path)
        process.step(f"before {label}")
        try:
            return self._get_timed(url, what, stream_limit, remaining)
        finally:
            process.step(f"after {label}")

    def _get_timed(
        self, url: str, what: str, stream_limit: Optional[int], remaining: float
    ) -> Tuple[int, Dict[str, str], bytes]:
        import httpx

        client = self._upgraded if self._upgraded is not None and url.startswith("https:") else self._http
        answered = False
        try:
            with client.stream("GET", url, timeout=httpx.Timeout(remaining)) as resp:
                answered = True
                declared = resp.headers.get("content-length")
                if stream_limit is not None and declared and declared.isdigit() and int(declared) > stream_limit:
                    raise NetworkError(
                        f"{what} is {_size(int(declared))}, over the {_size(stream_limit)} limit",
                        "raise the limit with --max-mbox-size MIB if this is expected",
                    )
                chunks = []
                size = 0
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if stream_limit is not None and size > stream_limit:
                        raise NetworkError(
                            f"{what} is over the {_size(stream_limit)} limit",
                            "raise the limit with --max-mbox-size MIB if this is expected",
                        )
                    if time.monotonic() > self._deadline:
                        raise self._too_slow(what, answered=True)
                    chunks.append(chunk)
                return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, b"".join(chunks)
        except httpx.TimeoutException:
            raise self._too_slow(what, answered) from None
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise NetworkError(
                    f"the TLS certificate of {urlsplit(url).hostname} is not trusted: {_reason(exc)}",
                    "if the server uses a private CA, give it with --ca-bundle FILE or SSL_CERT_FILE",
                ) from None
            if _is_name_error(exc):
                raise NetworkError(
                    f"cannot find the server {self.host}: {_reason(exc)}",
                    "check the server's name (pwapply config), your DNS and your network",
                ) from None
            raise NetworkError(
                f"cannot connect to {self.host}: {_reason(exc)}",
                "check the server URL (pwapply config) and your network",
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise NetworkError(
                f"the connection to {self.host} broke while fetching {what}: {_reason(exc)}",
                "try again; -v shows the requests",
            ) from None
        except httpx.HTTPError as exc:
            raise NetworkError(
                f"HTTP error fetching {what}: {_reason(exc)}", "try again; -v shows the requests"
            ) from None

    def _json(self, url: str, *, what: str, missing: str) -> Any:
        status, headers, body = self._get(url, what=what)
        data = _parse_json(body)
        if status == 404:
            if isinstance(data, dict) and "detail" in data:
                raise NotFoundError(f"{missing} on {self.host}", "check the id; -v shows the request")
            raise NetworkError(
                f"{self.host} has no Patchwork API {API_VERSION} at {url}",
                "is this a Patchwork server (version 2.2 or newer)? check pwapply.server",
            )
        self._check_status(status, what)
        if data is None:
            raise NetworkError(
                f"{self.host} did not answer with JSON for {what}: is this a Patchwork server?",
                "check the server URL (pwapply config)",
            )
        return data

    def _check_status(self, status: int, what: str) -> None:
        if status in (401, 403):
            raise NetworkError(
                f"{self.host} refused access to {what} (HTTP {status})",
                "check pwapply.token, or whether this project is public",
            )
        if status >= 400:
            raise NetworkError(
                f"{self.host} answered HTTP {status} for {what}", "try again later; -v shows the requests"
            )

    def _list(self, url: str, *, what: str) -> List[Any]:
        """GET a list endpoint, following Link: rel="next" pagination."""
        items: List[Any] = []
        next_url: Optional[str] = url
        pages = 0
        while next_url and pages < 100:
            pages += 1
            status, headers, body = self._get(next_url, what=what)
            self._check_status(status, what)
            data = _parse_json(body)
            if not isinstance(data, list):
                raise NetworkError(
                    f"{self.host} did not answer with a JSON list for {what}: is this a Patchwork server?",
                    "check the server URL (pwapply config)",
                )
            items.extend(data)
            next_url = _next_link(headers.get("link", ""))
        return items

    # ------------------------------------------------------------------ endpoints

    def series(self, series_id: int) -> Series:
        data = self._json(
            f"{self.api}/series/{series_id}/", what=f"series {series_id}", missing=f"series {series_id} not found"
        )
        return _series(data)

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
        return _first_series(data, f"{label} {patch_id}")

    def series_of_msgid(self, msgid: str, project: Optional[str], cover_first: bool) -> Tuple[int, Optional[int]]:
        """(series id, cover id when the msgid is the cover letter's)."""
        order = ("covers", "patches") if cover_first else ("patches", "covers")
        for kind in order:
            query = f"?msgid={_q(msgid)}" + (f"&project={_q(project)}" if project else "")
            items = self._list(f"{self.api}/{kind}/{query}", what=f"Message-ID {msgid}")
            # An old server ignores ?msgid= and lists everything: trust only exact matches.
            hits = [i for i in items if isinstance(i, dict) and _strip_brackets(str(i.get("msgid", ""))) == msgid]
            if items and not hits and len(items) > 1:
                raise NetworkError(
                    f"{self.host} ignored the Message-ID filter (Patchwork API older than {API_VERSION})",
                    "give the series id or its URL instead",
                )
            if hits:
                series_id = _first_series(hits[0], f"Message-ID {msgid}")
                return series_id, (int(hits[0]["id"]) if kind == "covers" else None)
        where = f" in project {project}" if project else ""
        raise NotFoundError(
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
        out = [_series(item) for item in items if isinstance(item, dict)]
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
        return [
            PatchState(
                id=int(i.get("id") or 0),
                msgid=_strip_brackets(_str(i.get("msgid"))),
                state=_str(i.get("state")),
                check=_str(i.get("check")),
                web_url=_str(i.get("web_url")),
            )
            for i in items
            if isinstance(i, dict)
        ]

    def cover_content(self, cover_id: int) -> str:
        data = self._json(
            f"{self.api}/covers/{cover_id}/",
            what=f"cover letter {cover_id}",
            missing=f"cover letter {cover_id} not found",
        )
        return _str(data.get("content")) if isinstance(data, dict) else ""

    # ------------------------------------------------------------------ fetch plans

    def fetch(
        self, series_id: int, *, known_cover: Optional[int] = None, meanwhile: Callable[[], None] = lambda: None
    ) -> Fetched:
        """Series JSON and mbox concurrently; the cover's comments are asked for as soon as
        the cover is known (at once when it already is) and left on their way: the caller
        applies the patches meanwhile and collects them with ``cover_comments()``.  The
        caller's ``meanwhile`` runs while the first requests are in flight."""
        from . import process

        f_series = self._submit(self.series, series_id)
        f_mbox = self._submit(self.series_mbox, series_id)
        f_comments = self._submit(self.cover_comments, known_cover) if known_cover else None
        try:
            meanwhile()
            series = process.result(f_series, what="series")
        except BaseException:
            f_mbox.cancel()
            raise
        if f_comments is None and series.cover is not None:
            f_comments = self._submit(self.cover_comments, series.cover.id)
        mbox = process.result(f_mbox, what="mbox")
        return Fetched(series=series, mbox=mbox, pending_comments=f_comments)


def _size(n: int) -> str:
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{max(n // 1024, 1)} KiB"


def _q(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _reason(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    return text.splitlines()[0] if text else exc.__class__.__name__


def _is_name_error(exc: BaseException) -> bool:
    """Whether a connection failed because the host name did not resolve."""
    import socket

    seen = set()
    cur: Optional[BaseException] = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, socket.gaierror):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return bool(re.search(r"Name or service not known|nodename nor servname|name resolution", str(exc)))


def _retry_after(value: Optional[str], attempt: int) -> float:
    backoff: float = 0.5 * 2.0 ** (attempt - 1)
    if value and value.strip().isdigit():
        return min(float(value.strip()), MAX_RETRY_AFTER)
    return backoff


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


def _first_series(data: Any, what: str) -> int:
    series = data.get("series") if isinstance(data, dict) else None
    if not isinstance(series, list) or not series or not isinstance(series[0], dict):
        raise NotFoundError(f"{what} belongs to no series", "give the series id instead")
    return int(series[0]["id"])


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int_or_none(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _series(data: Any) -> Series:
    """Series JSON -> Series; NetworkError when it is not shaped like Patchwork's."""
    try:
        project = data.get("project") or {}
        submitter = data.get("submitter") or {}
        cover = data.get("cover_letter")
        cover_ref = None
        if isinstance(cover, dict) and cover.get("id") is not None:
            cover_ref = CoverRef(
                id=int(cover["id"]),
                msgid=_strip_brackets(_str(cover.get("msgid"))),
                name=_str(cover.get("name")),
                web_url=_str(cover.get("web_url")),
            )
        patches = tuple(
            PatchRef(
                id=int(p["id"]),
                msgid=_strip_brackets(_str(p.get("msgid"))),
                name=_str(p.get("name")),
                web_url=_str(p.get("web_url")),
            )
            for p in data.get("patches") or []
        )
        name = data.get("name")
        return Series(
            id=int(data["id"]),
            name=name if isinstance(name, str) else None,
            version=int(data.get("version") or 1),
            total=int(data.get("total") or len(patches)),
            received_total=int(data.get("received_total") or len(patches)),
            received_all=bool(data.get("received_all", True)),
            project=_str(project.get("link_name")) if isinstance(project, dict) else "",
            submitter_name=_str(submitter.get("name")) if isinstance(submitter, dict) else "",
            submitter_email=_str(submitter.get("email")) if isinstance(submitter, dict) else "",
            submitter_id=_int_or_none(submitter.get("id")) if isinstance(submitter, dict) else None,
            web_url=_str(data.get("web_url")),
            date=_str(data.get("date")),
            cover=cover_ref,
            patches=patches,
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        raise NetworkError(
            "the series JSON is not shaped like Patchwork's: is this a Patchwork server?",
            "check the server URL (pwapply config)",
        ) from None
