"""A local mbox (or stdin) as a source of a series: read, not asked.  It has no versions,
facts or bases of its own (those a local mbox names are looked up on the configured
server, or in the archive: sources/policy.py)."""

from __future__ import annotations

import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .. import deps, mbox, naming, trailers
from ..errors import InputError
from ..resolve import MBOX as MBOX_REF
from ..resolve import STDIN, SeriesRef
from ..ui import UI
from .base import unsupported
from .model import MBOX, Facts, Key, Known, Node, PatchState, Series, Summary, Want
from .waiting import Listing, Query


def read(ref: SeriesRef, read_stdin: Callable[[], bytes]) -> bytes:
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


def from_mbox(data: bytes, project: Optional[str], where: str = "-") -> Series:
    """The series of a local mbox: its patches, the tags of the replies it carries."""
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
    text = cover.body if cover is not None else ""
    given = tuple(cover_tags)
    return Series(
        key=Key(MBOX, where, ""),
        label="the mbox",
        title="the mbox",
        plan="the mbox",
        patches=parsed.patches,
        name=name,
        version=version,
        project=project or "",
        submitter=submitter,
        cover_tags=lambda: given,
        patch_tags={k: tuple(v) for k, v in patch_tags.items()},
        web_urls={},
        cover_text=lambda: text,
        whose="the mbox",
        total=total[1] if total else len(parsed.patches),
        cover_msgid=cover.msgid if cover is not None else None,
        incomplete=incomplete,
    )


class MboxSource:
    """A local mbox (``where``: its path, or ``-`` for stdin, read with ``read_stdin``)."""

    kind = MBOX

    def __init__(self, where: str, project: Optional[str], read_stdin: Optional[Callable[[], bytes]] = None) -> None:
        self.where = where
        self.project = project
        self.read_stdin = read_stdin or (lambda: b"")

    def close(self) -> None:
        pass

    def fetch(self, ref: SeriesRef, *, cover_text: bool = True, meanwhile: Callable[[], None] = lambda: None) -> Series:
        return from_mbox(read(ref, self.read_stdin), self.project, ref.value)

    def get(self, key: Key, *, fresh: bool = False) -> Series:
        return self.fetch(SeriesRef(STDIN if key.where == "-" else MBOX_REF, key.where))

    def summary(self, ref: SeriesRef) -> Summary:
        raise unsupported("summary to compare with", "a local mbox")

    def locate(self, msgids: Sequence[str]) -> Dict[str, Key]:
        return {}

    def bases(self, root: Series, found: deps.Found, ui: UI) -> Tuple[List[Node], List[str]]:
        raise unsupported("bases of its own (the server or the archive is asked)", "a local mbox")

    def newest(self, key: Key) -> Optional[Summary]:
        return None

    def facts(self, known: Sequence[Known], want: Want) -> Dict[Key, Facts]:
        return {}

    def versions(self, ref: SeriesRef) -> Tuple[Summary, List[Summary]]:
        raise InputError(
            "versions of a series are found on a Patchwork server or in the list's archive, not in an mbox",
            "give a series id, Message-ID or Patchwork URL",
        )

    def states(self, keys: Sequence[Key]) -> Dict[Key, List[PatchState]]:
        return {}

    def waiting(self, query: Query) -> Listing:
        raise unsupported("series waiting for review", "a local mbox")
