"""A small on-disk cache of series mboxes, keyed by server and series id.

A posted series never changes its patches, so its mbox can be reused to compare
versions; only the reply tags Patchwork adds to it move, and `pwapply diff` leaves those
out anyway.  (`pwapply SERIES` always downloads afresh, then stores what it got.)

Writes go to a temporary file in the same directory and are renamed into place, so two
processes can fill the cache at once; the total size is kept under a bound by removing
the least recently used files.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import List, Optional, Tuple

from . import process

DEFAULT_LIMIT = 256 * 1024 * 1024


def default_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pwapply", "mbox")


class MboxCache:
    def __init__(self, root: Optional[str] = None, limit: int = DEFAULT_LIMIT) -> None:
        self.root = root or default_root()
        self.limit = limit

    def path(self, server: str, series_id: int) -> str:
        key = hashlib.sha256(server.rstrip("/").encode("utf-8")).hexdigest()[:16]
        return os.path.join(self.root, key, f"{int(series_id)}.mbox")

    def get(self, server: str, series_id: int) -> Optional[bytes]:
        path = self.path(server, series_id)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
            os.utime(path)  # most recently used
        except OSError:
            return None
        return data or None

    def put(self, server: str, series_id: int, data: bytes) -> None:
        """Store an mbox; a cache that cannot be written is no reason to fail."""
        if len(data) > self.limit:
            return
        path = self.path(server, series_id)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with process.hold():  # a signal meanwhile would leave the temporary file
                fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
                process.own(tmp, directory=False)
                try:
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(data)
                    os.replace(tmp, path)
                except BaseException:
                    _unlink(tmp)
                    raise
                finally:
                    process.disown(tmp)
            self.prune()
        except OSError:
            pass

    def prune(self) -> None:
        files: List[Tuple[float, int, str]] = []
        for dirpath, _, names in os.walk(self.root):
            for name in names:
                full = os.path.join(dirpath, name)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                files.append((st.st_mtime, st.st_size, full))
        total = sum(size for _, size, _ in files)
        for _, size, full in sorted(files):
            if total <= self.limit:
                break
            _unlink(full)
            total -= size


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
