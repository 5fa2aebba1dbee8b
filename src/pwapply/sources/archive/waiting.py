"""What waits for review in the list's archive: the series posted since a day (two weeks
ago unless --since says), newest first, as the thread picker sees them (thread.py), with
the review tags their replies gave.  One request: a search of the mails with PATCH in
their subject since that day, each with its whole thread (``s:PATCH d:YYYYMMDD..``,
``t=1``), so that the replies come with the patches.  The archive has no states, no
delegates and no CI checks: a series posted is a series waiting.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Dict, List, Sequence, Set

from ... import mbox, thread
from ...errors import InputError, PwapplyError
from ...trailers import Trailer
from ..waiting import Listing, Query, Waiting, cut, fold, readiness
from .client import ArchiveClient, page
from .series import key_of

WINDOW_DAYS = 14  # what "waiting" means in an archive: posted in the last two weeks


def today() -> date:
    """The clock the default window counts from (tests set it)."""
    return datetime.now(timezone.utc).date()


def waiting(client: ArchiveClient, query: Query) -> Listing:
    if not query.default_states or query.mine:
        what = "delegates" if query.mine else "patch states"
        raise InputError(
            f"the list's archive has no {what}: --state, --all and --mine ask Patchwork",
            "give the Patchwork server (--server, or git config pwapply.server)",
        )
    since = query.since or (today() - timedelta(days=WINDOW_DAYS)).isoformat()
    words = [f"s:PATCH d:{since.replace('-', '')}.."]
    if query.submitter:
        words.append(f"f:{query.submitter}")
    words += [f"s:{w}" for w in query.search.split()]
    mails = thread.read(client.search(" ".join(words), threads=True))
    items = [
        w
        for w in _series(mails, client.server)
        if w.date[:10] >= since
        and (not query.submitter or query.submitter.lower() in f"{w.submitter} {w.sender}".lower())
        and query.search.lower() in w.name.lower()
    ]
    shown, more = cut(fold(items), query.limit)
    return Listing(items=shown, more=more)


def _series(mails: Sequence[mbox.Mail], archive: str) -> List[Waiting]:
    """Every series posted in ``mails`` (whole threads), once each."""
    out: List[Waiting] = []
    for members in _threads(mails).values():
        roots: Set[str] = set()
        for m in members:
            if not (thread.is_patch(m) or thread.is_cover(m)):
                continue
            try:
                ts = thread.pick(members, m.msgid, archive)
            except PwapplyError:
                continue  # a cover letter whose patches are not in the thread, say
            if ts.root in roots or not ts.patches:
                continue
            roots.add(ts.root)
            root = next((x for x in members if x.msgid == ts.root), m)
            msgids = tuple(p.msgid for p in ts.patches)
            tags = {p.msgid: [*ts.patch_tags.get(p.msgid, ()), *ts.cover_tags] for p in ts.patches}
            nacks: Dict[str, List[Trailer]] = {}
            for about, nack in ts.nacks:
                for p in msgids if ts.cover is not None and about == ts.cover.msgid else (about,):
                    nacks.setdefault(p, []).append(nack)
            out.append(
                Waiting(
                    key=key_of(archive, ts.root),
                    ref=ts.root,
                    name=ts.name,
                    version=ts.version,
                    date=_iso(root),
                    submitter=ts.submitter,
                    sender=ts.sender,
                    total=ts.total,
                    received=len(ts.patches),
                    page=page(archive, ts.root),
                    readiness=readiness(tags, nacks, msgids),
                    msgids=msgids,
                )
            )
    return out


def _threads(mails: Sequence[mbox.Mail]) -> Dict[str, List[mbox.Mail]]:
    """The mails by thread: the Message-ID at the top of each one's chain of replies (a
    mail the archive lacks, when the chain leads to one: its answers are one thread)."""
    by_id = {m.msgid: m for m in mails if m.msgid}

    def top(msgid: str) -> str:
        seen = {msgid}
        while True:
            up = thread.parent(by_id[msgid])
            if not up or up in seen:
                return msgid
            if up not in by_id:
                return up
            seen.add(up)
            msgid = up

    out: Dict[str, List[mbox.Mail]] = {}
    for m in by_id.values():
        out.setdefault(top(m.msgid), []).append(m)
    return out


def _iso(mail: mbox.Mail) -> str:
    """A mail's Date in UTC, ISO (YYYY-MM-DDTHH:MM:SS); "" when it cannot be read."""
    when = thread.sent(mail)
    return when.strftime("%Y-%m-%dT%H:%M:%S") if when else ""
