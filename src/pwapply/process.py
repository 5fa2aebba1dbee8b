"""How a run stays interruptible, and safe when interrupted: signals, waits, the commit
point, and the repository's lock.  (Child processes are git/run.py's.)

- ``guard()`` is held by every command: SIGINT, SIGTERM and SIGHUP then raise
  KeyboardInterrupt in the main thread, and the kernel's signal wakeup byte goes to a
  pipe that every wait below also watches.
- Every wait of the main thread (a future; a child's pipes or exit, through
  ``wait_fds``) is a ``select()`` on what it waits for *and* that pipe.  A signal that
  lands just before the wait starts, or in another thread (the kernel hands a process's
  signal to any of its threads, and a lock wait in the main thread is not woken by it),
  has left its byte in the pipe: the wait returns at once and the handler runs.  A plain
  ``Future.result()`` or ``Popen.communicate()`` would sleep on until its thing was done.
- ``hold()``: signals are noted and acted on at the end of the block (starting a process
  and putting it on the books; cleaning up).
- ``commit()``: the commit point.  From there on signals are noted, never acted on: the
  command completes, and git processes started after it run in a session of their own,
  out of reach of a terminal's Ctrl-C.  ``Guard.late`` tells the command it was
  interrupted after its commit point, so it can say so.
- ``checkpoint()``: a signal noted but not yet acted on (Python swallows an exception
  raised in a finalizer, where a handler may run) is acted on at the next wait, child
  started or commit point.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar

from .errors import RepoStateError

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Guard:
    """What a command's guard learnt: ``late`` is the first signal that came after the
    commit point (None when there was none)."""

    def __init__(self) -> None:
        self.late: Optional[int] = None
        self.committed = False


class _State:
    def __init__(self) -> None:
        self.depth = 0  # nested guard() entries
        self.holding = 0  # nested hold() entries
        self.pending: Optional[int] = None  # a signal before the commit point, not yet acted on
        self.guard: Optional[Guard] = None
        self.saved: Dict[int, Any] = {}
        self.saved_wakeup = -1
        self.saved_unraisable: Any = None
        self.pipe: Optional[Tuple[int, int]] = None  # (read, write), made once


_st = _State()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def watching() -> bool:
    """Whether signals wake this thread's waits through the pipe (main thread, guarded)."""
    return _st.depth > 0 and _st.pipe is not None and _main_thread()


def _on_signal(signum: int, frame: object) -> None:
    g = _st.guard
    if g is not None and g.committed:
        if g.late is None:
            g.late = signum
        return
    # Noted before raising: Python may run this handler inside a finalizer (a weakref
    # callback of the import system, say), where the KeyboardInterrupt is swallowed.
    # The next checkpoint() raises it again; the commit point never passes it by.
    if _st.pending is None:
        _st.pending = signum
    if not _st.holding:
        raise KeyboardInterrupt


def _unraisable(info: Any) -> None:
    """Python's report of an exception in a finalizer: our own KeyboardInterrupt is not
    worth a traceback (it is acted on at the next checkpoint); anything else is."""
    if isinstance(info.exc_value, KeyboardInterrupt) and _st.pending is not None:
        return
    (_st.saved_unraisable or sys.__unraisablehook__)(info)


def checkpoint() -> None:
    """Act on a signal that came before the commit point and has not been acted on yet
    (KeyboardInterrupt), unless signals are held.  Every wait and every child started
    passes here, and so does the commit point."""
    g = _st.guard
    if _st.pending is not None and not _st.holding and _main_thread() and not (g is not None and g.committed):
        raise KeyboardInterrupt


@contextmanager
def guard() -> Iterator[Guard]:
    """Hold the command's signal handling (nested calls share the outermost's).  Outside
    the main thread it only gives a Guard: signals are the main thread's business.
    A signal noted but not yet acted on when the block ends is acted on then."""
    if not _main_thread():
        yield Guard()
        return
    if _st.depth:
        _st.depth += 1
        try:
            yield _st.guard or Guard()
        finally:
            _st.depth -= 1
        return
    if _st.pipe is None:
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        _st.pipe = (r, w)
    g = Guard()
    _st.guard = g
    _st.pending = None
    # A signal ignored when pwapply started stays ignored: nohup ignores SIGHUP, and a
    # shell starts a background job with SIGINT ignored so that Ctrl-C is not for it.
    _st.saved = {int(sig): signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        if _st.saved[int(sig)] is not signal.SIG_IGN:
            signal.signal(sig, _on_signal)
    _st.saved_wakeup = signal.set_wakeup_fd(_st.pipe[1], warn_on_full_buffer=False)
    _st.saved_unraisable = sys.unraisablehook
    sys.unraisablehook = _unraisable
    _st.depth = 1
    try:
        yield g
        checkpoint()
    finally:
        _st.depth = 0
        signal.set_wakeup_fd(_st.saved_wakeup)
        for signum, handler in _st.saved.items():
            signal.signal(signum, handler)
        sys.unraisablehook = _st.saved_unraisable
        _st.guard = None
        _st.pending = None
        drain()


@contextmanager
def hold() -> Iterator[None]:
    """Note signals until the end of the block, then act on them (KeyboardInterrupt),
    unless the commit point was passed meanwhile.  For steps that must not be cut in
    half: starting a child and putting it on the books, cleaning up."""
    with guard():
        _st.holding += 1
        try:
            yield
        finally:
            _st.holding -= 1
        checkpoint()


def commit() -> None:
    """The commit point: from here on the command completes whatever signal comes.  A
    signal that came before it, acted on or swallowed, stops the command here."""
    g = _st.guard
    if g is None or not _main_thread():
        return
    _st.holding += 1
    try:
        if _st.pending is not None:
            raise KeyboardInterrupt
        g.committed = True
        if _st.pending is not None:  # came in the instant between: it is a late one now
            g.late = _st.pending
    finally:
        _st.holding -= 1


def committed() -> bool:
    return _st.guard is not None and _st.guard.committed


# ------------------------------------------------------------------------ waiting


def drain() -> None:
    if _st.pipe is None:
        return
    try:
        while os.read(_st.pipe[0], 4096):
            pass
    except (BlockingIOError, InterruptedError):
        pass


def _poke(_: object = None) -> None:
    """Wake the main thread's wait (a future finished)."""
    if _st.pipe is not None:
        try:
            os.write(_st.pipe[1], b"\0")
        except OSError:  # full: it is awake anyway
            pass


def wait_fds(
    readers: Sequence[Any], timeout: Optional[float], writers: Sequence[Any] = ()
) -> Tuple[List[Any], List[Any]]:
    """select() on ``readers`` and ``writers`` (files or fds) for at most ``timeout``
    seconds; (readable, writable).  In the main thread a signal ends the wait at once."""
    checkpoint()
    if watching():
        assert _st.pipe is not None
        wake = _st.pipe[0]
        ready_r, ready_w, _ = select.select([*readers, wake], list(writers), [], timeout)
        if wake in ready_r:
            drain()
            checkpoint()
            ready_r = [f for f in ready_r if f is not wake and f != wake]
        return ready_r, ready_w
    if _main_thread():  # unguarded: short slices, so that the handlers get to run
        timeout = 0.05 if timeout is None else min(timeout, 0.05)
    ready_r, ready_w, _ = select.select(list(readers), list(writers), [], timeout)
    return ready_r, ready_w


def result(future: "Future[T]", timeout: Optional[float] = None, what: str = "") -> T:
    """``future.result(timeout)``, woken at once by a signal in the main thread.  Raises
    concurrent.futures.TimeoutError when ``timeout`` runs out."""
    from concurrent.futures import TimeoutError as FutureTimeout

    from .steps import step

    step(f"wait {what}" if what else "wait")
    if not _main_thread():
        return future.result(timeout)
    if not future.done():
        future.add_done_callback(_poke)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not future.done():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise FutureTimeout()
            wait_fds((), remaining)
    return future.result()


def in_thread(fn: Callable[[], T], name: str) -> "Future[T]":
    """Run ``fn`` in a daemon thread; its future (nobody waits for a thread whose result
    is not wanted any more: an interrupted run exits without it)."""
    from concurrent.futures import Future

    fut: "Future[T]" = Future()

    def body() -> None:
        if not fut.set_running_or_notify_cancel():
            return
        try:
            fut.set_result(fn())
        except BaseException as exc:  # noqa: B036 -- handed to whoever waits
            fut.set_exception(exc)

    threading.Thread(target=body, name=name, daemon=True).start()
    return fut


# ------------------------------------------------------------------------ the lock

LOCK_WAIT = 60.0  # seconds a run waits for another's lock before it gives up
_held: Dict[str, List[int]] = {}  # path -> [fd, depth]: this process's locks


def lock_path(common_dir: str) -> str:
    return os.path.join(common_dir, "pwapply.lock")


@contextmanager
def repo_lock(
    common_dir: str, say: Callable[[str], None] = lambda _: None, wait: Optional[float] = None
) -> Iterator[None]:
    """Hold the repository's pwapply lock: what must not overlap between two runs (the
    record's read-modify-write, the check that a branch is still as the run found it and
    the update-ref that follows) runs inside; everything else runs side by side.

    An ``fcntl.flock`` on ``<common dir>/pwapply.lock``, which the kernel drops with its
    holder (a crash, SIGKILL): no pid is trusted, none can go stale.  The file is there
    only while held: the holder removes it before it lets go, and a run that got a file
    no longer at that path (removed meanwhile) takes the new one.  Re-entered freely in
    one process.  Another run's lock is waited for, ``say`` told once, for at most
    ``wait`` seconds (LOCK_WAIT), a signal ending the wait at once."""
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
                os.close(fd)


def _try_lock(path: str) -> Optional[int]:
    """The lock's fd, locked and still the file at ``path``; None while another holds it."""
    import fcntl

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
