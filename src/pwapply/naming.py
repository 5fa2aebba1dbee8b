"""Branch names from a series' name and version.  Pure: no I/O."""

from __future__ import annotations

import re
import unicodedata
from typing import Mapping, Optional, Tuple, Union

DEFAULT_BRANCH_FORMAT = "pw/{slug}-v{version}"
FIELDS = ("id", "version", "slug", "project", "submitter")
SLUG_MAX = 50

# "[PATCH v2 03/16]", "[RFC PATCH]", "[v2,1/6]", "Re:" ... at the start of a subject.
_PREFIX_RE = re.compile(r"^\s*(?:(?:re|fwd?|aw)\s*:\s*|\[[^\]]*\]\s*)+", re.I)
_VERSION_RE = re.compile(r"(?:^|[\s,\[])v(\d+)(?=[\s,\]])", re.I)
_NUMBER_RE = re.compile(r"(?:^|[\s,\[])(\d+)/(\d+)(?=[\s,\]])")


def strip_subject_prefixes(subject: str) -> str:
    """``[PATCH v2 03/16] migration: Fix x`` -> ``migration: Fix x``."""
    return _PREFIX_RE.sub("", subject or "").strip()


def subject_prefix(subject: str) -> str:
    m = _PREFIX_RE.match(subject or "")
    return m.group(0) if m else ""


def version_from_subject(subject: str) -> Optional[int]:
    m = _VERSION_RE.search(subject_prefix(subject))
    return int(m.group(1)) if m else None


def number_from_subject(subject: str) -> Optional[Tuple[int, int]]:
    """``[PATCH v2 03/16] x`` -> (3, 16); None when the subject carries no n/m."""
    m = _NUMBER_RE.search(subject_prefix(subject))
    return (int(m.group(1)), int(m.group(2))) if m else None


def slugify(text: str, limit: int = SLUG_MAX) -> str:
    """Lowercase ASCII words joined by '-', cut at a word boundary within ``limit``."""
    text = unicodedata.normalize("NFKD", text or "")
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    words = re.findall(r"[a-z0-9]+", text)
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            if not slug:  # one enormous word: cut it
                slug = word[:limit]
            break
        slug = candidate
    return slug


# What git format-patch --cover-letter leaves when the cover letter was sent unedited.
_PLACEHOLDER = re.compile(r"\*\*\*\s*SUBJECT HERE\s*\*\*\*", re.I)


def series_slug(name: Optional[str], first_subject: Optional[str], series_id: Union[int, str, None]) -> str:
    """Slug of the series name, else of the first patch's subject, else ``series-<id>``.
    A cover letter sent as format-patch left it (``*** SUBJECT HERE ***``) has no name."""
    for candidate in (name, first_subject):
        if candidate and _PLACEHOLDER.search(candidate):
            continue
        slug = slugify(strip_subject_prefixes(candidate or ""))
        if slug:
            return slug
    return f"series-{series_id}" if series_id else "series"


def branch_name(fmt: str, fields: Mapping[str, object]) -> str:
    """Fill ``fmt`` with ``fields``; every field is made ref-safe first.

    Raises ValueError for an unknown field or a malformed format.
    """
    safe = {key: _ref_safe(str(fields.get(key, "") or "")) for key in FIELDS}
    try:
        name = fmt.format(**safe)
    except KeyError as exc:
        raise ValueError(f"unknown field {{{exc.args[0]}}} (known: {', '.join(FIELDS)})") from None
    except (IndexError, ValueError) as exc:
        raise ValueError(str(exc)) from None
    return name


def _ref_safe(value: str) -> str:
    # A field value never brings its own path separators or ref metacharacters.
    return slugify(value, limit=SLUG_MAX) if not value.isdigit() else value


def check_ref_format(name: str) -> Optional[str]:
    """Git's rules for a branch name (git check-ref-format --branch); None when valid,
    else the reason.  git itself is asked again before the ref is written."""
    if not name or name == "@" or name.startswith("-"):
        return "empty, '@' or starts with '-'"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "contains control characters"
    for bad in (" ", "~", "^", ":", "?", "*", "[", "\\", "..", "@{", "//"):
        if bad in name:
            return f"contains {bad!r}"
    if name.endswith("/") or name.endswith(".") or name.startswith("/"):
        return "starts or ends with '/' or ends with '.'"
    for part in name.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            return "a component starts with '.' or ends with '.lock'"
    return None
