"""The series a series is based on: found, fetched, ordered, and checked against the base.

A series names its prerequisites in ``Based-on:`` / ``Depends-on:`` lines (deps.py) of
its cover letter and patches, and, on Patchwork 3.3, in its ``dependencies`` field.  They
are followed level by level: a level's Message-IDs are looked up at once (cover letters
and patches asked together: one round trip), then its new series are fetched at once
(JSON, mbox, cover letter and its replies: one more; a series named by a patch or a URL
rather than its cover letter needs a third for its cover letter).  Each series is
fetched once however many paths lead to it; a loop, or a chain deeper than
deps.MAX_DEPTH, is refused.

A prerequisite the base already has is skipped: its patches' Message-IDs are looked for
in the base's recent commits (Link or Message-ID trailers), and what is not found so by
`git patch-id` (apply/already.py).  One that is there only in part is
refused: applying the rest, or all of it again, would be a guess.
"""

from __future__ import annotations

from concurrent.futures import Future
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Tuple

from .. import deps, process
from ..errors import InputError, NotFoundError, RepoStateError
from ..resolve import COVER_ID, MSGID, PATCH_ID, SERIES, SeriesRef
from ..ui import UI

if TYPE_CHECKING:
    from ..archive.client import ArchiveClient
    from ..git.repo import Repo
    from ..mbox import Patch
    from ..patchwork.client import Fetched, PatchworkClient
    from ..patchwork.models import Series
    from .options import ChainItem
    from .source import Source


@dataclass
class Node:
    """One series of a chain, as fetched (``got`` is None for a local mbox asked for)."""

    got: "Optional[Fetched]"
    named: Optional[deps.Prereq]  # how a series of the chain first named it (None: the one asked for)
    depth: int
    needs: List[int] = field(default_factory=list)  # the series it is based on
    name: str = ""  # for the one asked for when it has no series: "the mbox"

    @property
    def series(self) -> "Series":
        assert self.got is not None
        return self.got.series

    @property
    def id(self) -> int:
        return self.got.series.id if self.got is not None else 0

    def label(self) -> str:
        if self.got is None:
            return self.name
        s = self.series
        return f"{s.id} v{s.version}" + (f" ({s.name})" if s.name else "")


@dataclass
class Chain:
    """The series to apply, bases first and the one asked for last, with those the
    base already has set aside."""

    nodes: List[Node]  # in the order they apply
    skipped: Dict[int, str] = field(default_factory=dict)  # series id -> why it is not applied
    ignored: List[str] = field(default_factory=list)  # lines that name nothing pwapply can follow
    newer: "Dict[int, Future[Optional[Series]]]" = field(default_factory=dict)  # base -> its newest version
    archived: "List[Source]" = field(default_factory=list)  # bases from the list's archive, applied first

    @property
    def bases(self) -> List[Node]:
        return self.nodes[:-1]


class Bases:
    """Finds the chain of the series asked for, from what it names, and keeps the notes
    the user should read (lines not followed, bases already there).  A local mbox's
    bases are looked up on the configured server: its client is opened only then."""

    def __init__(
        self,
        root: "Source",
        server: Optional[str],
        project: Optional[str],
        repo: "Repo",
        base: str,
        ui: UI,
        client: "Optional[PatchworkClient]",
        connect: "Callable[[str], PatchworkClient]",
        archive: "Optional[ArchiveClient]" = None,
    ) -> None:
        self.root, self.server, self.project = root, server, project
        self.repo, self.base, self.ui = repo, base, ui
        self.client, self.connect = client, connect
        self.archive = archive  # where what Patchwork does not know is looked for
        self.notes: List[str] = []

    def chain(self, found: deps.Found, stack: ExitStack) -> Optional[Chain]:
        """The chain of what ``found`` names; None when it names nothing to apply."""
        self.notes += [f"{line} ({where}): not followed, {why}" for line, where, why in found.ignored]
        if not found.prereqs:
            return None
        if self.client is None:
            if not self.server:
                if self.archive is not None:
                    return self._from_archive(found)
                lines = "; ".join(p.line for p in found.prereqs)
                what = "the series" if self.root.archive else "the mbox"
                self.notes.append(
                    f"{what} names what it is based on ({lines}), which was not applied: no Patchwork server"
                )
                return None
            self.client = stack.enter_context(self.connect(self.server))
        try:
            chain = build(
                self.client, self.root.got, found, self.project, self.client.server, self.repo, self.base, self.ui
            )
        except NotFoundError:
            if self.archive is None:
                raise
            return self._from_archive(found)  # a base Patchwork does not know: the archive's
        self.notes += chain.ignored
        self.notes += [
            f"series {n.label()}: {chain.skipped[n.id]}, not applied again"
            for n in chain.bases
            if n.id in chain.skipped
        ]
        self.ui.info(plan_line(chain, self.root))
        return chain

    def _from_archive(self, found: deps.Found) -> Optional[Chain]:
        """The bases named, from the list's archive (one level: what they name in turn is
        not followed); None when the base commit has them all."""
        from .archived import bases_from_archive

        assert self.archive is not None
        sources, notes = bases_from_archive(
            self.archive, found.prereqs, self.project, self.repo, self.base, asked_patchwork=self.client is not None
        )
        self.notes += notes
        if not sources:
            return None
        chain = Chain([Node(self.root.got, None, 0, name="the series")], archived=sources)
        self.ui.info(plan_line(chain, self.root))
        return chain


def named_now(root: "Source", server: Optional[str]) -> deps.Found:
    """What the series names that is known at once: its patches' lines and the server's
    dependencies field; for a local mbox, its cover letter's lines too."""
    if root.got is None:
        what = "the series" if root.archive else "the mbox"
        found = [deps.find(root.cover or "", f"the cover letter of {what}", server)]
        found += [
            deps.find(_text(p.raw), f"patch {p.index}/{len(root.patches)} of {what}", server) for p in root.patches
        ]
        return deps.merge(found)
    return prerequisites(root.got, server, None)


def named_by_cover(root: "Source", server: Optional[str]) -> deps.Found:
    """What the series' cover letter names (waits for its text)."""
    if root.got is None or root.got.series.cover is None:
        return deps.Found((), ())
    return deps.find(root.got.cover_text(), f"the cover letter of series {root.got.series.id}", server)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def prerequisites(got: "Fetched", server: Optional[str], cover_text: Optional[str]) -> deps.Found:
    """What a fetched series names: in its patches, its server's dependencies field and
    (when its text is given) its cover letter."""
    from .. import mbox

    s = got.series
    found = [deps.find(cover_text or "", f"the cover letter of series {s.id}", server)]
    patches = mbox.read(got.mbox, reorder=False).patches
    for p in patches:
        found.append(deps.find(_text(p.raw), f"patch {p.index}/{len(patches)} of series {s.id}", server))
    from_server = tuple(
        deps.Prereq(SeriesRef(SERIES, str(d)), f"dependencies: series {d}", f"the server's record of series {s.id}")
        for d in s.dependencies
    )
    found.append(deps.Found(from_server, ()))
    return deps.merge(found)


def build(
    client: "PatchworkClient",
    root: "Optional[Fetched]",
    first: deps.Found,
    project: Optional[str],
    server: str,
    repo: "Repo",
    base: str,
    ui: UI,
    newer: bool = True,
) -> Chain:
    """The chain of ``root`` (None: a local mbox), which names ``first``: resolved,
    ordered, the bases the base commit has set aside, and (with ``newer``) their newer
    versions asked for in the background."""
    chain = resolve(client, root, first, project, server, ui)
    in_base(repo, base, chain)
    if newer:
        ask_newer(client, chain)
    return chain


def resolve(
    client: "PatchworkClient",
    root: "Optional[Fetched]",
    first: deps.Found,
    project: Optional[str],
    server: str,
    ui: UI,
) -> Chain:
    """The chain of ``root`` (None: a local mbox), whose own prerequisites are ``first``."""
    top = Node(root, None, 0, name="the mbox")
    nodes: Dict[int, Node] = {top.id: top}
    ignored: List[str] = []
    level: List[Tuple[int, deps.Prereq]] = [(top.id, p) for p in first.prereqs]
    depth = 0
    while level:
        depth += 1
        if depth > deps.MAX_DEPTH:
            raise InputError(
                f"the prerequisites of {top.label()} go deeper than {deps.MAX_DEPTH} levels",
                "apply the series alone with --no-deps, and its bases by hand",
            )
        ui.progress(f"Looking up {len(level)} prerequisite(s) ...")
        found = _series_of(client, level, project)
        new: Dict[int, Tuple[deps.Prereq, Optional[int]]] = {}
        for (parent, prereq), (sid, cover) in zip(level, found):
            if sid == parent:
                continue  # a series naming its own mail
            if sid not in nodes[parent].needs:
                nodes[parent].needs.append(sid)
            if sid not in nodes and sid not in new:
                new[sid] = (prereq, cover)
        fetched = _fetch_all(client, {sid: cover for sid, (_, cover) in new.items()})
        level = []
        for sid, got in fetched.items():
            nodes[sid] = Node(got, new[sid][0], depth)
            named = prerequisites(got, server, got.cover_text())
            ignored += [f"{line} ({where}): not followed, {why}" for line, where, why in named.ignored]
            level += [(sid, p) for p in named.prereqs]
    labels = {sid: n.label() for sid, n in nodes.items()}
    order = deps.order(top.id, {sid: n.needs for sid, n in nodes.items()}, labels)
    return Chain([nodes[sid] for sid in order], ignored=ignored)


def plan_line(chain: Chain, root: "Source") -> str:
    """``3 series: 500120 v2 (6 patches) -> 500233 v1 (1 patch) -> 500410 v1 (2 patches)``."""
    parts = [
        f"v{s.version} from the archive ({len(s.patches)} patch{'es' if len(s.patches) != 1 else ''})"
        for s in chain.archived
    ]
    for node in chain.nodes:
        n = len(node.got.series.patches) if node.got is not None else len(root.patches)
        what = f"{node.series.id} v{node.series.version}" if node.got is not None else "the mbox"
        if node.got is None and root.archive:
            what = f"v{root.version} from the archive"
        skipped = " in the base" if node.id in chain.skipped else ""
        parts.append(f"{what} ({n} patch{'es' if n != 1 else ''}{skipped})")
    return f"{len(parts)} series: " + " -> ".join(parts)


def summary(chain: "Optional[Chain]", root: "Source", patches: Sequence["Patch"]) -> List["ChainItem"]:
    """Each series of the chain (the one asked for alone, without a chain): applied or
    not, and why not."""
    from .options import ChainItem

    out = [
        ChainItem(None, s.version, s.name or "", len(s.patches), True, "") for s in (chain.archived if chain else [])
    ]
    for node in chain.bases if chain is not None else []:
        s = node.series
        why = chain.skipped.get(s.id, "") if chain is not None else ""
        out.append(ChainItem(s.id, s.version, s.name or "", len(s.patches), not why, why))
    out.append(ChainItem(root.series_id, root.version, root.name or "", len(patches), True, ""))
    return out


def _series_of(
    client: "PatchworkClient", level: Sequence[Tuple[int, deps.Prereq]], project: Optional[str]
) -> List[Tuple[int, Optional[int]]]:
    """The series (and cover letter, when known) each prerequisite of a level names,
    asked all at once: a Message-ID is looked for among cover letters and patches
    together."""
    asked: List[Tuple[deps.Prereq, List["Future[object]"]]] = []
    for _, p in level:
        ref = p.ref
        if ref.kind == SERIES:
            asked.append((p, []))
        elif ref.kind in (PATCH_ID, COVER_ID):
            asked.append((p, [client.submit(client.series_of_patch, int(ref.value), ref.kind == COVER_ID)]))
        elif ref.kind == MSGID:
            kinds = ("covers", "patches")
            asked.append((p, [client.submit(client.find_mail, kind, ref.value, project) for kind in kinds]))
        else:  # deps.find keeps no other kind
            raise InputError(f"{p.line} ({p.where}) names no series", "apply the series alone with --no-deps")
    out: List[Tuple[int, Optional[int]]] = []
    for p, futures in asked:
        try:
            out.append(_one(client, p, futures))
        except NotFoundError as exc:
            if exc.message.startswith(p.line):
                raise
            raise NotFoundError(
                f"{p.line} ({p.where}): {exc.message}", "apply the series alone with --no-deps"
            ) from None
    return out


def _one(client: "PatchworkClient", p: deps.Prereq, futures: Sequence["Future[object]"]) -> Tuple[int, Optional[int]]:
    """(series id, cover letter id when known) of one prerequisite, from its look-ups."""
    ref = p.ref
    if ref.kind == SERIES:
        return int(ref.value), None
    if ref.kind in (PATCH_ID, COVER_ID):
        sid = process.result(futures[0], what="prerequisite")
        assert isinstance(sid, int)
        return sid, int(ref.value) if ref.kind == COVER_ID else None
    # Among the cover letters first: a hit there makes the patches' answer moot.
    hit = process.result(futures[0], what="prerequisite") or process.result(futures[1], what="prerequisite")
    if hit is None:
        raise NotFoundError(
            f"{p.line} ({p.where}) names a mail {client.host} does not know",
            "check the Message-ID; or apply the series alone with --no-deps",
        )
    return hit.series_id, hit.cover_id  # type: ignore[attr-defined]


def _fetch_all(client: "PatchworkClient", wanted: Dict[int, Optional[int]]) -> Dict[int, "Fetched"]:
    """Each series' JSON and mbox, and its cover letter's text and replies, at once where
    the cover letter is known already; else once its JSON names it."""
    from ..patchwork.client import Fetched

    asked = {
        sid: (
            client.submit(client.series, sid),
            client.submit(client.series_mbox, sid),
            client.ask_cover(cover) if cover is not None else None,
        )
        for sid, cover in wanted.items()
    }
    out: Dict[int, Fetched] = {}
    for sid, (f_series, f_mbox, cover) in asked.items():
        series = process.result(f_series, what="prerequisite series")
        if cover is None and series.cover is not None:
            cover = client.ask_cover(series.cover.id)
        mbox = process.result(f_mbox, what="prerequisite mbox")
        out[sid] = Fetched(series, mbox, cover[0] if cover else None, cover[1] if cover else None)
    return out


# ------------------------------------------------------------------ already in the base


def in_base(repo: "Repo", base: str, chain: Chain) -> None:
    """Set aside the bases the base commit already has (chain.skipped); refuse one it
    has in part.  All the bases' patches are looked for at once (already.find)."""
    from .. import mbox
    from .already import find

    if not chain.bases:
        return
    per = [(n, mbox.read(n.got.mbox, reorder=False).patches) for n in chain.bases if n.got is not None]
    there = find(repo, base, [p for _, ps in per for p in ps])
    at = 0
    for node, ps in per:
        have = [there[i] for i in range(at, at + len(ps)) if i in there]
        at += len(ps)
        if ps and len(have) == len(ps):
            how = "by their Message-IDs" if all(t.by_msgid for t in have) else "by their content"
            chain.skipped[node.series.id] = f"already in the base ({how})"
        elif have:
            raise partly_in_base(f"series {node.label()}", len(have), len(ps))


def partly_in_base(what: str, have: int, total: int) -> RepoStateError:
    """The refusal of a prerequisite the base commit has only some patches of."""
    return RepoStateError(
        f"{what}, a prerequisite, is only partly in the base: {have} of its {total} patches",
        "apply on a base that has all of it or none of it (--base REF), or the series alone (--no-deps)",
    )


# ------------------------------------------------------------------ newer versions


def ask_newer(client: "PatchworkClient", chain: Chain) -> None:
    """Ask, in the background, whether each base has a newer version (told as a
    warning once the series applied: what is named is what is applied)."""
    from ..versions import find, order_key

    def newest(s: "Series") -> "Optional[Series]":
        later = [v for v in find(client, s) if order_key(v) > order_key(s)]
        return max(later, key=order_key) if later else None

    for node in chain.bases:
        if node.series.id not in chain.skipped:
            chain.newer[node.series.id] = client.submit(newest, node.series)


def newer_warnings(chain: Chain) -> List[str]:
    out = []
    for node in chain.bases:
        future = chain.newer.get(node.series.id)
        if future is None:
            continue
        try:
            newer = process.result(future, what="newer versions")
        except Exception:  # noqa: BLE001 -- a warning we could not make is no failure
            continue
        if newer is not None:
            out.append(
                f"series {node.label()}, a prerequisite, has a newer version: v{newer.version} (series {newer.id});"
                " what the series names was applied"
            )
    return out
