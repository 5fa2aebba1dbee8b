"""What the list's archive says now about series taken from it, for `pwapply check`,
`status` and `update`, in the shape Patchwork's facts have (facts.py): review tags and
Nacked-by given in the thread, and the newest version.

Each series costs its thread (one request, ``<archive>/<root>/t.mbox.gz``) and, for its
later versions, one search per sender (``f:<sender> s:PATCH d:<posted>..``, an mbox of
what they posted since), all at once.  A later version is one the same sender posted
with a higher version number and the same name once ``[PATCH vN m/n]`` is gone, or,
after a rename, with at least half of the patch subjects the same; a v2 posted in reply
to v1 is in the thread already.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

from .. import naming, process, thread
from ..patchwork.models import Series, SeriesFacts
from .client import page

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .. import mbox
    from ..record import ArchiveSeries
    from .client import ArchiveClient


def gather(
    client: "ArchiveClient", series: Sequence[Tuple["ArchiveSeries", int]], newer: bool = True
) -> Dict[str, SeriesFacts]:
    """root -> the facts of each (series, version applied: 0 for the one its thread
    names), asked all at once.  A root may be any Message-ID of the series."""
    threads = {a.root: client.submit(client.thread, a.root) for a, _ in series}
    # One search a sender, from the earliest of their series on ("" when one has no date).
    since: Dict[str, str] = {}
    for a, _ in series:
        if a.sender:
            since[a.sender] = min(since.get(a.sender, a.date), a.date) if a.date else ""
    searches: Dict[str, "Future[bytes]"] = {}
    if newer:
        for sender, day in since.items():
            searches[sender] = client.submit(client.search, f"f:{sender} s:PATCH" + (f" d:{day}.." if day else ""))
    posted: Dict[str, List["mbox.Mail"]] = {}
    for sender, asked in searches.items():
        posted[sender] = thread.read(process.result(asked, what="the archive's search"))
    out: Dict[str, SeriesFacts] = {}
    for a, version in series:
        data = process.result(threads[a.root], what="thread")
        if data is None:
            continue  # gone from the archive: nothing to say of it
        mails = thread.read(data)
        ts = thread.pick(mails, a.root, client.server)
        out[a.root] = _facts(ts, client.server, a, version or ts.version, posted.get(a.sender, []), mails)
    return out


def _series(ts_name: str, version: int, total: int, web_url: str, sender: str, date: str = "") -> Series:
    """A series of the archive, in Patchwork's shape (no id: its page is its name)."""
    return Series(
        id=0,
        name=ts_name,
        version=version,
        total=total,
        received_total=total,
        received_all=True,
        project="",
        submitter_name="",
        submitter_email=sender,
        submitter_id=None,
        web_url=web_url,
        date=date,
        cover=None,
        patches=(),
    )


def _facts(
    ts: thread.ThreadSeries,
    archive: str,
    applied: "ArchiveSeries",
    version: int,
    posted: Sequence["mbox.Mail"],
    mails: Sequence["mbox.Mail"],
) -> SeriesFacts:
    facts = SeriesFacts(series=_series(ts.name, ts.version, ts.total, page(archive, ts.root), ts.sender))
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
            facts.newer = _series(name, v, 0, page(archive, msgid), ts.sender)
    return facts


def _later_versions(
    ts: thread.ThreadSeries, applied: "ArchiveSeries", mails: Sequence["mbox.Mail"]
) -> Optional[Tuple[int, str, str]]:
    """(version, Message-ID of its first mail, name) of the newest version among ``mails``
    (the thread, and what the sender posted since)."""
    later = [v for v in versions_among(ts, applied.name, applied.sender, mails) if v.version > ts.version]
    if not later:
        return None
    top = max(later, key=lambda v: v.version)
    return top.version, top.msgid, top.name


@dataclass(frozen=True)
class Version:
    """A version of a series as the archive has it: its first mail (the cover letter, or
    patch 1/n), its name, when it was posted and how many patches it announced."""

    version: int
    msgid: str
    name: str
    date: str
    total: int


def versions_among(ts: thread.ThreadSeries, name: str, sender: str, mails: Sequence["mbox.Mail"]) -> List[Version]:
    """The other versions of ``ts`` among ``mails``: posted by the same ``sender``, with
    the same name once the [PATCH vN m/n] prefixes are gone, or, after a rename, with at
    least half of the patch subjects the same.  Of each version, its newest posting."""
    ours_name = _norm(name or ts.name)
    ours_titles = {_norm(p.title) for p in ts.patches}
    by_version: Dict[int, List["mbox.Mail"]] = {}
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


def listing(client: "ArchiveClient", msgid: str) -> Tuple[Series, List[Series]]:
    """``pwapply versions`` of a series of the archive: (the one named, every version in
    order), from its thread and its sender's posts (one search), asked at once."""
    from ..errors import NotFoundError

    data = client.thread(msgid)
    if data is None:
        raise NotFoundError(f"<{msgid}> is not in the archive ({client.server})", "check the Message-ID")
    mails = thread.read(data)
    ts = thread.pick(mails, msgid, client.server)
    posted = thread.read(client.search(f"f:{ts.sender} s:PATCH")) if ts.sender else []
    root = next((m for m in mails if m.msgid == ts.root), None)
    day = _iso(root.headers.get("date", "")) if root is not None else ""
    current = _series(ts.name, ts.version, ts.total, page(client.server, ts.root), ts.sender, day)
    others = [
        _series(v.name, v.version, v.total, page(client.server, v.msgid), ts.sender, v.date)
        for v in versions_among(ts, ts.name, ts.sender, [*mails, *posted])
    ]
    return current, sorted([current, *others], key=lambda s: s.version)


def _iso(date: str) -> str:
    """A mail's Date as YYYY-MM-DD ("" when it cannot be read)."""
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(date).date().isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""


def _norm(text: str) -> str:
    return " ".join(text.lower().split())
