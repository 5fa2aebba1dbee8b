"""What to ask a server for what the user named: a SeriesRef (resolve.py) becomes a
series id, at the cost of one request at most."""

from __future__ import annotations

import re
from typing import Optional, Tuple

from ...errors import InputError
from ...resolve import COVER_ID, MSGID, PATCH_ID, SERIES, SeriesRef
from .client import PatchworkClient


def locate(client: PatchworkClient, ref: SeriesRef, project: Optional[str]) -> Tuple[int, Optional[int]]:
    """(series id, cover letter id when already known) for what the user named."""
    if ref.kind == SERIES:
        return int(ref.value), None
    if ref.kind == PATCH_ID:
        return client.series_of_patch(int(ref.value)), None
    if ref.kind == COVER_ID:
        return client.series_of_patch(int(ref.value), cover=True), int(ref.value)
    if ref.kind == MSGID:
        cover_first = ref.cover_hint if ref.cover_hint is not None else looks_like_cover(ref.value)
        return client.series_of_msgid(ref.value, project, cover_first)
    raise InputError(f"{ref.value} is not on a Patchwork server", "give a series id, Message-ID or URL")


def looks_like_cover(msgid: str) -> bool:
    """Guess whether a Message-ID is a cover letter's, to ask the likelier endpoint first
    and save a request: git format-patch names covers ``cover.*``; git send-email numbers
    a thread's mails -1-, -2-, ... (with a cover letter, -1- is it); b4 numbers it -0-."""
    return msgid.startswith("cover.") or re.search(r"[.-][01]-", msgid) is not None
