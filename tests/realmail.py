"""The real-mail corpus (tests/realmail/, made by tools/realmail.py): liburing's series as
the io_uring list's archive holds them, and what liburing merged of each.  Helpers for
tests/test_real_mail.py and bench/realmail.py.

A case is one series: the whole thread its mails are in (as the archive serves it), and
each commit upstream made of it, with the Message-ID its ``Link:`` names, its subject,
``git patch-id --stable``, its review tags, and which of those a reply in the thread gave
(``given``, found by tools/realmail.py's own reading of the thread, not by pwapply's).
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

CORPUS = Path(__file__).resolve().parent / "realmail"
ARCHIVE = "https://lore.kernel.org/io-uring"


@dataclass(frozen=True)
class Merged:
    """A commit upstream made of a patch."""

    commit: str
    subject: str
    patch_id: str
    link: str  # the Message-ID its Link names
    tags: Tuple[Tuple[str, str], ...]  # (key, value) of its review tags
    given: Tuple[Tuple[str, str], ...]  # those a reply in the thread gave


@dataclass(frozen=True)
class Case:
    name: str
    base: str  # the parent of its first commit
    thread: str  # the key of its thread in threads.tar.xz
    commits: Tuple[Merged, ...]
    e2e: bool  # applied end to end on liburing's history (liburing.bundle)
    bundle_ref: str

    @property
    def msgid(self) -> str:
        """What a maintainer names to apply the series: the mail the first commit came from."""
        return self.commits[0].link


@lru_cache(maxsize=None)
def cases() -> Tuple[Case, ...]:
    data = json.loads((CORPUS / "liburing.json").read_text())
    out = []
    for c in data["cases"]:
        commits = tuple(
            Merged(
                x["commit"],
                x["subject"],
                x["patch_id"],
                x["link"],
                tuple((t["key"], t["value"]) for t in x["tags"]),
                tuple((t["key"], t["value"]) for t in x["given"]),
            )
            for x in c["commits"]
        )
        out.append(Case(c["name"], c["base"], c["thread"], commits, bool(c.get("e2e")), c.get("bundle_ref", "")))
    return tuple(out)


@lru_cache(maxsize=None)
def threads() -> Dict[str, bytes]:
    """Each thread's mbox, as the archive served it (inflated)."""
    out: Dict[str, bytes] = {}
    with tarfile.open(CORPUS / "threads.tar.xz", "r:xz") as tar:
        for member in tar.getmembers():
            fh = tar.extractfile(member)
            if fh is not None:
                out[member.name.rsplit(".", 1)[0]] = fh.read()
    return out


def patch_ids(diffs: Sequence[str]) -> List[str]:
    """``git patch-id --stable`` of each text (a mail's body, a commit's diff), in order;
    "" for one with no diff.  One git process for all."""
    stream = "".join(f"commit {i:040x}\n\n{text}\n" for i, text in enumerate(diffs))
    out = subprocess.run(
        ["git", "patch-id", "--stable"],
        input=stream.encode("utf-8", "surrogateescape"),
        capture_output=True,
        check=True,
    ).stdout.decode()
    found: Dict[int, str] = {}
    for line in out.splitlines():
        pid, index = line.split()
        found[int(index, 16)] = pid
    return [found.get(i, "") for i in range(len(diffs))]


def title(subject: str) -> str:
    """A subject without its [PATCH ...] prefixes, spaces folded, lower case."""
    text = re.sub(r"^\s*(\[[^\]]*\]\s*)+", "", subject)
    return " ".join(text.lower().split())


def address(value: str) -> str:
    from email.utils import parseaddr

    return parseaddr(value)[1].lower()


def summary_line(figures: Dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in figures.items())
