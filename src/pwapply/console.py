"""Human output on stderr, shared by every command (and by the hook's fast path, which
does not load Typer)."""

from __future__ import annotations

import os
import sys

from .errors import PwapplyError


class Console:
    def __init__(self, quiet: bool, verbose: bool) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.tty = sys.stderr.isatty()
        self.color = self.tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"

    def _style(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def progress(self, line: str) -> None:
        if self.tty and not self.quiet:
            print(line, file=sys.stderr, flush=True)

    def info(self, line: str) -> None:
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)

    def warn(self, line: str) -> None:
        """Something the user must hear of even with -q, though the command did its job."""
        print(self._style("warning:", "1;33") + " " + line, file=sys.stderr, flush=True)

    def debug(self, line: str) -> None:
        print(self._style("+ " + line, "2"), file=sys.stderr, flush=True)

    def error(self, exc: PwapplyError) -> None:
        print(self._style("error:", "1;31") + " " + exc.message, file=sys.stderr, flush=True)
        if exc.hint:
            print(self._style("hint:", "1;33") + " " + exc.hint, file=sys.stderr, flush=True)

    def fail(self, exc: PwapplyError) -> int:
        """Report an expected failure; its exit code."""
        self.error(exc)
        if self.verbose:
            details = getattr(exc, "details", "")
            if details:
                print(details.rstrip(), file=sys.stderr, flush=True)
        return exc.exit_code
