"""The series a series names as its bases (``Based-on:`` / ``Depends-on:`` lines, and
Patchwork 3.3's ``dependencies`` field), followed on Patchwork level by level: a level's
Message-IDs are looked up at once (cover letters and patches asked together: one round
trip), then its new series are fetched at once (JSON, mbox, cover letter and its
replies: one more; a series named by a patch or a URL rather than its cover letter needs
a third for its cover letter).  Each series is fetched once however many paths lead to
it; a chain deeper than deps.MAX_DEPTH is refused.  What the apply does with them (their
order, those the base has) is apply/chain.py's.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Dict, List, Optional, Sequence, Tuple

from ... import deps, process
from ...errors import InputError, NotFoundError
from ...resolve import COVER_ID, MSGID, PATCH_ID, SERIES
from ...ui import UI
from ..model import Key, Node, Series
from . import models
from .client import Fetched, MailHit, PatchworkClient
from .series import from_server, key_of, prerequisites


def follow(
    client: PatchworkClient, root: Series, first: deps.Found, project: Optional[str], ui: UI
) -> Tuple[List[Node], List[str], Dict[int, models.Series]]:
    """The nodes of ``root``'s chain (``root`` first, then level by level), the lines
    that name nothing pwapply can follow, and the JSON of each series fetched."""
    server = client.server
    top = Node(root, None, 0)
    nodes: Dict[Key, Node] = {root.key: top}
    ignored: List[str] = []
    level: List[Tuple[Key, deps.Prereq]] = [(root.key, p) for p in first.prereqs]
    depth = 0
    seen: Dict[int, models.Series] = {}
    while level:
        depth += 1
        if depth > deps.MAX_DEPTH:
            raise InputError(
                f"the prerequisites of {root.title} go deeper than {deps.MAX_DEPTH} levels",
                "apply the series alone with --no-deps, and its bases by hand",
            )
        ui.progress(f"Looking up {len(level)} prerequisite(s) ...")
        found = _series_of(client, level, project)
        new: Dict[Key, Tuple[deps.Prereq, int, Optional[int]]] = {}
        for (parent, prereq), (sid, cover) in zip(level, found):
            key = key_of(server, sid)
            if key == parent:
                continue  # a series naming its own mail
            if key not in nodes[parent].needs:
                nodes[parent].needs.append(key)
            if key not in nodes and key not in new:
                new[key] = (prereq, sid, cover)
        fetched = _fetch_all(client, {sid: cover for _, sid, cover in new.values()})
        level = []
        for key, (prereq, sid, _) in new.items():
            got = fetched[sid]
            seen[sid] = got.series
            nodes[key] = Node(from_server(got, server), prereq, depth)
            named = prerequisites(got, server, got.cover_text())
            ignored += [f"{line} ({where}): not followed, {why}" for line, where, why in named.ignored]
            level += [(key, p) for p in named.prereqs]
    return list(nodes.values()), ignored, seen


def _series_of(
    client: PatchworkClient, level: Sequence[Tuple[Key, deps.Prereq]], project: Optional[str]
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


def _one(client: PatchworkClient, p: deps.Prereq, futures: Sequence["Future[object]"]) -> Tuple[int, Optional[int]]:
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
    assert isinstance(hit, MailHit)
    return hit.series_id, hit.cover_id


def _fetch_all(client: PatchworkClient, wanted: Dict[int, Optional[int]]) -> Dict[int, Fetched]:
    """Each series' JSON and mbox, and its cover letter's text and replies, at once where
    the cover letter is known already; else once its JSON names it."""
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
