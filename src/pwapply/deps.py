"""What a series says it is based on, and in which order a chain of series applies.
Pure: no I/O.

QEMU's convention is ``Based-on: <message-id>`` in the cover letter (several lines
allowed, with or without the angle brackets, sometimes followed by the subject in
parentheses); Patchwork's is ``Depends-on:`` with a Message-ID or a Patchwork series,
patch or cover URL, in the cover letter or in a patch (also below its ``---`` line).
A line counts only at the start of a line of the mail's text: a quoted line, or a diff
line that happens to contain the words, does not.
"""

from __future__ import annotations

import re
from typing import Dict, Hashable, Iterable, List, Optional, Sequence, Tuple, TypeVar

from .errors import InputError
from .frozen import frozen
from .resolve import COVER_ID, MSGID, PATCH_ID, SERIES, SeriesRef, host_of, resolve

MAX_DEPTH = 10  # how many levels of prerequisites a chain may have

_LINE_RE = re.compile(r"^(Based-on|Depends-on)[ \t]*:[ \t]*(\S.*?)[ \t]*$", re.I | re.M)


@frozen
class Prereq:
    """A prerequisite as a series names it."""

    ref: SeriesRef  # a Message-ID, or a series, patch or cover letter id of the server
    line: str  # the line as written, e.g. "Based-on: <20260421.1-1-a@b.org>"
    where: str  # where it stands, e.g. "the cover letter of series 500410"


@frozen
class Found:
    """What a mail's text names: the prerequisites, and lines that name nothing pwapply
    can follow (another server's URL, a value that is no Message-ID)."""

    prereqs: Tuple[Prereq, ...]
    ignored: Tuple[Tuple[str, str, str], ...]  # (line, where, why)


def find(text: str, where: str, server: Optional[str]) -> Found:
    """The ``Based-on:`` and ``Depends-on:`` lines of a mail's text.  ``server`` is the
    Patchwork server's URL: a Patchwork URL of another server is not followed."""
    prereqs: List[Prereq] = []
    ignored: List[Tuple[str, str, str]] = []
    for m in _LINE_RE.finditer(text or ""):
        line = m.group(0).strip()
        value = _first_token(m.group(2))
        try:
            ref = resolve(value)
        except InputError:
            ignored.append((line, where, "it names no Message-ID or Patchwork URL"))
            continue
        if ref.kind not in (MSGID, SERIES, PATCH_ID, COVER_ID):
            ignored.append((line, where, "it names no Message-ID or Patchwork URL"))
            continue
        if ref.server is not None and not _same_server(ref.server, server):
            ignored.append((line, where, f"it names another server ({host_of(ref.server)})"))
            continue
        if not any(p.ref == ref for p in prereqs):
            prereqs.append(Prereq(ref, line, where))
    return Found(tuple(prereqs), tuple(ignored))


def _first_token(value: str) -> str:
    """``<a@b> ([PATCH 0/2] x)`` -> ``<a@b>``; ``a@b,`` -> ``a@b``."""
    value = value.strip()
    if value.startswith("<") and ">" in value:
        return value[: value.index(">") + 1]
    return value.split()[0].rstrip(",;.)") if value.split() else value


def _same_server(url: str, server: Optional[str]) -> bool:
    return server is not None and host_of(url) == host_of(server)


def merge(found: Iterable[Found]) -> Found:
    """Several mails' findings as one, each prerequisite once (the first place it stands)."""
    prereqs: List[Prereq] = []
    ignored: List[Tuple[str, str, str]] = []
    for f in found:
        prereqs.extend(p for p in f.prereqs if not any(p.ref == q.ref for q in prereqs))
        ignored.extend(f.ignored)
    return Found(tuple(prereqs), tuple(ignored))


K = TypeVar("K", bound=Hashable)


class CycleError(InputError):
    """The prerequisites form a loop."""


def order(root: K, needs: Dict[K, Sequence[K]], label: Dict[K, str]) -> List[K]:
    """The series of a chain in the order they apply: every series after all it needs,
    the root last; each series once, however many paths lead to it.  A loop raises
    CycleError naming it (``label`` names a series)."""
    done: List[K] = []
    state: Dict[K, int] = {}  # 1: on the current path, 2: placed
    path: List[K] = []

    def visit(sid: K) -> None:
        if state.get(sid) == 2:
            return
        if state.get(sid) == 1:
            loop = path[path.index(sid) :] + [sid]
            raise CycleError(
                "the series' prerequisites form a loop: " + " -> ".join(label.get(s, str(s)) for s in loop),
                "apply the series alone with --no-deps, or one of the loop's series by hand first",
            )
        state[sid] = 1
        path.append(sid)
        for dep in needs.get(sid, ()):
            visit(dep)
        path.pop()
        state[sid] = 2
        done.append(sid)

    visit(root)
    return done
