"""Named points of a run, where the tests stop pwapply: before and after each git
command and each request, and as the main thread begins each wait.

PWAPPLY_TEST_STEPS=FILE appends each step's name to FILE; PWAPPLY_TEST_SIGNAL=STEP@HOW
signals pwapply at STEP; PWAPPLY_TEST_GRACE=SECONDS sets the watchdog's grace.  Read
once, and only these three variables: a run without them pays one attribute look-up a
step.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Dict, Optional, Tuple


class _Steps:
    """PWAPPLY_TEST_STEPS=FILE: append each step's name to FILE.
    PWAPPLY_TEST_SIGNAL=STEP@HOW: at STEP, signal: HOW is int (SIGINT to pwapply), group
    (SIGINT to its process group, as a terminal's Ctrl-C), term, hup, kill (SIGKILL: a
    crash, nothing cleaned), or int-thread /
    term-thread (to a thread other than the main one, once the main thread sleeps in a
    wait: the signal no wait of a lock or a pipe alone would see).  int2 is two
    SIGINTs.  git (at a step ``before git X`` only) is a terminal's Ctrl-C while git X
    runs: that git is held at its start (its trace2 events go to a full pipe), and once
    it runs and the main thread waits, SIGINT goes to pwapply's process group, as a
    terminal sends it; then the pipe is drained, so that a git out of the group's reach
    (past the commit point) goes on.  With +hang the thread at STEP then blocks for
    good, and with +stall for three seconds, deaf to signals (a wait in C that no
    handler ends: the watchdog's business).
    PWAPPLY_TEST_GRACE=SECONDS: the watchdog's grace (process.GRACE) in this run."""

    def __init__(self) -> None:
        self.log = os.environ.get("PWAPPLY_TEST_STEPS") or None
        spec = os.environ.get("PWAPPLY_TEST_SIGNAL") or ""
        self.at, _, self.how = spec.rpartition("@")
        self.grace = float(os.environ.get("PWAPPLY_TEST_GRACE") or 0) or None
        self.active = bool(self.log or self.at)
        self.seen: Dict[str, int] = {}
        self.lock = threading.Lock()
        self.held: Optional[Tuple[int, Optional[str]]] = None  # how=git: the full pipe, GIT_TRACE2_EVENT before


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
        if s.how == "git":
            _hold_git(s)
        else:
            _deliver(s.how)


def started() -> None:
    """A child was started (for how=git: see _Steps).  Costs one test otherwise."""
    s = _steps
    if s is None or s.held is None:
        return
    r, before = s.held
    s.held = None
    if before is None:
        del os.environ["GIT_TRACE2_EVENT"]
    else:
        os.environ["GIT_TRACE2_EVENT"] = before
    target = threading.main_thread().native_id

    def ctrl_c() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)  # for the main thread or the watchdog
        _until_asleep(target)
        os.killpg(os.getpgrp(), signal.SIGINT)
        while os.read(r, 65536):  # the git out of the group's reach goes on
            pass

    threading.Thread(target=ctrl_c, name="pwapply-test-ctrl-c", daemon=True).start()


def _hold_git(s: _Steps) -> None:
    """Send the trace2 events of the next git started to a pipe already full: that git
    blocks at its first event (in git's main, before it does anything) until the pipe
    is read.  The pipe is reached by its name in /proc, so nothing is left on disk."""
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        while os.write(w, b"\0" * 65536):
            pass
    except BlockingIOError:
        pass
    s.held = (r, os.environ.get("GIT_TRACE2_EVENT"))
    # ``w`` stays open for the run: git opens the pipe by that name whenever it starts.
    os.environ["GIT_TRACE2_EVENT"] = f"/proc/{os.getpid()}/fd/{w}"


def grace(default: float) -> float:
    """The watchdog's grace: ``default``, or PWAPPLY_TEST_GRACE's."""
    global _steps
    if _steps is None:
        _steps = _Steps()
    return _steps.grace or default


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _deliver(how: str) -> None:
    how, _, then = how.partition("+")
    sig = {
        "int": signal.SIGINT,
        "group": signal.SIGINT,
        "term": signal.SIGTERM,
        "hup": signal.SIGHUP,
        "kill": signal.SIGKILL,
    }
    if then in ("hang", "stall"):
        # Deaf first: the signals then go to another thread, and this one's wait is never
        # cut short, as a wait in C whose signal another thread took.
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        for n in range(2 if how == "int2" else 1):
            if n:  # a second Ctrl-C, once the first one was taken: two at once are one
                _until_delivered(sig[how.rstrip("2")])
            os.kill(os.getpid(), sig[how.rstrip("2")])
        if then == "hang":
            never = threading.Lock()
            never.acquire()
            never.acquire()
        time.sleep(3.0)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        return
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


def _until_delivered(signum: int, bound: float = 5.0) -> None:
    """Wait until no ``signum`` is pending for the process (Linux: /proc), at most ``bound``."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        try:
            with open("/proc/self/status", encoding="ascii") as fh:
                pending = next(int(line.split()[1], 16) for line in fh if line.startswith("ShdPnd:"))
        except (OSError, StopIteration, ValueError):
            return
        if not pending & (1 << (signum - 1)):
            return
        time.sleep(0.005)
