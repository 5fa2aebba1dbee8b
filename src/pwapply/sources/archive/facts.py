"""What the list's archive says now about series taken from it, for `pwapply check`,
`status` and `update`, in the sources' one shape (Facts): review tags and Nacked-by
given in the thread, and the newest version.

Each series costs its thread (one request, ``<archive>/<root>/t.mbox.gz``) and, for its
later versions, one search per sender (``f:<sender> s:PATCH d:<posted>..``, an mbox of
what they posted since), all at once.  A later version is one the same sender posted
with a higher version number and the same name once ``[PATCH vN m/n]`` is gone, or,
after a rename, with at least half of the patch subjects the same; a v2 posted in reply
to v1 is in the thread already.
"""

from __future__ import annotations

from concurrent.futures import Future
from email.utils import parseaddr, parsedate_to_datetime
from typing import Dict, List, Optional, Sequence, Set, Tuple

from ... import mbox, naming, process, thread
from ...errors import NotFoundError
from ...frozen import frozen
from ..model import Facts, Key, Known, Summary
from .client import ArchiveClient
from .series import summary


def gather(client: ArchiveClient, series: Sequence[Known], newer: bool = True) -> Dict[Key, Facts]:
    """The facts of each series (its key's Message-ID may be any of its mails'; a
    version 0 is the one its thread names), asked all at once."""
    threads = {k.key.what: client.submit(client.thread, k.key.what) for k in series}
    # One search a sender, from the earliest of their series on ("" when one has no date).
    since: Dict[str, str] = {}
    for k in series:
        if k.sender:
            since[k.sender] = min(since.get(k.sender, k.posted), k.posted) if k.posted else ""
    searches: Dict[str, "Future[bytes]"] = {}
    if newer:
        for sender, day in since.items():
            searches[sender] = client.submit(client.search, f"f:{sender} s:PATCH" + (f" d:{day}.." if day else ""))
    posted: Dict[str, List[mbox.Mail]] = {}
    for sender, asked in searches.items():
        posted[sender] = thread.read(process.result(asked, what="the archive's search"))
    out: Dict[Key, Facts] = {}
    for k in series:
        data = process.result(threads[k.key.what], what="thread")
        if data is None:
            continue  # gone from the archive: nothing to say of it
        mails = thread.read(data)
        ts = thread.pick(mails, k.key.what, client.server)
        out[k.key] = _facts(ts, client.server, k, k.version or ts.version, posted.get(k.sender, []), mails)
    return out


def _facts(
    ts: thread.ThreadSeries,
    archive: str,
    applied: Known,
    version: int,
    posted: Sequence[mbox.Mail],
    mails: Sequence[mbox.Mail],
) -> Facts:
    facts = Facts(series=summary(ts.name, ts.version, ts.total, archive, ts.root, ts.sender))
    for p in ts.patches:
        tags = list(ts.patch_tags.get(p.msgid, ()))
        tags += [t for t in ts.cover_tags if not any(t.same_as(o) for o in tags)]
        facts.tags[p.msgid] = tags
        facts.nacks[p.msgid] = [
            n for about, n in ts.nacks if about == p.msgid or (ts.cover and about == ts.cover.msgid)
        ]
    later = _later_versions(ts, applied, [*mails, *posted])
    if later is not None:
        v, msgid, name = later
        if v > version:
            facts.newer = summary(name, v, 0, archive, msgid, ts.sender)
    return facts


def _later_versions(
    ts: thread.ThreadSeries, applied: Known, mails: Sequence[mbox.Mail]
) -> Optional[Tuple[int, str, str]]:
    """(version, Message-ID of its first mail, name) of the newest version among ``mails``
    (the thread, and what the sender posted since)."""
    later = [v for v in versions_among(ts, applied.name, applied.sender, mails) if v.version > ts.version]
    if not later:
        return None
    top = max(later, key=lambda v: v.version)
    return top.version, top.msgid, top.name


@frozen
class Version:
    """A version of a series as the archive has it: its first mail (the cover letter, or
    patch 1/n), its name, when it was posted and how many patches it announced."""

    version: int
    msgid: str
    name: str
    date: str
    total: int


def versions_among(ts: thread.ThreadSeries, name: str, sender: str, mails: Sequence[mbox.Mail]) -> List[Version]:
    """The other versions of ``ts`` among ``mails``: posted by the same ``sender``, with
    the same name once the [PATCH vN m/n] prefixes are gone, or, after a rename, with at
    least half of the patch subjects the same.  Of each version, its newest posting."""
    ours_name = _norm(name or ts.name)
    ours_titles = {_norm(p.title) for p in ts.patches}
    by_version: Dict[int, List[mbox.Mail]] = {}
    sender = (sender or ts.sender).lower()
    seen: Set[str] = set()
    for m in mails:
        if m.msgid in seen or not (thread.is_patch(m) or thread.is_cover(m)):
            continue
        seen.add(m.msgid)
        if parseaddr(m.headers.get("from", ""))[1].lower() != sender:
            continue
        v = thread.version_of(m)
        if v != ts.version:
            by_version.setdefault(v, []).append(m)
    out = []
    for v in sorted(by_version):
        group = by_version[v]
        names = {_norm(naming.strip_subject_prefixes(m.subject)) for m in group if thread.is_cover(m)}
        titles = {_norm(naming.strip_subject_prefixes(m.subject)) for m in group if thread.is_patch(m)}
        single = len(ts.patches) == 1 and ours_name in titles
        if ours_name in names or single or (ours_titles and len(ours_titles & titles) * 2 >= len(ours_titles)):
            first = min(group, key=lambda m: (not thread.is_cover(m), naming.number_from_subject(m.subject) or (1, 1)))
            total = (naming.number_from_subject(first.subject) or (1, 1))[1]
            day = _iso(first.headers.get("date", ""))
            out.append(Version(v, first.msgid, naming.strip_subject_prefixes(first.subject), day, total))
    return out


def listing(client: ArchiveClient, msgid: str) -> Tuple[Summary, List[Summary]]:
    """``pwapply versions`` of a series of the archive: (the one named, every version in
    order), from its thread and its sender's posts (one search), asked at once."""
    data = client.thread(msgid)
    if data is None:
        raise NotFoundError(f"<{msgid}> is not in the archive ({client.server})", "check the Message-ID")
    mails = thread.read(data)
    ts = thread.pick(mails, msgid, client.server)
    posted = thread.read(client.search(f"f:{ts.sender} s:PATCH")) if ts.sender else []
    root = next((m for m in mails if m.msgid == ts.root), None)
    day = _iso(root.headers.get("date", "")) if root is not None else ""
    current = summary(ts.name, ts.version, ts.total, client.server, ts.root, ts.sender, day)
    others = [
        summary(v.name, v.version, v.total, client.server, v.msgid, ts.sender, v.date)
        for v in versions_among(ts, ts.name, ts.sender, [*mails, *posted])
    ]
    return current, sorted([current, *others], key=lambda s: s.version)


def _iso(date: str) -> str:
    """A mail's Date as YYYY-MM-DD ("" when it cannot be read)."""
    try:
        return parsedate_to_datetime(date).date().isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""


def _norm(text: str) -> str:
    return " ".join(text.lower().split())
