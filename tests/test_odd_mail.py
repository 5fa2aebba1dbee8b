"""Real-world mail: each odd kind, made here from `git format-patch` output, is applied
as plain `git am -3` applies it (same tree, authors and subjects; pwapply only adds
trailers), or refused with a one-line reason and the repository as it was.  Each goes
both ways: a local mbox (the mail exactly as sent) and through the server (the mail as
Patchwork stores and renders it)."""

from __future__ import annotations

import base64
import quopri
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import pytest

from conftest import git
from test_errors import check

Result = Tuple[str, List[str]]


def format_patch(repo, build: Callable[[], None], *config: str) -> bytes:
    """The commits ``build`` makes on a detached HEAD, as `git format-patch --stdout
    --thread` (with ``-c`` for each of ``config``); the repository is left as it was."""
    branch = repo.git("symbolic-ref", "-q", "--short", "HEAD").strip()
    base = repo.rev("HEAD")
    repo.git("checkout", "-q", "--detach")
    build()
    cfg = [arg for c in config for arg in ("-c", c)]
    out = subprocess.run(
        ["git", *cfg, "format-patch", "--stdout", "--thread", f"{base}..HEAD"],
        cwd=repo.path,
        capture_output=True,
        check=True,
    ).stdout
    repo.git("checkout", "-q", "-f", branch)
    return out


def mails(mbox: bytes) -> List[bytes]:
    return [b"From " + m for m in re.split(rb"^From ", mbox, flags=re.M) if m]


def result(path: Path, rev: str, count: int) -> Result:
    """What must be the same: the tree, and each commit's author and subject."""
    tree = git(path, "rev-parse", f"{rev}^{{tree}}").strip()
    log = git(path, "log", f"-{count}", "--reverse", "--format=%an <%ae> %ad|%s", rev).splitlines()
    return tree, log


def plain_git_am(repo, mbox: bytes, tmp_path: Path, count: int) -> Optional[Result]:
    """What plain `git am -3` makes of the mail, in a clone; None when it fails."""
    clone = tmp_path / "plain"
    shutil.rmtree(clone, ignore_errors=True)
    git(tmp_path, "clone", "-q", str(repo.path), str(clone))
    (tmp_path / "plain.mbox").write_bytes(mbox)
    proc = subprocess.run(["git", "am", "-3", str(tmp_path / "plain.mbox")], cwd=clone, capture_output=True)
    return result(clone, "HEAD", count) if proc.returncode == 0 else None


# ---------------------------------------------------------------- the odd kinds


def binary(repo) -> bytes:
    def build():
        (repo.path / "data").mkdir()
        (repo.path / "data" / "blob.bin").write_bytes(bytes(range(256)) * 8)
        repo.commit("data: Add a binary blob")
        (repo.path / "data" / "blob.bin").write_bytes(bytes(reversed(range(256))) * 8 + b"\0tail")
        repo.commit("data: Change the binary blob")

    return format_patch(repo, build)


def mode_change_only(repo) -> bytes:
    repo.write("tools/run.sh", "#!/bin/sh\necho run\n")
    repo.commit("tools: Add run.sh")

    def build():
        (repo.path / "tools" / "run.sh").chmod(0o755)
        repo.commit("tools: Make run.sh executable")

    return format_patch(repo, build)


def _one_edit(repo, subject: str, old: str, new: str, path: str = "src/file1.c") -> bytes:
    def build():
        repo.edit_line(path, old, new)
        repo.commit(subject + "\n\nThe body says why.\n\nSigned-off-by: A U Thor <author@example.org>")

    return format_patch(repo, build)


def _split(mail: bytes) -> Tuple[bytes, bytes]:
    head, _, body = mail.partition(b"\n\n")
    return head, body


def _set_header(head: bytes, name: bytes, value: bytes) -> bytes:
    lines = [line for line in head.split(b"\n") if not line.lower().startswith(name.lower() + b":")]
    return b"\n".join(lines + [name + b": " + value])


def multipart_alternative(repo) -> bytes:
    """A mail client's text/plain + text/html; git am takes the plain part."""
    mail = _one_edit(repo, "file1: Fix line 3", "line 3 of file 1\n", "line 3 of file 1, fixed\n")
    head, body = _split(mail)
    head = _set_header(head, b"Content-Type", b'multipart/alternative; boundary="=-b0undary"')
    head = _set_header(head, b"Content-Transfer-Encoding", b"7bit")
    parts = (
        b"--=-b0undary\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 7bit\n\n"
        + body
        + b"\n--=-b0undary\nContent-Type: text/html; charset=UTF-8\n\n<html><body><p>see the plain part</p>"
        + b"</body></html>\n--=-b0undary--\n"
    )
    return head + b"\n\n" + parts


def charset_none(repo) -> bytes:
    """charset="none" (seen from old mailers) on an 8-bit UTF-8 body."""
    return _charset(repo, b"none")


def _charset(repo, name: bytes) -> bytes:
    mail = _one_edit(
        repo, "file2: Say caf\u00e9", "line 10 of file 2\n", "line 10 of file 2, caf\u00e9\n", "src/file2.c"
    )
    head, body = _split(mail)
    head = _set_header(head, b"Content-Type", b'text/plain; charset="' + name + b'"')
    head = _set_header(head, b"Content-Transfer-Encoding", b"8bit")
    return head + b"\n\n" + body


def test_charset_none_is_read_as_what_its_bytes_are(repo, cli, tmp_path):
    """Plain git am stops at it ("cannot convert from none to UTF-8"); pwapply applies
    what the sender meant, as Patchwork reads it."""
    mbox = charset_none(repo)
    assert plain_git_am(repo, mbox, tmp_path, 1) is None
    meant = plain_git_am(repo, mbox.replace(b'charset="none"', b'charset="utf-8"'), tmp_path, 1)
    assert meant is not None
    path = tmp_path / "none.mbox"
    path.write_bytes(mbox)
    result_ = cli(str(path), "-b", "odd", "-q", cwd=repo.path)
    assert result_.exit_code == 0, result_.output
    assert result(repo.path, "odd", 1) == meant
    assert "caf\u00e9" in repo.git("log", "-1", "--format=%s", "odd")


def raw_8bit_headers(repo) -> bytes:
    """From: and Subject: in raw UTF-8, not RFC 2047 words."""
    name = "Rafa\u0142 Mi\u0142ecki"

    def build():
        repo.edit_line("src/file3.c", "line 5 of file 3\n", "line 5 of file 3, \u0142\n")
        repo.git("commit", "-qam", "file3: Fix \u0142 in line 5", f"--author={name} <rafal@example.org>")

    mail = format_patch(repo, build)
    head, body = _split(mail)
    head = _set_header(head, b"From", f"{name} <rafal@example.org>".encode())
    head = re.sub(
        rb"^Subject: .*(\n[ \t].*)*", "Subject: [PATCH] file3: Fix \u0142 in line 5".encode(), head, flags=re.M
    )
    return head + b"\n\n" + body


def _reencode(mail: bytes, cte: bytes) -> bytes:
    head, body = _split(mail)
    head = _set_header(head, b"Content-Transfer-Encoding", cte)
    if cte == b"base64":
        body = base64.encodebytes(body)
    else:
        body = quopri.encodestring(body)
    return head + b"\n\n" + body


def quoted_printable(repo) -> bytes:
    mail = _one_edit(
        repo,
        "file4: Use a = and an \u00e9",
        "line 7 of file 4\n",
        "line 7 = \u00e9t\u00e9 " + "x" * 90 + "\n",
        "src/file4.c",
    )
    return _reencode(mail, b"quoted-printable")


def base64_body(repo) -> bytes:
    mail = _one_edit(
        repo, "file5: Rewrite line 9", "line 9 of file 5\n", "line 9 of file 5, \u00fcber\n", "src/file5.c"
    )
    return _reencode(mail, b"base64")


def crlf(repo) -> bytes:
    mail = _one_edit(repo, "file1: Fix line 20", "line 20 of file 1\n", "line 20 of file 1, fixed\n")
    return mail.replace(b"\n", b"\r\n")


def three_patches(repo) -> bytes:
    def build():
        for n in (11, 12, 13):
            repo.edit_line("src/file1.c", f"line {n} of file 1\n", f"line {n} of file 1, v{n}\n")
            repo.commit(f"file1: Change line {n}")

    return format_patch(repo, build)  # three commits: [PATCH n/3]


KINDS = {
    "binary": (binary, 2),
    "mode-change-only": (mode_change_only, 1),
    "multipart-alternative": (multipart_alternative, 1),
    "raw-8bit-headers": (raw_8bit_headers, 1),
    "quoted-printable": (quoted_printable, 1),
    "base64": (base64_body, 1),
    "crlf": (crlf, 1),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_odd_mail_from_a_local_mbox_applies_as_plain_git_am(repo, cli, tmp_path, kind):
    make, count = KINDS[kind]
    mbox = make(repo)
    expected = plain_git_am(repo, mbox, tmp_path, count)
    assert expected is not None, f"plain git am cannot apply the {kind} mail: fix the test"
    path = tmp_path / f"{kind}.mbox"
    path.write_bytes(mbox)
    result_ = cli(str(path), "-b", "odd", "-q", cwd=repo.path)
    assert result_.exit_code == 0, result_.output
    assert result(repo.path, "odd", count) == expected


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_odd_mail_through_the_server_applies_as_plain_git_am(repo, pw, cli, tmp_path, kind):
    make, count = KINDS[kind]
    mbox = make(repo)
    sid = pw.add_series("qemu-devel", mbox)
    served = pw.series_mbox(sid)  # as Patchwork renders it: decoded, text/plain
    expected = plain_git_am(repo, served, tmp_path, count)
    assert expected is not None, f"plain git am cannot apply the served {kind} mail"
    # The author and the tree survive Patchwork's rendering.
    assert expected == plain_git_am(repo, mbox, tmp_path, count)
    result_ = cli(str(sid), "--server", pw.url, "-b", "odd", "-q", cwd=repo.path)
    assert result_.exit_code == 0, result_.output
    assert result(repo.path, "odd", count) == expected


def test_diffs_without_prefixes_are_applied_with_p0(repo, pw, cli, tmp_path):
    """Made with diff.noprefix (`diff --git src/x src/x`): plain git am reads them at -p1
    and puts a new file docs/new.rst at the top as new.rst (or, without -3, refuses);
    pwapply sees every diff lacks a/ b/ and gives git am -p0."""

    def build():
        repo.edit_line("src/file2.c", "line 20 of file 2\n", "line 20 of file 2, noprefix\n")
        repo.commit("file2: Change line 20")
        (repo.path / "docs" / "new.rst").write_text("New page.\n")
        repo.commit("docs: Add a page")

    mbox = format_patch(repo, build, "diff.noprefix=true")
    assert b"diff --git src/file2.c src/file2.c" in mbox
    wrong = plain_git_am(repo, mbox, tmp_path, 2)
    assert wrong is not None and "new.rst" in git(tmp_path / "plain", "ls-tree", "--name-only", "HEAD")
    clone = tmp_path / "p0"
    git(tmp_path, "clone", "-q", str(repo.path), str(clone))
    (tmp_path / "p0.mbox").write_bytes(mbox)
    git(clone, "am", "-3", "-p0", str(tmp_path / "p0.mbox"))
    expected = result(clone, "HEAD", 2)
    assert expected != wrong and git(clone, "ls-tree", "--name-only", "HEAD", "docs/new.rst").strip()
    path = tmp_path / "noprefix.mbox"
    path.write_bytes(mbox)
    got = cli(str(path), "-b", "odd", "-q", cwd=repo.path)
    assert got.exit_code == 0, got.output
    assert result(repo.path, "odd", 2) == expected
    sid = pw.add_series("qemu-devel", mbox)
    # On the commit the first was applied on (HEAD is "odd" now: it has them already).
    got = cli(str(sid), "--server", pw.url, "-b", "odd2", "-q", "--base", "odd~2", cwd=repo.path)
    assert got.exit_code == 0, got.output
    assert result(repo.path, "odd2", 2) == expected


def test_patches_out_of_order_are_applied_in_series_order(repo, cli, tmp_path):
    mbox = three_patches(repo)
    one, two, three = mails(mbox)
    in_order = plain_git_am(repo, mbox, tmp_path, 3)
    assert in_order is not None
    path = tmp_path / "ooo.mbox"
    path.write_bytes(three + one + two)  # as a list may deliver them
    result_ = cli(str(path), "-b", "odd", "-q", cwd=repo.path)
    assert result_.exit_code == 0, result_.output
    assert result(repo.path, "odd", 3) == in_order


def test_patches_out_of_order_on_the_server_are_applied_in_series_order(repo, pw, cli, tmp_path):
    mbox = three_patches(repo)
    one, two, three = mails(mbox)
    in_order = plain_git_am(repo, mbox, tmp_path, 3)
    sid = pw.add_series("qemu-devel", two + three + one)
    result_ = cli(str(sid), "--server", pw.url, "-b", "odd", "-q", cwd=repo.path)
    assert result_.exit_code == 0, result_.output
    assert result(repo.path, "odd", 3) == in_order


PULL_REQUEST = b"""From nobody Mon Sep 17 00:00:00 2001
From: Ben Maintainer <ben@example.org>
Date: Fri, 22 Oct 2010 14:04:22 +1100
Subject: [git pull] Please pull powerpc.git next branch
Message-ID: <pull-1@example.org>

The following changes since commit 0123456789abcdef0123456789abcdef01234567:

  Merge branch 'next' (2010-10-20 10:00:00 +1100)

are available in the git repository at:
  git://git.example.org/powerpc.git next

Ben Maintainer (1):
      powerpc: Fix the thing

 arch/powerpc/thing.c |    2 +-
 1 files changed, 1 insertions(+), 1 deletions(-)
"""


def test_pull_request_is_refused_with_a_reason(repo, pw, cli, tmp_path):
    before = repo.state()
    path = tmp_path / "pull.mbox"
    path.write_bytes(PULL_REQUEST)
    check(cli(str(path), cwd=repo.path), 2, "the mbox holds no patch")
    sid = pw.add_series("qemu-devel", PULL_REQUEST)
    result_ = cli(str(sid), "--server", pw.url, cwd=repo.path)
    check(result_, 2, "has no patch that git am could apply (a pull request")
    assert repo.state() == before


def test_cover_letter_without_patches_is_refused_with_a_reason(repo, pw, cli, tmp_path):
    cover = mails(repo.series([("src/file1.c", "line 3 of file 1\n", "line 3, fixed\n", "file1: Fix")]))[0]
    before = repo.state()
    path = tmp_path / "cover.mbox"
    path.write_bytes(cover)
    check(cli(str(path), cwd=repo.path), 2, "the mbox holds no patch")
    sid = pw.add_series("qemu-devel", cover)
    check(cli(str(sid), "--server", pw.url, cwd=repo.path), 2, "only a cover letter?")
    assert repo.state() == before


def test_series_without_a_name_is_named_after_its_first_patch(repo, pw, cli):
    sid = pw.add_series("qemu-devel", three_patches(repo), name=None)
    result_ = cli(str(sid), "--server", pw.url, "-q", cwd=repo.path)
    assert result_.exit_code == 0, result_.output
    assert repo.git("branch", "--list", "--format=%(refname:short)", "pw/*").split() == ["pw/file1-change-line-11-v1"]
