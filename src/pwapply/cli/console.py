"""Human output on stderr, shared by every command (and by the pre-push hook's fast path,
which does not load Typer)."""

from __future__ import annotations

import os
import sys

from ..errors import PwapplyError


def _say(line: str) -> None:
    """One line on stderr.  A terminal that hung up (SIGHUP, an ssh session gone) makes
    writes fail: the command still finishes its work rather than die half way."""
    try:
        print(line, file=sys.stderr, flush=True)
    except OSError:
        pass


class Console:
    def __init__(self, quiet: bool, verbose: bool, json: bool = False) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.json = json  # --json: an error is JSON on stdout too, for the script that reads it
        self.tty = sys.stderr.isatty()
        self.color = self.tty and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"

    def _style(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color else text

    def say(self, line: str) -> None:
        """A line the user must see, whatever -q says."""
        _say(line)

    def progress(self, line: str) -> None:
        if self.tty and not self.quiet:
            _say(line)

    def info(self, line: str) -> None:
        if not self.quiet:
            _say(line)

    def warn(self, line: str) -> None:
        """Something the user must hear of even with -q, though the command did its job."""
        _say(self._style("warning:", "1;33") + " " + line)

    def debug(self, line: str) -> None:
        _say(self._style("+ " + line, "2"))

    def error(self, exc: PwapplyError) -> None:
        _say(self._style("error:", "1;31") + " " + exc.message)
        if exc.hint:
            _say(self._style("hint:", "1;33") + " " + exc.hint)
        if self.json:
            import json  # only for an error under --json

            try:
                print(json.dumps({"error": exc.message, "hint": exc.hint, "exit_code": exc.exit_code}, indent=2))
            except OSError:
                pass

    def fail(self, exc: PwapplyError) -> int:
        """Report an expected failure; its exit code."""
        self.error(exc)
        if self.verbose:
            details = getattr(exc, "details", "")
            if details:
                _say(details.rstrip())
        return exc.exit_code
