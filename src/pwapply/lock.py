"""The repository's lock: what must not overlap between two runs in one repository (the
record's read-modify-write, the check that a branch is still as the run found it and the
update-ref that follows) runs under it; everything else runs side by side.

An ``fcntl.flock`` on ``<common dir>/pwapply.lock``, which the kernel drops with its
holder (a crash, SIGKILL): no pid is trusted, none can go stale.  The file is there only
while held: the holder removes it before it lets go (and it is on the run's books, so
that the watchdog removes it too), and a run that got a file no longer at that path
(removed meanwhile) takes the new one.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Optional

from .errors import RepoStateError
from .process import disown, hold, own, wait_fds

LOCK_WAIT = 60.0  # seconds a run waits for another's lock before it gives up
_held: Dict[str, List[int]] = {}  # path -> [fd, depth]: this process's locks


def lock_path(common_dir: str) -> str:
    return os.path.join(common_dir, "pwapply.lock")


@contextmanager
def repo_lock(
    common_dir: str, say: Callable[[str], None] = lambda _: None, wait: Optional[float] = None
) -> Iterator[None]:
    """Hold the repository's pwapply lock for the block.  Re-entered freely in one
    process.  Another run's lock is waited for, ``say`` told once, for at most ``wait``
    seconds (LOCK_WAIT), a signal ending the wait at once."""
    path = lock_path(common_dir)
    mine = _held.get(path)
    if mine is not None:
        mine[1] += 1
        try:
            yield
        finally:
            mine[1] -= 1
        return
    bound = LOCK_WAIT if wait is None else wait
    deadline = time.monotonic() + bound
    told = False
    fd: Optional[int] = None
    try:
        while fd is None:
            with hold():  # a signal meanwhile is acted on once fd is set: the finally closes it
                fd = _try_lock(path)
                if fd is not None:
                    own(path, directory=False)
            if fd is not None:
                break
            if time.monotonic() >= deadline:
                raise RepoStateError(
                    f"another pwapply{_holder(path)} has held this repository's lock for over {bound:g} s",
                    f"let it finish; the lock ends with it (a crashed run holds none): {path}",
                )
            if not told:
                say(f"waiting for another pwapply{_holder(path)} working in this repository ...")
                told = True
            wait_fds((), min(0.05, max(0.0, deadline - time.monotonic())))
        _held[path] = [fd, 1]
        yield
    finally:
        if fd is not None:
            with hold():
                _held.pop(path, None)
                try:
                    os.unlink(path)  # while held: a run waiting on this file then takes a new one
                except OSError:
                    pass
                disown(path)
                os.close(fd)


def _try_lock(path: str) -> Optional[int]:
    """The lock's fd, locked and still the file at ``path``; None while another holds it."""
    for _ in range(100):  # another run removes the file each time it lets go: open anew
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())  # for the waiting message only: never trusted
            return fd
        os.close(fd)  # removed by its last holder as we locked it
    raise RepoStateError(f"cannot take the lock {path}", "is something else removing it? try again")


def _holder(path: str) -> str:
    """ " (pid N)" as the holder wrote it, when it did: said, never trusted."""
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {text})" if text.isdigit() else ""
