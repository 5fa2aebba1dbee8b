"""The entry point of the `pwapply` and `git-pwapply` commands.

Three invocations are answered without loading Typer, because they run often and must be
fast: `--version`; `check --pre-push REMOTE URL` as the pre-push hook runs it on every
push; and `pwapply SERIES` with the apply command's options (cli/apply_line.py reads
exactly that).
Everything else goes to the Typer app in cli/app.py.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    # httpx imports its own command line (click, rich, pygments) when they are installed,
    # as they are beside Typer: 60 ms on every request-making run, for a CLI never used
    # here.  A None entry makes that import fail, and httpx goes on without it.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    argv = sys.argv[1:]
    if argv in (["--version"], ["-V"]):
        from . import __version__

        print(f"pwapply {__version__}")
        return
    if argv[:2] == ["check", "--pre-push"] and len(argv) <= 4 and not any(a.startswith("-") for a in argv[2:]):
        from .check.command import CheckOptions
        from .cli.check import check
        from .cli.console import Console

        code = check(
            CheckOptions(pre_push=True, remote=argv[2] if len(argv) > 2 else None), Console(quiet=False, verbose=False)
        )
        sys.stdout.flush()
        sys.exit(code)
    from .cli.apply_line import parse

    args = parse(argv, os.environ)
    if args is not None:  # the everyday `pwapply SERIES [options]`: no Typer
        from .cli import apply, boundary

        boundary.main(lambda: sys.exit(apply.run(args)))
    from .cli.app import main as full

    full()


if __name__ == "__main__":
    main()
