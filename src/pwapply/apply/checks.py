"""The per-patch check (`pwapply --check-patches`): a command run on each patch before it
is taken, as b4's am-perpatch-check-cmd (QEMU's .b4-config names checkpatch.pl), the
patch's mail on stdin, from the top of the work tree.

The checks run a few at a time, while git am applies the series in the scratch worktree;
their findings are shown, never acted on (the maintainer decides).  A command that
cannot be started, fails without a word on stdout or gives no answer in time is a
warning with its first line.  Interrupted, every check still running is ended.
"""

from __future__ import annotations

import os
import shlex
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, List, Optional, Sequence

from .. import process
from ..threads import Pool
from ..git.run import end_group, first_line, run_program

if TYPE_CHECKING:
    import subprocess

    from ..mbox import Patch

AT_ONCE = max(2, min(4, os.cpu_count() or 2))


@dataclass
class Checked:
    """What the check said of one patch."""

    number: int  # 1-based, of the patches checked
    total: int
    subject: str
    status: str  # "clean", "findings", "failed", "timeout", "missing"
    output: List[str] = field(default_factory=list)  # its stdout's lines (findings)
    why: str = ""  # for failed / timeout / missing: what went wrong, one line


class PatchChecks:
    """The checks of ``patches``, started at once (a few at a time) in the background;
    ``results()`` waits for them.  A context manager: leaving it ends those still
    running."""

    def __init__(self, command: str, cwd: str, patches: Sequence["Patch"], timeout: float) -> None:
        self.argv = shlex.split(command)
        self.cwd = cwd
        self.timeout = timeout
        self.patches = list(patches)
        self._lock = threading.Lock()
        self._running: List["subprocess.Popen[Any]"] = []
        self._stopped = False
        self._pool: Optional[Pool] = None
        self._futures: List["Future[Checked]"] = []

    def __enter__(self) -> "PatchChecks":
        with process.hold():  # the pool and what it starts are on the books, or not started
            self._pool = Pool(AT_ONCE, "pwapply-check")
            total = len(self.patches)
            self._futures = [self._pool.submit(self._one, n, total, p) for n, p in enumerate(self.patches, 1)]
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            running = list(self._running)
        for proc in running:
            end_group(proc)
        if self._pool is not None:
            self._pool.shutdown()

    def results(self) -> List[Checked]:
        """Each patch's check, in order (waits for the last ones; a signal ends the wait)."""
        return [process.result(f, what="patch check") for f in self._futures]

    def _started(self, proc: "subprocess.Popen[Any]") -> None:
        with self._lock:
            if self._stopped:
                end_group(proc)
            self._running.append(proc)

    def _one(self, number: int, total: int, patch: "Patch") -> Checked:
        checked = Checked(number, total, patch.title or patch.subject, "clean")
        if self._stopped:
            checked.status, checked.why = "failed", "not run: pwapply stopped"
            return checked
        try:
            code, out, err = run_program(
                self.argv, cwd=self.cwd, stdin=patch.raw, timeout=self.timeout, on_start=self._started
            )
        except TimeoutError:
            checked.status, checked.why = "timeout", f"gave no answer within {self.timeout:g} s"
            return checked
        except OSError as exc:
            checked.status, checked.why = "missing", f"cannot run {self.argv[0]}: {exc.strerror or exc}"
            return checked
        lines = [line.rstrip() for line in out.decode("utf-8", "replace").splitlines() if line.strip()]
        if lines:
            checked.status, checked.output = "findings", lines
        elif code != 0:
            said = first_line(err.decode("utf-8", "replace"))
            checked.status, checked.why = "failed", f"exit {code}" + (f": {said}" if said else "")
        return checked
