"""Small pieces of the words pwapply prints.  Pure: no I/O."""

from __future__ import annotations

from typing import Sequence


def first_few(items: Sequence[str], n: int) -> str:
    """``a, b, c and 2 more``: the first ``n`` items, and how many were left out."""
    shown = ", ".join(items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")
