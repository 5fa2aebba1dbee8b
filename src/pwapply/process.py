"""How a run stays interruptible, and safe when interrupted: signals, waits, the commit
point, and the watchdog that ends a run whatever its threads are doing.  (Child
processes are git/run.py's; the repository's lock is lock.py's.)

- ``install()`` is the program's first act (main.py): SIGINT, SIGTERM and SIGHUP get
  pwapply's handler, the kernel's wake-up byte of each goes to a pipe, and a watchdog
  thread watches that pipe.  ``guard()``, held by every command's body, installs the
  same handler (without a watchdog) when nothing did, as in the tests that run commands
  in-process.
- The handler never raises: it notes the signal, and the main thread acts on it at the
  next ``checkpoint()`` (every wait, every child started, the end of a ``hold()``, the
  commit point) by raising KeyboardInterrupt there; the command unwinds, removes what
  it made, and exits 130.  An exception raised wherever the signal lands can land in
  the import system between taking a lock and the ``try`` that releases it: the lock
  stays taken, the next import of any other thread waits for good, and a main thread
  that then waits for that thread (httpx, loaded in a thread) never returns.  That was
  a run that one Ctrl-C did not end.
- The watchdog bounds what is left: a main thread blocked in C (a lock, an import
  another thread holds, a thread's wait) reaches no checkpoint.  Reading the kernel's
  byte whichever thread the signal was handed to, it gives the run GRACE seconds after
  the first signal, and none after a second one: then it ends the run's children,
  removes what the run put on its books (``own()``: its scratch work tree, temporary
  files, the lock file), says so, and exits 130, whatever the other threads do.
  Nothing of the user's has changed before the commit point, so that exit is safe.
- Every wait of the main thread (a future; a child's pipes or exit, through
  ``wait_fds``) is a ``select()`` on what it waits for *and* a pipe that each signal
  (and each future that finishes) writes to: a signal ends the wait at once.
- ``hold()``: signals are noted and acted on at the end of the block (starting a process
  and putting it on the books; cleaning up).
- ``commit()``: the commit point.  From there on signals are noted, never acted on, and
  the watchdog stands down: the command completes, and git processes started after it
  run in a session of their own, out of reach of a terminal's Ctrl-C.  ``Guard.late``
  tells the command it was interrupted after its commit point, so it can say so.

The watchdog imports nothing and takes no lock another thread may hold (bar the commit
point's, held for an instant): a thread stuck on an import lock or a pool's lock cannot
hold it up.  This module is imported by every run, the pre-push hook's included: it
loads nothing more than the standard library's basics (concurrent.futures, 20 ms, is
threads.py's).
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar

from . import steps
from .steps import step

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_SIGNUMS = frozenset(int(s) for s in SIGNALS)
EXIT_INTERRUPTED = 130
# How long a run has, after the first signal before its commit point, to end on its own
# (it usually takes milliseconds) before the watchdog ends it; and how long the
# watchdog then gives the run's children to go after SIGTERM (git removes its lock
# files on it) before SIGKILL.  Together well under a second.
GRACE = 0.5
CHILD_GRACE = 0.25
THREAD_WAIT = 300.0  # a thread's wait for another's result is bounded even when its caller gave no bound


class Guard:
    """What a command's guard learnt: ``late`` is the first signal that came after the
    commit point (None when there was none)."""

    def __init__(self) -> None:
        self.late: Optional[int] = None
        self.committed = False


class _State:
    def __init__(self) -> None:
        self.installed = False  # the handler is ours (install() or an outermost guard())
        self.watchdog = False  # and a watchdog runs (install(): a real process)
        self.depth = 0  # nested guard() entries
        self.holding = 0  # nested hold() entries
        self.pending: Optional[int] = None  # a signal before the commit point, not yet acted on
        self.committed = False  # the running command passed its commit point
        self.finished = False  # the running command's body returned: it ends as it decided
        self.guard: Optional[Guard] = None
        self.saved: Dict[int, Any] = {}
        self.saved_wakeup = -1
        self.pipe: Optional[Tuple[int, int]] = None  # wakes the main thread's waits (read, write)
        self.signals: Optional[Tuple[int, int]] = None  # the kernel's wake-up bytes, for the watchdog
        self.commit_lock = threading.Lock()  # the commit point against the watchdog
        self.abandoned = False  # the watchdog is ending the run
        self.said = "nothing was changed in your repository"  # what an interrupt leaves, as the command says it
        # The books: what the watchdog undoes.  Plain dicts, changed only under the GIL.
        self.children: Dict[int, bool] = {}  # pid -> whether it leads a process group of its own
        self.paths: Dict[str, bool] = {}  # path -> whether it is a directory


_st = _State()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def watching() -> bool:
    """Whether signals wake this thread's waits through the pipe (main thread, handled)."""
    return _st.installed and _st.pipe is not None and _main_thread()


def _pipe() -> Tuple[int, int]:
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    return r, w


def _before_commit() -> bool:
    return not _st.committed and not _st.finished


def _on_signal(signum: int, frame: object) -> None:
    """Note the signal; never raise here (see the module's docstring): the next
    checkpoint acts on it, and the commit point never passes it by."""
    if not _before_commit():
        if _st.guard is not None and _st.guard.late is None and _st.committed:
            _st.guard.late = signum
        return
    if _st.depth == 0 and _st.watchdog:
        # No command is running (start-up, reading the command line): nothing to undo.
        _leave()
    if _st.pending is None:
        _st.pending = signum


def _set_handlers() -> None:
    """Our handler for each signal not ignored when pwapply started (nohup ignores
    SIGHUP, and a shell starts a background job with SIGINT ignored so that Ctrl-C is
    not for it: those stay ignored), and the kernel's wake-up byte to the pipe the
    watchdog reads (or, without one, to the main thread's)."""
    if _st.pipe is None:
        _st.pipe = _pipe()
    _st.saved = {int(sig): signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        if _st.saved[int(sig)] is not signal.SIG_IGN:
            signal.signal(sig, _on_signal)
    target = _st.signals if _st.watchdog and _st.signals is not None else _st.pipe
    _st.saved_wakeup = signal.set_wakeup_fd(target[1], warn_on_full_buffer=False)
    _st.installed = True


def install(message: str = "nothing was changed in your repository") -> None:
    """The program's signal handling, for the whole run (main.py, before anything
    else): the handler, the pipes and the watchdog.  Not for a process that runs other
    things beside pwapply (the tests): the watchdog ends the process."""
    if _st.installed or not _main_thread():
        return
    _st.said = message
    _st.signals = _pipe()
    _st.watchdog = True
    _set_handlers()
    threading.Thread(target=_watch, name="pwapply-watchdog", daemon=True).start()


def checkpoint() -> None:
    """Act on a signal that came before the commit point and has not been acted on yet
    (KeyboardInterrupt), unless signals are held: the one place a signal becomes an
    exception.  Every wait and every child started passes here, and so do the end of a
    hold() and the commit point."""
    if _st.pending is not None and not _st.holding and _main_thread() and _before_commit():
        raise KeyboardInterrupt


@contextmanager
def guard(interrupted: str = "nothing was changed in your repository") -> Iterator[Guard]:
    """Hold the command's signal handling (nested calls share the outermost's).  Outside
    the main thread it only gives a Guard: signals are the main thread's business.
    ``interrupted`` is what an interrupt before the commit point leaves, for the
    watchdog to say.  A signal noted but not yet acted on when the block ends is acted
    on then."""
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
    mine = not _st.installed  # in-process (the tests): installed for this command alone
    if mine:
        _set_handlers()
    g = Guard()
    _st.guard = g
    _st.pending = None
    _st.committed = _st.finished = False
    _st.said = interrupted
    _st.depth = 1
    try:
        yield g
        checkpoint()
        _st.finished = True  # from here on the command ends as it decided
    finally:
        _st.depth = 0
        if mine:
            signal.set_wakeup_fd(_st.saved_wakeup)
            for signum, handler in _st.saved.items():
                signal.signal(signum, handler)
            _st.installed = False
            _st.guard = None
            _st.pending = None
            _st.committed = _st.finished = False
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
    signal that came before it, acted on or swallowed, stops the command here.  Once
    the watchdog has begun to end the run, the run never gets past it."""
    g = _st.guard
    if g is None or not _main_thread():
        return
    _st.holding += 1
    try:
        with _st.commit_lock:
            if _st.pending is not None:
                raise KeyboardInterrupt
            _st.committed = g.committed = True
    finally:
        _st.holding -= 1


def committed() -> bool:
    return _st.committed


# ------------------------------------------------------------------------ the books


def own(path: str, directory: bool = True) -> None:
    """Put ``path`` on the run's books: the watchdog removes it if it ends the run.
    Called under hold(), right after the path is made."""
    _st.paths[path] = directory
    if _st.abandoned:  # made as the watchdog ends the run: removed here, and no further
        _remove(path, directory)
        _stall()


def disown(path: str) -> None:
    """``path`` is removed (or no longer the run's to remove)."""
    _st.paths.pop(path, None)


def own_child(pid: int, group: bool) -> None:
    """A child before the commit point: the watchdog ends it (its group, with ``group``)."""
    if _st.committed:
        return
    _st.children[pid] = group
    if _st.abandoned:
        _kill(pid, group, signal.SIGKILL)
        _stall()


def disown_child(pid: int) -> None:
    _st.children.pop(pid, None)


def _stall() -> None:
    """Wait for the watchdog's exit (it holds the commit lock until then)."""
    with hold():
        _st.commit_lock.acquire()


# ------------------------------------------------------------------------ the watchdog


def _watch() -> None:
    """The watchdog's thread: reads the kernel's wake-up byte of each signal, wakes the
    main thread's wait, and ends a run that is still there GRACE seconds after the first
    signal before its commit point, or at once after a second."""
    assert _st.signals is not None
    fd = _st.signals[0]
    grace = steps.grace(GRACE)
    first: Optional[float] = None
    while True:
        left = None if first is None else max(0.0, first + grace - time.monotonic())
        try:
            ready, _, _ = select.select([fd], [], [], left)
        except InterruptedError:
            continue
        if not ready:  # the grace ran out
            _end()
            first = None  # the commit point came first: stand down
            continue
        try:
            got = os.read(fd, 64)
        except (BlockingIOError, InterruptedError):
            continue
        _poke()
        for byte in got:
            if byte not in _SIGNUMS or not _before_commit():
                continue
            if first is None:
                first = time.monotonic()
            else:
                _end()  # a second signal: at once
                first = None


def _end() -> None:
    """End the run now, unless its commit point came first: its children, its books,
    a line on stderr, exit 130."""
    _st.commit_lock.acquire()
    if not _before_commit():
        _st.commit_lock.release()
        return
    _st.abandoned = True  # the lock stays held: the run never passes its commit point
    children = list(_st.children.items())
    for pid, group in children:
        _kill(pid, group, signal.SIGTERM)
    deadline = time.monotonic() + CHILD_GRACE
    alive = dict(children)
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                del alive[pid]
        if alive:
            time.sleep(0.01)
    for pid, group in alive.items():
        _kill(pid, group, signal.SIGKILL)
    for path, directory in list(_st.paths.items()):
        _remove(path, directory)
    _leave()


def _leave() -> None:
    """Say what an interrupt leaves and exit 130 (never blocking on stderr)."""
    try:
        if select.select([], [2], [], 0)[1]:
            os.write(2, f"interrupted: {_st.said}\n".encode())
    except (OSError, ValueError):
        pass
    os._exit(EXIT_INTERRUPTED)


def _kill(pid: int, group: bool, signum: int) -> None:
    try:
        if group:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except OSError:
        pass


def _remove(path: str, directory: bool) -> None:
    """Remove a file, or a directory and all in it, as far as it goes (shutil.rmtree
    without importing shutil: the watchdog imports nothing)."""
    if not directory:
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    try:
        entries = list(os.scandir(path))
    except OSError:
        entries = []
    for entry in entries:
        try:
            sub = entry.is_dir(follow_symlinks=False)
        except OSError:
            sub = False
        _remove(entry.path, sub)
    try:
        os.rmdir(path)
    except OSError:
        pass


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
    """Wake the main thread's wait (a future finished, or a signal came)."""
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
    if _main_thread():  # unhandled: short slices, so that the handlers get to run
        timeout = 0.05 if timeout is None else min(timeout, 0.05)
    ready_r, ready_w, _ = select.select(list(readers), list(writers), [], timeout)
    return ready_r, ready_w


def result(future: "Future[T]", timeout: Optional[float] = None, what: str = "") -> T:
    """``future.result(timeout)``, woken at once by a signal in the main thread.  Raises
    concurrent.futures.TimeoutError when ``timeout`` runs out.  Another thread's wait is
    bounded even without a ``timeout`` (THREAD_WAIT)."""
    step(f"wait {what}" if what else "wait")
    if not _main_thread():
        return future.result(THREAD_WAIT if timeout is None else timeout)
    if not future.done():
        # Loaded already: whoever made the future did.
        from concurrent.futures import TimeoutError as FutureTimeout

        future.add_done_callback(_poke)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not future.done():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise FutureTimeout()
            wait_fds((), remaining)
    return future.result()
