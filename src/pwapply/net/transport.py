"""HTTP: the one layer under every client pwapply has (Patchwork's, the list archive's),
and the only module that imports httpx.

A Transport speaks to one service (a Patchwork server, an inbox of a public-inbox
archive): one httpx client with base URL, User-Agent and credentials set once; requests
with retries of 5xx and 429 (Retry-After honoured, bounded); redirects followed by us on
the service's own origin only (so that we decide where credentials go: never to another
origin, never from https to http); one deadline for all of a transport's requests
(--timeout), checked while bodies stream, and a size limit while they do.  Every error
names the service that failed (``Patchwork`` or ``the archive``, with its URL), with a
hint of that service's own.

Credentials (Patchwork's token) are a client's business: a transport given none, as the
archive's, has nothing to send and nothing to guard.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, Mapping, Optional, Tuple, TypeVar
from urllib.parse import SplitResult, quote, urljoin, urlsplit

from .. import __version__, process
from ..errors import NetworkError
from ..frozen import frozen
from ..steps import step
from ..threads import Pool

if TYPE_CHECKING:
    import httpx

DEFAULT_MAX_SIZE = 64 * 1024 * 1024
RETRIES = 3
MAX_RETRY_AFTER = 10.0
MAX_REDIRECTS = 5

Logger = Callable[[str], None]
Answer = Tuple[int, Dict[str, str], bytes]
T = TypeVar("T", bound="Transport")


@frozen
class Service:
    """Who a transport speaks to, as errors name it: ``Patchwork`` or ``the archive``;
    what to check when it cannot be reached; the flag that names another one."""

    name: str
    hint: str  # e.g. "check the server URL (pwapply config)"
    flag: str  # e.g. "--server"


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def quoted(value: str) -> str:
    """A value for a URL's query or path, every reserved character encoded."""
    return quote(value, safe="")


@contextmanager
def request_pool(workers: int = 4) -> Iterator[Pool]:
    """A pool for concurrent requests that, on an error or Ctrl-C, does not wait for the
    requests still running: nobody will read them, and waiting for them could hold the
    exit up to --timeout."""
    pool = Pool(workers, "pwapply-http")
    try:
        yield pool
    finally:
        pool.shutdown()


class Transport:
    """HTTP to one service at ``base``.  ``credentials`` (headers) go only over https or
    to this machine, and only to ``base``'s origin (or that host moved to https).  A
    client names its ``SERVICE`` (for its errors) and what it ``ACCEPT``s."""

    SERVICE: Service
    ACCEPT = "*/*"

    def __init__(
        self,
        base: str,
        *,
        credentials: Optional[Mapping[str, str]] = None,
        timeout: float = 30.0,
        log: Optional[Logger] = None,
        max_size: int = DEFAULT_MAX_SIZE,
        sleep: Optional[Callable[[float], None]] = None,
        ca_bundle: Optional[str] = None,
        tls: Optional[Callable[[float], Any]] = None,
    ) -> None:
        self.server = base.rstrip("/")
        parts = urlsplit(self.server)
        self.host = parts.hostname or ""
        self.service = self.SERVICE
        self.timeout = timeout
        self.max_size = max_size
        self._accept = self.ACCEPT
        self._log = log
        self._sleep = sleep
        self._ca_bundle = ca_bundle
        self._tls = tls  # gives a TLS context made ahead (preload), or None
        # Credentials only travel encrypted, or to this machine.
        self._credentials = dict(credentials or {})
        self.sends_credentials = bool(self._credentials) and (parts.scheme == "https" or is_loopback(self.host))
        if self._credentials and not self.sends_credentials and log:
            log(f"not sending credentials to {self.host} over plain http")
        # Plain http needs no TLS context (building one loads the whole CA bundle); a
        # redirect to https gets a client of its own that verifies.
        self._https = parts.scheme == "https"
        self._make_lock = threading.Lock()
        self._http_client: Optional["httpx.Client"] = None
        # --timeout bounds all of this transport's network time (counted from the moment
        # its httpx client is made, httpx loaded), not each read: a server that answers
        # a byte at a time cannot hold a run for long.
        self._deadline: Optional[float] = None
        if ca_bundle:
            self.ready()  # a bad bundle is an error before anything else
        self._upgraded: Optional["httpx.Client"] = None
        self._moved: Optional[Tuple[str, str]] = None  # (from, to) after a move to https
        self._upgrade_lock = threading.Lock()
        self._pool: Optional[Pool] = None

    # ------------------------------------------------------------------ the client

    @property
    def which(self) -> str:
        """The service as an error ends: `` (the archive at http://127.0.0.1:80/x)``."""
        return f" ({self.service.name} at {self.server})"

    def _client(self, *, https: bool, credentials: bool) -> "httpx.Client":
        import httpx

        headers = {"User-Agent": f"pwapply/{__version__}", "Accept": self._accept}
        if credentials:
            headers.update(self._credentials)
        verify: Any = https
        if https and not self._ca_bundle and self._tls is not None:
            verify = self._tls(self.timeout) or True
        if https and self._ca_bundle:
            import ssl  # loaded with httpx otherwise (the start-up budget: tests/test_architecture.py)

            try:
                verify = ssl.create_default_context(cafile=self._ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                raise NetworkError(
                    f"cannot read the CA bundle {self._ca_bundle}: {exc}", "give a PEM file of CA certificates"
                ) from None
        # Redirects are followed by request(), which decides where credentials may go.
        return httpx.Client(
            headers=headers, timeout=httpx.Timeout(self.timeout), follow_redirects=False, verify=verify, trust_env=True
        )

    @property
    def _http(self) -> "httpx.Client":
        """The httpx client, made (and httpx loaded, or its Preload waited for) at the
        first request: a transport made and never asked costs nothing."""
        with self._make_lock:
            if self._http_client is None:
                self._http_client = self._client(https=self._https, credentials=self.sends_credentials)
                self._deadline = time.monotonic() + self.timeout
            return self._http_client

    def ready(self) -> None:
        """Make the httpx client now, in this thread: requests submitted next leave at
        once, rather than after a worker has loaded httpx."""
        self._http  # noqa: B018

    def submit(self, fn: Callable[..., Any], *args: Any) -> "Future[Any]":
        """Run ``fn(*args)`` (requests of this transport) in its pool; its future.  Wait
        for it with process.result(), which a signal always ends."""
        if self._pool is None:
            # A series' JSON, mbox, cover letter and replies at once; a chain's look-ups.
            self._pool = Pool(8, "pwapply-http")
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            # Not waiting: a request still running is one nobody will read (after an
            # error or Ctrl-C), and waiting for it would hold the exit up to --timeout.
            self._pool.shutdown()
        if self._http_client is not None:
            self._http_client.close()
        if self._upgraded is not None:
            self._upgraded.close()

    def __enter__(self: "T") -> "T":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ requests

    def url_of(self, url: str) -> str:
        """A URL the service gave, fetched from the service with its scheme (ozlabs hands
        out http:// links; we stay on https); another server's is refused."""
        parts = urlsplit(url)
        ours = urlsplit(self.server)
        other_port = parts.port is not None and parts.port != (ours.port or _DEFAULT_PORTS.get(ours.scheme))
        if parts.scheme and parts.hostname and (parts.hostname.lower() != self.host.lower() or other_port):
            raise NetworkError(
                f"{self.host} pointed to another server ({parts.scheme}://{parts.netloc}){self.which}",
                "is the URL right? pwapply only follows links on the server it asks",
            )
        if parts.scheme:
            url = self.server.split("://", 1)[0] + "://" + url.split("://", 1)[1]
        if self._moved is not None and url.startswith(self._moved[0]):
            url = self._moved[1] + url[len(self._moved[0]) :]  # the service moved to https
        return url

    def get(self, url: str, what: str, stream_limit: Optional[int] = None) -> Answer:
        return self.request("GET", url, what, stream_limit)

    def request(
        self,
        method: str,
        url: str,
        what: str,
        stream_limit: Optional[int] = None,
        body: Optional[bytes] = None,
        content_type: str = "application/json",
    ) -> Answer:
        """A request with retries of 5xx/429 and redirects: on this origin (a relative
        Location, or the same host upgraded to https) they are followed; to another,
        refused.  Asked from the main thread, the request runs in the pool and the main
        thread waits on it as on anything else: a signal ends the wait at once."""
        if threading.current_thread() is threading.main_thread():
            self.ready()
            asked: "Future[Answer]" = self.submit(self.request, method, url, what, stream_limit, body, content_type)
            return process.result(asked, what=what)
        url = self.url_of(url)
        attempt = hops = 0
        while True:
            attempt += 1
            started = time.monotonic()
            status, headers, answer = self._once(method, url, what, stream_limit, body, content_type)
            if self._log:
                ms = (time.monotonic() - started) * 1000
                self._log(f"{method} {url} -> {status} ({ms:.0f} ms, {len(answer)} bytes)")
            if status in (301, 302, 303, 307, 308) and headers.get("location"):
                hops += 1
                if hops > MAX_REDIRECTS:
                    raise NetworkError(f"too many redirects fetching {what}{self.which}", self.service.hint)
                url = self._redirect(url, headers["location"], what)
                continue
            if (status >= 500 or status == 429) and attempt < RETRIES:
                delay = min(_retry_after(headers.get("retry-after"), attempt), max(self._remaining(), 0.0))
                if self._log:
                    self._log(f"retrying in {delay:g} s")
                (self._sleep or time.sleep)(delay)
                continue
            return status, headers, answer

    def check_status(self, status: int, what: str, refused_hint: str = "") -> None:
        """A 4xx or 5xx answer as the error it is, naming the service."""
        if status in (401, 403):
            raise NetworkError(
                f"{self.host} refused access to {what} (HTTP {status}){self.which}",
                refused_hint or "is it public? " + self.service.hint,
            )
        if status >= 400:
            raise NetworkError(
                f"{self.host} answered HTTP {status} for {what}{self.which}", "try again later; -v shows the requests"
            )

    def _remaining(self) -> float:
        if self._deadline is None:
            return self.timeout
        return self._deadline - time.monotonic()

    def _too_slow(self, what: str, answered: bool) -> NetworkError:
        told = f"did not finish sending {what} within" if answered else "did not answer within"
        return NetworkError(
            f"{self.host} {told} {self.timeout:g} s" + ("" if answered else f" ({what})") + self.which,
            "try again later, or allow more time with --timeout",
        )

    def _redirect(self, url: str, location: str, what: str) -> str:
        target = urljoin(url, location)
        old, new = urlsplit(url), urlsplit(target)
        if new.scheme == "http" and old.scheme == "https":
            raise NetworkError(
                f"{self.host} redirected {what} from https to plain http{self.which}", "refusing to go on unencrypted"
            )
        if not follows(old, new):
            where = f"{new.scheme}://{new.netloc}" if new.netloc else target
            raise NetworkError(
                f"{self.host} redirected {what} to another server ({where}){self.which}",
                f"if that is the server, use it: {self.service.flag} {where}"
                + (" (the token is not sent on)" if self._credentials else ""),
            )
        if new.scheme == "https" and old.scheme == "http":
            with self._upgrade_lock:  # a series and its mbox may both be redirected at once
                if self._upgraded is None:
                    if self._log:
                        self._log(f"{self.host} moved to https; following")
                    # Same host, now encrypted: credentials may go with it, and the next
                    # requests go there straight.
                    self._upgraded = self._client(https=True, credentials=bool(self._credentials))
                    self._moved = (f"{old.scheme}://{old.netloc}", f"{new.scheme}://{new.netloc}")
        return target

    def _once(
        self,
        method: str,
        url: str,
        what: str,
        stream_limit: Optional[int],
        body: Optional[bytes],
        content_type: str,
    ) -> Answer:
        self.ready()  # made (and the deadline set) before it is counted
        remaining = self._remaining()
        if remaining <= 0:
            raise self._too_slow(what, answered=False)
        label = f"{method} " + re.sub(r"\d+", "N", urlsplit(url).path)
        step(f"before {label}")
        try:
            return self._timed(method, url, what, stream_limit, remaining, body, content_type)
        finally:
            step(f"after {label}")

    def _timed(
        self,
        method: str,
        url: str,
        what: str,
        stream_limit: Optional[int],
        remaining: float,
        body: Optional[bytes],
        content_type: str,
    ) -> Answer:
        import httpx

        client = self._upgraded if self._upgraded is not None and url.startswith("https:") else self._http
        answered = False
        try:
            content = {"content": body, "headers": {"Content-Type": content_type}} if body is not None else {}
            with client.stream(method, url, timeout=httpx.Timeout(remaining), **content) as resp:  # type: ignore[arg-type]
                answered = True
                declared = resp.headers.get("content-length")
                if stream_limit is not None and declared and declared.isdigit() and int(declared) > stream_limit:
                    raise NetworkError(
                        f"{what} is {size(int(declared))}, over the {size(stream_limit)} limit",
                        "raise the limit with --max-mbox-size MIB if this is expected",
                    )
                chunks = []
                got = 0
                for chunk in resp.iter_bytes():
                    got += len(chunk)
                    if stream_limit is not None and got > stream_limit:
                        raise NetworkError(
                            f"{what} is over the {size(stream_limit)} limit",
                            "raise the limit with --max-mbox-size MIB if this is expected",
                        )
                    if self._remaining() < 0:
                        raise self._too_slow(what, answered=True)
                    chunks.append(chunk)
                return resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, b"".join(chunks)
        except httpx.TimeoutException:
            raise self._too_slow(what, answered) from None
        except httpx.ConnectError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise NetworkError(
                    f"the TLS certificate of {urlsplit(url).hostname} is not trusted: {_reason(exc)}{self.which}",
                    "if the server uses a private CA, give it with --ca-bundle FILE or SSL_CERT_FILE",
                ) from None
            if _is_name_error(exc):
                raise NetworkError(
                    f"cannot find the server {self.host}: {_reason(exc)}{self.which}",
                    f"{self.service.hint}; check your DNS and your network",
                ) from None
            raise NetworkError(
                f"cannot connect to {self.host}: {_reason(exc)}{self.which}", f"{self.service.hint}, and your network"
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise NetworkError(
                f"the connection to {self.host} broke while fetching {what}: {_reason(exc)}{self.which}",
                "try again; -v shows the requests",
            ) from None
        except httpx.HTTPError as exc:
            raise NetworkError(
                f"HTTP error fetching {what}: {_reason(exc)}{self.which}", "try again; -v shows the requests"
            ) from None


_DEFAULT_PORTS = {"http": 80, "https": 443}


def follows(old: "SplitResult", new: "SplitResult") -> bool:
    """Whether a redirect from ``old`` to ``new`` stays with the service, so that it is
    followed with its credentials: the same origin (scheme, host and port), or the same
    host moved from http to https on the default ports (as requests' should_strip_auth
    allows, and browsers' origins).  Another port of the same host is another server."""
    if new.scheme not in ("http", "https") or (new.hostname or "").lower() != (old.hostname or "").lower():
        return False
    old_port = old.port or _DEFAULT_PORTS.get(old.scheme)
    new_port = new.port or _DEFAULT_PORTS.get(new.scheme)
    if old.scheme == new.scheme:
        return old_port == new_port
    return old.scheme == "http" and new.scheme == "https" and old_port == 80 and new_port == 443


def size(n: int) -> str:
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{max(n // 1024, 1)} KiB"


def _reason(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    return text.splitlines()[0] if text else exc.__class__.__name__


def _is_name_error(exc: BaseException) -> bool:
    """Whether a connection failed because the host name did not resolve."""
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
