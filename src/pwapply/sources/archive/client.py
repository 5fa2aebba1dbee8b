"""ArchiveClient: what pwapply asks a public-inbox archive.  One request a thread:
``<archive>/<msgid>/t.mbox.gz`` is the whole thread of a message (every version posted
in it, every reply), gzipped.  On the one HTTP transport (one deadline for all of a
run's requests to it, redirects on its own origin only, a size limit while it streams),
with no credentials: an archive is public.
"""

from __future__ import annotations

import zlib
from typing import Optional
from urllib.parse import quote, quote_plus

from ...errors import NetworkError
from ...net.transport import Service, Transport, size


def page(archive: str, msgid: str) -> str:
    """A message's page in the archive: ``<archive>/<msgid>/`` (``/`` in it encoded)."""
    return f"{archive}/{quote(msgid, safe=_MSGID_SAFE)}/"


_MSGID_SAFE = "@!$&*+=~,;:"


ARCHIVE = Service(
    "the archive", "check the archive's URL (pwapply config), or go without it (--archive none)", "--archive"
)


class ArchiveClient(Transport):
    """An inbox's base URL (``https://lore.kernel.org/qemu-devel``)."""

    SERVICE = ARCHIVE
    ACCEPT = "application/gzip, application/mbox, */*"

    def thread(self, msgid: str) -> Optional[bytes]:
        """The mbox of the thread ``msgid`` is in; None when the archive does not have it."""
        what = f"the thread of <{msgid}>"
        status, headers, body = self.get(f"{page(self.server, msgid)}t.mbox.gz", what=what, stream_limit=self.max_size)
        if status == 404 or status == 410:
            return None
        self.check_status(status, what)
        return self._mbox(body, headers.get("content-type", ""), what)

    def search(self, query: str, *, threads: bool = False) -> bytes:
        """The mails matching ``query`` (public-inbox's search: ``f:`` sender, ``s:``
        subject, ``d:YYYYMMDD..`` dates), as an mbox; empty when nothing matches.  With
        ``threads``, the whole thread of each (each thread once).  The mbox comes only by
        POST (a GET answers the HTML form)."""
        what = f"the archive's search for {query}"
        status, headers, body = self.request(
            "POST",
            f"{self.server}/?q={quote_plus(query)}&x=m" + ("&t=1" if threads else ""),
            what,
            self.max_size,
            b"",
            "application/x-www-form-urlencoded",
        )
        if status == 404:  # "No results found"
            return b""
        self.check_status(status, what)
        return self._mbox(body, headers.get("content-type", ""), what)

    def _mbox(self, body: bytes, content_type: str, what: str) -> bytes:
        if body[:2] == b"\x1f\x8b":
            return self._gunzip(body, what)
        start = body.lstrip()[:200].lower()
        if start.startswith((b"<!doctype", b"<html", b"<?xml")) or "html" in content_type:
            raise NetworkError(
                f"{self.host} sent a web page instead of {what}{self.which}",
                f"is {self.server} a public-inbox archive (an inbox's base URL, as https://lore.kernel.org/qemu-devel)?",
            )
        if body.startswith(b"From "):  # already inflated on the way (Content-Encoding)
            return body
        raise NetworkError(
            f"{self.host} sent something that is neither an mbox nor gzip for {what}{self.which}",
            "check the archive URL (pwapply config); -v shows the request",
        )

    def _gunzip(self, body: bytes, what: str) -> bytes:
        inflate = zlib.decompressobj(wbits=31)
        try:
            data = inflate.decompress(body, self.max_size + 1)
        except zlib.error as exc:
            raise NetworkError(
                f"{what} from {self.host} is corrupt ({exc}){self.which}", "try again; -v shows the request"
            ) from None
        if len(data) > self.max_size:
            raise NetworkError(
                f"{what} is over the {size(self.max_size)} limit once inflated",
                "raise the limit with --max-mbox-size MIB if this is expected",
            )
        if not inflate.eof:
            raise NetworkError(
                f"{what} from {self.host} is cut short (the gzip stream ends early){self.which}",
                "try again; -v shows the request",
            )
        return data
