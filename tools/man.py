#!/usr/bin/env python3
"""Write the man pages, man/pwapply.1 and man/git-pwapply.1, from the commands' own
--help, so that they say what the program says.

    python tools/man.py            # write them
    python tools/man.py --check    # exit 1 when they are not what --help says now

git answers `git pwapply --help` with `man git-pwapply`; pip and pipx install the pages
under share/man/man1 beside the program (pyproject.toml, data-files), where man finds
them from PATH.  tests/test_man.py keeps them in step with the code.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from functools import lru_cache
from typing import Iterator, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
PAGES = {"pwapply": ROOT / "man" / "pwapply.1", "git-pwapply": ROOT / "man" / "git-pwapply.1"}


def helps() -> Iterator[Tuple[str, str]]:
    """(command line, its --help text) for pwapply and each of its commands, 80 columns."""
    import typer.main
    from typer.testing import CliRunner

    from pwapply.cli.app import app

    os.environ["COLUMNS"] = "80"
    runner = CliRunner()

    def text(args: List[str]) -> str:
        result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "80", "NO_COLOR": "1"}, prog_name="pwapply")
        assert result.exit_code == 0, result.output
        return result.stdout

    root = typer.main.get_command(app)
    yield "pwapply", text([])
    for name in sorted(root.commands):  # type: ignore[attr-defined]
        command = root.commands[name]  # type: ignore[attr-defined]
        if getattr(command, "hidden", False):
            continue
        yield f"pwapply {name}", text([name])
        for sub in sorted(getattr(command, "commands", {})):
            yield f"pwapply {name} {sub}", text([name, sub])


@lru_cache(maxsize=None)
def all_helps() -> Tuple[Tuple[str, str], ...]:
    return tuple(helps())


def _roff(text: str) -> str:
    """Plain text as roff lines taken literally."""
    out = []
    for line in text.rstrip("\n").split("\n"):
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def page(name: str) -> str:
    from pwapply import __version__

    parts = [
        f'.TH {name.upper()} 1 "" "pwapply {__version__}" "pwapply manual"',
        ".SH NAME",
        f"{name} \\- apply a Patchwork series as a git branch, with Link trailers",
        ".SH SYNOPSIS",
        ".nf",
        ("git pwapply" if name == "git-pwapply" else "pwapply") + " [SERIES | COMMAND] [OPTIONS]",
        ".fi",
        ".SH DESCRIPTION",
        "The text of each command's \\fB\\-\\-help\\fR follows.",
    ]
    for line, text in all_helps():
        parts += [f".SS {line}", ".nf", _roff(text), ".fi"]
    parts += [
        ".SH EXIT STATUS",
        "0 done; 1 a patch did not apply (the repository is as it was); 2 bad usage or input;",
        "3 not found on the server; 4 network or server failure; 5 the repository refused the",
        "operation; 130 interrupted before anything was changed.",
        ".SH SEE ALSO",
        "\\fBgit-am\\fR(1), \\fBgit-range-diff\\fR(1), \\fBgithooks\\fR(5)",
    ]
    return re.sub(r"[ \t]+\n", "\n", "\n".join(parts)) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only say whether the pages are up to date")
    args = ap.parse_args()
    stale = []
    for name, path in PAGES.items():
        text = page(name)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(str(path.relative_to(ROOT)))
        if not args.check:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"stale: {', '.join(stale)}: run python tools/man.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
