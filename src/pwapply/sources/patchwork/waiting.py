"""What waits for review on a Patchwork server, as b4's review TUI asks it: the patches in
the states asked (new and under-review), not archived, newest first, 100 a page, grouped
by series.  Pages are asked only until there are enough series to show: the requests
grow with the series shown, not with the project's history.  Then, for the series shown
and all at once, their mboxes, their cover letters and the replies to those: the API's
``tags`` is always empty, the mbox carries the tags replies gave each patch.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Dict, List, Optional, Tuple

from ... import naming, process
from ...errors import InputError
from ..waiting import Listing, Query, Waiting, cut, fold, readiness, worst_check
from ...net.transport import request_pool
from ...threads import Pool
from . import models
from .facts import tags_of
from .client import PatchworkClient
from .series import key_of

PAGES_MAX = 20  # 2000 patches: past that, --since narrows it
WIDTH = 16  # requests at once: a screenful of series in two round trips


def waiting(client: PatchworkClient, project: Optional[str], query: Query) -> Listing:
    if not project:
        raise InputError(
            f"which project of {client.host}? listing what waits needs one",
            "pwapply list --project NAME, or git config pwapply.project NAME",
        )
    filters: List[Tuple[str, str]] = [("project", project)]
    filters += [("state", s) for s in query.states]
    if query.archived is not None:
        filters.append(("archived", "true" if query.archived else "false"))
    if query.since:
        filters.append(("since", f"{query.since}T00:00:00"))
    if query.submitter:
        filters.append(("submitter", query.submitter))
    if query.search:
        filters.append(("q", query.search))
    if query.mine:
        filters.append(("delegate", whoami(client, query.me)))

    def enough(patches: List[models.ListedPatch]) -> bool:
        # One series more than shown: the last one shown then has all its patches here.
        return bool(query.limit) and len(fold(_lines(patches, client.server))) > query.limit

    with request_pool(WIDTH) as pool:
        # The newest cover letters beside the first page: those of the series shown are
        # most often among them, and their replies are then asked with the mboxes.
        recent = pool.submit(client.recent_covers, [f for f in filters if f[0] in ("project", "since")])
        patches, left = client.waiting_patches(filters, enough, PAGES_MAX)
        shown, more = cut(fold(_lines(patches, client.server)), query.limit)
        listing = Listing(more=more or left)
        if left and not query.limit:
            listing.notes.append(f"only the newest {PAGES_MAX * 100} patches were read: narrow it with --since")
        if shown:
            listing.items = _ready(client, pool, shown, process.result(recent, what="cover letters"))
        return listing


def _ready(
    client: PatchworkClient, pool: Pool, shown: List[Waiting], recent: Tuple[Dict[int, int], str]
) -> List[Waiting]:
    """How ready each series shown is, all asked at once, WIDTH requests at a time: its
    mbox (Patchwork adds the tags of each patch's replies there) and the replies to its
    cover letter (known from the newest cover letters, else asked for all of the series
    not among them in one request).  Two round trips after the listing, three at most."""
    ids = [int(w.key.what) for w in shown]
    covers, since = recent
    dates = {int(w.key.what): w.date for w in shown}
    unknown = [sid for sid in ids if sid not in covers and since and dates[sid] <= since]
    replies = {sid: pool.submit(client.cover_comments, cid) for sid, cid in covers.items() if sid in dates}
    asked = [pool.submit(client.covers_of, unknown[at : at + 50]) for at in range(0, len(unknown), 50)]
    mboxes = {sid: pool.submit(client.series_mbox, sid) for sid in ids}
    for f in asked:
        for sid, cid in process.result(f, what="cover letters").items():
            replies[sid] = pool.submit(client.cover_comments, cid)
    out = []
    for w, sid in zip(shown, ids):
        data = process.result(mboxes[sid], what="mbox")
        bodies = process.result(replies[sid], what="cover comments") if sid in replies else ()
        tags, nacks, patches = tags_of(data, bodies)
        msgids = tuple(p.msgid for p in patches) or w.msgids
        counted = naming.number_from_subject(patches[0].subject) if patches else None
        out.append(
            replace(
                w,
                total=counted[1] if counted else len(msgids),
                received=len(msgids),
                msgids=msgids,
                readiness=readiness(tags, nacks, msgids),
            )
        )
    return out


def _lines(patches: List[models.ListedPatch], server: str) -> List[Waiting]:
    """The listed patches as one line a series (patches in no series left out)."""
    by_series: Dict[int, List[models.ListedPatch]] = {}
    for p in patches:
        if p.series_id:
            by_series.setdefault(p.series_id, []).append(p)
    out = []
    for sid, members in by_series.items():
        first = members[0]
        states: Dict[str, int] = {}
        for p in members:
            states[p.state] = states.get(p.state, 0) + 1
        out.append(
            Waiting(
                key=key_of(server, sid),
                ref=str(sid),
                name=naming.strip_subject_prefixes(first.series_name or first.name),
                version=first.series_version,
                date=first.series_date or min(p.date for p in members),
                submitter=first.submitter_name or first.submitter_email,
                sender=first.submitter_email,
                total=0,
                received=len(members),
                page=first.series_page,
                check=worst_check(p.check for p in members),
                states=tuple(sorted(states.items())),
                msgids=tuple(p.msgid for p in members),
                state="merged" if set(states) == {"accepted"} else "",
            )
        )
    return out


def whoami(client: PatchworkClient, me: str) -> str:
    """The token's own user, as the delegate filter takes it: ``me`` itself when it is a
    username; for an address, the user of that address whose detail shows its settings,
    as only the token's own user's does (two requests)."""
    if not client.sends_token:
        raise InputError(
            f"--mine needs a token for {client.host}: it lists what is delegated to the token's user",
            "git config pwapply.token TOKEN (it is on your Patchwork profile page)",
        )
    if not me:
        raise InputError(
            f"--mine: which user of {client.host} are you?", "git config pwapply.user USERNAME (or user.email)"
        )
    if "@" not in me:
        return me
    candidates = [u for u in client.users(me) if u.email.lower() == me.lower()]
    asked = [client.submit(client.user, u.id) for u in candidates]
    for f in asked:
        u = process.result(f, what="a user")
        if u is not None and u.own:
            return str(u.id)
    raise InputError(
        f"no user of {client.host} with the address {me} is the token's",
        "say which user you are there: git config pwapply.user USERNAME",
    )
