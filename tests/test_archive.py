"""The list's archive as a second source, against a real public-inbox (tests/public_inbox.py)
and the fake Patchwork: a Message-ID only the archive has, an archive URL of any host,
a series Patchwork lost a patch of, versions and resends in one thread, review tags from
replies, and every way the archive can fail."""

from __future__ import annotations

import gzip
import json
import random
import re
from typing import List, Tuple

import pytest

from conftest import EDITS, Repo

REVIEWER = "Rev Iewer <rev@example.org>"


def reply(to: str, subject: str, body: str, msgid: str, date: str = "Wed, 15 Nov 2023 10:00:00 +0000") -> bytes:
    return (
        f"From: Rev Iewer <rev@example.org>\nTo: qemu-devel@lists.example.org\nSubject: Re: {subject}\n"
        f"Date: {date}\nMessage-ID: <{msgid}>\nIn-Reply-To: <{to}>\nReferences: <{to}>\n\n{body}\n"
    ).encode()


def mails(mbox: bytes) -> List[Tuple[str, str]]:
    """(msgid, subject) of each mail of an mbox."""
    from pwapply import mbox as m

    return [(p.msgid, p.subject) for p in (m.parse(raw) for raw in m.split(mbox))]


def without(mbox: bytes, number: int) -> bytes:
    """The mbox less its patch ``number`` (as a Patchwork that lost that mail has it)."""
    from pwapply import mbox as m

    keep = [raw for raw in m.split(mbox) if not re.search(rf"\[PATCH[^\]]* {number}/\d+\]", m.parse(raw).subject)]
    return b"".join(keep)


def trailer_lines(repo: Repo, rev: str = "HEAD") -> List[str]:
    """The commit's trailer block (its last paragraph)."""
    return repo.git("log", "-1", "--format=%B", rev).strip().split("\n\n")[-1].splitlines()


def series(repo: Repo, version: int = 1, tag: str = "", extra: Tuple[str, ...] = (), edits=EDITS) -> bytes:
    mbox, _ = repo.series_at(edits, version=version, tag=tag, extra=list(extra))
    return mbox


# ------------------------------------------------------------------ a Message-ID only the archive has


def test_a_message_id_patchwork_never_saw_is_taken_from_the_archive(repo, pw, inbox, cli):
    mbox = series(repo)
    (cover, cover_subject), (p1, p1_subject), (p2, _), (p3, _) = mails(mbox)
    inbox.add(
        mbox,
        reply(p1, p1_subject, "> Reviewed-by: Quoted <q@example.org>\nReviewed-by: " + REVIEWER, "r1@example.org"),
        reply(cover, cover_subject, "For the series:\nTested-by: Tess Ter <tess@example.org>", "r2@example.org"),
    )
    inbox.serve()
    pw.add_project("qemu-devel")
    before = repo.state()
    result = cli(cover, "--server", pw.url, "--project", "qemu-devel", "--archive", inbox.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "Applied 3 patches of v1 from " + inbox.url in result.stderr
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/improve-the-files-v1"
    first = trailer_lines(repo, "HEAD~2")
    assert first == [
        "Signed-off-by: A U Thor <author@example.org>",
        "Reviewed-by: " + REVIEWER,
        "Tested-by: Tess Ter <tess@example.org>",
        f"Link: {inbox.url}/{p1}/",
    ], first
    assert "Quoted" not in repo.git("log", "--format=%B", f"{repo.base}..HEAD")
    assert trailer_lines(repo)[-1] == f"Link: {inbox.url}/{p3}/"
    assert repo.state() != before
    assert pw.count("/api/") >= 1  # Patchwork was asked first


def test_the_shapes_of_real_replies(repo, inbox, cli):
    """Three shapes of real mail (issue 28), through the real archive: a tag line indented
    by the mail client, a reply to the cover letter that kept its subject without 'Re:',
    and a tag whose address is a typo (told, never written)."""
    mbox = series(repo)
    (cover, cover_subject), (p1, p1_subject), (p2, p2_subject), _ = mails(mbox)
    kept = reply(
        cover, cover_subject, "On Tue, A U Thor wrote:\n> ...\n\nAcked-by: Mai Ntainer <mai@example.org>", "a1@x"
    )
    inbox.add(
        mbox,
        kept.replace(f"Subject: Re: {cover_subject}".encode(), f"Subject: {cover_subject}".encode()),
        reply(p1, p1_subject, "Looks right.\n\n Reviewed-by: " + REVIEWER, "r1@x"),
        reply(p2, p2_subject, "Reviewed-by: Rev Iewer <rev.example.org>", "r2@x"),
    )
    inbox.serve()
    repo.git("config", "pwapply.archive", inbox.url)
    result = cli(cover, cwd=repo.path)
    assert result.exit_code == 0, result.output
    log = repo.git("log", "--format=%B", f"{repo.base}..HEAD")
    assert log.count("Acked-by: Mai Ntainer <mai@example.org>") == 3  # every patch
    assert trailer_lines(repo, "HEAD~2")[1:3] == ["Reviewed-by: " + REVIEWER, "Acked-by: Mai Ntainer <mai@example.org>"]
    assert "rev.example.org" not in log
    assert (
        f"left out 'Reviewed-by: Rev Iewer <rev.example.org>' of Rev Iewer <rev@example.org> ({inbox.url}/r2@x/)"
        in (result.stderr)
    ), result.stderr


def test_no_patchwork_at_all_the_archive_alone(repo, inbox, cli):
    mbox = series(repo)
    inbox.add(mbox)
    inbox.serve()
    cover = mails(mbox)[0][0]
    repo.git("config", "pwapply.archive", inbox.url)
    result = cli(f"<{cover}>", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert len(repo.git("rev-list", f"{repo.base}..HEAD").split()) == 3


@pytest.mark.parametrize("page", ["", "T/", "t/", "t.mbox.gz", "raw", "T/#u"])
def test_an_archive_url_of_any_host_names_its_archive(repo, inbox, cli, page):
    mbox = series(repo)
    inbox.add(mbox)
    inbox.serve()
    p2 = mails(mbox)[2][0]
    result = cli(f"{inbox.url}/{p2}/{page}", "--json", cwd=repo.path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["archive"] == inbox.url and len(data["commits"]) == 3  # the series of the patch named


def test_a_reply_names_the_series_it_answers(repo, inbox, cli):
    mbox = series(repo)
    (_, _), (p1, s1), _, _ = mails(mbox)
    inbox.add(mbox, reply(p1, s1, "Looks good.\nReviewed-by: " + REVIEWER, "r1@example.org"))
    inbox.serve()
    result = cli("r1@example.org", "--archive", inbox.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert len(repo.git("rev-list", f"{repo.base}..HEAD").split()) == 3


# ------------------------------------------------------------------ versions and resends in one thread


def test_v2_in_reply_to_v1_two_versions_never_mixed(repo, inbox, cli):
    v1 = series(repo, 1, tag="one")
    v1_cover = mails(v1)[0][0]
    v2 = series(repo, 2, tag="two", extra=(f"--in-reply-to=<{v1_cover}>",), edits=[*EDITS[:2]])
    v2_cover = mails(v2)[0][0]
    inbox.add(v1, v2)
    inbox.serve()
    result = cli(v1_cover, "--archive", inbox.url, "--json", cwd=repo.path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == 1 and len(data["commits"]) == 3
    assert any(f"a newer version (v2) is in the thread: {inbox.url}/{v2_cover}/" in w for w in data["warnings"])
    result = cli(v2_cover, "--archive", inbox.url, "--json", "--base", repo.base, cwd=repo.path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["version"] == 2 and len(data["commits"]) == 2 and data["branch"] == "pw/improve-the-files-v2"
    assert data["warnings"] == []


def test_a_patch_sent_again_within_the_version_the_newest(repo, inbox, cli):
    mbox = series(repo)
    (cover, _), _, (p2, s2), _ = mails(mbox)
    from pwapply import mbox as m

    raw2 = next(raw for raw in m.split(mbox) if m.parse(raw).msgid == p2)
    again = (
        raw2.replace(f"<{p2}>".encode(), b"<again@example.org>", 1)
        .replace(b"line 10 of file 2, better", b"line 10 of file 2, better still")
        .replace(b"Date: Tue, 14 Nov 2023 22:13:20 +0000", b"Date: Thu, 16 Nov 2023 09:00:00 +0000")
    )
    assert b"again@example.org" in again and b"better still" in again
    inbox.add(mbox, again)
    inbox.serve()
    result = cli(cover, "--archive", inbox.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "better still" in (repo.path / "src" / "file2.c").read_text()
    assert trailer_lines(repo, "HEAD~1")[-1] == f"Link: {inbox.url}/again@example.org/"


def test_a_nacked_by_in_the_thread_is_told(repo, inbox, cli):
    mbox = series(repo)
    _, (p1, s1), _, _ = mails(mbox)
    inbox.add(mbox, reply(p1, s1, "No.\nNacked-by: Grumpy <g@example.org>", "n1@example.org"))
    inbox.serve()
    result = cli(p1, "--archive", inbox.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "Nacked-by: Grumpy <g@example.org> on patch 1/3, in the thread" in result.stderr
    assert "Nacked-by" not in repo.git("log", "--format=%B", f"{repo.base}..HEAD")


# ------------------------------------------------------------------ the gap, and tags from both


def test_a_patch_patchwork_lost_is_taken_from_the_archive(repo, pw, inbox, cli):
    mbox = series(repo)
    (cover, _), _, (p2, _), _ = mails(mbox)
    sid = pw.add_series("qemu-devel", without(mbox, 2), total=3)
    inbox.add(mbox)
    inbox.serve()
    before = repo.state()
    refused = cli(str(sid), "--server", pw.url, cwd=repo.path)  # no archive known: as before
    assert refused.exit_code == 2 and f"series {sid} is incomplete: 2 of 3" in refused.stderr
    assert repo.state() == before
    result = cli(str(sid), "--server", pw.url, "--archive", inbox.url, "--json", cwd=repo.path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["from_archive"] == [2] and data["series"] == sid and len(data["commits"]) == 3
    assert any("patch(es) 2 of 3 came from the archive" in n for n in data["notes"])
    assert trailer_lines(repo, "HEAD~1")[-1] == f"Link: {inbox.url}/{p2}/"
    assert trailer_lines(repo)[-1].startswith(f"Link: {pw.url}/project/qemu-devel/patch/")


def test_the_gap_from_the_archive_the_project_names(repo, pw, inbox, cli):
    """No archive configured: Patchwork's project says where its list is archived."""
    mbox = series(repo)
    inbox.add(mbox)
    inbox.serve()
    pw.add_project("qemu-devel", archive=inbox.url)
    sid = pw.add_series("qemu-devel", without(mbox, 3), total=3)
    result = cli(str(sid), "--server", pw.url, "--json", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["from_archive"] == [3]


def test_tags_from_patchwork_and_the_archive_are_merged_once(repo, pw, inbox, cli):
    mbox = series(repo)
    (cover, cs), (p1, s1), _, _ = mails(mbox)
    sid = pw.add_series("qemu-devel", mbox)
    pw.add_cover_reply(sid, "Tested-by: Tess Ter <tess@example.org>\n")
    inbox.add(
        mbox,
        reply(cover, cs, "Tested-by: Tess Ter <tess@example.org>", "t1@example.org"),
        reply(p1, s1, "Acked-by: Ann Acker <ann@example.org>", "a1@example.org"),
    )
    inbox.serve()
    result = cli(cover, "--server", pw.url, "--project", "qemu-devel", "--archive", inbox.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert trailer_lines(repo, "HEAD~2") == [
        "Signed-off-by: A U Thor <author@example.org>",
        "Acked-by: Ann Acker <ann@example.org>",
        "Tested-by: Tess Ter <tess@example.org>",
        f"Link: {pw.url}/project/qemu-devel/patch/{p1}/",
    ]


# ------------------------------------------------------------------ what goes wrong


def check(result, code: int, *texts: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "error: " in result.stderr and "hint: " in result.stderr, result.stderr
    for text in texts:
        assert text in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_neither_patchwork_nor_the_archive_has_it(repo, pw, inbox, cli):
    inbox.add(series(repo))
    inbox.serve()
    pw.add_project("qemu-devel")
    before = repo.state()
    result = cli(
        "nowhere@example.org", "--server", pw.url, "--project", "qemu-devel", "--archive", inbox.url, cwd=repo.path
    )
    check(result, 3, f"<nowhere@example.org> is not on Patchwork (project qemu-devel) nor in the archive ({inbox.url})")
    assert repo.state() == before


def test_a_thread_with_no_patch(repo, inbox, cli):
    inbox.add(
        b"From: A <a@example.org>\nSubject: A question\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n"
        b"Message-ID: <q@example.org>\n\nHow do I build this?\n"
    )
    inbox.serve()
    before = repo.state()
    check(
        cli("q@example.org", "--archive", inbox.url, cwd=repo.path), 2, "the thread of <q@example.org> holds no patch"
    )
    assert repo.state() == before


BROKEN = {
    "a web page": (
        200,
        b"<!DOCTYPE html><html><body>Welcome</body></html>",
        {"Content-Type": "text/html"},
        4,
        "sent a web page instead of the thread",
    ),
    "a cut gzip": (
        200,
        gzip.compress(b"From x\n" + random.Random(1).randbytes(20000))[:2000],
        {"Content-Type": "application/gzip"},
        4,
        "is cut short",
    ),
    "a corrupt gzip": (200, b"\x1f\x8b" + b"\x00" * 100, {"Content-Type": "application/gzip"}, 4, "is corrupt"),
    "too large once inflated": (
        200,
        gzip.compress(b"From x\n" + b"a" * (3 * 1024 * 1024)),
        {},
        4,
        "over the 1.0 MiB limit",
    ),
    "a server error": (503, b"down", {}, 4, "answered HTTP 503"),
    "neither mbox nor gzip": (200, b"hello", {"Content-Type": "text/plain"}, 4, "neither an mbox nor gzip"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_an_archive_that_answers_badly(repo, pw, cli, case, mocker):
    mocker.patch("pwapply.net.transport.time.sleep")  # the retries' backoff
    status, body, headers, code, text = BROKEN[case]
    pw.fault(r"^/inbox/", status=status, body=body, headers=headers)
    before = repo.state()
    result = cli("m@example.org", "--archive", f"{pw.url}/inbox", "--max-mbox-size", "1", cwd=repo.path)
    check(result, code, text)
    assert repo.state() == before


def test_an_archive_that_is_down(repo, cli, tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    before = repo.state()
    check(
        cli("m@example.org", "--archive", f"http://127.0.0.1:{port}/x", cwd=repo.path), 4, "cannot connect to 127.0.0.1"
    )
    assert repo.state() == before


def test_the_archive_down_with_patchwork_up_names_the_archive(repo, pw, cli):
    """A Message-ID Patchwork does not know, the archive down: the error says the archive
    failed, where it is, and how to go without it; not 'check the server URL'."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    pw.add_project("qemu-devel")
    archive = f"http://127.0.0.1:{port}/qemu-devel"
    before = repo.state()
    result = cli("m@example.org", "--server", pw.url, "--project", "qemu-devel", "--archive", archive, cwd=repo.path)
    check(result, 4, "cannot connect to 127.0.0.1: ")
    assert f"(the archive at {archive})" in result.stderr
    assert "hint: check the archive's URL (pwapply config), or go without it (--archive none)" in result.stderr
    assert "check the server URL" not in result.stderr
    assert repo.state() == before


def test_a_patchwork_that_is_down_is_named_as_patchwork(repo, cli):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    result = cli("5", "--server", f"http://127.0.0.1:{port}", cwd=repo.path)
    check(result, 4, "cannot connect to 127.0.0.1: ")
    assert f"(Patchwork at http://127.0.0.1:{port})" in result.stderr and "check the server URL" in result.stderr


def test_an_archive_that_never_answers_is_bounded_by_timeout(repo, pw, cli):
    pw.fault(r"^/inbox/", status=200, stall=60.0)
    before = repo.state()
    result = cli("m@example.org", "--archive", f"{pw.url}/inbox", "--timeout", "1", cwd=repo.path)
    check(result, 4, "did not answer within 1 s")
    assert repo.state() == before


# ------------------------------------------------------------------ where the archive is


def test_config_shows_the_archive_and_where_it_came_from(repo, cli):
    repo.git("remote", "add", "origin", "https://gitlab.com/qemu-project/qemu.git")
    result = cli("config", cwd=repo.path)
    assert re.search(
        r"archive\s+https://lore.kernel.org/qemu-devel\s+\(known project \(qemu-devel\)\)", result.stdout
    ), result.stdout
    (repo.path / ".b4-config").write_text("[b4]\n\tmidmask = https://lore.example.org/qemu/%s\n")
    result = cli("config", cwd=repo.path)
    assert re.search(r"archive\s+https://lore.example.org/qemu\s+\(\.b4-config b4\.midmask\)", result.stdout), (
        result.stdout
    )
    repo.git("config", "pwapply.archive", "https://inbox.example.org/list/")
    result = cli("config", cwd=repo.path)
    assert re.search(r"archive\s+https://inbox.example.org/list\s+\(git config pwapply.archive\)", result.stdout), (
        result.stdout
    )


def test_pwapply_check_lets_a_push_of_an_archive_series_go(repo, pw, inbox, cli):
    """The pre-push check does not judge archive series yet (its Link names no Patchwork):
    it must not refuse the push nor fail on them."""
    mbox = series(repo)
    inbox.add(mbox)
    inbox.serve()
    pw.add_project("qemu-devel")
    cover = mails(mbox)[0][0]
    repo.git("config", "pwapply.server", pw.url)
    repo.git("config", "pwapply.project", "qemu-devel")
    assert cli(cover, "--archive", inbox.url, cwd=repo.path).exit_code == 0
    result = cli("check", f"{repo.base}..HEAD", cwd=repo.path)
    assert result.exit_code == 0, result.output


def test_an_archive_that_never_answers_costs_a_series_patchwork_has_nothing_but_a_note(repo, pw, cli):
    """The thread is asked beside Patchwork and waited for only when the trailers are
    written: an archive that never answers leaves the apply to Patchwork, with a note,
    within --timeout."""
    mbox = series(repo)
    cover = mails(mbox)[0][0]
    pw.add_series("qemu-devel", mbox)
    pw.fault(r"^/inbox/", status=200, stall=60.0)
    result = cli(
        cover,
        "--server",
        pw.url,
        "--project",
        "qemu-devel",
        "--archive",
        f"{pw.url}/inbox",
        "--timeout",
        "4",  # the archive's wait; Patchwork's answers, on loopback, come well within it
        cwd=repo.path,
    )
    assert result.exit_code == 0, result.output
    assert "could not add the review tags Patchwork did not see" in result.stderr
    assert len(repo.git("rev-list", f"{repo.base}..HEAD").split()) == 3


def test_the_archive_can_be_turned_off(repo, pw, cli):
    repo.git("remote", "add", "origin", "https://gitlab.com/qemu-project/qemu.git")  # a known archive
    repo.git("config", "pwapply.archive", "none")
    shown = cli("config", cwd=repo.path)
    assert re.search(r"archive\s+-\s+\(git config pwapply.archive\)", shown.stdout), shown.stdout
    mbox = series(repo)
    pw.add_series("qemu-devel", mbox)
    result = cli(mails(mbox)[0][0], "--server", pw.url, "--project", "qemu-devel", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "archive" not in result.stderr


@pytest.mark.parametrize("at", ["wait thread", "before git update-ref"])
def test_an_interrupt_of_an_archive_apply_has_the_two_outcomes(repo, inbox, at):
    """The same commit point as any apply: before it, nothing changed (exit 130); from it
    on, the run completes."""
    import os
    import subprocess
    import sys

    mbox = series(repo)
    inbox.add(mbox)
    inbox.serve()
    before = repo.state()
    proc = subprocess.run(
        [sys.executable, "-m", "pwapply", mails(mbox)[0][0], "--archive", inbox.url],
        cwd=repo.path,
        env=dict(os.environ, PWAPPLY_TEST_SIGNAL=f"{at}@int"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in proc.stderr
    if at == "wait thread":
        assert proc.returncode == 130, proc.stderr
        assert "interrupted: nothing was changed in your repository" in proc.stderr
        assert repo.state() == before
    else:
        assert proc.returncode == 0, proc.stderr
        assert "pwapply finished the job" in proc.stderr
        assert len(repo.git("rev-list", f"{repo.base}..HEAD").split()) == 3


def test_a_base_no_source_has_is_refused_and_no_deps_applies_alone(repo, inbox, cli):
    mbox = series(repo)
    based = mbox.replace(
        b"This series improves the files.", b"This series improves the files.\n\nBased-on: <base@x.org>"
    )
    assert based != mbox
    inbox.add(based)
    inbox.serve()
    before = repo.state()
    result = cli(mails(based)[0][0], "--archive", inbox.url, cwd=repo.path)
    check(
        result,
        3,
        f"Based-on: <base@x.org> (the cover letter of the series) names a mail the archive ({inbox.url}) does not have",
        "--no-deps",
    )
    assert repo.state() == before
    alone = cli(mails(based)[0][0], "--archive", inbox.url, "--no-deps", cwd=repo.path)
    assert alone.exit_code == 0, alone.output


EDITS_ON_TOP = [
    ("src/file4.c", "line 7 of file 4\n", "line 7 of file 4, shorter\n", "file4: Shorten line 7"),
    ("src/file5.c", "line 9 of file 5\n", "line 9 of file 5, clearer\n", "file5: Clarify line 9"),
]


def based_on_in_the_archive(repo: Repo, inbox) -> Tuple[str, str, bytes]:
    """A series whose cover letter says Based-on: another, both in the archive (served):
    (the base's cover Message-ID, the base's tip, the series' mbox)."""
    base_mbox, tip = repo.series_at(EDITS, tag="base")
    base_cover = mails(base_mbox)[0][0]
    top, _ = repo.series_at(
        EDITS_ON_TOP, cover_subject="Tidy on top", blurb=f"Tidy.\n\nBased-on: <{base_cover}>", base=tip, tag="top"
    )
    inbox.add(base_mbox, top)
    inbox.serve()
    return base_cover, tip, top


@pytest.mark.parametrize("patchwork", [False, True])
def test_what_an_archive_series_is_based_on_comes_from_the_archive(repo, inbox, pw, cli, patchwork):
    """QEMU's Based-on: <msgid> in the cover letter, the base only in the archive: applied
    first, from the archive (Patchwork, when there, is asked first and does not know it)."""
    _, _, top = based_on_in_the_archive(repo, inbox)
    args = ["--archive", inbox.url, "--json"]
    if patchwork:
        pw.add_project("qemu-devel")
        args += ["--server", pw.url, "--project", "qemu-devel"]
    result = cli(mails(top)[0][0], *args, cwd=repo.path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(c["series"], c["patches"], c["applied"]) for c in data["chain"]] == [(None, 3, True), (None, 2, True)]
    assert len(data["commits"]) == 5 and data["branch"] == "pw/tidy-on-top-v1"
    assert "2 series: v1 from the archive (3 patches) -> v1 from the archive (2 patches)" in result.stderr


def test_a_base_of_an_archive_series_already_in_the_base_is_not_applied_again(repo, inbox, cli):
    base_cover, tip, top = based_on_in_the_archive(repo, inbox)
    repo.git("merge", "-q", "--ff-only", tip)  # the base is merged already
    result = cli(mails(top)[0][0], "--archive", inbox.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert f"Based-on: <{base_cover}>: v1 of 'Improve the files': already in the base" in result.stderr
    assert len(repo.git("rev-list", f"{tip}..HEAD").split()) == 2


def test_an_archive_series_missing_a_patch_is_refused_as_incomplete(repo, inbox, cli):
    mbox = series(repo)
    inbox.add(without(mbox, 2))
    inbox.serve()
    before = repo.state()
    result = cli(mails(mbox)[0][0], "--archive", inbox.url, cwd=repo.path)
    check(result, 2, "the archive's thread is missing patch(es) 2 of 3 of v1", "--allow-incomplete")
    assert repo.state() == before


def test_a_bad_archive_url_in_git_config(repo, cli):
    repo.git("config", "pwapply.archive", "https://exa mple.org/list")
    result = cli("m@example.org", cwd=repo.path)
    check(result, 2, "invalid archive URL (git config pwapply.archive)", "lore.kernel.org/qemu-devel")


def test_a_url_that_names_no_message(repo, cli):
    result = cli("https://inbox.example.org/qemu-devel/", cwd=repo.path)
    check(result, 2, "not a Patchwork, lore or public-inbox archive URL")


def test_versions_on_patchwork_with_the_archive_down_says_so_and_lists_patchworks(repo, pw, cli):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    sid = pw.add_series("qemu-devel", series(repo))
    result = cli("versions", str(sid), "--server", pw.url, "--archive", f"http://127.0.0.1:{port}/x", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert f"note: the archive (http://127.0.0.1:{port}/x) could not be asked: cannot connect" in result.stderr
    assert f"*        {sid}  v1" in result.stdout
