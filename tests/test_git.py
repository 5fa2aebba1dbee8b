"""The git layer: the one launcher (git/run.py), the repository (git/repo.py), and the
message rewrite (git/rewrite.py), on real repositories."""

from __future__ import annotations

import subprocess
import sys
from typing import List

import pytest

from pwapply.errors import GitError, NotARepositoryError, RepoStateError
from pwapply.git import rewrite
from pwapply.git.repo import Commit, commits_between, log_messages, open_repo, read_config
from pwapply.git.run import Git, first_line


def test_run_gives_bytes_and_a_failure_carries_argv_code_and_streams(repo):
    git = Git(cwd=str(repo.path))
    assert git.run(["rev-parse", "HEAD"]).stdout == (repo.base + "\n").encode()
    with pytest.raises(GitError) as caught:
        git.run(["-c", "x.y=z", "rev-parse", "--verify", "no-such-ref"])
    exc = caught.value
    assert exc.argv[:4] == ["git", "-c", "x.y=z", "rev-parse"]
    assert exc.returncode == 128 and b"fatal" in exc.stderr
    assert exc.message.startswith("git rev-parse failed: fatal: ")  # the command, not our -c settings
    assert exc.exit_code == 5 and exc.hint


def test_run_feeds_input_and_streams_lines(repo):
    git = Git(cwd=str(repo.path))
    blob = git.out(["hash-object", "-w", "--stdin"], input=b"hello\n")
    seen: List[bytes] = []
    out = git.run(["cat-file", "-p", blob], on_line=seen.append).stdout
    assert out == b"hello\n" and seen == [b"hello"]
    assert git.run(["rev-parse", "--verify", "nope"], check=False).returncode == 128


def test_the_log_shows_each_command_with_its_settings_and_place(repo):
    lines: List[str] = []
    git = Git(cwd=str(repo.path), log=lines.append).at(str(repo.path), config=["-c", "core.splitIndex=true"])
    git.run(["rev-parse", "HEAD"])
    assert lines == [f"git -c core.splitIndex=true rev-parse HEAD   (in {repo.path})"]


def test_a_clean_git_ignores_the_variables_hooks_set(repo, tmp_path, monkeypatch):
    other = tmp_path / "other"
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    monkeypatch.setenv("GIT_DIR", str(repo.path / ".git"))
    assert Git(cwd=str(other)).out(["rev-parse", "--absolute-git-dir"]) == str(repo.path / ".git")
    clean = Git().at(str(other), clean_env=True)
    assert clean.out(["rev-parse", "--absolute-git-dir"]) == str(other / ".git")


def test_a_background_command_is_read_once_or_stopped(repo):
    git = Git(cwd=str(repo.path))
    running = git.start(["rev-parse", "HEAD"])
    assert running.result().stdout.strip() == repo.base.encode()
    assert running.result().stdout.strip() == repo.base.encode()  # read once, kept
    slow = Git(cwd=str(repo.path)).start(
        ["-c", f"alias.wait=!{sys.executable} -c 'import time; time.sleep(30)'", "wait"]
    )
    slow.stop()
    slow.stop()  # twice is harmless


def test_first_line_skips_blank_lines():
    assert first_line("\n  \n  hook said no  \nmore\n") == "hook said no"
    assert first_line("") == ""


def test_open_repo_finds_the_top_from_a_subdirectory_and_refuses_elsewhere(repo, tmp_path):
    found = open_repo(str(repo.path / "src"))
    assert found.top == str(repo.path) and found.head == repo.base and found.head_ref == "refs/heads/main"
    assert found.zero_id == "0" * 40
    assert found.git.cwd == str(repo.path)
    with pytest.raises(NotARepositoryError, match="not inside a git repository"):
        open_repo(str(tmp_path))
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    with pytest.raises(NotARepositoryError, match="not inside a git"):  # (git 2.39: no work tree, no top)
        open_repo(str(bare))


def test_open_repo_on_an_unborn_branch(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path / "new")], check=True)
    found = open_repo(str(tmp_path / "new"))
    assert found.head is None and found.head_ref == "refs/heads/main"


def test_read_config_lowercases_keys_and_reads_a_bare_key_as_true(repo):
    (repo.path / ".git" / "config").open("a").write("[pwapply]\n\tcheckPatches\n\tbranchFormat = x/{slug}\n")
    repo.git("remote", "add", "origin", "https://example.org/x.git")
    values, remotes = read_config(open_repo(str(repo.path)).git)
    assert values["pwapply.checkpatches"] == "true"
    assert values["pwapply.branchformat"] == "x/{slug}"
    assert remotes == {"origin": "https://example.org/x.git"}


def test_history_readers_agree(repo):
    repo.write("a.txt", "a\n")
    first = repo.commit("First\n\nBody.")
    repo.write("b.txt", "b\n")
    second = repo.commit("Second")
    r = open_repo(str(repo.path))
    between = commits_between(r, repo.base, second)
    assert [(c.id, c.subject) for c in between] == [(first, "First"), (second, "Second")]
    assert between[0].author == "A U Thor <author@example.org> 1700000000 +0000"
    newest = log_messages(r, second, 2)
    assert [c.id for c in newest] == [second, first]
    assert newest[1].message == "First\n\nBody.\n" and newest[1].parent == repo.base
    assert isinstance(newest[0], Commit)


def test_rewrite_keeps_trees_authors_and_dates(repo):
    repo.write("a.txt", "a\n")
    repo.commit("One")
    repo.write("b.txt", "b\n")
    tip = repo.commit("Two")
    r = open_repo(str(repo.path))
    new_tip, done = rewrite.rewrite_messages(r, repo.base, tip, lambda i, m: m.rstrip("\n") + f"\n\nLink: x/{i}\n")
    assert [c.subject for c in done] == ["One", "Two"] and done[-1].id == new_tip
    assert repo.git("rev-parse", f"{new_tip}^{{tree}}") == repo.git("rev-parse", f"{tip}^{{tree}}")
    assert repo.git("log", "-1", "--format=%an %ad %B", "--date=raw", new_tip).strip().endswith("Link: x/2")
    assert rewrite.rewrite_messages(r, tip, tip, lambda i, m: m) == (tip, [])


def test_a_commit_whose_author_line_cannot_be_carried_over_is_not_signed(repo):
    # git am never writes such a line, but a rewrite that signs must not guess one.
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    body = f"tree {tree}\nparent {repo.base}\nauthor Nobody 1700000000\ncommitter C <c@x> 1700000000 +0000\n\nOdd\n"
    odd = repo.git("hash-object", "--literally", "-t", "commit", "-w", "--stdin", input=body.encode()).strip()
    with pytest.raises(RepoStateError, match="cannot sign a commit with this author line: Nobody 1700000000"):
        rewrite.rewrite_messages(open_repo(str(repo.path)), repo.base, odd, lambda i, m: m, sign="")


def test_a_signed_commit_unlike_the_one_meant_is_refused(repo):
    # The guard after git commit-tree -S: what git made must be, signature aside, the
    # commit that was meant (here it is told to expect another message).
    head = repo.rev("HEAD")
    meant = repo.git("cat-file", "commit", head).encode().replace(b"Initial import", b"Something else")
    with pytest.raises(RepoStateError, match="git commit-tree made another commit than meant while signing"):
        rewrite._check_signed(open_repo(str(repo.path)), [head], [meant])
    rewrite._check_signed(open_repo(str(repo.path)), [head], [repo.git("cat-file", "commit", head).encode()])
