"""Every expected failure: a one-line error, a hint, the documented exit code, no
traceback, and the repository as it was."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import EDITS, msgids


@pytest.fixture
def sid(repo, pw):
    return pw.add_series("qemu-devel", repo.series(EDITS, version=2))


def check(result, code, message):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert any(line.startswith("hint: ") for line in lines), result.stderr
    assert "Traceback" not in result.output


def test_series_not_found_exits_3(repo, pw, cli):
    before = repo.state()
    check(cli("999999", "--server", pw.url, cwd=repo.path), 3, "series 999999 not found")
    assert repo.state() == before


def test_message_id_not_found_exits_3(repo, pw, cli, sid):
    check(cli("nobody@example.org", "--server", pw.url, cwd=repo.path), 3, "no patch or cover letter with Message-ID")


def test_server_unreachable_exits_4(repo, cli):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    before = repo.state()
    check(cli("1", "--server", f"http://127.0.0.1:{port}", cwd=repo.path), 4, "cannot connect to 127.0.0.1")
    assert repo.state() == before


def test_timeout_exits_4(repo, pw, cli, sid):
    pw.fault(r"^/api/", status=200, delay=3.0, times=1)
    check(cli(str(sid), "--server", pw.url, "--timeout", "0.5", cwd=repo.path), 4, "did not answer within 0.5 s")


def test_5xx_is_retried_with_backoff(repo, pw, cli, sid, mocker):
    sleeps = mocker.patch("pwapply.net.transport.time.sleep")
    pw.fault(r"^/api/series/", status=503, times=2, headers={"Retry-After": "1"})
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert [c.args[0] for c in sleeps.call_args_list] == [1.0, 1.0]


def test_5xx_that_persists_exits_4(repo, pw, cli, sid, mocker):
    mocker.patch("pwapply.net.transport.time.sleep")
    pw.fault(r"^/api/series/", status=500)
    before = repo.state()
    check(cli(str(sid), "--server", pw.url, cwd=repo.path), 4, "answered HTTP 500")
    assert repo.state() == before


def test_not_json_exits_4(repo, pw, cli, sid):
    pw.fault(r"^/api/series/", status=200, body=b"<html>hello</html>", headers={"Content-Type": "text/html"})
    check(cli(str(sid), "--server", pw.url, cwd=repo.path), 4, "is this a Patchwork server?")


def test_json_of_the_wrong_shape_exits_4(repo, pw, cli, sid):
    pw.fault(r"^/api/series/", status=200, body=b'{"id": "x"}', headers={"Content-Type": "application/json"})
    check(cli(str(sid), "--server", pw.url, cwd=repo.path), 4, "not shaped like Patchwork's")


def test_server_without_api_1_2_exits_4(repo, pw, cli, sid):
    pw.versions = ("1.0", "1.1")
    check(cli(str(sid), "--server", pw.url, cwd=repo.path), 4, "has no Patchwork API 1.2")


def test_old_api_ignoring_msgid_filter_is_caught(repo, pw, cli, sid):
    # Two series so that an ignored filter returns more than the one patch asked for.
    pw.add_series("qemu-devel", repo.series(EDITS[:1], version=1, cover=False))
    pw.fault(
        r"msgid=", handler=None, status=200, headers={"Content-Type": "application/json"}, body=b""
    )  # placeholder, replaced below
    pw.faults.clear()

    import json as _json

    def ignore_filter(handler):
        items = [pw.mail_json(m, "1.2/") for (k, _), m in sorted(pw.mails.items()) if k == "patch"]
        handler._json(items)
        return True

    pw.fault(r"^/api/1.2/(patches|covers)/\?msgid=", handler=ignore_filter)
    check(cli("not-there@example.org", "--server", pw.url, cwd=repo.path), 4, "ignored the Message-ID filter")
    assert _json  # keep the import honest


@pytest.mark.parametrize("arg", ["hello", "http://example.org/some/page", "ftp://x/y", "1 2"])
def test_bad_input_exits_2(repo, cli, arg):
    before = repo.state()
    result = cli(arg, cwd=repo.path)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert repo.state() == before


def test_missing_file_exits_2(repo, cli):
    check(cli("./nope.mbox", cwd=repo.path), 2, "no such file: ./nope.mbox")


def test_not_a_git_repository_exits_2(tmp_path, cli):
    d = tmp_path / "plain"
    d.mkdir()
    check(cli("1", "--server", "http://127.0.0.1:9", cwd=d), 2, "not inside a git repository")


def test_no_server_configured_exits_2_with_the_config_line(repo, cli):
    result = cli("500889", cwd=repo.path)
    check(result, 2, "no Patchwork server configured")
    assert "git config pwapply.server" in result.stderr


def test_dirty_tree_exits_5_before_any_request(repo, pw, cli, sid):
    repo.write("README", "changed\n")
    before = repo.state()
    pw.reset()
    check(cli(str(sid), "--server", pw.url, cwd=repo.path), 5, "tracked files have changes: README")
    assert pw.count() == 0
    assert repo.state() == before


def test_dirty_tree_is_told_before_a_bad_base_or_branch(repo, pw, cli, sid):
    """git status runs while the base is looked up, the scratch worktree made and the
    branch name checked: its verdict still comes first, and the scratch goes."""
    repo.write("README", "changed\n")
    repo.git("branch", "taken")
    before = repo.state()
    check(cli(str(sid), "--server", pw.url, "--base", "no-such-ref", cwd=repo.path), 5, "tracked files have changes")
    for bad in ("bad..name", "taken"):
        check(cli(str(sid), "--server", pw.url, "-b", bad, cwd=repo.path), 5, "tracked files have changes")
    check(cli(str(sid), "--server", pw.url, "--base", "HEAD", cwd=repo.path), 5, "tracked files have changes")
    assert pw.count() == 0
    assert repo.state() == before


def test_unknown_committer_is_told_as_such_not_as_a_patch_that_failed(repo, pw, cli, sid, monkeypatch):
    for name in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(name)
    repo.git("config", "user.useConfigOnly", "true")  # no guessing from the host name
    before = repo.state()
    for extra in ([], ["--resolve"]):
        result = cli(str(sid), "--server", pw.url, *extra, cwd=repo.path)
        check(result, 2, "git am cannot commit: git does not know who you are")
        assert "did not apply" not in result.stderr and "git config --global user.email" in result.stderr
        assert repo.state() == before


def test_a_missing_object_in_the_base_exits_5_and_changes_nothing(repo, pw, cli, sid):
    """The scratch worktree cannot be made (its read-tree needs the blob of a top-level
    file, and it is gone): one line naming the git command, the repository as it was."""
    blob = repo.git("rev-parse", "HEAD:README").strip()
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    check(result, 5, "git read-tree failed: ")
    assert blob in result.stderr.splitlines()[0] and "-v to see the git command" in result.stderr
    assert repo.state() == before
    verbose = cli(str(sid), "--server", pw.url, "-v", cwd=repo.path)
    assert verbose.exit_code == 5 and "\n$ git -c core.splitIndex=true" in verbose.stderr
    assert repo.state() == before


def test_untracked_files_are_fine(repo, pw, cli, sid):
    repo.write("notes.txt", "mine\n")
    assert cli(str(sid), "--server", pw.url, cwd=repo.path).exit_code == 0
    assert (repo.path / "notes.txt").read_text() == "mine\n"


def test_operation_in_progress_exits_5(repo, pw, cli, sid):
    repo.git("checkout", "-q", "-b", "side")
    repo.edit_line("README", "A project.\n", "Side.\n")
    repo.commit("side")
    repo.git("checkout", "-q", "main")
    repo.edit_line("README", "A project.\n", "Main.\n")
    repo.commit("main")
    repo.git("merge", "side", check=False)
    repo.git("add", "README")  # resolved but not committed: still merging
    check(cli(str(sid), "--server", pw.url, cwd=repo.path), 5, "a merge is in progress")


def test_incomplete_series_exits_2_unless_allowed(repo, pw, cli):
    mbox = repo.series(EDITS, version=1)
    # Drop patch 2/3 from what reached the server.
    from pwapply import mbox as mboxmod

    mails = mboxmod.split(mbox)
    sid = pw.add_series("qemu-devel", b"".join(m for i, m in enumerate(mails) if i != 2), total=3)
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    check(result, 2, "is incomplete: 2 of 3 patches")
    assert "--allow-incomplete" in result.stderr
    assert repo.state() == before
    assert cli(str(sid), "--server", pw.url, "--allow-incomplete", cwd=repo.path).exit_code == 0


def test_mbox_without_patches_exits_2(repo, cli, tmp_path):
    p = tmp_path / "pull.mbox"
    p.write_bytes(
        b"From x Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\nSubject: [GIT PULL] stuff\n"
        b"Message-ID: <pull@example.org>\n\nPlease pull.\n"
    )
    check(cli(str(p), cwd=repo.path), 2, "the mbox holds no patch")


def test_bad_patch_range_exits_2(repo, pw, cli, sid):
    check(cli(str(sid), "--server", pw.url, "--patches", "2-9", cwd=repo.path), 2, "outside this series of 3")


def test_bad_branch_name_exits_2(repo, pw, cli, sid):
    check(cli(str(sid), "--server", pw.url, "-b", "bad..name", cwd=repo.path), 2, "is not a valid branch name")


def test_bad_base_exits_2(repo, pw, cli, sid):
    check(cli(str(sid), "--server", pw.url, "--base", "no-such-ref", cwd=repo.path), 2, "--base 'no-such-ref'")


def test_checked_out_branch_is_not_forced(repo, pw, cli, sid):
    repo.git("checkout", "-q", "-b", "pw/improve-the-files-v2")
    check(cli(str(sid), "--server", pw.url, "--force", cwd=repo.path), 5, "is checked out")


def test_server_values_cannot_inject_trailers_or_break_the_branch(repo, pw, cli):
    mbox = repo.series(EDITS[:1], version=1)
    sid = pw.add_series("qemu-devel", mbox, name="Evil\nSigned-off-by: Mallory <m@evil>\n../../x")
    pw.add_cover_reply(sid, "Tested-by: Tess\rReviewed-by: Mallory <m@evil>\n")
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    branch = repo.git("symbolic-ref", "--short", "HEAD").strip()
    assert branch == "pw/evil-signed-off-by-mallory-m-evil-x-v1"
    msg = repo.git("log", "-1", "--format=%B")
    assert "\nReviewed-by: Mallory" not in msg and "\nSigned-off-by: Mallory" not in msg


def test_token_is_sent_to_loopback_and_never_printed(repo, pw, cli, sid):
    result = cli(str(sid), "--server", pw.url, "-v", cwd=repo.path, env={"PWAPPLY_TOKEN": "s3cret-token"})
    assert result.exit_code == 0, result.output
    assert all(h.get("authorization") == "Token s3cret-token" for _, _, h in pw.requests)
    assert "s3cret-token" not in result.output
    assert "GET " in result.stderr  # -v shows the requests


def test_token_is_not_given_to_the_server_of_a_pasted_url(repo, pw, cli, sid):
    repo.git("config", "pwapply.server", "https://patchwork.example.org")
    repo.git("config", "pwapply.token", "for-example-org")
    result = cli(f"{pw.url}/api/series/{sid}/", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert all("authorization" not in h for _, _, h in pw.requests)


def test_no_traceback_from_the_real_entry_point(repo, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pwapply", "999999", "--server", "http://127.0.0.1:9"],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: cannot connect to 127.0.0.1")


def test_msgids_helper():
    assert msgids(b"Message-ID: <a@b>\nMessage-Id: <c@d>\n") == ["a@b", "c@d"]


def test_unborn_branch_needs_a_base(tmp_path, cli, pw):
    from conftest import git

    d = tmp_path / "empty"
    d.mkdir()
    git(d, "init", "-q")
    check(cli("1", "--server", pw.url, cwd=d), 5, "HEAD has no commit yet")


def test_mbox_over_the_size_cap_exits_4(repo, pw, cli, sid):
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, "--max-mbox-size", "0.001", cwd=repo.path)
    check(result, 4, "over the 1 KiB limit")
    assert "--max-mbox-size" in result.stderr
    assert repo.state() == before


def test_tls_certificates_are_verified(repo, cli, tls_pw, monkeypatch):
    pw, ca_file = tls_pw
    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    assert pw.url.startswith("https://")
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    check(result, 4, "TLS certificate of 127.0.0.1 is not trusted")
    assert "--ca-bundle" in result.stderr
    assert repo.state() == before
    assert cli(str(sid), "--server", pw.url, "--ca-bundle", str(ca_file), "-b", "a", cwd=repo.path).exit_code == 0
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    assert cli(str(sid), "--server", pw.url, "-b", "b", "--no-checkout", cwd=repo.path).exit_code == 0


def test_token_goes_over_https_to_any_host_that_is_trusted(repo, cli, tls_pw):
    pw, ca_file = tls_pw
    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    result = cli(
        str(sid), "--server", pw.url, "--ca-bundle", str(ca_file), cwd=repo.path, env={"PWAPPLY_TOKEN": "tls-token"}
    )
    assert result.exit_code == 0, result.output
    assert all(h.get("authorization") == "Token tls-token" for _, _, h in pw.requests)


def test_unreadable_ca_bundle_exits_4(repo, cli, tls_pw, tmp_path):
    pw, _ = tls_pw
    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    check(
        cli(str(sid), "--server", pw.url, "--ca-bundle", str(tmp_path / "nope.pem"), cwd=repo.path),
        4,
        "cannot read the CA bundle",
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (["--no-branch", "-b", "x"], "--no-branch cannot be combined with --branch"),
        (["--no-branch", "--base", "HEAD"], "--no-branch cannot be combined with --base"),
        (["--resolve", "--no-checkout"], "--resolve needs the branch checked out"),
        (["--timeout", "0"], "--timeout must be more than 0"),
        (["--timeout", "nan"], "--timeout must be more than 0"),
        (["--max-mbox-size", "0"], "--max-mbox-size must be more than 0"),
        (["--max-mbox-size", "nan"], "--max-mbox-size must be more than 0"),
        (["--link-format", "{nope}"], "bad link format"),
    ],
)
def test_conflicting_or_bad_options_exit_2(repo, pw, cli, sid, args, message):
    before = repo.state()
    check(cli(str(sid), "--server", pw.url, *args, cwd=repo.path), 2, message)
    assert repo.state() == before


@pytest.mark.parametrize("command", [["versions", "1"], ["diff", "1"], ["check"]])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_every_command_refuses_a_timeout_that_is_not_a_length_of_time(repo, pw, cli, command, value):
    before = repo.state()
    check(cli(*command, "--server", pw.url, "--timeout", value, cwd=repo.path), 2, "--timeout must be more than 0")
    assert pw.count() == 0
    assert repo.state() == before


def test_bad_branch_format_exits_2(repo, pw, cli, sid):
    repo.git("config", "pwapply.branchFormat", "pw/{nope}")
    check(cli(str(sid), "--server", pw.url, cwd=repo.path), 2, "bad branch format")


def test_diff_against_the_same_series_exits_2(repo, pw, cli, sid):
    import subprocess
    import sys

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "pwapply", "diff", str(sid), "--server", pw.url, *args],
            cwd=repo.path,
            capture_output=True,
            text=True,
        )

    proc = run("--against", str(sid))
    assert proc.returncode == 2 and "error: --against names the same series" in proc.stderr


def test_hooks_install_refuses_when_both_hooks_exist(repo, cli):
    hooks_dir = repo.path / ".git" / "hooks"
    hooks_dir.mkdir(exist_ok=True)
    (hooks_dir / "pre-push").write_text("#!/bin/sh\nexit 0\n")
    (hooks_dir / "pre-push.pwapply-chained").write_text("#!/bin/sh\nexit 0\n")
    result = cli("hooks", "install", cwd=repo.path)
    check(result, 5, "both")
