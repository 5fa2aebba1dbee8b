"""Trailer blocks: parse, find and extend them by git's rules.  Pure: no I/O.

git's rules (trailer.c), which ``git interpret-trailers`` applies and which we follow:

- the first paragraph (the title) is never a trailer block;
- the trailer block is the last paragraph of the message, if every line of it is a
  trailer (``Token: value``, or a continuation line starting with white space after one),
  or at least a quarter of its lines are trailers and one of them is git-generated
  (``Signed-off-by: ``, ``(cherry picked from commit ``);
- a new trailer goes right after the block, or, when there is none, after a blank line at
  the end of the message.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, List, Optional, Tuple

from .frozen import frozen

_TOKEN_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)[ \t]*:(.*)$")
_GIT_GENERATED = ("Signed-off-by: ", "(cherry picked from commit ")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")

# Trailers added to a patch after it was posted: the review tags, and the Link (or
# Message-ID) that names the patch.  diff strips them, update puts tags before the Link.
REVIEW_KEYS = frozenset({"reviewed-by", "acked-by", "tested-by", "nacked-by"})
LINK_KEYS = frozenset({"link", "message-id"})

# Tags a reviewer gives in a reply that apply to what they replied to.  A reply to the
# cover letter gives them to every patch of the series (Patchwork does not).  In a reply
# a tag line may be indented: a mail client's plain-text part of an HTML mail (Gmail's)
# puts a blank before it.  A quoted line ("> Reviewed-by: ...") never counts.
COVER_TAGS = ("Reviewed-by", "Acked-by", "Tested-by", "Reported-by")
_TAG_KEYS = "|".join(t.replace("-", r"\-") for t in COVER_TAGS)
_REPLY_TAG_RE = re.compile(r"^[ \t]*(" + _TAG_KEYS + r")[ \t]*:[ \t]*(\S.*?)\s*$", re.I | re.M)
_PATCH_TAG_RE = re.compile(r"^(" + _TAG_KEYS + r")[ \t]*:[ \t]*(\S.*?)\s*$", re.I | re.M)
# An address as a tag names its person by: local@domain, one @, nothing odd in either.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_ADDRESS_RE = re.compile(r"^[^@\s<>(),;:\"\[\]]+@" + _LABEL + r"(?:\." + _LABEL + r")*$")


@frozen
class Trailer:
    key: str
    value: str

    def line(self) -> str:
        return f"{self.key}: {self.value}"

    def same_as(self, other: "Trailer") -> bool:
        return self.key.lower() == other.key.lower() and _norm(self.value) == _norm(other.value)


def _norm(value: str) -> str:
    return " ".join(value.split()).lower()


def clean_value(value: str) -> str:
    """A value from the outside world, made safe for one trailer line: control
    characters and line breaks become spaces, so nothing can start a new trailer."""
    return " ".join(_CONTROL_RE.sub(" ", value).split())


def make_trailer(key: str, value: str) -> Trailer:
    key = key.strip()
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9-]*$", key):
        raise ValueError(f"invalid trailer key: {key!r}")
    value = clean_value(value)
    if not value:
        raise ValueError(f"empty value for trailer {key}")
    return Trailer(key, value)


def parse_trailer_line(line: str) -> Optional[Trailer]:
    m = _TOKEN_RE.match(line)
    if not m:
        return None
    return Trailer(m.group(1), m.group(2).strip())


def _is_trailer_line(line: str) -> bool:
    return line.startswith("(cherry picked from commit ") or _TOKEN_RE.match(line) is not None


def find_block(message: str) -> Tuple[int, int]:
    """Return (start, end) line indexes of the trailer block; start == end when the
    message has none, and then end is where a block would go (after the last text)."""
    lines = message.split("\n")
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    # The title paragraph is never a trailer block.
    title_end = 0
    while title_end < end and lines[title_end].strip():
        title_end += 1
    start = end
    while start > title_end and lines[start - 1].strip():
        start -= 1
    if start <= title_end or start == end:
        return end, end
    trailers = non_trailers = 0
    generated = False
    in_trailer = False
    for line in lines[start:end]:
        if line[:1] in (" ", "\t") and in_trailer:
            continue  # continuation of the trailer above
        if _is_trailer_line(line):
            trailers += 1
            in_trailer = True
            generated = generated or line.startswith(_GIT_GENERATED)
        else:
            non_trailers += 1
            in_trailer = False
    if trailers and (not non_trailers or (generated and trailers * 3 >= non_trailers)):
        return start, end
    return end, end


def existing(message: str) -> List[Trailer]:
    """The trailers of the message's trailer block, in order."""
    lines = message.split("\n")
    start, end = find_block(message)
    out = []
    for line in lines[start:end]:
        t = parse_trailer_line(line)
        if t is not None:
            out.append(t)
    return out


def add(message: str, new: Iterable[Trailer]) -> str:
    """Append trailers to the message's trailer block, skipping any already there (in the
    block, or as a line of its own anywhere below the title).

    Idempotent: ``add(add(m, t), t) == add(m, t)``.  Lines of the message are never
    dropped or reordered.
    """
    have = existing(message) + below_title(message)
    todo: List[Trailer] = []
    for t in new:
        if any(t.same_as(h) for h in have) or any(t.same_as(x) for x in todo):
            continue
        todo.append(t)
    if not todo:
        return message
    lines = message.split("\n")
    start, end = find_block(message)
    insert = [t.line() for t in todo]
    if start == end:  # no block yet: a blank line, then the new block
        insert = ([""] if end > 0 else []) + insert
    head = lines[:end]
    tail = lines[end:]
    if not tail or tail == [""]:
        tail = [""]
    out = "\n".join(head + insert + tail)
    return out


def add_before(message: str, new: Iterable[Trailer], before: Callable[[Trailer], bool]) -> str:
    """As add(), but the new trailers go right before the first trailer of the block for
    which ``before`` holds (the Link pwapply added: review tags go before it, in
    DESIGN.md's order); at the end of the block when none does."""
    have = existing(message) + below_title(message)
    todo: List[Trailer] = []
    for t in new:
        if not any(t.same_as(h) for h in have) and not any(t.same_as(x) for x in todo):
            todo.append(t)
    if not todo:
        return message
    lines = message.split("\n")
    start, end = find_block(message)
    for i in range(start, end):
        anchor = parse_trailer_line(lines[i])
        if anchor is not None and before(anchor):
            return "\n".join(lines[:i] + [x.line() for x in todo] + lines[i:])
    return add(message, todo)


def below_title(message: str) -> List[Trailer]:
    lines = message.split("\n")
    i = 0
    while i < len(lines) and lines[i].strip():
        i += 1
    found = (parse_trailer_line(line) for line in lines[i:])
    return [t for t in found if t is not None]


@frozen
class ReplyTags:
    """What a reply's tag lines give: the tags, and the lines that look like tags but
    name no valid address (``Reviewed-by: Name <name.example.com>``): those are told,
    never written into a commit, where they would stay for good."""

    tags: Tuple[Trailer, ...]
    malformed: Tuple[str, ...]


def has_address(value: str) -> bool:
    """Whether a tag's value names a person by a well-formed address: ``Name <a@b.c>``
    or ``a@b.c``."""
    inside = re.findall(r"<([^<>]*)>", value)
    if len(inside) > 1:
        return False
    address = inside[0].strip() if inside else value.strip()
    return _ADDRESS_RE.match(address) is not None


def read_reply(text: str) -> ReplyTags:
    """The review tags of a reply's body: a line of its own, indented or not, never
    quoted; those without a valid address apart."""
    return _read(_REPLY_TAG_RE, text)


def _read(pattern: "re.Pattern[str]", text: str) -> ReplyTags:
    out: List[Trailer] = []
    bad: List[str] = []
    for m in pattern.finditer(text or ""):
        key = next(k for k in COVER_TAGS if k.lower() == m.group(1).lower())
        value = clean_value(m.group(2))
        if not value:
            continue
        if not has_address(value):
            if f"{key}: {value}" not in bad:
                bad.append(f"{key}: {value}")
            continue
        t = Trailer(key, value)
        if not any(t.same_as(o) for o in out):
            out.append(t)
    return ReplyTags(tuple(out), tuple(bad))


def tags_from_reply(text: str) -> List[Trailer]:
    """The review tags of a reply's body with a valid address (read_reply)."""
    return list(read_reply(text).tags)


def tags_in_patch(text: str) -> List[Trailer]:
    """The review tags in a patch's message, as Patchwork's mbox carries them: at the
    start of a line (an indented one is part of the message, a quoted revert, say)."""
    return list(_read(_PATCH_TAG_RE, text).tags)


_NACK_RE = re.compile(r"^[ \t]*(Nacked-by)[ \t]*:[ \t]*(\S.*?)\s*$", re.I | re.M)


def nacks_from_reply(text: str) -> List[Trailer]:
    """The Nacked-by lines of a reply's body (never added to a commit: told by check)."""
    out: List[Trailer] = []
    for m in _NACK_RE.finditer(text or ""):
        value = clean_value(m.group(2))
        t = Trailer("Nacked-by", value)
        if value and not any(t.same_as(o) for o in out):
            out.append(t)
    return out


def link_trailer(template: Optional[str], *, msgid: str, url: str, project: str) -> Optional[Trailer]:
    """Build the Link trailer from a template.

    The template is either a value (``https://lore.kernel.org/r/{msgid}``) for a ``Link:``
    trailer, or a whole trailer (``Message-ID: <{msgid}>``).  ``%s`` stands for the
    Message-ID as in b4's linkmask.  None when the template is empty.
    """
    if not template:
        return None
    filled = template.replace("%s", "{msgid}")
    try:
        filled = filled.format(msgid=msgid, url=url, project=project)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"bad link format {template!r}: {exc}") from None
    m = re.match(r"^([A-Za-z][A-Za-z0-9-]*):[ \t]+(.*)$", filled)
    if m:
        return make_trailer(m.group(1), m.group(2))
    return make_trailer("Link", filled)


def strip(message: str, drop: Callable[[Trailer], bool]) -> str:
    """The message without the trailers of its trailer block for which ``drop`` is true
    (and their continuation lines); the block's other lines stay in order."""
    lines = message.split("\n")
    start, end = find_block(message)
    if start == end:
        return message
    kept: List[str] = []
    dropping = False
    for line in lines[start:end]:
        if line[:1] in (" ", "\t"):
            if not dropping:
                kept.append(line)
            continue
        t = parse_trailer_line(line)
        dropping = t is not None and drop(t)
        if not dropping:
            kept.append(line)
    head = lines[:start]
    if not kept:  # the block is gone: so is the blank line before it
        while head and not head[-1].strip():
            head.pop()
    return "\n".join(head + kept) + "\n"
