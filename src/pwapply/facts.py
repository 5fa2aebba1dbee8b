"""What the server says about series now: each one's newest version, its patches'
states and CI checks, and what reviewers said on the list (review tags, Nacked-by) to
its patches and its cover letter.  Asked by `pwapply check`, `status` and `update`:
each series once, all the series at once (their JSON; then, all together, the states,
the mboxes, the cover letters' replies, and the other versions: one listing for all the
series of one submitter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Iterable, List

from . import process, trailers
from .patchwork.models import SeriesFacts

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .patchwork.client import PatchworkClient


@dataclass(frozen=True)
class Want:
    """Which facts to ask for (each costs a request a series)."""

    newer: bool = True
    states: bool = True
    tags: bool = True  # review tags and Nacked-by


def gather(client: "PatchworkClient", series_ids: Iterable[int], want: Want = Want()) -> Dict[int, SeriesFacts]:
    """The facts of each series (in the calling thread's pool-backed waits)."""
    from . import mbox
    from .versions import find_many, order_key

    ids = list(dict.fromkeys(series_ids))
    asked_series = {sid: client.submit(client.series, sid) for sid in ids}
    out: Dict[int, SeriesFacts] = {}
    later: Dict[int, Dict[str, "Future[object]"]] = {}
    for sid in ids:
        s = process.result(asked_series[sid], what="series")
        out[sid] = SeriesFacts(series=s)
        asked: Dict[str, "Future[object]"] = {}
        if want.states:
            asked["states"] = client.submit(client.patch_states, sid)
        if want.tags:
            asked["mbox"] = client.submit(client.series_mbox, sid)
            if s.cover is not None:
                asked["comments"] = client.submit(client.cover_comments, s.cover.id)
        later[sid] = asked
    # The other versions: one listing a submitter, for all their series here.
    versions = find_many(client, [f.series for f in out.values()]) if want.newer else {}
    for sid, asked in later.items():
        f = out[sid]
        s = f.series
        if sid in versions:
            newer = [v for v in versions[sid] if order_key(v) > order_key(s)]
            f.newer = max(newer, key=order_key) if newer else None
        if "states" in asked:
            f.patches = {p.msgid: p for p in process.result(asked["states"], what="states")}  # type: ignore[attr-defined]
        if "mbox" in asked:
            cover_tags: List[trailers.Trailer] = []
            cover_nacks: List[trailers.Trailer] = []
            for body in process.result(asked["comments"], what="cover comments") if "comments" in asked else ():  # type: ignore[attr-defined]
                cover_tags += [t for t in trailers.tags_from_reply(body) if not any(t.same_as(o) for o in cover_tags)]
                cover_nacks += trailers.nacks_from_reply(body)
            data = process.result(asked["mbox"], what="mbox")
            assert isinstance(data, bytes)
            for p in mbox.read(data, reorder=False).patches:
                text = p.raw.decode("utf-8", "replace").split("\n---", 1)[0]
                f.tags[p.msgid] = trailers.tags_in_patch(text) + cover_tags
                f.nacks[p.msgid] = trailers.nacks_from_reply(text) + cover_nacks
    return out
