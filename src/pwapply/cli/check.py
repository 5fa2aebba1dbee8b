"""`pwapply check` under the boundary, without Typer: the command runs it, and so does
the pre-push hook's fast path in main.py."""

from __future__ import annotations

import sys
from typing import Any

from ..check.command import CheckOptions
from ..check.command import check as run_check
from ..errors import require_timeout
from . import boundary, render
from .console import Console

__all__ = ["CheckOptions", "Console", "check"]


def check(opts: CheckOptions, console: Console) -> int:
    """The exit code: 1 when the push should not go on."""

    def body(guard: Any) -> int:
        require_timeout(opts.timeout)
        log = console.debug if console.verbose else None
        return render.checked(console, run_check(opts, read_stdin=sys.stdin.read, log=log))

    return boundary.run(console, body, "nothing was checked")
