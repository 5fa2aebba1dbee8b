"""What Patchwork says, as typed values: the server's JSON is turned into these frozen
dataclasses here, where it enters; nothing past this package sees a dict from the
server.  Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Any, List, Optional, Tuple

from ...errors import NetworkError, NotFoundError
from ...frozen import frozen


@frozen
class MailRef:
    """A patch or a cover letter as a series lists it."""

    id: int
    msgid: str  # without <>
    name: str
    web_url: str


@frozen
class Series:
    id: int
    name: Optional[str]
    version: int
    total: int
    received_total: int
    received_all: bool
    project: str  # link name
    submitter_name: str
    submitter_email: str
    submitter_id: Optional[int]
    web_url: str
    date: str
    cover: Optional[MailRef]
    patches: Tuple[MailRef, ...]
    # The series its mails say it depends on, as the server parsed them (Depends-on:,
    # one level): API 1.4 (Patchwork 3.3) and projects that show them; else empty.
    dependencies: Tuple[int, ...] = ()
    # The project's list archive, when its maintainers set one (list_archive_url).
    archive_url: str = ""


@frozen
class PatchState:
    id: int
    msgid: str
    state: str
    check: str
    web_url: str


def strip_brackets(msgid: str) -> str:
    return msgid.strip().strip("<>").strip()


def text(value: Any) -> str:
    """A JSON value that should be a string; "" when it is not one."""
    return value if isinstance(value, str) else ""


def _int_or_none(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mail_ref(data: Any) -> MailRef:
    return MailRef(
        id=int(data["id"]),
        msgid=strip_brackets(text(data.get("msgid"))),
        name=text(data.get("name")),
        web_url=text(data.get("web_url")),
    )


def series(data: Any) -> Series:
    """Series JSON -> Series; NetworkError when it is not shaped like Patchwork's."""
    try:
        project = data.get("project") or {}
        submitter = data.get("submitter") or {}
        cover = data.get("cover_letter")
        patches = tuple(_mail_ref(p) for p in data.get("patches") or [])
        name = data.get("name")
        return Series(
            id=int(data["id"]),
            name=name if isinstance(name, str) else None,
            version=int(data.get("version") or 1),
            total=int(data.get("total") or len(patches)),
            received_total=int(data.get("received_total") or len(patches)),
            received_all=bool(data.get("received_all", True)),
            project=text(project.get("link_name")) if isinstance(project, dict) else "",
            submitter_name=text(submitter.get("name")) if isinstance(submitter, dict) else "",
            submitter_email=text(submitter.get("email")) if isinstance(submitter, dict) else "",
            submitter_id=_int_or_none(submitter.get("id")) if isinstance(submitter, dict) else None,
            web_url=text(data.get("web_url")),
            date=text(data.get("date")),
            cover=_mail_ref(cover) if isinstance(cover, dict) and cover.get("id") is not None else None,
            patches=patches,
            dependencies=tuple(_series_ids(data.get("dependencies"))),
            archive_url=text(project.get("list_archive_url")).rstrip("/") if isinstance(project, dict) else "",
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        raise NetworkError(
            "the series JSON is not shaped like Patchwork's: is this a Patchwork server?",
            "check the server URL (pwapply config)",
        ) from None


def _series_ids(urls: Any) -> List[int]:
    """``["https://x/api/series/17/", ...]`` -> ``[17, ...]``."""
    found = []
    for url in urls if isinstance(urls, list) else []:
        m = re.search(r"/series/(\d+)/?$", url if isinstance(url, str) else "")
        if m:
            found.append(int(m.group(1)))
    return found


def patch_state(data: Any) -> PatchState:
    """An item of /api/patches/ -> its state and the summary of its CI checks."""
    return PatchState(
        id=int(data.get("id") or 0),
        msgid=strip_brackets(text(data.get("msgid"))),
        state=text(data.get("state")),
        check=text(data.get("check")),
        web_url=text(data.get("web_url")),
    )


def first_series(data: Any, what: str) -> int:
    """The id of the series a patch or cover letter's JSON names first."""
    found = data.get("series") if isinstance(data, dict) else None
    if not isinstance(found, list) or not found or not isinstance(found[0], dict):
        raise NotFoundError(f"{what} belongs to no series", "give the series id instead")
    return int(found[0]["id"])


@frozen
class ListedPatch:
    """An item of /api/patches/ as a listing of what waits reads it: the patch, its
    state and CI check, who sent it, and the series it is in (id 0: none)."""

    id: int
    msgid: str
    name: str
    date: str
    state: str
    check: str
    submitter_name: str
    submitter_email: str
    series_id: int
    series_name: str
    series_version: int
    series_date: str
    series_page: str


def listed_patch(data: Any) -> Optional[ListedPatch]:
    """An item of /api/patches/ -> ListedPatch (None: not shaped like a patch)."""
    if not isinstance(data, dict) or _int_or_none(data.get("id")) is None:
        return None
    submitter = data["submitter"] if isinstance(data.get("submitter"), dict) else {}
    found = data.get("series")
    first = found[0] if isinstance(found, list) and found and isinstance(found[0], dict) else {}
    version = _int_or_none(first.get("version"))
    return ListedPatch(
        id=int(data["id"]),
        msgid=strip_brackets(text(data.get("msgid"))),
        name=text(data.get("name")),
        date=text(data.get("date")),
        state=text(data.get("state")),
        check=text(data.get("check")),
        submitter_name=text(submitter.get("name")),
        submitter_email=text(submitter.get("email")),
        series_id=_int_or_none(first.get("id")) or 0,
        series_name=text(first.get("name")),
        series_version=version or 1,
        series_date=text(first.get("date")),
        series_page=text(first.get("web_url")),
    )


@frozen
class User:
    """A Patchwork user (the people who log in: maintainers, delegates)."""

    id: int
    username: str
    email: str
    own: bool  # the token's own user: its detail shows its settings (API 1.2 and later)


def user(data: Any) -> Optional[User]:
    if not isinstance(data, dict) or _int_or_none(data.get("id")) is None:
        return None
    return User(
        int(data["id"]), text(data.get("username")), text(data.get("email")), isinstance(data.get("settings"), dict)
    )
