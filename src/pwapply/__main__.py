"""The program: `pwapply`, `git-pwapply` and `python -m pwapply` start here, and this is
the one place that exits the process."""

from __future__ import annotations

import os
import signal
import sys


def _early(signum: int, frame: object) -> None:
    """A signal while pwapply loads, before its own handling is in place: nothing has
    been done, so there is nothing to undo."""
    os.write(2, b"interrupted: nothing was changed in your repository\n")
    os._exit(130)


# First, before anything is loaded (typing and re alone take 10 ms): from here on a
# signal ends the run cleanly, whatever it interrupts.  Only as the program (python -m
# pwapply, or the pwapply and git-pwapply scripts): a test that imports this module keeps
# its handlers.
if __name__ == "__main__" or os.path.basename(sys.argv[0]) in ("pwapply", "git-pwapply"):
    for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(_sig) is not signal.SIG_IGN:  # nohup's, a background job's: kept
            signal.signal(_sig, _early)

from . import process  # noqa: E402
from .steps import step  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def run() -> NoReturn:
    """Signals first (a Ctrl-C from here on ends the run within a second, whatever it
    is doing), then the command line; then exit at once: everything is written and
    cleaned up by now (the lock, the scratch worktree and the temporary files are
    released by the commands), and the interpreter's teardown of httpx, ssl and friends
    costs tens of milliseconds, and would wait for threads nobody needs any more."""
    process.install()
    step("start")
    from .main import main

    exit_now(main())


def exit_now(code: int) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the terminal hung up
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
