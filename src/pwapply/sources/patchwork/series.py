"""Patchwork's answers in the sources' one shape (sources/model.py): a series as the
apply needs it, and what Patchwork says a series is.  Pure: no I/O (the cover letter's
replies and text are waited for through the Fetched they came with)."""

from __future__ import annotations

from typing import List, Optional, Tuple

from ... import deps, mbox, trailers
from ...errors import InputError
from ...resolve import SERIES, SeriesRef
from ..model import PATCHWORK, Key, Known, Series, Summary
from . import models
from .client import Fetched


def key_of(server: str, series_id: int) -> Key:
    return Key(PATCHWORK, server.rstrip("/"), str(series_id))


def https_like(url: str, server: Optional[str]) -> str:
    """ozlabs hands out http:// web URLs; use the server's own scheme for the same host."""
    if server and url.startswith("http://") and server.startswith("https://"):
        host = server.split("://", 1)[1].split("/", 1)[0]
        if url[len("http://") :].split("/", 1)[0] == host:
            return "https://" + url[len("http://") :]
    return url


def summary(s: models.Series, server: str) -> Summary:
    """What the server says series ``s`` is."""
    return Summary(
        key=key_of(server, s.id),
        name=s.name or "",
        version=s.version,
        label=f"series {s.id} v{s.version}",
        ref=str(s.id),
        short=f"series {s.id}",
        held=f"on {server.split('://', 1)[-1]}",
        page=https_like(s.web_url, server),
        total=s.total,
        received=s.received_total,
        date=s.date,
        submitter=s.submitter_name,
        sender=s.submitter_email,
        titles=tuple(p.name for p in s.patches),
        first_msgid=s.cover.msgid if s.cover is not None else (s.patches[0].msgid if s.patches else ""),
    )


def dependencies(s: models.Series) -> deps.Found:
    """The bases Patchwork 3.3 parsed for series ``s`` (its ``dependencies`` field)."""
    return deps.Found(
        tuple(
            deps.Prereq(SeriesRef(SERIES, str(d)), f"dependencies: series {d}", f"the server's record of series {s.id}")
            for d in s.dependencies
        ),
        (),
    )


def prerequisites(got: Fetched, server: Optional[str], cover_text: Optional[str]) -> deps.Found:
    """What a fetched series names: in its patches, its server's dependencies field and
    (when its text is given) its cover letter."""
    s = got.series
    found = [deps.find(cover_text or "", f"the cover letter of series {s.id}", server)]
    patches = mbox.read(got.mbox, reorder=False).patches
    for p in patches:
        found.append(deps.find(_text(p.raw), f"patch {p.index}/{len(patches)} of series {s.id}", server))
    found.append(dependencies(s))
    return deps.merge(found)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def from_server(got: Fetched, server: str) -> Series:
    """The series ``got`` as the apply needs it."""
    s = got.series
    parsed = mbox.read(got.mbox, reorder=False)  # the server's order is the series order
    if not parsed.patches:
        raise InputError(
            f"series {s.id} has no patch that git am could apply (a pull request, or only a cover letter?)",
            "look at the series on the web: " + (https_like(s.web_url, server) or f"series {s.id}"),
        )

    def cover_tags() -> Tuple[trailers.Trailer, ...]:
        tags: List[trailers.Trailer] = []
        for body in got.cover_comments():
            tags += [t for t in trailers.tags_from_reply(body) if not any(t.same_as(o) for o in tags)]
        return tuple(tags)

    incomplete = None
    if not s.received_all:
        incomplete = f"series {s.id} is incomplete: {s.received_total} of {s.total} patches reached the server"
    notes = []
    if len(parsed.patches) != len(s.patches):
        notes.append(
            f"the server lists {len(s.patches)} patches in series {s.id} but its mbox has "
            f"{len(parsed.patches)} with a diff; only those were applied"
        )
    key = key_of(server, s.id)
    return Series(
        key=key,
        label=f"series {s.id} v{s.version}",
        patches=parsed.patches,
        name=s.name,
        version=s.version,
        project=s.project,
        submitter=s.submitter_name,
        cover_tags=cover_tags,
        patch_tags={},
        web_urls={p.msgid: https_like(p.web_url, server) for p in s.patches if p.web_url},
        cover_text=got.cover_text,
        whose=f"series {s.id}",
        ident=str(s.id),
        named=dependencies(s),
        cover_known=s.cover is None,
        total=s.total,
        cover_msgid=s.cover.msgid if s.cover is not None else None,
        incomplete=incomplete,
        notes=tuple(notes),
        known=Known(key, s.version, s.name or "", s.submitter_email, label=f"series {s.id} v{s.version}"),
        archive_url=s.archive_url,
        title=f"series {s.id} v{s.version}" + (f" ({s.name})" if s.name else ""),
        plan=f"{s.id} v{s.version}",
    )
