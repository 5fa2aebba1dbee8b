"""What a Patchwork server says about series now: each one's newest version, its patches'
states and CI checks, and what reviewers said on the list (review tags, Nacked-by) to
its patches and its cover letter, in the sources' one shape (Facts).  Each series once,
all the series at once (their JSON; then, all together, the states, the mboxes, the
cover letters' replies, and the other versions: one listing for all the series of one
submitter)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

from ... import mbox, process, trailers
from ..model import Facts, Key, PatchState, Want
from . import models
from .client import PatchworkClient
from .series import key_of, summary
from .versions import find_many, order_key


def gather(
    client: PatchworkClient,
    series_ids: Iterable[int],
    want: Optional[Want] = None,
    have: Optional[Mapping[int, models.Series]] = None,
) -> Dict[Key, Facts]:
    """The facts of each series (in the calling thread's pool-backed waits); the JSON of
    those in ``have`` is not asked again."""
    want = want or Want()
    server = client.server
    ids = list(dict.fromkeys(series_ids))
    known = dict(have or {})
    asked_series = {sid: client.submit(client.series, sid) for sid in ids if sid not in known}
    got: Dict[int, models.Series] = {}
    later: Dict[int, Dict[str, "Future[object]"]] = {}
    for sid in ids:
        s = known[sid] if sid in known else process.result(asked_series[sid], what="series")
        got[sid] = s
        asked: Dict[str, "Future[object]"] = {}
        if want.states:
            asked["states"] = client.submit(client.patch_states, sid)
        if want.tags:
            asked["mbox"] = client.submit(client.series_mbox, sid)
            if s.cover is not None:
                asked["comments"] = client.submit(client.cover_comments, s.cover.id)
        later[sid] = asked
    # The other versions: one listing a submitter, for all their series here.
    versions = find_many(client, list(got.values())) if want.newer else {}
    out: Dict[Key, Facts] = {}
    for sid, asked in later.items():
        s = got[sid]
        f = Facts(series=summary(s, server))
        out[key_of(server, sid)] = f
        if sid in versions:
            newer = [v for v in versions[sid] if order_key(v) > order_key(s)]
            f.newer = summary(max(newer, key=order_key), server) if newer else None
        if "states" in asked:
            for p in process.result(asked["states"], what="states"):  # type: ignore[attr-defined]
                f.patches[p.msgid] = PatchState(p.state, p.check, p.web_url)
        if "mbox" in asked:
            bodies = process.result(asked["comments"], what="cover comments") if "comments" in asked else ()
            data = process.result(asked["mbox"], what="mbox")
            assert isinstance(data, bytes)
            f.tags, f.nacks, _ = tags_of(data, bodies)  # type: ignore[arg-type]
    return out


Tags = Dict[str, List[trailers.Trailer]]


def tags_of(data: bytes, cover_replies: Iterable[str]) -> Tuple[Tags, Tags, List[mbox.Patch]]:
    """(msgid -> review tags, msgid -> Nacked-by, the patches) of a series' mbox, in
    which Patchwork adds the tags the replies to each patch gave; the tags of the
    replies to its cover letter (``cover_replies``, their bodies) go to every patch."""
    cover_tags: List[trailers.Trailer] = []
    cover_nacks: List[trailers.Trailer] = []
    for body in cover_replies:
        cover_tags += [t for t in trailers.tags_from_reply(body) if not any(t.same_as(o) for o in cover_tags)]
        cover_nacks += trailers.nacks_from_reply(body)
    tags: Tags = {}
    nacks: Tags = {}
    patches = mbox.read(data, reorder=False).patches
    for p in patches:
        text = p.raw.decode("utf-8", "replace").split("\n---", 1)[0]
        tags[p.msgid] = trailers.tags_in_patch(text) + cover_tags
        nacks[p.msgid] = trailers.nacks_from_reply(text) + cover_nacks
    return tags, nacks, list(patches)
