"""Shell completion for bash, zsh and fish: Typer's, loaded only when it is asked for,
so that a normal run pays nothing for it.

``pwapply --show-completion [SHELL]`` prints the script, ``--install-completion [SHELL]``
puts it where the shell reads it (the current shell when none is named); the shell then
runs pwapply with _PWAPPLY_COMPLETE set to ask for completions.
"""

from __future__ import annotations

import importlib
from typing import Callable, List, Mapping, Optional

from ..errors import InputError
from .apply_line import COMPLETE_VAR

PROG = "pwapply"
VAR = COMPLETE_VAR
SHELLS = ("bash", "zsh", "fish")
OPTIONS = ("--show-completion", "--install-completion")


def asked(environ: Mapping[str, str]) -> bool:
    """Whether the shell is asking for completions (and Typer's must be set up)."""
    return VAR in environ


def setup() -> None:
    from typer._completion_classes import completion_init  # there from Typer 0.12 to 0.28

    completion_init()


def run(args: List[str], echo: Callable[[str], None]) -> int:
    """``--show-completion [SHELL]`` or ``--install-completion [SHELL]``."""
    from typer import _completion_shared as shared  # Typer 0.12 to 0.28 alike

    option, rest = args[0], args[1:]
    if len(rest) > 1:
        raise InputError(f"{option} takes one shell at most", f"e.g. pwapply {option} bash")
    shell = rest[0] if rest else _current_shell()
    if shell not in SHELLS:
        raise InputError(
            f"cannot complete for the shell {shell!r}" if shell else "cannot tell which shell this is",
            f"name it: pwapply {option} bash (or zsh, or fish)",
        )
    if option == "--show-completion":
        echo(shared.get_completion_script(prog_name=PROG, complete_var=VAR, shell=shell))
        return 0
    _, path = shared.install(shell=shell, prog_name=PROG, complete_var=VAR)
    echo(f"{shell} completion installed in {path}; it works in new shells")
    return 0


def _current_shell() -> Optional[str]:
    try:
        shellingham = importlib.import_module("shellingham")  # Typer's dependency, untyped
        name, _ = shellingham.detect_shell()
        return str(name).lower()
    except Exception:  # noqa: BLE001 -- not installed, or not detectable: ask for the name
        return None
