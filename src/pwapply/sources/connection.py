"""How a run reaches the servers it asks: made once from the settings (timeout, CA bundle,
token and the one server the token belongs to, the -v log), it makes every client of the
run, Patchwork's and the list archive's.  And httpx's loading, ahead of them.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Optional

from .. import process, threads
from ..frozen import frozen
from .archive.client import ArchiveClient
from ..net.transport import DEFAULT_MAX_SIZE, Logger
from .patchwork.client import PatchworkClient


class Preload:
    """httpx (110 ms to import with its transport, here) loaded in a thread while git
    checks the repository, and, once a server is known to be https, its default TLS
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


@frozen
class Connection:
    """How this run reaches servers.  The token goes only to ``token_server`` (the
    configured server), never to a server named only by a URL or a trailer, and never to
    an archive."""

    timeout: float = 30.0
    ca_bundle: Optional[str] = None
    max_mbox: int = DEFAULT_MAX_SIZE
    log: Optional[Logger] = None
    token: Optional[str] = None
    token_server: Optional[str] = None
    preload: Optional[Preload] = None

    def warm(self, server: str) -> None:
        """Start making what a client of ``server`` will need (its TLS context), so that
        it is ready by the time the client is made."""
        if server.startswith("https://") and not self.ca_bundle and self.preload is not None:
            self.preload.want_tls()

    def _tls(self, url: str) -> Any:
        https = url.startswith("https://")
        return self.preload.tls if self.preload is not None and https and not self.ca_bundle else None

    def archive(self, base: str) -> ArchiveClient:
        """A client of the list archive at ``base``."""
        self.warm(base)
        return ArchiveClient(
            base,
            timeout=self.timeout,
            log=self.log,
            max_size=self.max_mbox,
            ca_bundle=self.ca_bundle,
            tls=self._tls(base),
        )

    def client(self, server: str) -> PatchworkClient:
        """A client of the Patchwork server at ``server`` (with the token when it is
        the token's)."""
        mine = self.token_server is not None and server.rstrip("/") == self.token_server.rstrip("/")
        self.warm(server)
        return PatchworkClient(
            server,
            token=self.token if mine else None,
            timeout=self.timeout,
            log=self.log,
            max_size=self.max_mbox,
            ca_bundle=self.ca_bundle,
            tls=self._tls(server),
        )
