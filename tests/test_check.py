"""pwapply check and the pre-push hook: real pushes to a local bare remote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EDITS, add_origin, git

from pwapply import hooks


@pytest.fixture
def pushable(repo, tmp_path, monkeypatch):
    """The repository with an origin it has pushed main to, and the hook installed."""
    add_origin(repo, tmp_path)
    # The hook finds pwapply on PATH, as it would for the user.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    proc = subprocess.run(
        [sys.executable, "-m", "pwapply", "hooks", "install"], cwd=repo.path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return repo


def push(repo, *args):
    return subprocess.run(["git", "push", "origin", *args], cwd=repo.path, capture_output=True, text=True)


@pytest.fixture
def applied(pushable, pw, cli):
    """v1 of a series applied on main with pwapply."""
    repo = pushable
    sid = pw.add_series(
        "qemu-devel",
        repo.series(EDITS, version=1),
        date="2026-04-21T20:00:00",
        submitter=("A U Thor", "author@example.org"),
    )
    repo.git("config", "pwapply.server", pw.url)
    result = cli(str(sid), "--no-branch", cwd=repo.path)
    assert result.exit_code == 0, result.output
    pw.reset()
    return sid


def test_clean_push_of_applied_series(pushable, pw, applied):
    proc = push(pushable, "main")
    assert proc.returncode == 0, proc.stderr
    assert "3 commits from Patchwork checked" in proc.stderr
    # Recorded at apply time: no Message-ID lookup; requests per series, not per commit.
    assert pw.count("msgid=") == 0
    assert pw.count() <= 5, pw.paths()


def test_superseded_series_is_refused(pushable, pw, applied):
    pw.add_series(
        "qemu-devel",
        pushable.series(EDITS, version=2, base=pushable.base),
        date="2026-04-28T20:00:00",
        submitter=("A U Thor", "author@example.org"),
    )
    before = git(Path(pushable.path), "ls-remote", "origin")
    proc = push(pushable, "main")
    assert proc.returncode != 0
    # One line for the whole series, with its commits counted (not one a commit).
    assert proc.stderr.count("error: ") == 1 + ("failed to push" in proc.stderr), proc.stderr
    assert "error: series 1 v1, 3 commits: superseded by v2 (series 2); apply the new version: pwapply 2" in (
        proc.stderr
    )
    assert git(Path(pushable.path), "ls-remote", "origin") == before


@pytest.mark.parametrize(
    "state,refused",
    [("rejected", True), ("changes-requested", True), ("rfc", False), ("deferred", False), ("accepted", False)],
)
def test_patch_state(pushable, pw, applied, state, refused):
    pw.set_state(pw.patch_ids(applied)[1], state)
    proc = push(pushable, "main")
    assert (proc.returncode != 0) == refused, proc.stderr
    if state != "accepted":
        assert f"is '{state}' on" in proc.stderr
        assert ("error: " if refused else "warning: ") in proc.stderr


@pytest.mark.parametrize("where", ["patch", "cover letter"])
def test_a_nack_given_on_the_list_refuses_the_push(pushable, pw, applied, where):
    nack = "I do not think this is right.\n\nNacked-by: Stern Reviewer <stern@example.org>\n"
    if where == "patch":
        pw.add_patch_reply(pw.patch_ids(applied)[1], nack)
    else:
        pw.add_cover_reply(applied, nack)
    proc = push(pushable, "main", "--dry-run")
    assert proc.returncode != 0
    nacked = [line for line in proc.stderr.splitlines() if "was nacked on the list" in line]
    assert len(nacked) == (1 if where == "patch" else 3), proc.stderr  # a nack of the cover letter: every patch
    assert all(line.startswith("error: ") and "(Stern Reviewer <stern@example.org>)" in line for line in nacked)
    pushable.git("config", "pwapply.check.nacked", "warn")
    proc = push(pushable, "main", "--dry-run")
    assert proc.returncode == 0 and "warning: " in proc.stderr and "was nacked" in proc.stderr


def test_missing_review_tags_warn_with_the_command(pushable, pw, applied):
    pw.add_patch_reply(pw.patch_ids(applied)[0], "Reviewed-by: Late Reviewer <late@example.org>\n")
    pw.add_cover_reply(applied, "Tested-by: Tess Ter <tess@example.org>\n")
    proc = push(pushable, "main")
    assert proc.returncode == 0, proc.stderr
    assert "lacks Reviewed-by: Late Reviewer <late@example.org>, Tested-by: Tess Ter" in proc.stderr
    assert "add them to the branch's commits: pwapply update" in proc.stderr


def test_failed_ci_checks_warn(pushable, pw, applied):
    pw.set_check(pw.patch_ids(applied)[2], "fail")
    proc = push(pushable, "main")
    assert proc.returncode == 0
    assert "warning: " in proc.stderr and "CI checks failed" in proc.stderr


def test_severity_is_configurable(pushable, pw, applied):
    pw.set_state(pw.patch_ids(applied)[0], "rejected")
    pushable.git("config", "pwapply.check.state", "warn")
    assert push(pushable, "main").returncode == 0
    pushable.git("config", "pwapply.check.state", "off")
    assert "rejected" not in push(pushable, "main", "--dry-run").stderr


def test_lost_trailer_is_an_error_even_offline(pushable, pw, applied, cli):
    msg = pushable.git("log", "-1", "--format=%B")
    kept = "\n".join(line for line in msg.splitlines() if not line.startswith("Link:")) + "\n"
    pushable.git("commit", "-q", "--amend", "-m", kept)
    result = cli("check", "--offline", cwd=pushable.path)
    assert result.exit_code == 1
    assert "but its Link trailer is gone" in result.stderr
    assert pw.count() == 0
    assert push(pushable, "main").returncode != 0


def test_commits_without_trailers_make_no_request(pushable, pw):
    pushable.git("config", "pwapply.server", pw.url)
    for i in range(3):
        pushable.write(f"new{i}.txt", "x\n")
        pushable.commit(f"Plain commit {i}")
    proc = push(pushable, "main")
    assert proc.returncode == 0, proc.stderr
    assert pw.count() == 0


def test_server_down_lets_the_push_go_unless_strict(pushable, pw, applied):
    host = pw.url.split("://")[1]
    pw.stop()
    proc = push(pushable, "main", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert f"warning: could not reach {host} (" in proc.stderr and "): 3 commits not checked\n" in proc.stderr
    assert "commits from Patchwork checked" not in proc.stderr  # none was
    pushable.git("config", "pwapply.check.strict", "true")
    proc = push(pushable, "main", "--dry-run")
    assert proc.returncode != 0
    # Refusing, it is an error, not a warning.
    assert f"error: could not reach {host} (" in proc.stderr
    assert "3 commits not checked, and pwapply.check.strict refuses the push" in proc.stderr


def test_total_time_is_bounded(pushable, pw, applied, cli):
    # The server would never answer: the check gives up at its deadline, and the
    # server sees the request cut off (not answered late).
    pw.fault(r"^/api/", status=200, stall=60.0)
    result = cli("check", "--timeout", "1", cwd=pushable.path)
    assert result.exit_code == 0
    # Whichever of the two clocks on the same deadline speaks first (the check's, or the
    # client's own), the line says the bound and what was not checked.
    assert "within 1 s" in result.stderr and "): 3 commits not checked" in result.stderr
    assert pw.wait_for_hangup("/api/")


def test_new_branch_and_deletion(pushable, pw, applied):
    pw.add_series(
        "qemu-devel",
        pushable.series(EDITS, version=2, base=pushable.base),
        date="2026-04-28T20:00:00",
        submitter=("A U Thor", "author@example.org"),
    )
    proc = push(pushable, "HEAD:refs/heads/queue")  # a new branch: every commit no remote has
    assert proc.returncode != 0 and "superseded" in proc.stderr
    pushable.git("push", "-q", "--no-verify", "origin", "HEAD:refs/heads/queue")
    pw.reset()
    proc = push(pushable, ":queue")  # a deletion pushes nothing
    assert proc.returncode == 0, proc.stderr
    assert pw.count() == 0


def test_chained_hook_still_runs_and_can_refuse(repo, tmp_path, monkeypatch):
    hooks_dir = repo.path / ".git" / "hooks"
    hooks_dir.mkdir(exist_ok=True)
    theirs = hooks_dir / "pre-push"
    log = tmp_path / "chained.log"
    theirs.write_text(f'#!/bin/sh\ncat >> "{log}"\necho "args: $*" >> "{log}"\n[ ! -e "{tmp_path}/refuse" ]\n')
    theirs.chmod(0o755)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    assert hooks.install(str(hooks_dir))[1] is True
    assert hooks.install(str(hooks_dir))[1] is False  # twice: nothing changes
    assert (hooks_dir / "pre-push.pwapply-chained").exists()
    proc = push(repo, "main")
    assert proc.returncode == 0, proc.stderr
    text = log.read_text()
    assert "refs/heads/main" in text and f"args: origin {remote}" in text
    (tmp_path / "refuse").write_text("")
    repo.write("x.txt", "x\n")
    repo.commit("another")
    assert push(repo, "main").returncode != 0
    hooks.uninstall(str(hooks_dir))
    assert theirs.read_text().startswith("#!/bin/sh\ncat >>")
    assert not (hooks_dir / "pre-push.pwapply-chained").exists()


def test_hooks_install_follows_core_hookspath(repo, cli, tmp_path):
    custom = tmp_path / "myhooks"
    repo.git("config", "core.hooksPath", str(custom))
    result = cli("hooks", "install", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert hooks.is_ours(str(custom / "pre-push"))
    assert os.access(custom / "pre-push", os.X_OK)
    result = cli("hooks", "uninstall", cwd=repo.path)
    assert result.exit_code == 0 and not (custom / "pre-push").exists()


def test_shipped_hook_is_the_installed_one():
    shipped = Path(__file__).resolve().parents[1] / "hooks" / "pre-push"
    assert shipped.read_text() == hooks.script()
    assert os.access(shipped, os.X_OK)


def test_hook_without_pwapply_warns_and_lets_the_push_go(repo, tmp_path):
    hooks_dir = repo.path / ".git" / "hooks"
    hooks.install(str(hooks_dir))
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    env = dict(os.environ, PATH="/usr/bin:/bin")
    proc = subprocess.run(["git", "push", "origin", "main"], cwd=repo.path, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "pwapply is not installed" in proc.stderr


def test_check_links_parse_every_form_pwapply_writes():
    from pwapply.check.rules import links

    msg = (
        "Subject\n\nBody\n\nSigned-off-by: A <a@x>\n"
        "Link: https://patchwork.ozlabs.org/project/qemu-devel/patch/1-a@x/\n"
        "Link: https://lore.kernel.org/qemu-devel/2-b@x\n"
        "Link: https://patch.msgid.link/3-c@x\n"
        "Message-ID: <4-d@x>\n"
        "Link: https://bugs.example.org/123\n"
    )
    assert links(msg) == [("https://patchwork.ozlabs.org", "1-a@x"), (None, "2-b@x"), (None, "3-c@x"), (None, "4-d@x")]


def test_links_without_a_known_server_are_reported(repo, cli):
    repo.write("a.txt", "a\n")
    repo.git("add", "a.txt")
    repo.git("commit", "-qm", "Subject\n\nBody.\n\nLink: https://lore.kernel.org/r/only-lore@example.org")
    result = cli("check", "HEAD~1..HEAD", cwd=repo.path)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "warning: 1 commit names a patch, but no Patchwork server is configured: not checked",
        "hint: git config pwapply.server https://patchwork.example.org",
    ]
    strict = cli("check", "HEAD~1..HEAD", "--strict", cwd=repo.path)
    assert strict.exit_code == 1
    assert strict.stderr.startswith("error: 1 commit names a patch, but no Patchwork server is configured: ")


def test_nothing_to_check_says_so(repo, cli):
    repo.write("a.txt", "a\n")
    repo.commit("Subject without trailers")
    result = cli("check", "HEAD~1..HEAD", cwd=repo.path)
    assert (result.exit_code, result.stderr) == (0, "pwapply: 1 commit, none from Patchwork: nothing to check\n")
    result = cli("check", "HEAD..HEAD", cwd=repo.path)
    assert (result.exit_code, result.stderr) == (0, "pwapply: no commit to check (the range is empty)\n")


def test_an_unknown_revision_is_bad_input(repo, cli):
    result = cli("check", "nosuch..HEAD", cwd=repo.path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: not a revision or range of this repository: nosuch..HEAD",
        "hint: give commits it has, e.g. origin/master..HEAD",
    ]
