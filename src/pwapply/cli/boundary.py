"""The one place where what went wrong becomes what the user sees and the exit code.

A command's body runs under the run's signal guard (process.guard): a PwapplyError
becomes ``error:`` and ``hint:`` lines and its exit code; Ctrl-C, SIGTERM or SIGHUP
before the commit point becomes exit 130 with what was (not) changed; anything else is
a bug: its traceback, and exit 70.
"""

from __future__ import annotations

import signal
import sys
from typing import TYPE_CHECKING, Any, Callable, Optional

from .. import __version__
from ..errors import InputError, PwapplyError
from ..git.run import Git
from ..process import EXIT_INTERRUPTED, guard
from .console import Console

if TYPE_CHECKING:
    from ..process import Guard

EXIT_BUG = 70  # an unexpected exception: a bug in pwapply


def run(console: Console, body: "Callable[[Guard], int]", interrupted: str) -> int:
    """Run a command's body; its exit code.  ``interrupted`` says what an interrupt
    before the commit point left (e.g. "nothing was changed in your repository")."""
    try:
        with guard(interrupted) as g:
            return body(g)
    except PwapplyError as exc:
        return console.fail(exc)
    except KeyboardInterrupt:
        console.say(f"interrupted: {interrupted}")
        return EXIT_INTERRUPTED


def usage_error(exc: BaseException) -> Optional[InputError]:
    """A command line Typer (click) could not read, as pwapply says any bad input: one
    line of what is wrong, one hint (the option meant, or the usage and where the
    examples are); None for anything else.  Duck-typed: Typer's click may be its own."""
    if not any(c.__name__ == "UsageError" for c in type(exc).__mro__):
        return None
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command", None)
    name = getattr(command, "name", None)
    where = f"pwapply {name}" if name and getattr(ctx, "parent", None) is not None else "pwapply"
    help_hint = f"{where} --help shows its options and examples"
    kind = type(exc).__name__
    if kind == "NoSuchOption":
        given = str(getattr(exc, "option_name", ""))
        known = [o for p in getattr(command, "params", []) for o in (*p.opts, *p.secondary_opts) if o.startswith("-")]
        import difflib  # for a mistyped option alone

        close = difflib.get_close_matches(given, known, n=1, cutoff=0.75)
        return InputError(
            f"{where} has no option {given}", f"did you mean {close[0]}? {help_hint}" if close else help_hint
        )
    if kind == "MissingParameter":
        param = getattr(exc, "param", None)
        what = (getattr(param, "metavar", None) or getattr(param, "name", "") or "an argument").strip("{}[]")
        usage = " ".join(command.collect_usage_pieces(ctx)) if command is not None else ""
        return InputError(
            f"{where} needs {what.upper() if what.islower() else what}", f"usage: {where} {usage}; {help_hint}"
        )
    text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    text = text.replace("'", "").rstrip(".")
    return InputError(text[:1].lower() + text[1:], help_hint)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def program(app: Callable[[], Any]) -> int:
    """Run a command line as the program does: its exit code, whether it returns one
    or raises SystemExit (Typer), or 70 and the traceback of a bug."""
    code = 0
    try:
        got = app()
        code = got if isinstance(got, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except PwapplyError as exc:  # a command that let one through
        code = Console(False, False).fail(exc)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except Exception:
        import traceback  # 4 ms on every run, for a bug's report alone

        traceback.print_exc()
        print(
            "pwapply: internal error (a bug): please report it to pwapply's issue tracker, with the traceback "
            f"above and this line:\n  {versions()}",
            file=sys.stderr,
        )
        code = EXIT_BUG
    return code


def versions() -> str:
    """What a bug report needs to know of this machine: pwapply's, Python's and git's
    versions, and the platform."""
    import platform  # 2 ms on every run, for a bug's report alone

    try:
        git = Git().out(["--version"]).strip()
    except Exception as exc:  # noqa: BLE001 -- a report must come out whatever broke
        git = f"git: unknown ({type(exc).__name__})"
    python = f"Python {platform.python_version()} ({platform.python_implementation()})"
    return f"pwapply {__version__}, {python}, {git}, {platform.platform()}"
