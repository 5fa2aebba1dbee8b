"""Named points of a run, where the tests stop pwapply: before and after each git
command and each request, and as the main thread begins each wait.

PWAPPLY_TEST_STEPS=FILE appends each step's name to FILE; PWAPPLY_TEST_SIGNAL=STEP@HOW
signals pwapply at STEP.  Read once, and only these two variables: a run without them
pays one attribute look-up a step.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Dict, Optional


class _Steps:
    """PWAPPLY_TEST_STEPS=FILE: append each step's name to FILE.
    PWAPPLY_TEST_SIGNAL=STEP@HOW: at STEP, signal: HOW is int (SIGINT to pwapply), group
    (SIGINT to its process group, as a terminal's Ctrl-C), term, hup, kill (SIGKILL: a
    crash, nothing cleaned), or int-thread /
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
    sig = {
        "int": signal.SIGINT,
        "group": signal.SIGINT,
        "term": signal.SIGTERM,
        "hup": signal.SIGHUP,
        "kill": signal.SIGKILL,
    }
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
