"""Where a series comes from: a Patchwork server, the list's archive, a local mbox, or
stdin.  Either way it becomes a Source: the patches in series order, the series' name
and version, the review tags its replies carried, and where each patch's page is.

Patchwork first, when a server is known (ids, states and checks are Patchwork's); the
archive (archived.py) for a Message-ID Patchwork does not know, for the patches of a
series Patchwork lost, and for the review tags of replies Patchwork did not see.  A
Message-ID is asked of both at once: the archive's thread costs no round trip more."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Tuple

from .. import naming
from ..errors import InputError, NotFoundError, PwapplyError
from ..resolve import MBOX, MSGID, STDIN, SeriesRef
from ..ui import UI
from .options import Plan

if TYPE_CHECKING:
    from .. import mbox, trailers
    from ..archive.client import ArchiveClient
    from ..patchwork.client import Fetched, PatchworkClient


@dataclass(frozen=True)
class Source:
    """A series ready to apply, wherever it came from."""

    patches: Tuple[mbox.Patch, ...]
    name: Optional[str]
    version: int
    series_id: Optional[int]
    project: str
    submitter: str
    cover_tags: Callable[[], Tuple[trailers.Trailer, ...]]  # replies to the cover letter: may wait for them
    patch_tags: Dict[str, Tuple[trailers.Trailer, ...]]  # msgid -> tags from replies (local mbox)
    web_urls: Dict[str, str]  # msgid -> Patchwork web URL
    incomplete: Optional[str] = None  # why the series is incomplete, if it is
    notes: Tuple[str, ...] = ()  # things the user should know, not errors
    server: Optional[str] = None  # the Patchwork server it came from
    got: "Optional[Fetched]" = None  # what the server sent (None for a local mbox)
    cover: Optional[str] = None  # the cover letter's text, for a local mbox or the archive
    archive: Optional[str] = None  # the list archive it (or part of it) came from
    root_msgid: Optional[str] = None  # from the archive: its cover letter's (or first patch's) Message-ID
    sender: str = ""  # from the archive: the submitter's address
    posted: str = ""  # from the archive: when, YYYYMMDD
    from_archive: Tuple[int, ...] = ()  # numbers of the patches the archive gave a Patchwork series
    warnings: Tuple[str, ...] = ()  # told even with -q: a newer version in the thread, a Nacked-by
    # What the archive's thread adds to a Patchwork series Patchwork had whole (review tags
    # it did not see, Nacked-by): the Source completed, waited for only when the trailers
    # are written, after git am (the same answer each call).
    later: "Optional[Callable[[], Source]]" = None

    @property
    def first_subject(self) -> Optional[str]:
        return self.patches[0].subject if self.patches else None


def fetch(
    ref: SeriesRef,
    plan: Plan,
    client: "Optional[PatchworkClient]",
    ui: UI,
    read_stdin: Callable[[], bytes],
    *,
    cover_text: bool = True,
    archive: "Optional[ArchiveClient]" = None,
    open_archive: "Optional[Callable[[str], ArchiveClient]]" = None,
) -> Source:
    """The series to apply, from ``client`` (None for a local mbox or stdin, or when
    only the archive is known) and the list's ``archive``.  Its cover letter's replies
    (and, with ``cover_text``, its text) are left on their way: they arrive while git am
    runs.  ``open_archive`` makes a client of the archive a Patchwork project names, for
    the patches of a series Patchwork lost when no archive is configured."""
    if ref.kind in (MBOX, STDIN):
        return from_mbox(_read_local(ref, read_stdin), plan.project)
    from .. import process
    from ..patchwork.locate import locate

    asked = archive.submit(archive.thread, ref.value) if archive is not None and ref.kind == MSGID else None
    if client is None:  # the archive alone
        assert archive is not None and asked is not None
        ui.progress(f"Fetching from {archive.server} ...")
        _load_parsers()
        return _from_archive(archive, ref.value, process.result(asked, what="thread"), plan.project, None)
    ui.progress(f"Fetching from {client.server} ...")
    try:
        series_id, known_cover = locate(client, ref, plan.project)
    except NotFoundError:
        if asked is None or archive is None:
            raise
        where = f"project {plan.project}" if plan.project else client.host
        return _from_archive(archive, ref.value, process.result(asked, what="thread"), plan.project, where)
    got = client.fetch(series_id, known_cover=known_cover, cover_text=cover_text, meanwhile=_load_parsers)
    from ..cache import MboxCache

    MboxCache().put(client.server, series_id, got.mbox)  # for pwapply diff later
    src = from_server(got, client.server)
    if archive is None and src.incomplete and got.series.archive_url and open_archive is not None:
        archive = open_archive(got.series.archive_url)  # the project's own archive, named by Patchwork
    if archive is None or (asked is None and not src.incomplete):
        return src
    from . import archived

    msgid = ref.value if asked is not None else archived.first_msgid(src)
    if msgid is None:
        return src
    thread = asked if asked is not None else archive.submit(archive.thread, msgid)
    where = archive.server

    def completed() -> Source:
        try:
            data = process.result(thread, what="thread")
            ts = archived.pick(data, msgid, where) if data is not None else None
            why = "" if data is not None else f"it does not have <{msgid}>"
        except PwapplyError as exc:  # Patchwork's series stands: the archive only adds to it
            ts, why = None, exc.message
        return archived.complete(src, ts, where, why)

    if src.incomplete:  # the missing patches are needed before git am
        ui.progress(f"Asking the archive ({where}) for the patches Patchwork lost ...")
        return completed()
    import functools

    return replace(src, later=functools.lru_cache(maxsize=None)(completed))


def _from_archive(
    archive: "ArchiveClient", msgid: str, data: Optional[bytes], project: Optional[str], patchwork: Optional[str]
) -> Source:
    """The series of ``msgid`` in the archive's thread ``data`` (None: the archive does not
    have it).  ``patchwork`` names the Patchwork that did not know it either, if one was asked."""
    from . import archived

    if data is None:
        raise NotFoundError(
            f"<{msgid}> is not on Patchwork ({patchwork}) nor in the archive ({archive.server})"
            if patchwork
            else f"<{msgid}> is not in the archive ({archive.server})",
            "check the Message-ID, or where pwapply looks (pwapply config; --server, --project, --archive)",
        )
    return archived.from_thread(archived.pick(data, msgid, archive.server), archive.server, project or "")


def _load_parsers() -> None:
    """Import what reads and edits the series while its requests are in flight (the
    process has nothing else to do then) rather than before them, where the imports
    would share the one interpreter with loading httpx and delay the first request."""
    from .. import cache, mbox, trailers  # noqa: F401


def _read_local(ref: SeriesRef, read_stdin: Callable[[], bytes]) -> bytes:
    if ref.kind == STDIN:
        data = read_stdin()
        if not data.strip():
            raise InputError("nothing on stdin", "pipe an mbox in: pwapply - < series.mbox")
        return data
    path = os.path.expanduser(ref.value)
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise InputError(
            f"no such file: {ref.value}", "give the path of an mbox, a series id or a Message-ID"
        ) from None
    except IsADirectoryError:
        raise InputError(f"{ref.value} is a directory, not an mbox", "give the path of an mbox file") from None
    except OSError as exc:
        raise InputError(f"cannot read {ref.value}: {exc.strerror}", "check the file's permissions") from None


def https_like(url: str, server: Optional[str]) -> str:
    """ozlabs hands out http:// web URLs; use the server's own scheme for the same host."""
    if server and url.startswith("http://") and server.startswith("https://"):
        host = server.split("://", 1)[1].split("/", 1)[0]
        if url[len("http://") :].split("/", 1)[0] == host:
            return "https://" + url[len("http://") :]
    return url


def from_server(got: "Fetched", server: str) -> Source:
    from .. import mbox, trailers

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
    return Source(
        patches=parsed.patches,
        name=s.name,
        version=s.version,
        series_id=s.id,
        project=s.project,
        submitter=s.submitter_name,
        cover_tags=cover_tags,
        patch_tags={},
        web_urls={p.msgid: https_like(p.web_url, server) for p in s.patches if p.web_url},
        incomplete=incomplete,
        notes=tuple(notes),
        server=server,
        got=got,
    )


def from_mbox(data: bytes, project: Optional[str]) -> Source:
    from .. import mbox, trailers

    parsed = mbox.read(data)
    if not parsed.patches:
        raise InputError(
            "the mbox holds no patch", "give an mbox made by git format-patch or downloaded from Patchwork"
        )
    cover = parsed.cover
    cover_tags: List[trailers.Trailer] = []
    patch_tags: Dict[str, List[trailers.Trailer]] = {}
    patch_ids = {p.msgid for p in parsed.patches}
    for mail in parsed.others:  # replies carried in the mbox give their tags
        tags = trailers.tags_from_reply(mail.body)
        if cover is not None and mail.in_reply_to == cover.msgid:
            cover_tags.extend(t for t in tags if not any(t.same_as(o) for o in cover_tags))
        elif mail.in_reply_to in patch_ids:
            have = patch_tags.setdefault(mail.in_reply_to, [])
            have.extend(t for t in tags if not any(t.same_as(o) for o in have))
    first = parsed.patches[0].subject
    version = naming.version_from_subject(cover.subject if cover else first) or 1
    name = naming.strip_subject_prefixes(cover.subject) if cover else None
    numbers = [p.number for p in parsed.patches]
    total = naming.number_from_subject(first)
    incomplete = None
    if total and all(n is not None for n in numbers) and len(set(numbers)) < total[1]:
        missing = sorted(set(range(1, total[1] + 1)) - {n for n in numbers if n is not None})
        incomplete = f"the mbox is missing patch(es) {', '.join(map(str, missing[:10]))} of {total[1]}"
    submitter = ""
    if cover is not None:
        submitter = cover.headers.get("from", "").split("<")[0].strip().strip('"')
    return Source(
        patches=parsed.patches,
        name=name,
        version=version,
        series_id=None,
        project=project or "",
        submitter=submitter,
        cover_tags=lambda: tuple(cover_tags),
        patch_tags={k: tuple(v) for k, v in patch_tags.items()},
        web_urls={},
        incomplete=incomplete,
        cover=cover.body if cover is not None else None,
    )


def pick(patches: Sequence[mbox.Patch], spec: Optional[str]) -> List[mbox.Patch]:
    """The patches --patches names (all without it)."""
    from .. import mbox

    if not spec:
        return list(patches)
    return [patches[i - 1] for i in mbox.parse_range(spec, len(patches))]
