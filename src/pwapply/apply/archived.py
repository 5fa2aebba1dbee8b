"""A series from the list's archive: a thread (thread.py picks the series out of it)
becomes the same Source as a Patchwork series; and a Patchwork series gets from the
thread what Patchwork missed: review tags it never saw, and patches it lost.

Where a patch's Link points: its page in the archive, ``<archive>/<msgid>/`` (a
linkFormat, or .b4-config's linkmask, still decides first: trailer_plan.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from .. import thread, trailers
from ..archive.client import page
from ..text import first_few
from .source import Source

if TYPE_CHECKING:
    from .. import deps
    from ..archive.client import ArchiveClient
    from ..git.repo import Repo


def pick(data: bytes, msgid: str, archive: str) -> thread.ThreadSeries:
    return thread.pick(thread.read(data), msgid, archive)


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


def from_thread(ts: thread.ThreadSeries, archive: str, project: str) -> Source:
    """The series the archive's thread holds, as a Source."""
    from ..errors import InputError

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
    return Source(
        patches=ts.patches,
        name=ts.name,
        version=ts.version,
        series_id=None,
        project=project,
        submitter=ts.submitter,
        cover_tags=lambda: cover_tags,
        patch_tags=dict(ts.patch_tags),
        web_urls={p.msgid: page(archive, p.msgid) for p in ts.patches},
        incomplete=incomplete,
        cover=ts.cover.body if ts.cover is not None else None,
        archive=archive,
        root_msgid=ts.root,
        sender=ts.sender,
        posted=ts.date,
        notes=tuple(malformed_notes(ts, archive)),
        warnings=tuple(_newer_line(ts, archive) + _nack_lines(ts)),
    )


def bases_from_archive(
    archive: "ArchiveClient",
    prereqs: "Sequence[deps.Prereq]",
    project: Optional[str],
    repo: "Repo",
    base: str,
    asked_patchwork: bool = False,
) -> Tuple[List[Source], List[str]]:
    """The series that ``prereqs`` (Based-on: lines) name, from the list's archive, in
    the order named, all threads asked at once: (those to apply, notes).  A base the base
    commit already has is set aside; one it has in part is refused, as for Patchwork's."""
    from .. import process
    from ..errors import InputError, NotFoundError
    from ..resolve import MSGID
    from .already import find
    from .chain import partly_in_base

    named = [p for p in prereqs if p.ref.kind == MSGID]
    notes = [
        f"{p.line} ({p.where}): not followed, the archive is asked by Message-ID" for p in prereqs if p not in named
    ]
    asked = {p.ref.value: archive.submit(archive.thread, p.ref.value) for p in named}
    out: List[Source] = []
    roots = set()
    for p in named:
        data = process.result(asked[p.ref.value], what="a base's thread")
        if data is None:
            raise NotFoundError(
                f"{p.line} ({p.where}) names a mail "
                + (
                    f"neither Patchwork nor the archive ({archive.server}) has"
                    if asked_patchwork
                    else f"the archive ({archive.server}) does not have"
                ),
                "check the Message-ID; or apply the series alone with --no-deps",
            )
        ts = pick(data, p.ref.value, archive.server)
        if ts.root in roots:
            continue
        roots.add(ts.root)
        src = from_thread(ts, archive.server, project or "")
        if src.incomplete:
            raise InputError(f"{p.line} ({p.where}): {src.incomplete}", "apply the series alone with --no-deps")
        have = find(repo, base, src.patches)
        if len(have) == len(src.patches):
            notes.append(f"{p.line}: v{ts.version} of {ts.name!r} is already in the base, not applied again")
        elif have:
            raise partly_in_base(f"v{ts.version} of {ts.name!r}", len(have), len(src.patches))
        else:
            out.append(src)
    return out, notes


def complete(src: Source, ts: Optional[thread.ThreadSeries], archive: str, why_not: str = "") -> Source:
    """A Patchwork series with what its thread adds: the patches Patchwork lost (the
    same version, matched by number), review tags given in replies Patchwork did not
    see (merged, never twice), Nacked-by told.  ``ts`` None: the thread could not be
    had (``why_not``): the series stays as Patchwork has it, and the user is told."""
    if ts is None:
        if not why_not:
            return src
        what = "fill the gap" if src.incomplete else "add the review tags Patchwork did not see"
        return replace(src, notes=(*src.notes, f"the archive ({archive}) could not {what}: {why_not}"))
    patches = list(src.patches)
    from_archive: List[int] = []
    incomplete = src.incomplete
    if src.incomplete and src.got is not None:
        total = src.got.series.total
        have = {p.number for p in patches if p.number is not None}
        offered = ts.by_number()
        if ts.version == src.version and all(p.number is not None for p in patches):
            for n in range(1, total + 1):
                if n not in have and n in offered:
                    patches.append(offered[n])
                    from_archive.append(n)
            patches.sort(key=lambda p: p.number or 0)
            patches = [replace(p, index=i + 1) for i, p in enumerate(patches)]
            still = [str(n) for n in range(1, total + 1) if n not in {p.number for p in patches}]
            incomplete = f"{src.incomplete}, and the archive's thread lacks {first_few(still, 10)}" if still else None
    patch_tags = _merged(src.patch_tags, ts.patch_tags)
    cover_first = src.cover_tags

    def cover_tags() -> Tuple[trailers.Trailer, ...]:
        tags = list(cover_first())
        tags += [t for t in ts.cover_tags if not any(t.same_as(o) for o in tags)]
        return tuple(tags)

    web_urls = dict(src.web_urls)
    for n in from_archive:
        p = ts.by_number()[n]
        web_urls[p.msgid] = page(archive, p.msgid)
    notes = list(src.notes) + [n for n in malformed_notes(ts, archive) if n not in src.notes]
    if from_archive:
        notes.append(
            f"patch(es) {', '.join(map(str, from_archive))} of {src.got.series.total if src.got else ts.total} "
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
        from_archive=tuple(from_archive),
        archive=archive,
        warnings=(*src.warnings, *_nack_lines(ts)),
    )


def _merged(
    a: Dict[str, Tuple[trailers.Trailer, ...]], b: Dict[str, Tuple[trailers.Trailer, ...]]
) -> Dict[str, Tuple[trailers.Trailer, ...]]:
    out = {k: list(v) for k, v in a.items()}
    for msgid, tags in b.items():
        have = out.setdefault(msgid, [])
        have.extend(t for t in tags if not any(t.same_as(o) for o in have))
    return {k: tuple(v) for k, v in out.items()}


def first_msgid(src: Source) -> Optional[str]:
    """The Message-ID whose thread holds a Patchwork series: its cover letter's, else
    its first patch's."""
    if src.got is not None and src.got.series.cover is not None:
        return src.got.series.cover.msgid
    return src.patches[0].msgid if src.patches else None
