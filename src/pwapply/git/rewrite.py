"""Rewriting commit messages: the trailers go in after git am, trees, authors and dates
untouched; and signing the commits when git am would have signed them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .. import process
from ..errors import ConfigError, RepoStateError
from ..frozen import frozen
from .repo import Commit, Repo
from .run import first_line

_SIGNATURES = (b"gpgsig", b"gpgsig-sha256")  # the headers that hold a commit's signature


@frozen
class Read:
    """The commits of base..tip as git stores them, oldest first."""

    base: str
    tip: str
    ids: List[str]
    objects: List[bytes]


def read_commits(repo: Repo, base: str, tip: str) -> Read:
    """base..tip read (rev-list, one cat-file): rewrite_messages() takes it, so a caller
    can read while it waits for what the messages need (the cover letter's replies)."""
    ids = repo.git.out(["rev-list", "--reverse", "--topo-order", f"{base}..{tip}"]).split()
    return Read(base, tip, ids, _read_objects(repo, ids) if ids else [])


def rewrite_messages(
    repo: Repo,
    base: str,
    tip: str,
    edit: Callable[[int, str], str],
    sign: Optional[str] = None,
    *,
    read: Optional[Read] = None,
) -> Tuple[str, List[Commit]]:
    """Rewrite the message of every commit in base..tip with ``edit(index, message)``.

    Trees, authors, dates and committers stay byte for byte; parents are chained to the
    new commits.  Three git processes whatever the number of commits: rev-list, one
    ``cat-file --batch`` to read them, one ``hash-object --stdin-paths`` to write them.
    With ``sign`` (a key id, or "" for git's default key) each commit is made signed
    instead, by ``git commit-tree -S`` (a process and a signature a commit, as git am
    makes them), and checked against what was meant.  A signature a commit had is
    dropped: it cannot survive a new message.
    Returns the new tip and, for each commit in order, its id, subject and author line.
    ``read``: base..tip as read_commits() read it before (else it is read now).
    """
    if read is None or (read.base, read.tip) != (base, tip):
        read = read_commits(repo, base, tip)
    ids, objects = read.ids, read.objects
    if not ids:
        return tip, []
    algo = hashlib.sha256 if repo.object_format == "sha256" else hashlib.sha1
    parent_map = {base: base}
    new_ids: List[str] = []
    done: List[Commit] = []
    expected: List[bytes] = []
    tmpdir = ""
    try:
        with process.hold():  # made and on the books, or not made
            tmpdir = tempfile.mkdtemp(prefix="pwapply-msg-")
            process.own(tmpdir)
        paths = []
        for i, (old, obj) in enumerate(zip(ids, objects), start=1):
            head, sep, msg = obj.partition(b"\n\n")
            hlines = _header_lines(head)
            encoding = "utf-8"
            new_hlines = []
            for line in hlines:
                key = line.split(b" ", 1)[0]
                if key in _SIGNATURES:
                    continue  # a signature cannot survive a new message
                if key == b"encoding":
                    encoding = line.split(b" ", 1)[1].decode("ascii", "replace").strip() or "utf-8"
                if key == b"parent":
                    p = line.split(b" ", 1)[1].decode().strip()
                    line = b"parent " + parent_map.get(p, p).encode()
                new_hlines.append(line)
            try:
                text = msg.decode(encoding, "surrogateescape")
                codec = encoding
            except LookupError:
                text, codec = msg.decode("utf-8", "surrogateescape"), "utf-8"
            edited = edit(i, text)
            author = next((h[7:] for h in new_hlines if h.startswith(b"author ")), b"")
            subject = edited.split("\n", 1)[0]
            new_msg = edited.encode(codec, "surrogateescape")
            body = b"\n".join(new_hlines) + b"\n\n" + new_msg
            if sign is None:
                sha = algo(b"commit %d\0" % len(body) + body).hexdigest()
                path = os.path.join(tmpdir, f"{i}")
                with open(path, "wb") as fh:
                    fh.write(body)
                paths.append(path)
            else:
                sha = _commit_signed(repo, new_hlines, new_msg, codec, sign)
                expected.append(body)
            parent_map[old] = sha
            new_ids.append(sha)
            done.append(Commit(sha, author.decode("utf-8", "replace"), subject))
            process.checkpoint()  # a long series: a signal meanwhile is acted on here, not after the last
        if sign is not None:
            _check_signed(repo, new_ids, expected)
            return new_ids[-1], done
        written = repo.git.out(
            ["hash-object", "-t", "commit", "-w", "--stdin-paths"], input=("\n".join(paths) + "\n").encode()
        ).split()
        if written != new_ids:
            raise RepoStateError(
                "git wrote other commit ids than expected while adding trailers", "please report this as a bug"
            )
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
            process.disown(tmpdir)
    return new_ids[-1], done


_IDENT_RE = re.compile(rb"^(.*) <(.*)> (\d+) ([+-]\d{4})$")


def _commit_signed(repo: Repo, hlines: Sequence[bytes], message: bytes, codec: str, sign: str) -> str:
    """``git commit-tree -S`` of a commit with these header lines and message."""
    env: Dict[str, str] = {}
    parents: List[str] = []
    tree = ""
    for line in hlines:
        key, _, value = line.partition(b" ")
        if key == b"tree":
            tree = value.decode()
        elif key == b"parent":
            parents += ["-p", value.decode()]
        elif key in (b"author", b"committer"):
            m = _IDENT_RE.match(value)
            if m is None:
                raise RepoStateError(
                    f"cannot sign a commit with this {key.decode()} line: {value.decode('utf-8', 'replace')}",
                    "run again without signing (git am --no-gpg-sign: pwapply ... -- --no-gpg-sign)",
                )
            who = "GIT_AUTHOR" if key == b"author" else "GIT_COMMITTER"
            env[f"{who}_NAME"] = m.group(1).decode("utf-8", "surrogateescape")
            env[f"{who}_EMAIL"] = m.group(2).decode("utf-8", "surrogateescape")
            env[f"{who}_DATE"] = f"@{m.group(3).decode()} {m.group(4).decode()}"
    args = ["-c", f"i18n.commitEncoding={codec}", "commit-tree", tree, *parents, f"-S{sign}" if sign else "-S"]
    proc = repo.git.run(args, input=message, env=env, check=False)
    if proc.returncode != 0:
        said = first_line(proc.stderr.decode("utf-8", "replace"))
        raise ConfigError(
            f"cannot sign the commits as git am would (commit.gpgSign or -S): {said or 'git commit-tree failed'}",
            "check user.signingKey and gpg.format, or apply unsigned: pwapply ... -- --no-gpg-sign",
        )
    return proc.stdout.decode().strip()


def _read_objects(repo: Repo, ids: Sequence[str]) -> List[bytes]:
    """The contents of these objects, read by one ``git cat-file --batch``."""
    raw = repo.git.run(["cat-file", "--batch"], input=("\n".join(ids) + "\n").encode()).stdout
    objects: List[bytes] = []
    pos = 0
    for _ in ids:
        nl = raw.index(b"\n", pos)
        size = int(raw[pos:nl].split()[2])
        objects.append(raw[nl + 1 : nl + 1 + size])
        pos = nl + 1 + size + 1
    return objects


def _check_signed(repo: Repo, ids: Sequence[str], expected: Sequence[bytes]) -> None:
    """Each signed commit is, its signature aside, the commit that was meant."""
    for obj, want in zip(_read_objects(repo, ids), expected):
        head, _, msg = obj.partition(b"\n\n")
        kept = [h for h in _header_lines(head) if h.split(b" ", 1)[0] not in _SIGNATURES]
        if b"\n".join(kept) + b"\n\n" + msg != want:
            raise RepoStateError(
                "git commit-tree made another commit than meant while signing", "please report this as a bug"
            )


def _header_lines(head: bytes) -> List[bytes]:
    """Commit header lines, with continuation lines (gpgsig) folded into their header."""
    out_lines: List[bytes] = []
    for line in head.split(b"\n"):
        if line.startswith(b" ") and out_lines:
            out_lines[-1] += b"\n" + line
        else:
            out_lines.append(line)
    return out_lines
