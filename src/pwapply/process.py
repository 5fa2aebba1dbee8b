"""How a run stays interruptible, and safe when interrupted: signals, waits, the commit
point, stopping child processes, the one-pwapply-at-a-time lock.

- ``guard()`` is held by every command: SIGINT, SIGTERM and SIGHUP then raise
  KeyboardInterrupt in the main thread, and the kernel's signal wakeup byte goes to a
  pipe that every wait below also watches.
- Every wait of the main thread (a future, a child process, its pipes) is a ``select()``
  on what it waits for *and* that pipe.  A signal that lands just before the wait starts,
  or in another thread (the kernel hands a process's signal to any of its threads, and a
  lock wait in the main thread is not woken by it), has left its byte in the pipe: the
  wait returns at once and the handler runs.  A plain ``Future.result()`` or
  ``Popen.communicate()`` would sleep on until its thing was done.
- ``hold()``: signals are noted and acted on at the end of the block (starting a process
  and putting it on the books; cleaning up).
- ``commit()``: the commit point.  From there on signals are noted, never acted on: the
  command completes, and git processes started after it run in a session of their own,
  out of reach of a terminal's Ctrl-C.  ``Guard.late`` tells the command it was
  interrupted after its commit point, so it can say so.
- ``stop()`` ends a child with SIGTERM and waits for it (bounded): git removes its lock
  files when it dies of SIGINT, SIGTERM or SIGHUP, never of SIGKILL.
- ``step()``: named points of a run, where the tests stop pwapply (PWAPPLY_TEST_SIGNAL)
  or list the points (PWAPPLY_TEST_STEPS).  Nothing happens unless those are set.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar

from .errors import RepoStateError

T = TypeVar("T")

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_GRACE = 5.0  # how long a child stopped with SIGTERM may take to clean up and die


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


def _watching() -> bool:
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
        _drain()


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


def _drain() -> None:
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


def wait_fds(fds: Sequence[Any], timeout: Optional[float]) -> List[Any]:
    """select() for reading on ``fds`` (files or fds) for at most ``timeout`` seconds;
    the ones ready.  In the main thread a signal ends the wait at once."""
    checkpoint()
    if _watching():
        assert _st.pipe is not None
        ready, _, _ = select.select([*fds, _st.pipe[0]], [], [], timeout)
        if _st.pipe[0] in ready:
            _drain()
            checkpoint()
            ready = [f for f in ready if f is not _st.pipe[0] and f != _st.pipe[0]]
        return ready
    if _main_thread():  # unguarded: short slices, so that the handlers get to run
        timeout = 0.05 if timeout is None else min(timeout, 0.05)
    ready, _, _ = select.select(list(fds), [], [], timeout)
    return ready


def result(future: "Future[T]", timeout: Optional[float] = None, what: str = "") -> T:
    """``future.result(timeout)``, woken at once by a signal in the main thread.  Raises
    concurrent.futures.TimeoutError when ``timeout`` runs out."""
    from concurrent.futures import TimeoutError as FutureTimeout

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
            wait_fds([], remaining)
    return future.result()


def in_thread(fn: Callable[[], T], name: str) -> "Future[T]":
    """Run ``fn`` in a daemon thread; its future (nobody waits for a thread whose result
    is not wanted any more: an interrupted run exits without it)."""
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


# ------------------------------------------------------------------------ children


@contextmanager
def child(argv: Sequence[str], **kw: Any) -> Iterator["subprocess.Popen[bytes]"]:
    """A child process for the block: started and on the books before a signal can
    act, and stopped (``stop()``) if it still runs when the block ends.  Past the
    commit point it gets a session of its own: a terminal's Ctrl-C reaches the whole
    foreground process group, and what must finish must not get it."""
    proc: Optional["subprocess.Popen[bytes]"] = None
    try:
        checkpoint()  # an interrupted run starts nothing more
        with hold():
            proc = subprocess.Popen(list(argv), start_new_session=committed(), **kw)
        yield proc
    finally:
        if proc is not None and proc.poll() is None:
            stop(proc)


def communicate(
    proc: "subprocess.Popen[bytes]",
    input: Optional[bytes] = None,
    on_line: Optional[Callable[[bytes], None]] = None,
) -> Tuple[bytes, bytes]:
    """Feed ``input``, read stdout and stderr to their end, and wait for the child to
    exit; a signal ends the wait at once (the caller stops the child).  ``on_line`` sees
    each line of stdout as it comes."""
    out: List[bytes] = []
    err: List[bytes] = []
    readers: Dict[int, List[bytes]] = {}
    if proc.stdout is not None:
        readers[proc.stdout.fileno()] = out
    if proc.stderr is not None:
        readers[proc.stderr.fileno()] = err
    pending = memoryview(input or b"")
    writer = proc.stdin.fileno() if proc.stdin is not None else None
    if writer is not None:
        os.set_blocking(writer, False)
        if not pending:
            proc.stdin.close()  # type: ignore[union-attr]
            writer = None
    partial = b""
    while readers or writer is not None:
        wfds = [writer] if writer is not None else []
        if _watching():
            assert _st.pipe is not None
            checkpoint()
            ready_r, ready_w, _ = select.select([*readers, _st.pipe[0]], wfds, [], None)
            if _st.pipe[0] in ready_r:
                _drain()
                checkpoint()
        else:
            slice_ = 0.05 if _main_thread() else None
            ready_r, ready_w, _ = select.select(list(readers), wfds, [], slice_)
        if writer is not None and writer in ready_w:
            try:
                n = os.write(writer, pending[:65536])
                pending = pending[n:]
            except BlockingIOError:
                pass
            except BrokenPipeError:
                pending = pending[:0]
            if not pending:
                proc.stdin.close()  # type: ignore[union-attr]
                writer = None
        for fd in ready_r:
            if fd not in readers:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                del readers[fd]
                continue
            readers[fd].append(chunk)
            if on_line is not None and readers[fd] is out:
                partial += chunk
                *lines, partial = partial.split(b"\n")
                for line in lines:
                    on_line(line)
    if on_line is not None and partial:
        on_line(partial)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    wait(proc)
    return b"".join(out), b"".join(err)


def wait(proc: "subprocess.Popen[Any]", timeout: Optional[float] = None) -> Optional[int]:
    """Wait for the child to exit (at most ``timeout`` seconds): its exit code, or None
    if it still runs.  Watches a pidfd where the system has them, so that a signal
    still ends the wait at once."""
    if proc.poll() is not None:
        return proc.returncode
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(proc.pid)
        except OSError:
            pidfd = None
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while proc.poll() is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            if pidfd is not None:
                wait_fds([pidfd], remaining)
            else:
                wait_fds([], 0.01 if remaining is None else min(remaining, 0.01))
    finally:
        if pidfd is not None:
            os.close(pidfd)
    return proc.returncode


def stop(proc: "subprocess.Popen[Any]", grace: float = STOP_GRACE) -> None:
    """End a child that may hold a lock file of the user's repository: SIGTERM (git then
    removes its locks and dies), and a wait of at most ``grace`` seconds.  Only a child
    that is still there after that is killed.  Never raises; signals meanwhile are
    acted on afterwards."""
    with hold():
        # Not reading the pipes to their end: a child of git's (a hook, a file-system
        # monitor) may outlive it holding them open.
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except OSError:
                pass
            if wait(proc, grace) is None:
                proc.kill()
                wait(proc, grace)


# ------------------------------------------------------------------------ the lock


class Lock:
    """One pwapply at a time per repository: ``<common dir>/pwapply.lock`` holds the pid."""

    def __init__(self, common_dir: str) -> None:
        self.path = os.path.join(common_dir, "pwapply.lock")
        self.held = False

    def __enter__(self) -> "Lock":
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = _read_pid(self.path)
                if pid and _alive(pid):
                    raise RepoStateError(
                        f"another pwapply (pid {pid}) is working in this repository",
                        "wait for it to finish; if it is gone, remove " + self.path,
                    ) from None
                try:  # left behind by a process that died
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n")
            self.held = True
            return self
        raise RepoStateError("cannot take the pwapply lock", "remove " + self.path)

    def __exit__(self, *exc: object) -> None:
        if self.held:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.held = False


def _read_pid(path: str) -> Optional[int]:
    try:
        with open(path) as fh:
            text = fh.read().strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ------------------------------------------------------------------------ test hooks


class _Steps:
    """PWAPPLY_TEST_STEPS=FILE: append each step's name to FILE.
    PWAPPLY_TEST_SIGNAL=STEP@HOW: at STEP, signal: HOW is int (SIGINT to pwapply), group
    (SIGINT to its process group, as a terminal's Ctrl-C), term, hup, or int-thread /
    term-thread (to a thread other than the main one, once the main thread sleeps in a
    wait: the signal no wait of a lock or a pipe alone would see)."""

    def __init__(self) -> None:
        self.log = os.environ.get("PWAPPLY_TEST_STEPS") or None
        spec = os.environ.get("PWAPPLY_TEST_SIGNAL") or ""
        self.at, _, self.how = spec.rpartition("@")
        self.active = bool(self.log or self.at)
        self.seen: Dict[str, int] = {}
        self.lock = threading.Lock()


_steps: Optional[_Steps] = None


def step(name: str) -> None:
    """A named point of a run, for the tests (see _Steps); the n-th time a name comes,
    it is ``name #n``.  Costs one dictionary look-up otherwise."""
    global _steps
    if _steps is None:
        _steps = _Steps()
    s = _steps
    if not s.active:
        return
    with s.lock:
        n = s.seen.get(name, 0) + 1
        s.seen[name] = n
    full = name if n == 1 else f"{name} #{n}"
    if s.log:
        with open(s.log, "a", encoding="utf-8") as fh:
            fh.write(full + "\n")
    if full == s.at:
        _deliver(s.how)


def _deliver(how: str) -> None:
    sig = {"int": signal.SIGINT, "group": signal.SIGINT, "term": signal.SIGTERM, "hup": signal.SIGHUP}
    if how.endswith("-thread"):
        target = threading.main_thread().native_id
        signum = sig[how[: -len("-thread")]]

        def later() -> None:
            _until_asleep(target)
            signal.pthread_kill(threading.get_ident(), signum)

        threading.Thread(target=later, name="pwapply-test-signal", daemon=True).start()
        return
    if how == "group":
        os.killpg(os.getpgrp(), signal.SIGINT)
    else:
        os.kill(os.getpid(), sig[how])


def _until_asleep(tid: Optional[int], bound: float = 5.0) -> None:
    """Wait until thread ``tid`` sleeps in the kernel (Linux: /proc), at most ``bound``."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="ascii") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "S":
                    return
        except OSError:
            return
        time.sleep(0.005)
