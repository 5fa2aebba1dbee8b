"""A series from the list's archive: a thread (thread.py picks the series out of it)
becomes a Series as any source's does; and a series another source had gets from the
thread what that source missed: review tags it never saw, and patches it lost.  Pure:
no I/O.

Where a patch's Link points: its page in the archive, ``<archive>/<msgid>/`` (a
linkFormat, or .b4-config's linkmask, still decides first: trailer_plan.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Dict, List, Mapping, Optional, Tuple

from ... import thread, trailers
from ...errors import InputError
from ...text import first_few
from ..model import ARCHIVE, Key, Known, Series, Summary
from .client import page


def key_of(archive: str, root: str) -> Key:
    return Key(ARCHIVE, archive.rstrip("/"), root)


def pick(data: bytes, msgid: str, archive: str) -> thread.ThreadSeries:
    return thread.pick(thread.read(data), msgid, archive)


def summary(name: str, version: int, total: int, archive: str, msgid: str, sender: str, date: str = "") -> Summary:
    """A series of the archive as the sources tell one: its page is its name."""
    url = page(archive, msgid)
    return Summary(
        key=key_of(archive, msgid),
        name=name,
        version=version,
        label=f"{name} v{version}" if name else f"v{version} ({url})",
        ref=url,
        short=url,
        held="in the archive",
        page=url,
        total=total,
        date=date,
        sender=sender,
        first_msgid=msgid,
    )


def _nack_lines(ts: thread.ThreadSeries) -> List[str]:
    number = {p.msgid: p.number for p in ts.patches}
    out = []
    for about, nack in ts.nacks:
        what = f"patch {number[about]}/{ts.total}" if about in number else "the series (its cover letter)"
        out.append(f"{nack.key}: {nack.value} on {what}, in the thread")
    return out


def malformed_notes(ts: thread.ThreadSeries, archive: str) -> List[str]:
    """A note for each tag line of a reply that names no valid address: left out."""
    return [
        f"left out {line!r} of {sender} ({page(archive, msgid)}): not a valid address"
        for msgid, sender, line in ts.malformed
    ]


def _newer_line(ts: thread.ThreadSeries, archive: str) -> List[str]:
    if ts.newer is None:
        return []
    version, msgid = ts.newer
    return [
        f"a newer version (v{version}) is in the thread: {page(archive, msgid)}; applied is v{ts.version}, as named"
    ]


def from_thread(ts: thread.ThreadSeries, archive: str, project: str) -> Series:
    """The series the archive's thread holds, ready to apply."""
    if not ts.patches:
        raise InputError(
            f"the thread holds no patch of v{ts.version} of {ts.name!r}",
            f"look at the thread: {page(archive, ts.root)}",
        )
    incomplete = None
    if ts.missing:
        incomplete = (
            f"the archive's thread is missing patch(es) {first_few([str(n) for n in ts.missing], 10)} "
            f"of {ts.total} of v{ts.version}"
        )
    cover_tags = ts.cover_tags
    cover = ts.cover.body if ts.cover is not None else ""
    key = key_of(archive, ts.root)
    return Series(
        key=key,
        label=f"v{ts.version} from {archive}",
        title=f"v{ts.version} of {ts.name!r}",
        plan=f"v{ts.version} from the archive",
        patches=ts.patches,
        name=ts.name,
        version=ts.version,
        project=project,
        submitter=ts.submitter,
        cover_tags=lambda: cover_tags,
        patch_tags=dict(ts.patch_tags),
        web_urls={p.msgid: page(archive, p.msgid) for p in ts.patches},
        cover_text=lambda: cover,
        whose="the series",
        total=ts.total,
        cover_msgid=ts.cover.msgid if ts.cover is not None else None,
        incomplete=incomplete,
        notes=tuple(malformed_notes(ts, archive)),
        warnings=tuple(_newer_line(ts, archive) + _nack_lines(ts)),
        known=Known(key, ts.version, ts.name, ts.sender, ts.date, f"v{ts.version} from the archive"),
        archive=archive,
    )


def complete(src: Series, ts: Optional[thread.ThreadSeries], archive: str, why_not: str = "") -> Series:
    """A series another source had, with what its thread adds: the patches that source
    lost (the same version, matched by number), review tags given in replies it did not
    see (merged, never twice), Nacked-by told.  ``ts`` None: the thread could not be had
    (``why_not``): the series stays as it was, and the user is told."""
    if ts is None:
        if not why_not:
            return src
        what = "fill the gap" if src.incomplete else "add the review tags Patchwork did not see"
        return replace(src, notes=(*src.notes, f"the archive ({archive}) could not {what}: {why_not}"))
    patches = list(src.patches)
    filled: List[int] = []
    incomplete = src.incomplete
    if src.incomplete and src.total:
        have = {p.number for p in patches if p.number is not None}
        offered = ts.by_number()
        if ts.version == src.version and all(p.number is not None for p in patches):
            for n in range(1, src.total + 1):
                if n not in have and n in offered:
                    patches.append(offered[n])
                    filled.append(n)
            patches.sort(key=lambda p: p.number or 0)
            patches = [replace(p, index=i + 1) for i, p in enumerate(patches)]
            still = [str(n) for n in range(1, src.total + 1) if n not in {p.number for p in patches}]
            incomplete = f"{src.incomplete}, and the archive's thread lacks {first_few(still, 10)}" if still else None
    patch_tags = _merged(src.patch_tags, ts.patch_tags)
    cover_first = src.cover_tags

    def cover_tags() -> Tuple[trailers.Trailer, ...]:
        tags = list(cover_first())
        tags += [t for t in ts.cover_tags if not any(t.same_as(o) for o in tags)]
        return tuple(tags)

    web_urls = dict(src.web_urls)
    for n in filled:
        p = ts.by_number()[n]
        web_urls[p.msgid] = page(archive, p.msgid)
    notes = list(src.notes) + [n for n in malformed_notes(ts, archive) if n not in src.notes]
    if filled:
        notes.append(
            f"patch(es) {', '.join(map(str, filled))} of {src.total or ts.total} "
            f"came from the archive ({archive}): Patchwork lost them"
        )
    return replace(
        src,
        patches=tuple(patches),
        patch_tags=patch_tags,
        cover_tags=cover_tags,
        web_urls=web_urls,
        incomplete=incomplete,
        notes=tuple(notes),
        filled=tuple(filled),
        archive=archive,
        warnings=(*src.warnings, *_nack_lines(ts)),
    )


def _merged(
    a: Mapping[str, Tuple[trailers.Trailer, ...]], b: Mapping[str, Tuple[trailers.Trailer, ...]]
) -> Dict[str, Tuple[trailers.Trailer, ...]]:
    out = {k: list(v) for k, v in a.items()}
    for msgid, tags in b.items():
        have = out.setdefault(msgid, [])
        have.extend(t for t in tags if not any(t.same_as(o) for o in have))
    return {k: tuple(v) for k, v in out.items()}


def first_msgid(src: Series) -> Optional[str]:
    """The Message-ID whose thread holds a series: its cover letter's, else its first
    patch's."""
    if src.cover_msgid is not None:
        return src.cover_msgid
    return src.patches[0].msgid if src.patches else None
