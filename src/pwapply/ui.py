"""How the library talks to the user while it works: callbacks the command line fills
(progress lines on a terminal, notes, -v's commands and requests)."""

from __future__ import annotations

from typing import Callable, Optional

from .frozen import frozen

Echo = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@frozen
class UI:
    """``progress`` for per-step lines (a terminal only), ``info`` for what the user must
    see, ``debug`` for -v (None: not asked for)."""

    progress: Echo = _quiet
    info: Echo = _quiet
    debug: Optional[Echo] = None
