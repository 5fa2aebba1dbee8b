"""What did the user mean?  Turn the SERIES argument into a SeriesRef.  Pure: no I/O.

Accepted forms:

- a series id: ``500889``
- Patchwork URLs (their host names the server): the series list page
  ``/project/<p>/list/?series=N``, the API URL ``/api[/1.3]/series/N/``, the mbox URL
  ``/series/N/mbox/``, patch and cover pages ``/project/<p>/patch/<msgid>/``,
  ``/project/<p>/cover/<msgid>/``, and numeric ``/patch/N/``, ``/cover/N/``,
  ``/api/patches/N/``, ``/api/covers/N/``
- a Message-ID, with or without ``<>`` (or ``id:``/``msgid:`` prefixed)
- lore and msgid links: ``https://lore.kernel.org/<list>/<msgid>/``,
  ``https://lore.kernel.org/r/<msgid>``, ``https://patch.msgid.link/<msgid>``
- a public-inbox archive's URL on any host: ``https://host/<inbox>/<msgid>/`` (and its
  ``T/``, ``t/``, ``t.mbox.gz``, ``raw`` pages): it names its own archive
- a local mbox file, or ``-`` for stdin
"""

from __future__ import annotations

import re
from typing import Callable, List, Optional
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import InputError
from .frozen import frozen

# Kinds of reference.
SERIES = "series"
PATCH_ID = "patch-id"
COVER_ID = "cover-id"
MSGID = "msgid"
MBOX = "mbox"
STDIN = "stdin"

# Hosts that archive mail by Message-ID but are not Patchwork servers.
_MSGID_HOSTS = {
    "lore.kernel.org",
    "patch.msgid.link",
    "msgid.link",
    "lkml.kernel.org",
}

# A Message-ID as we accept it: no whitespace, no brackets, no control characters,
# a local part and a domain.  Real ones are far tamer than RFC 5322 allows.
_MSGID_RE = re.compile(r"^[^\s<>\x00-\x1f\x7f@]+@[^\s<>\x00-\x1f\x7f@]+$")

_HINT = (
    "give a series id (500889), a Message-ID, a Patchwork or lore URL, or the path of an mbox file ('-' reads stdin)"
)


@frozen
class SeriesRef:
    """A reference to a series as the user gave it."""

    kind: str
    value: str  # series/patch/cover id, msgid (no brackets), or a path
    server: Optional[str] = None  # from a Patchwork URL: scheme://host[/prefix]
    project: Optional[str] = None  # from a Patchwork URL
    cover_hint: Optional[bool] = None  # True: the msgid names a cover letter; False: a patch
    archive: Optional[str] = None  # from an archive URL: the inbox's base, scheme://host[/path]

    @property
    def offline(self) -> bool:
        return self.kind in (MBOX, STDIN)


def normalize_msgid(text: str) -> str:
    """``<a@b>`` / ``a@b`` / ``id:a@b`` -> ``a@b``; raises InputError if it is not one."""
    value = text.strip()
    for prefix in ("id:", "msgid:", "mid:"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
            break
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if not _MSGID_RE.match(value) or len(value) > 998:
        raise InputError(f"not a Message-ID: {_clip(text)!r}", _HINT)
    return value


def is_msgid(text: str) -> bool:
    try:
        normalize_msgid(text)
    except InputError:
        return False
    return True


def resolve(text: str, *, is_file: Optional[Callable[[str], bool]] = None) -> SeriesRef:
    """Classify what the user typed.

    ``is_file`` answers whether a path names an existing file; it is passed in so this
    module stays free of I/O.  Without it, only path-shaped input counts as a file.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("no series given", _HINT)
    if any(ch in text for ch in "\x00\r\n"):
        raise InputError(f"invalid series argument: {_clip(text)!r}", _HINT)
    raw = text.strip()
    if raw == "-":
        return SeriesRef(STDIN, "-")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", raw):
        return _resolve_url(raw)
    if raw.isdigit() and raw.isascii():
        return SeriesRef(SERIES, str(int(raw)))
    if is_file is not None and is_file(raw):
        return SeriesRef(MBOX, raw)
    if is_msgid(raw):
        return SeriesRef(MSGID, normalize_msgid(raw))
    if _looks_like_path(raw):
        return SeriesRef(MBOX, raw)
    raise InputError(f"cannot tell what {_clip(raw)!r} refers to", _HINT)


def _looks_like_path(text: str) -> bool:
    return (
        "/" in text
        or text.startswith(".")
        or text.startswith("~")
        or re.search(r"\.(mbox|mbx|patch|diff|eml|txt|mail)$", text, re.I) is not None
    )


def _clip(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


_PW_ROOTS = ("project", "api", "series", "patch", "cover")


def _resolve_url(url: str) -> SeriesRef:
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        raise InputError(f"not a valid URL: {_clip(url)!r}", _HINT) from None
    if parts.scheme not in ("http", "https") or not host:
        raise InputError(f"not an http(s) URL: {_clip(url)!r}", _HINT)
    segs = [unquote(s) for s in parts.path.split("/") if s]
    if host.lower() in _MSGID_HOSTS:
        return _resolve_msgid_url(url, segs)

    # The server is everything before the first Patchwork path root, so that servers
    # mounted under a prefix (https://example.org/patchwork/project/...) work.
    root = next((i for i, s in enumerate(segs) if s in _PW_ROOTS), None)
    if root is None:
        return _resolve_archive_url(url, parts.scheme, parts.netloc, segs)
    prefix = "/".join(segs[:root])
    server = f"{parts.scheme}://{parts.netloc}" + (f"/{prefix}" if prefix else "")
    rest = segs[root:]
    query = parse_qs(parts.query)

    def bad() -> InputError:
        return InputError(f"this Patchwork URL names no series, patch or cover: {_clip(url)!r}", _HINT)

    if rest[0] == "api":
        rest = rest[1:]
        if rest and re.match(r"^\d+\.\d+$", rest[0]):
            rest = rest[1:]
        if len(rest) >= 2 and rest[1].isdigit():
            kind = {"series": SERIES, "patches": PATCH_ID, "covers": COVER_ID}.get(rest[0])
            if kind:
                return SeriesRef(kind, str(int(rest[1])), server=server)
        raise bad()

    project: Optional[str] = None
    if rest[0] == "project":
        if len(rest) < 2:
            raise bad()
        project = rest[1]
        rest = rest[2:]
        if not rest or rest[0] == "list":
            ids = query.get("series", [])
            if ids and ids[0].isdigit():
                return SeriesRef(SERIES, str(int(ids[0])), server=server, project=project)
            raise bad()

    if len(rest) >= 2 and rest[0] == "series" and rest[1].isdigit():
        return SeriesRef(SERIES, str(int(rest[1])), server=server, project=project)
    if len(rest) >= 2 and rest[0] in ("patch", "cover"):
        ident = rest[1]
        if ident.isdigit():
            kind = PATCH_ID if rest[0] == "patch" else COVER_ID
            return SeriesRef(kind, str(int(ident)), server=server, project=project)
        if is_msgid(ident):
            return SeriesRef(
                MSGID,
                normalize_msgid(ident),
                server=server,
                project=project,
                cover_hint=rest[0] == "cover",
            )
    raise bad()


def _resolve_msgid_url(url: str, segs: List[str]) -> SeriesRef:
    # lore.kernel.org/<list>/<msgid>/[T/|t.mbox.gz|raw], lore.kernel.org/r/<msgid>,
    # patch.msgid.link/<msgid>: the Message-ID is the first segment that is one.  A
    # lore URL names its inbox (/r/ and the redirectors: lore's index of them all).
    host = (urlsplit(url).hostname or "").lower()
    for i, seg in enumerate(segs):
        if is_msgid(seg):
            inbox = segs[0] if host == "lore.kernel.org" and i == 1 and segs[0] not in ("r", "all") else "all"
            return SeriesRef(MSGID, normalize_msgid(seg), archive=f"https://lore.kernel.org/{inbox}")
    raise InputError(f"this URL holds no Message-ID: {_clip(url)!r}", _HINT)


_ARCHIVE_PAGES = ("", "T", "t", "t.mbox.gz", "raw", "t.atom", "#R")


def _resolve_archive_url(url: str, scheme: str, netloc: str, segs: List[str]) -> SeriesRef:
    """``https://host[/path]/<inbox>/<msgid>/[T/|t/|t.mbox.gz|raw]``: a public-inbox
    archive's page of a message, on any host; the archive is what comes before the
    Message-ID."""
    at = next((i for i, s in enumerate(segs) if is_msgid(s)), None)
    if at is None or at == 0 or len(segs) - at > 2 or (len(segs) - at == 2 and segs[-1] not in _ARCHIVE_PAGES):
        raise InputError(f"not a Patchwork, lore or public-inbox archive URL: {_clip(url)!r}", _HINT)
    base = f"{scheme}://{netloc}/" + "/".join(segs[:at])
    return SeriesRef(MSGID, normalize_msgid(segs[at]), archive=base)


def host_of(url: str) -> str:
    """host[:port] of a URL, lowercase (the string itself when it has none)."""
    return (urlsplit(url).netloc or url).lower()
