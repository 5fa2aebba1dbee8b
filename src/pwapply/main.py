"""pwapply's command line in this process: ``main(argv)`` gives the exit code (the tests
call it in-process; __main__.py is the program, and the one place that exits).

Three invocations are answered without loading Typer, because they run often and must be
fast: `--version`; `check --pre-push REMOTE URL` as the pre-push hook runs it on every
push; and `pwapply SERIES` with the apply command's options (cli/apply_line.py reads
exactly that).  Everything else goes to the Typer app in cli/app.py.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional, Sequence

from .cli import boundary


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line ``argv`` (default: the process's); its exit code."""
    # httpx imports its own command line (click, rich, pygments) when they are installed,
    # as they are beside Typer: 60 ms on every request-making run, for a CLI never used
    # here.  A None entry makes that import fail, and httpx goes on without it.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    args: List[str] = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):
        from . import __version__

        print(f"pwapply {__version__}")
        return 0
    if args[:2] == ["check", "--pre-push"] and len(args) <= 4 and not any(a.startswith("-") for a in args[2:]):
        from .cli.check import CheckOptions, Console, check

        opts = CheckOptions(pre_push=True, remote=args[2] if len(args) > 2 else None)
        return boundary.program(lambda: check(opts, Console(quiet=False, verbose=False)))
    from .cli.apply_line import parse

    parsed = parse(args, os.environ)
    if parsed is not None:  # the everyday `pwapply SERIES [options]`: no Typer
        from .cli import apply

        return boundary.program(lambda: apply.run(parsed))
    from .cli.app import main as full

    return full(args)
