"""The series a series is based on: found (by its source, sources/policy.py), ordered,
and checked against the base.

A series names its prerequisites in ``Based-on:`` / ``Depends-on:`` lines (deps.py) of
its cover letter and patches, and, on Patchwork 3.3, in its ``dependencies`` field.  The
sources follow them (Patchwork level by level; the archive one level); here they are
put in the order they apply (a loop refused), and those the base commit already has are
set aside: their patches' Message-IDs are looked for in the base's recent commits (Link
or Message-ID trailers), and what is not found so by `git patch-id` (apply/already.py).
One that is there only in part is refused: applying the rest, or all of it again, would
be a guess.  The newer versions of the bases are asked for meanwhile, and told.
"""

from __future__ import annotations

import functools
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from .. import deps, process, threads
from ..git.repo import Repo
from ..mbox import Patch
from ..sources.model import Key, Node, Series, Summary
from ..sources.policy import Sources
from ..ui import UI
from .already import find, partly_in_base
from .options import ChainItem


@dataclass
class Chain:
    """The series to apply, bases first and the one asked for last, with those the
    base already has set aside."""

    nodes: List[Node]  # in the order they apply
    skipped: Dict[Key, str] = field(default_factory=dict)  # -> why it is not applied
    newer: "Dict[Key, Future[Optional[Summary]]]" = field(default_factory=dict)  # base -> its newest version

    @property
    def bases(self) -> List[Node]:
        return self.nodes[:-1]

    def applied(self) -> List[Series]:
        """The bases to apply, in order (those the base commit has left out)."""
        return [n.series for n in self.bases if n.series.key not in self.skipped]


class Bases:
    """Finds the chain of the series asked for, from what it names, and keeps the notes
    the user should read (lines not followed, bases already there)."""

    def __init__(self, root: Series, sources: Sources, repo: Repo, base: str, ui: UI) -> None:
        self.root, self.sources = root, sources
        self.repo, self.base, self.ui = repo, base, ui
        self.notes: List[str] = []

    def chain(self, found: deps.Found, *, newer: bool = True, told: bool = True) -> Optional[Chain]:
        """The chain of what ``found`` names; None when it names nothing to apply.  With
        ``newer``, the bases' newer versions are asked for meanwhile; with ``told``, the
        plan is said."""
        self.notes += [f"{line} ({where}): not followed, {why}" for line, where, why in found.ignored]
        if not found.prereqs:
            return None
        nodes, notes = self.sources.bases(self.root, found)
        self.notes += notes
        if len(nodes) < 2:
            return None
        labels = {n.series.key: n.series.plan + (f" ({n.series.name})" if n.series.name else "") for n in nodes}
        order = deps.order(self.root.key, {n.series.key: n.needs for n in nodes}, labels)
        by_key = {n.series.key: n for n in nodes}
        chain = Chain([by_key[k] for k in order])
        in_base(self.repo, self.base, chain)
        self.notes += [
            (f"{n.named.line}: " if n.named is not None else "")
            + f"{n.series.title}: {chain.skipped[n.series.key]}, not applied again"
            for n in chain.bases
            if n.series.key in chain.skipped
        ]
        if told:
            self.ui.info(plan_line(chain))
        if not chain.applied():
            return None
        if newer:
            ask_newer(self.sources, chain)
        return chain


def named_now(root: Series, server: Optional[str]) -> deps.Found:
    """What the series names that is known at once: its patches' lines, its source's
    record; its cover letter's lines when its text is at hand."""
    found = [root.named]
    if root.cover_known:
        found.append(deps.find(root.cover_text(), f"the cover letter of {root.whose}", server))
    found += [
        deps.find(p.raw.decode("utf-8", "replace"), f"patch {p.index}/{len(root.patches)} of {root.whose}", server)
        for p in root.patches
    ]
    return deps.merge(found)


def named_by_cover(root: Series, server: Optional[str]) -> deps.Found:
    """What the series' cover letter names, when its text was on its way (waits for it)."""
    if root.cover_known:
        return deps.Found((), ())
    return deps.find(root.cover_text(), f"the cover letter of {root.whose}", server)


def plan_line(chain: Chain) -> str:
    """``3 series: 500120 v2 (6 patches) -> 500233 v1 (1 patch) -> 500410 v1 (2 patches)``."""
    parts = []
    for node in chain.nodes:
        n = len(node.series.patches)
        skipped = " in the base" if node.series.key in chain.skipped else ""
        parts.append(f"{node.series.plan} ({n} patch{'es' if n != 1 else ''}{skipped})")
    return f"{len(parts)} series: " + " -> ".join(parts)


def summary(chain: Optional[Chain], root: Series, patches: Sequence[Patch]) -> List[ChainItem]:
    """Each series of the chain (the one asked for alone, without a chain): applied or
    not, and why not."""
    out = []
    for node in chain.bases if chain is not None else []:
        s = node.series
        why = chain.skipped.get(s.key, "") if chain is not None else ""
        out.append(ChainItem(s.key, s.version, s.name or "", len(s.patches), not why, why))
    out.append(ChainItem(root.key, root.version, root.name or "", len(patches), True, ""))
    return out


# ------------------------------------------------------------------ already in the base


def in_base(repo: Repo, base: str, chain: Chain) -> None:
    """Set aside the bases the base commit already has (chain.skipped); refuse one it
    has in part.  All the bases' patches are looked for at once (already.find)."""
    if not chain.bases:
        return
    per = [(n, n.series.patches) for n in chain.bases]
    there = find(repo, base, [p for _, ps in per for p in ps])
    at = 0
    for node, ps in per:
        have = [there[i] for i in range(at, at + len(ps)) if i in there]
        at += len(ps)
        if ps and len(have) == len(ps):
            how = "by their Message-IDs" if all(t.by_msgid for t in have) else "by their content"
            chain.skipped[node.series.key] = f"already in the base ({how})"
        elif have:
            raise partly_in_base(node.series.title, len(have), len(ps))


# ------------------------------------------------------------------ newer versions


def ask_newer(sources: Sources, chain: Chain) -> None:
    """Ask, in the background, whether each base has a newer version (told as a
    warning once the series applied: what is named is what is applied)."""
    for node in chain.bases:
        if node.series.key not in chain.skipped:
            chain.newer[node.series.key] = threads.in_thread(
                functools.partial(sources.newest, node.series.key), "pwapply-newer"
            )


def newer_warnings(chain: Chain) -> List[str]:
    out = []
    for node in chain.bases:
        future = chain.newer.get(node.series.key)
        if future is None:
            continue
        try:
            newer = process.result(future, what="newer versions")
        except Exception:  # noqa: BLE001 -- a warning we could not make is no failure
            continue
        if newer is not None:
            out.append(
                f"{node.series.title}, a prerequisite, has a newer version: v{newer.version} ({newer.short});"
                " what the series names was applied"
            )
    return out
