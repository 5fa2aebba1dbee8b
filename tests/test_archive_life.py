"""A branch applied from the list's archive, over its life: `pwapply status`, `update` and
`check` ask the archive (its thread, and its sender's later mail) as they ask Patchwork
for its series: tags given since, a Nacked-by, a newer version (a new thread, a reply to
v1, a rename).  Against a real public-inbox (tests/public_inbox.py)."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

import pytest

from conftest import EDITS, IDENT, Repo
from pwapply.mbox import parse, split
from test_archive import mails, reply

RENAMED = "Polish the files"


@pytest.fixture(autouse=True)
def one_sender(monkeypatch):
    """Mail as git send-email posts it: the cover letter and the patches From: the one
    who sends them (format-patch alone gives the cover letter the committer's name)."""
    monkeypatch.setenv("GIT_COMMITTER_NAME", IDENT["GIT_AUTHOR_NAME"])
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", IDENT["GIT_AUTHOR_EMAIL"])


def post(repo: Repo, inbox, version: int, *, subject: str = "Improve the files", to: str = "", tag: str = "") -> str:
    """Post a version of the series to the archive (on the repository's base); its cover
    letter's Message-ID."""
    mbox, _ = repo.series_at(
        EDITS if version == 1 else [*EDITS[:2]],
        version=version,
        cover_subject=subject,
        base=repo.base,
        tag=tag or f"v{version}",
        extra=[f"--in-reply-to=<{to}>"] if to else [],
    )
    inbox.add(mbox)
    return mails(mbox)[0][0]


@pytest.fixture
def applied(repo, inbox, cli) -> Tuple[str, str, List[Tuple[str, str]]]:
    """v1 applied from the archive (no Patchwork at all): (cover, branch, its mails)."""
    mbox, _ = repo.series_at(EDITS, tag="v1")
    inbox.add(mbox)
    inbox.serve()
    repo.git("config", "pwapply.archive", inbox.url)
    cover = mails(mbox)[0][0]
    result = cli(cover, cwd=repo.path)
    assert result.exit_code == 0, result.output
    return cover, repo.git("symbolic-ref", "--short", "HEAD").strip(), mails(mbox)


def status(cli, repo) -> Dict[str, Any]:
    result = cli("status", "--json", cwd=repo.path)
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    return dict(row)


def test_the_branch_is_recorded_as_the_archives(applied, repo, cli, inbox):
    cover, branch, _ = applied
    row = status(cli, repo)
    assert row["branch"] == branch and row["series"] is None and row["server"] == inbox.url and row["asked"]
    assert row["newer"] is None and row["tags"] == []
    assert f"{branch}  v1 from the archive, 3 commits: up to date" in cli("status", cwd=repo.path).stdout


def test_a_tag_given_since_is_shown_and_added(applied, repo, cli, inbox):
    cover, branch, sent = applied
    (p1, s1) = sent[1]
    inbox.add(reply(p1, s1, "Reviewed-by: Late Reviewer <late@example.org>", "late@example.org"))
    row = status(cli, repo)
    assert [t["tag"] for t in row["tags"]] == ["Reviewed-by: Late Reviewer <late@example.org>"]
    updated = cli("update", cwd=repo.path)
    assert updated.exit_code == 0, updated.output
    assert "Reviewed-by: Late Reviewer <late@example.org>" in repo.git("log", "-1", "--format=%B", f"{branch}~2")
    assert status(cli, repo)["tags"] == []


@pytest.mark.parametrize("how", ["a new thread", "a reply to v1", "renamed"])
def test_a_newer_version_is_found(applied, repo, cli, inbox, how):
    cover, branch, _ = applied
    subject = RENAMED if how == "renamed" else "Improve the files"
    v2 = post(repo, inbox, 2, subject=subject, to=cover if how == "a reply to v1" else "")
    row = status(cli, repo)
    assert row["newer"] == {"series": None, "version": 2, "page": f"{inbox.url}/{v2}/"}, row
    checked = cli("check", f"{repo.base}..HEAD", cwd=repo.path)
    assert checked.exit_code == 1, checked.output
    assert f"superseded by v2 ({inbox.url}/{v2}/); apply the new version: pwapply {inbox.url}/{v2}/" in (checked.stderr)
    latest = cli("update", "--to-latest", cwd=repo.path)
    assert latest.exit_code == 0, latest.output
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() != branch
    assert len(repo.git("rev-list", f"{repo.base}..HEAD").split()) == 2  # v2 has two patches


def test_another_series_of_the_same_sender_is_no_newer_version(applied, repo, cli, inbox):
    """The same sender's v2 of another series (another name, other patches) is not this
    series' v2."""
    other = [
        ("src/file4.c", "line 7 of file 4\n", "line 7 of file 4, shorter\n", "file4: Shorten line 7"),
        ("src/file5.c", "line 9 of file 5\n", "line 9 of file 5, clearer\n", "file5: Clarify line 9"),
    ]
    mbox, _ = repo.series_at(other, version=2, cover_subject="Tidy files 4 and 5", base=repo.base, tag="other")
    inbox.add(mbox)
    assert status(cli, repo)["newer"] is None


def test_a_nack_in_the_thread_refuses_the_push(applied, repo, cli, inbox):
    cover, branch, sent = applied
    (p2, s2) = sent[2]
    inbox.add(reply(p2, s2, "Nacked-by: Grumpy <g@example.org>", "nack@example.org"))
    checked = cli("check", f"{repo.base}..HEAD", cwd=repo.path)
    assert checked.exit_code == 1, checked.output
    assert "was nacked on the list (Grumpy <g@example.org>)" in checked.stderr


def test_status_with_the_archive_down_says_what_git_knows(applied, repo, cli, inbox):
    inbox.close()
    result = cli("status", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "could not ask 127.0.0.1" in result.stderr and "what is shown is what git knows" in result.stderr


@pytest.mark.parametrize("how", ["a new thread", "a reply to v1", "renamed"])
def test_versions_of_a_series_only_the_archive_has(applied, repo, cli, inbox, how):
    cover, _, _ = applied
    subject = RENAMED if how == "renamed" else "Improve the files"
    v2 = post(repo, inbox, 2, subject=subject, to=cover if how == "a reply to v1" else "")
    for named, current in ((cover, 1), (v2, 2)):
        result = cli("versions", named, "--json", cwd=repo.path)
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert [(r["version"], r["id"], r["current"]) for r in rows] == [
            (1, None, current == 1),
            (2, None, current == 2),
        ]
        assert rows[1]["web_url"] == f"{inbox.url}/{v2}/" and rows[0]["web_url"] == f"{inbox.url}/{cover}/"
    shown = cli("versions", cover, cwd=repo.path).stdout
    assert "v2   " in shown and f"{inbox.url}/{v2}/" in shown


def test_diff_of_a_series_only_the_archive_has(applied, repo, cli, inbox, capfd):
    cover, _, _ = applied
    v2 = post(repo, inbox, 2)  # its first two patches again: the third is gone
    before = repo.state()
    result = cli("diff", v2, "--no-pager", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "with v2 (" in result.stderr and "patches): Improve the files" in result.stderr  # one wording, any source
    shown = capfd.readouterr().out.splitlines()
    assert [line.split()[2] for line in shown if line[:1].isdigit() or line.startswith("-:")] == ["=", "=", "<"], shown
    assert repo.state() == before  # nothing of the user's touched


def test_diff_with_the_archive_down_exits_4(applied, repo, cli, inbox):
    cover, _, _ = applied
    inbox.close()
    before = repo.state()
    result = cli("diff", cover, "--no-pager", cwd=repo.path)
    assert result.exit_code == 4, result.output
    assert "error: cannot connect to 127.0.0.1" in result.stderr
    assert repo.state() == before


def test_a_commit_whose_link_names_only_the_archive_is_looked_up_there(repo, inbox, pw, cli):
    """Applied by another tool (its Link to the archive, nothing recorded), Patchwork not
    knowing it: the check asks the archive the Link names, and finds the Nacked-by."""
    mbox, _ = repo.series_at(EDITS, tag="elsewhere")
    sent = mails(mbox)
    inbox.add(mbox, reply(sent[1][0], sent[1][1], "Nacked-by: Grumpy <g@example.org>", "n@example.org"))
    inbox.serve()
    pw.add_project("qemu-devel")
    repo.git("config", "pwapply.server", pw.url)
    repo.git("config", "pwapply.project", "qemu-devel")
    repo.git("checkout", "-q", "-b", "by-hand")
    patches = {m.msgid: raw for raw in split(mbox) for m in [parse(raw)]}
    for msgid, _ in sent[1:]:
        repo.git("am", "-q", input=patches[msgid])
        message = repo.git("log", "-1", "--format=%B").strip() + f"\nLink: {inbox.url}/{msgid}/\n"
        repo.git("commit", "-q", "--amend", "-m", message)
    checked = cli("check", f"{repo.base}..HEAD", cwd=repo.path)
    assert checked.exit_code == 1, checked.output
    assert "was nacked on the list (Grumpy <g@example.org>)" in checked.stderr
    assert pw.count("msgid=") >= 1  # Patchwork was asked first


def test_versions_on_both_are_one_list(repo, inbox, pw, cli):
    """v1 on Patchwork and in the archive, v2 in the archive only (Patchwork lost it):
    one list, v1 as Patchwork has it, v2 from the archive."""
    mbox, _ = repo.series_at(EDITS, tag="v1")
    v1 = pw.add_series("qemu-devel", mbox)
    inbox.add(mbox)
    v2 = post(repo, inbox, 2)
    inbox.serve()
    args = ["--server", pw.url, "--project", "qemu-devel", "--archive", inbox.url, "--json"]
    for named in (str(v1), mails(mbox)[0][0]):
        result = cli("versions", named, *args, cwd=repo.path)
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert [(r["version"], r["id"], r["current"]) for r in rows] == [(1, v1, True), (2, None, False)]
        assert rows[1]["web_url"] == f"{inbox.url}/{v2}/"


@pytest.mark.parametrize(
    "against,code,says",
    [
        ("v9", 3, "no v9 of 'Improve the files' in the archive (versions: v1)"),
        ("12345", 2, "--against 12345: a series of the archive is compared with another version by number"),
        (None, 3, "found no earlier version of 'Improve the files' (v1) in the archive"),
    ],
)
def test_diff_of_an_archive_series_with_nothing_to_compare(applied, repo, cli, against, code, says):
    cover, _, _ = applied
    before = repo.state()
    result = cli("diff", cover, "--no-pager", *(["--against", against] if against else []), cwd=repo.path)
    assert result.exit_code == code, result.output
    assert f"error: {says}" in result.stderr and "hint: " in result.stderr
    assert repo.state() == before


def test_versions_of_a_message_id_no_source_has(applied, repo, cli, inbox):
    result = cli("versions", "nowhere@example.org", cwd=repo.path)
    assert result.exit_code == 3, result.output
    assert f"error: <nowhere@example.org> is not in the archive ({inbox.url})" in result.stderr
