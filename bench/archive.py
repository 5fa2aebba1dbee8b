"""The list archive's part of the benchmark: a real public-inbox (tests/public_inbox.py)
behind a proxy on loopback that adds the round trip of a distant archive to every
request, so that pwapply and b4 read the same threads from the same server."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import threading
import time
from typing import List, Optional, Sequence

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from public_inbox import MISSING, PublicInbox  # noqa: E402


class DelayProxy:
    """TCP on loopback to ``port``, each chunk a client sends (a request, over a kept-alive
    connection too) held ``rtt`` seconds before it goes on: a distant server's round trip."""

    def __init__(self, port: int, rtt: float) -> None:
        self.port, self.rtt = port, rtt
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.port))
            threading.Thread(target=self._pump, args=(client, upstream, self.rtt), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, 0.0), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, delay: float) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if delay:
                    time.sleep(delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


class Archive:
    """An inbox holding ``mboxes``, served behind a DelayProxy; ``url`` is its base."""

    def __init__(self, root: str, mboxes: Sequence[bytes], rtt: float) -> None:
        self.inbox = PublicInbox(_path(root), "bench")
        self.inbox.add(*mboxes)
        self.inbox.serve()
        self.proxy: Optional[DelayProxy] = None
        base = self.inbox.base
        if rtt:
            self.proxy = DelayProxy(int(base.rsplit(":", 1)[1]), rtt)
            base = self.proxy.url
        self.url = f"{base}/bench"

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.close()
        self.inbox.close()


def _path(root: str):  # type: ignore[no-untyped-def]
    from pathlib import Path

    return Path(root) / "archive"


def why_not() -> List[str]:
    """What is missing for the archive's rows (empty: nothing)."""
    missing = list(MISSING)
    if shutil.which("b4") is None:
        missing.append("b4 (pip install -e '.[bench]' on Python 3.11 or newer)")
    return missing
