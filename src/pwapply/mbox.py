"""Split and read mboxes: the patches of a series, their subjects, Message-IDs and how
their diffs name paths.  Pure: no I/O.  Messages are kept byte for byte as they came, since
`git am` is what reads them for real."""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import quopri
import re
from email.header import decode_header, make_header
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from . import naming, trailers
from .errors import InputError
from .frozen import frozen

if TYPE_CHECKING:
    from .trailers import Trailer

_FROM_LINE_RE = re.compile(rb"^From \S+.*\d\d:\d\d")
_BASE_COMMIT_RE = re.compile(r"^base-commit:\s*([0-9a-f]{7,64})\s*$", re.M)


@frozen
class Mail:
    raw: bytes
    headers: Dict[str, str]
    body: str  # the decoded text body (best effort), for looking, never for applying

    @property
    def subject(self) -> str:
        return self.headers.get("subject", "")

    @property
    def msgid(self) -> str:
        value = self.headers.get("message-id", "").strip()
        m = re.search(r"<([^<>\s]+)>", value)
        return m.group(1) if m else value.strip("<> ")

    @property
    def in_reply_to(self) -> str:
        m = re.search(r"<([^<>\s]+)>", self.headers.get("in-reply-to", ""))
        return m.group(1) if m else ""


@frozen
class Patch:
    """One patch of a series, as it will be given to `git am`."""

    index: int  # 1-based position in the series mbox
    subject: str
    msgid: str
    raw: bytes
    number: Optional[int] = None  # n of [n/m], when the subject has it
    prefixed: bool = True  # False: its diffs were made without a/ b/ (diff.noprefix)

    @property
    def title(self) -> str:
        return naming.strip_subject_prefixes(self.subject)


def split(data: bytes) -> List[bytes]:
    """Split an mbox into messages.  A file without From_ lines is one message."""
    data = data.replace(b"\r\n", b"\n") if b"\r\n" in data[:4096] and _mostly_crlf(data) else data
    lines = data.splitlines(keepends=True)
    starts = []
    prev_blank = True
    for i, line in enumerate(lines):
        if prev_blank and line.startswith(b"From ") and _FROM_LINE_RE.match(line):
            starts.append(i)
        prev_blank = not line.strip()
    if not starts:
        return [data] if data.strip() else []
    if any(line.strip() for line in lines[: starts[0]]):
        starts.insert(0, 0)
    out = []
    for a, b in zip(starts, starts[1:] + [len(lines)]):
        msg = b"".join(lines[a:b])
        if msg.strip():
            out.append(msg)
    return out


def _mostly_crlf(data: bytes) -> bool:
    return data.count(b"\r\n") * 2 >= data.count(b"\n")


def _decode_header_value(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    text = re.sub(r"\r?\n[ \t]+", " ", text).strip()
    if "=?" in text:
        try:
            words = decode_header(text)
            # A charset no codec knows (unknown-8bit): read its bytes for what they are.
            words = [
                (w, c if c is None or isinstance(w, str) or _known(c.encode()) else _charset_of(w).decode())
                for w, c in words
            ]
            text = str(make_header(words))
        except Exception:  # malformed encoded-words: keep the raw text
            pass
    return text


def parse(raw: bytes) -> Mail:
    sep = re.search(rb"\r?\n\r?\n", raw)
    head = raw[: sep.start()] if sep else raw
    body_raw = raw[sep.end() :] if sep else b""
    headers: Dict[str, str] = {}
    current: Optional[str] = None
    chunks: Dict[str, bytes] = {}
    for line in head.splitlines(keepends=True):
        if line.startswith(b"From ") and current is None and not chunks:
            continue  # the mbox From_ line
        if line[:1] in (b" ", b"\t") and current is not None:
            chunks[current] += line
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            current = None
            continue
        current = name.strip().decode("ascii", "replace").lower()
        if current in chunks:  # keep the first occurrence of a header
            current = current + "\x00dup"
        chunks[current] = value
    for key, raw_value in chunks.items():
        if "\x00" not in key:
            headers[key] = _decode_header_value(raw_value)
    return Mail(raw=raw, headers=headers, body=_text_body(raw, headers, body_raw))


def _text_body(raw: bytes, headers: Dict[str, str], body_raw: bytes) -> str:
    ctype = headers.get("content-type", "text/plain").lower()
    cte = headers.get("content-transfer-encoding", "7bit").lower().strip()
    if not ctype.startswith("multipart/") and cte in ("7bit", "8bit", "binary", ""):
        return body_raw.decode("utf-8", "replace")

    msg = email.message_from_bytes(raw)  # compat32, the default: email.policy costs 20 ms
    parts = []
    for part in msg.walk():
        if part.get_content_maintype() == "multipart":
            continue
        if (
            part.get_content_type() not in ("text/plain", "text/x-patch", "text/x-diff", "application/octet-stream")
            and part.get_content_maintype() != "text"
        ):
            continue
        if part.get_content_type() == "text/html":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload.decode("utf-8", "replace"))
    return "\n".join(parts)


_DIFF_GIT_RE = re.compile(r'^diff --git (?:"((?:[^"\\]|\\.)*)"|(\S+)) (?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$')


def unprefixed(body: str) -> bool:
    """Whether every `diff --git` header lacks the a/ b/ prefixes, as diffs made with
    diff.noprefix do: git am reads those only with -p0."""
    headers = [_DIFF_GIT_RE.match(line.rstrip("\r")) for line in body.split("\n") if line.startswith("diff --git ")]
    pairs = [(m.group(1) or m.group(2) or "", m.group(3) or m.group(4) or "") for m in headers if m]
    return bool(pairs) and not any(old.startswith("a/") and new.startswith("b/") for old, new in pairs)


def has_patch(body: str) -> bool:
    """Does this mail carry a diff that `git am` could apply?"""
    if re.search(r"^diff -", body, re.M) or re.search(r"^Index: ", body, re.M):
        return True
    return re.search(r"^--- \S.*\n\+\+\+ \S", body, re.M) is not None


def is_cover(mail: Mail) -> bool:
    num = naming.number_from_subject(mail.subject)
    return num is not None and num[0] == 0


@frozen
class Parsed:
    """An mbox read for applying: the patches in order, and what else it held."""

    patches: Tuple[Patch, ...]
    cover: Optional[Mail]
    others: Tuple[Mail, ...]  # replies and other mail without a patch


def read(data: bytes, *, reorder: bool = True) -> Parsed:
    """Read an mbox.  Mail without a diff (a cover letter, replies, a pull request) is
    set aside; patches are put in n/m order when every one is numbered."""
    mails = [parse(raw) for raw in split(data)]
    cover = None
    others: List[Mail] = []
    patch_mails: List[Mail] = []
    for mail in mails:
        if has_patch(mail.body):
            patch_mails.append(mail)
        elif is_cover(mail) and cover is None:
            cover = mail
        else:
            others.append(mail)
    numbers = [naming.number_from_subject(m.subject) for m in patch_mails]
    if reorder and patch_mails and all(n is not None for n in numbers):
        order = sorted(range(len(patch_mails)), key=lambda i: numbers[i][0])  # type: ignore[index]
        patch_mails = [patch_mails[i] for i in order]
        numbers = [numbers[i] for i in order]
    patches = tuple(
        Patch(
            index=i + 1,
            subject=m.subject,
            msgid=m.msgid,
            raw=m.raw,
            number=n[0] if n else None,
            prefixed=not unprefixed(m.body),
        )
        for i, (m, n) in enumerate(zip(patch_mails, numbers))
    )
    return Parsed(patches=patches, cover=cover, others=tuple(others))


_CONTENT_TYPE_RE = re.compile(rb"^content-type:[^\n]*(?:\n[ \t][^\n]*)*", re.I | re.M)
_CHARSET_RE = re.compile(rb"""(charset\s*=\s*)("?)([^"\s;]*)\2""", re.I)
_ENCODED_WORD_RE = re.compile(rb"=\?([^?\s*]+)(\*[^?]*)?\?([qQbB])\?([^?\s]*)\?=")


def _known(name: bytes) -> bool:

    try:
        codecs.lookup(name.decode("ascii"))
        return True
    except (LookupError, UnicodeDecodeError):
        return False


def _charset_of(data: bytes) -> bytes:
    """What undeclared 8-bit text most likely is: utf-8 if it decodes so, else
    iso-8859-1 (which any byte is)."""
    try:
        data.decode("utf-8")
        return b"utf-8"
    except UnicodeDecodeError:
        return b"iso-8859-1"


def known_charsets(raw: bytes) -> bytes:
    """The mail with each charset no converter knows (old mailers' ``charset="none"``,
    ``unknown-8bit``, in a Content-Type or in a header's =?...?= word) named for what
    its bytes are.  git am stops at an unknown one ("cannot convert from unknown-8bit
    to UTF-8"); Patchwork reads such mail the same way."""

    def fix_param(m: "re.Match[bytes]") -> bytes:
        if _known(m.group(3)):
            return m.group(0)
        return m.group(1) + m.group(2) + _charset_of(raw) + m.group(2)

    def fix_word(m: "re.Match[bytes]") -> bytes:
        if _known(m.group(1)):
            return m.group(0)

        try:
            if m.group(3) in b"bB":
                data = base64.b64decode(m.group(4) + b"=" * (-len(m.group(4)) % 4))
            else:
                data = quopri.decodestring(m.group(4).replace(b"_", b" "), header=True)
        except (binascii.Error, ValueError):
            return m.group(0)
        return b"=?" + _charset_of(data) + b"?" + m.group(3) + b"?" + m.group(4) + b"?="

    sep = re.search(rb"\r?\n\r?\n", raw)
    head, rest = (raw[: sep.start()], raw[sep.start() :]) if sep else (raw, b"")
    head = _ENCODED_WORD_RE.sub(fix_word, head)
    return _CONTENT_TYPE_RE.sub(lambda m: _CHARSET_RE.sub(fix_param, m.group(0)), head + rest)


def join(patches: Sequence[Patch]) -> bytes:
    """An mbox of these patches, for `git am`."""
    out = []
    for p in patches:
        raw = known_charsets(p.raw)
        if not raw.startswith(b"From "):
            raw = b"From pwapply Mon Sep 17 00:00:00 2001\n" + raw
        if not raw.endswith(b"\n"):
            raw += b"\n"
        out.append(raw)
    return b"".join(out)


def range_parts(spec: str) -> List[Tuple[int, Optional[int]]]:
    """``1-3,5,7-`` -> [(1, 3), (5, 5), (7, None)] (None: to the end); InputError when it
    is not such a list.  Checked before any request; parse_range checks it against the
    series."""
    parts: List[Tuple[int, Optional[int]]] = []
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^(\d+)(?:-(\d*))?$", part)
        if not m:
            raise InputError(f"bad --patches range {spec!r}", "use numbers and ranges like 1-3,5")
        lo = int(m.group(1))
        hi = lo if m.group(2) is None else (int(m.group(2)) if m.group(2) else None)
        if lo < 1 or (hi is not None and hi < lo):
            raise InputError(f"bad --patches range {spec!r}", "patches count from 1 and a range goes up: 1-3,5")
        parts.append((lo, hi))
    if not parts:
        raise InputError(f"--patches {spec!r} selects nothing", "use numbers and ranges like 1-3,5")
    return parts


def parse_range(spec: str, total: int) -> List[int]:
    """``1-3,5`` -> [1, 2, 3, 5] (1-based, in order, no repeats); InputError if out of range."""
    picked: List[int] = []
    for lo, end in range_parts(spec):
        hi = total if end is None else end
        if lo < 1 or hi > total or lo > hi:
            raise InputError(
                f"--patches {spec!r} is outside this series of {total} patch(es)",
                f"pick from 1-{total}",
            )
        for n in range(lo, hi + 1):
            if n not in picked:
                picked.append(n)
    if not picked:
        raise InputError(f"--patches {spec!r} selects nothing", f"pick from 1-{total}")
    return sorted(picked)


def base_commit(text: str) -> Optional[str]:
    m = _BASE_COMMIT_RE.search(text or "")
    return m.group(1) if m else None


def _is_patch_break(line: str) -> bool:
    # git mailinfo: the message ends at "---" (alone or before a file name), "diff -" or
    # "Index: ".
    if line.startswith("---"):
        return len(line) == 3 or line[3] in " \t\r"
    return line.startswith("diff -") or line.startswith("Index: ")


def add_trailers_to_mail(raw: bytes, new: Sequence["Trailer"]) -> Optional[bytes]:
    """The mail with trailers added to its commit message, for mails in the plain form
    Patchwork serves (text/plain, 7bit/8bit, UTF-8 or ASCII).  None for any other form:
    the caller then leaves the mail as it is."""

    sep = re.search(rb"\n\n", raw)
    if not sep:
        return None
    head, body_raw = raw[: sep.start() + 1], raw[sep.end() :]
    mail = parse(raw)
    ctype = mail.headers.get("content-type", "text/plain").lower()
    cte = mail.headers.get("content-transfer-encoding", "7bit").lower().strip()
    charset_m = re.search(r'charset="?([\w-]+)"?', ctype)
    charset = charset_m.group(1) if charset_m else "us-ascii"
    if (
        not ctype.startswith("text/plain")
        or cte not in ("7bit", "8bit")
        or charset not in ("utf-8", "us-ascii", "utf8")
    ):
        return None
    try:
        body = body_raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = body.split("\n")
    brk = next((i for i, line in enumerate(lines) if _is_patch_break(line)), None)
    if brk is None:
        return None
    message = "\n".join(lines[:brk])
    edited = trailers.add("subject\n\n" + message.rstrip("\n") + "\n", new)[len("subject\n\n") :]
    if not message.strip():
        edited = edited.lstrip("\n")
    out_body = edited + "\n".join(lines[brk:])
    if out_body == body:
        return raw
    if not out_body.isascii() and (cte == "7bit" or charset == "us-ascii"):
        text = head.decode("utf-8", "surrogateescape")
        text = _set_header(text, "Content-Transfer-Encoding", "8bit")
        text = (
            _set_header(text, "Content-Type", "text/plain; charset=utf-8")
            if "charset" not in ctype or charset == "us-ascii"
            else text
        )
        head = text.encode("utf-8", "surrogateescape")
    return head + b"\n" + out_body.encode("utf-8")


def _set_header(head: str, name: str, value: str) -> str:
    pattern = re.compile(rf"^{re.escape(name)}:.*(?:\n[ \t].*)*$", re.I | re.M)
    if pattern.search(head):
        return pattern.sub(f"{name}: {value}", head, count=1)
    return head.rstrip("\n") + f"\n{name}: {value}\n"
