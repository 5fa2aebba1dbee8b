"""A thread of mail, as a list archive (public-inbox) gives it, read as a series: the
patches of one version in n/m order with their cover letter, and what the replies said.
Pure: no I/O.

A maintainer picks a series out of a thread so, and so does ``pick``:

- the mail named, or the patch or cover letter it answers (a reply names its series);
- the patches of *that* version only: a v2 posted in reply to v1 shares the thread, and
  two versions are never mixed; of a patch sent twice within a version, the newest;
- the patches of the version that descend from its cover letter (or, without one, from
  its first patch), so that two postings of the same version in one thread stay apart;
- a reply gives its review tags to the patch it (or the reply it answers) is about;
  replies to the cover letter give theirs to every patch; quoted lines never count, an
  indented one does (a mail client's plain-text part of an HTML mail); a tag with no
  valid address is told, never taken; a Nacked-by is kept apart, to be told, never added;
- a mail that answers the cover letter of its own version is a reply, whatever its
  subject: a reply that kept "[PATCH v2 0/2] ..." without "Re:" is no second cover;
- a newer version in the thread is named, not taken.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parseaddr, parsedate_to_datetime
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

from . import mbox, naming, trailers
from .errors import InputError, NotFoundError
from .frozen import frozen

_MBOXRD_FROM = re.compile(rb"^>(>*From )", re.M)


@frozen
class ThreadSeries:
    """One version of a series, as its thread has it."""

    patches: Tuple[mbox.Patch, ...]  # in n/m order
    cover: Optional[mbox.Mail]
    name: str
    version: int
    total: int  # m of n/m (the number of patches the series announced)
    submitter: str
    sender: str  # the submitter's address
    date: str  # the day before the series was posted (its root's Date), YYYYMMDD; "" unknown
    root: str  # the Message-ID of its cover letter, or of its first patch
    patch_tags: Dict[str, Tuple[trailers.Trailer, ...]]  # msgid -> tags from replies to it
    cover_tags: Tuple[trailers.Trailer, ...]  # from replies to the cover letter: for every patch
    nacks: Tuple[Tuple[str, trailers.Trailer], ...]  # (what it was said of, Nacked-by)
    malformed: Tuple[Tuple[str, str, str], ...]  # (reply's Message-ID, its sender, the tag line): not taken
    newer: Optional[Tuple[int, str]]  # (version, Message-ID) of the newest version in the thread
    missing: Tuple[int, ...]  # numbers of the patches the thread does not hold

    def by_number(self) -> Dict[int, mbox.Patch]:
        return {p.number: p for p in self.patches if p.number is not None}


def read(data: bytes) -> List[mbox.Mail]:
    """The mails of a thread's mbox (public-inbox writes mboxrd: ``>From `` lines are
    unquoted once, as git mailsplit --mboxrd does)."""
    out = []
    for raw in mbox.split(data):
        if raw.startswith(b"From mboxrd@"):
            raw = _MBOXRD_FROM.sub(rb"\1", raw)
        out.append(mbox.parse(raw))
    return out


def is_patch(mail: mbox.Mail) -> bool:
    """A mail that posts a patch: a diff, and not a reply (a reviewer's diff in a reply
    is a suggestion, not a patch of the series)."""
    return not _is_reply(mail) and mbox.has_patch(mail.body)


def is_cover(mail: mbox.Mail) -> bool:
    return not _is_reply(mail) and not mbox.has_patch(mail.body) and mbox.is_cover(mail)


def _is_reply(mail: mbox.Mail) -> bool:
    return re.match(r"^\s*(re|aw|sv|antw)\s*:", mail.subject, re.I) is not None


def parent(mail: mbox.Mail) -> str:
    """The Message-ID this mail answers: In-Reply-To, else the last of References."""
    if mail.in_reply_to:
        return mail.in_reply_to
    refs = re.findall(r"<([^<>\s]+)>", mail.headers.get("references", ""))
    return refs[-1] if refs else ""


def version_of(mail: mbox.Mail) -> int:
    return naming.version_from_subject(mail.subject) or 1


def _numbers(mail: mbox.Mail) -> Tuple[int, int]:
    """(n, m) of [n/m]; a patch without one is 1/1."""
    return naming.number_from_subject(mail.subject) or (1, 1)


def _title(mail: mbox.Mail) -> str:
    return " ".join(naming.strip_subject_prefixes(mail.subject).lower().split())


def sent(mail: mbox.Mail) -> Optional[datetime]:
    """When the mail says it was sent, in UTC (a Date without a zone taken as UTC); None
    when its Date cannot be read."""
    try:
        when = parsedate_to_datetime(mail.headers.get("date", ""))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def _when(mail: mbox.Mail) -> float:
    when = sent(mail)
    return when.timestamp() if when else 0.0


def _day(mail: mbox.Mail) -> str:
    """The day before the mail's date, YYYYMMDD, in UTC (a search from it misses none of
    what came after, whatever the sender's time zone)."""
    when = sent(mail)
    return (when - timedelta(days=1)).strftime("%Y%m%d") if when else ""


def pick(mails: Sequence[mbox.Mail], msgid: str, where: str) -> ThreadSeries:
    """The series ``msgid`` belongs to, out of its thread's ``mails``.  ``where`` names
    the thread in errors (the archive's URL)."""
    by_id = {m.msgid: m for m in mails if m.msgid}
    named = by_id.get(msgid)
    if named is None:
        raise NotFoundError(f"the thread from {where} does not hold <{msgid}>", "check the Message-ID")
    ancestry = _ancestry(by_id)
    answers = _cover_answers(mails, ancestry)
    anchor = next(
        (by_id[a] for a in ancestry(named.msgid) if is_patch(by_id[a]) or (is_cover(by_id[a]) and a not in answers)),
        None,
    )
    if anchor is None:
        raise InputError(
            f"the thread of <{msgid}> holds no patch (in {where})",
            "name a patch of the series or its cover letter; is it a discussion, or a pull request?",
        )
    version, total = version_of(anchor), _numbers(anchor)[1]

    def same(m: mbox.Mail) -> bool:
        return version_of(m) == version and _numbers(m)[1] == total

    covers = [m for m in mails if is_cover(m) and same(m) and m.msgid not in answers]
    root = anchor if is_cover(anchor) else None
    if root is None:  # the cover letter the patch answers, if it answers one
        root = next((by_id[a] for a in ancestry(anchor.msgid) if by_id[a] in covers), None)
    if root is None and not covers:  # no cover letter: the first patch is the root
        firsts = [m for m in mails if is_patch(m) and same(m) and _numbers(m)[0] == 1]
        root = next((by_id[a] for a in ancestry(anchor.msgid) if by_id[a] in firsts), anchor)
    candidates = [m for m in mails if is_patch(m) and same(m)]
    if root is not None:
        # Below the root; without a cover letter in the thread, the patches that answer
        # the same mail the archive lacks (a cover letter that never reached the list)
        # are siblings of the root, not below it.
        lost = None if is_cover(root) else _lost_parent(root, by_id)
        below = [
            m
            for m in candidates
            if root.msgid in ancestry(m.msgid) or (lost is not None and _lost_parent(m, by_id) == lost)
        ]
        candidates = below or candidates
    # A patch sent again within the version: the newest posting of that number with the
    # same title.  The patch named is the one meant for its number, and another patch of
    # that number with a title of its own, posted later in the thread, is another series
    # (a follow-up), not a resend.
    newest: Dict[int, mbox.Mail] = {}
    for m in candidates:
        n = _numbers(m)[0]
        if n not in newest:
            newest[n] = m
        elif newest[n] is not anchor and _when(m) >= _when(newest[n]) and _title(m) == _title(newest[n]):
            newest[n] = m
    chosen = [newest[n] for n in sorted(newest) if n >= 1]
    patches = tuple(
        mbox.Patch(
            index=i + 1,
            subject=m.subject,
            msgid=m.msgid,
            raw=m.raw,
            number=_numbers(m)[0],
            prefixed=not mbox.unprefixed(m.body),
        )
        for i, m in enumerate(chosen)
    )
    cover = root if root is not None and is_cover(root) else None
    patch_tags, cover_tags, nacks, malformed = _tags(mails, ancestry, {m.msgid for m in chosen}, cover, answers)
    later = [m for m in mails if (is_patch(m) or (is_cover(m) and m.msgid not in answers)) and version_of(m) > version]
    newer = None
    if later:
        top = max(version_of(m) for m in later)
        firsts = [m for m in later if version_of(m) == top]
        first = min(firsts, key=lambda m: (not is_cover(m), _numbers(m)[0], _when(m)))
        newer = (top, first.msgid)
    head = cover or (chosen[0] if chosen else anchor)
    name = naming.strip_subject_prefixes(head.subject)
    return ThreadSeries(
        patches=patches,
        cover=cover,
        name=name,
        version=version,
        total=total,
        submitter=parseaddr(head.headers.get("from", ""))[0] or parseaddr(head.headers.get("from", ""))[1],
        sender=parseaddr(head.headers.get("from", ""))[1].lower(),
        date=_day(root or anchor),
        root=(root or anchor).msgid,
        patch_tags=patch_tags,
        cover_tags=cover_tags,
        nacks=nacks,
        malformed=malformed,
        newer=newer,
        missing=tuple(n for n in range(1, total + 1) if n not in newest),
    )


def _lost_parent(mail: mbox.Mail, by_id: Dict[str, mbox.Mail]) -> Optional[str]:
    """The Message-ID a mail answers when the thread lacks it (the cover letter that the
    archive never got, say); None when it answers nothing or a mail of the thread."""
    up = parent(mail)
    return up if up and up not in by_id else None


def _ancestry(by_id: Dict[str, mbox.Mail]) -> Callable[[str], Tuple[str, ...]]:
    """ancestry(msgid): the mail and those it answers, nearest first, within the thread
    (a loop of In-Reply-To is cut)."""
    cache: Dict[str, Tuple[str, ...]] = {}

    def ancestry(msgid: str) -> Tuple[str, ...]:
        if msgid in cache:
            return cache[msgid]
        chain: List[str] = []
        seen = set()
        at: Optional[str] = msgid
        while at and at in by_id and at not in seen:
            seen.add(at)
            chain.append(at)
            at = parent(by_id[at])
        cache[msgid] = tuple(chain)
        return cache[msgid]

    return ancestry


def _cover_answers(mails: Sequence[mbox.Mail], ancestry: Callable[[str], Tuple[str, ...]]) -> Set[str]:
    """The mails that look like a cover letter but answer one of their own version and
    size (a reply that kept the cover's subject without "Re:"): replies.  A cover letter
    of v2 may answer v1's; none answers its own version's."""
    by_id = {m.msgid: m for m in mails if m.msgid}
    out: Set[str] = set()
    for m in mails:
        if not is_cover(m):
            continue
        key = (version_of(m), _numbers(m)[1])
        for a in ancestry(m.msgid)[1:]:
            other = by_id[a]
            if is_cover(other) and a not in out and (version_of(other), _numbers(other)[1]) == key:
                out.add(m.msgid)
                break
    return out


def _tags(
    mails: Sequence[mbox.Mail],
    ancestry: Callable[[str], Tuple[str, ...]],
    patches: Set[str],
    cover: Optional[mbox.Mail],
    answers: Set[str],
) -> Tuple[
    Dict[str, Tuple[trailers.Trailer, ...]],
    Tuple[trailers.Trailer, ...],
    Tuple[Tuple[str, trailers.Trailer], ...],
    Tuple[Tuple[str, str, str], ...],
]:
    """Each reply's tags, given to the nearest patch of the series it descends from (or
    to the cover letter); what answers another version or nothing of the series gives
    none.  Also the Nacked-by lines, and the tag lines with no valid address."""
    per_patch: Dict[str, List[trailers.Trailer]] = {}
    on_cover: List[trailers.Trailer] = []
    nacks: List[Tuple[str, trailers.Trailer]] = []
    malformed: List[Tuple[str, str, str]] = []
    for m in mails:
        if m.msgid in patches or (cover is not None and m is cover) or is_patch(m):
            continue
        if is_cover(m) and m.msgid not in answers:
            continue
        about = next((a for a in ancestry(m.msgid)[1:] if a in patches or (cover and a == cover.msgid)), None)
        if about is None:
            continue
        have = on_cover if cover is not None and about == cover.msgid else per_patch.setdefault(about, [])
        said = trailers.read_reply(m.body)
        have.extend(t for t in said.tags if not any(t.same_as(o) for o in have))
        sender = m.headers.get("from", "")
        malformed.extend((m.msgid, sender, line) for line in said.malformed)
        for nack in trailers.nacks_from_reply(m.body):
            if not any(nack.same_as(o) for _, o in nacks):
                nacks.append((about, nack))
    return {k: tuple(v) for k, v in per_patch.items() if v}, tuple(on_cover), tuple(nacks), tuple(malformed)
