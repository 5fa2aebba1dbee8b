"""The whole flow, end to end: real git, real HTTP on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import EDITS, IDENT, msgids


def log_messages(repo, rng):
    out = repo.git("log", "--reverse", "--format=%H%x00%B%x01", rng)
    return [entry.split("\0", 1)[1].strip("\n") for entry in out.split("\x01") if "\0" in entry]


def test_series_id_applies_on_a_new_branch_with_trailers(repo, pw, cli):
    mbox = repo.series(EDITS, version=2)
    sid = pw.add_series("qemu-devel", mbox)
    pw.add_patch_reply(pw.patch_ids(sid)[1], "Looks good.\n\nReviewed-by: Rita Viewer <rita@example.org>\n")
    pw.add_cover_reply(
        sid,
        "> Reviewed-by: Quoted Person <q@example.org>\n\nTested-by: Tess Ter <tess@example.org>\n"
        "Acked-by: Ack Er <ack@example.org>\n",
    )
    pw.add_cover_reply(sid, "Tested-by: Tess Ter <tess@example.org>\n")  # the same tag again

    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    branch = "pw/improve-the-files-v2"
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == branch
    assert f"branch: {branch}" in result.stderr
    assert "Applied 3 patches of series" in result.stderr

    ids = msgids(mbox)[1:]  # [0] is the cover letter
    messages = log_messages(repo, f"{repo.base}..HEAD")
    assert len(messages) == 3
    sob = f"Signed-off-by: {IDENT['GIT_AUTHOR_NAME']} <{IDENT['GIT_AUTHOR_EMAIL']}>"
    for i, msg in enumerate(messages):
        lines = msg.splitlines()
        block = lines[lines.index(sob) :]
        expected = [sob]
        if i == 1:
            expected.append("Reviewed-by: Rita Viewer <rita@example.org>")
        expected += [
            "Tested-by: Tess Ter <tess@example.org>",
            "Acked-by: Ack Er <ack@example.org>",
            f"Link: {pw.url}/project/qemu-devel/patch/{ids[i]}/",
        ]
        assert block == expected, msg
        assert "Quoted Person" not in msg
    # Author, dates and trees are what git am made.
    assert (
        repo.git("log", "-1", "--format=%an <%ae> %ad", "--date=raw").strip()
        == f"{IDENT['GIT_AUTHOR_NAME']} <{IDENT['GIT_AUTHOR_EMAIL']}> 1700000000 +0000"
    )
    # 4 requests in 2 round trips: series and mbox; then the cover letter's replies and
    # its text (for the Based-on: lines it may hold).
    assert pw.count() == 4, pw.paths()
    assert repo.git("worktree", "list").count("\n") == 1


@pytest.fixture
def qemu(repo, pw):
    """A v2 series with a cover letter on the server; returns (sid, mbox)."""
    mbox = repo.series(EDITS, version=2)
    sid = pw.add_series("qemu-devel", mbox)
    return sid, mbox


def test_message_id_of_cover_costs_one_request_more(repo, pw, cli, qemu):
    sid, mbox = qemu
    cover_id = msgids(mbox)[0]
    pw.reset()
    result = cli(f"<{cover_id}>", "--server", pw.url, "--project", "qemu-devel", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert pw.count() <= 5, pw.paths()  # the 4 of a series id, and the look-up
    assert any("/covers/?msgid=" in p for p in pw.paths())
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/improve-the-files-v2"


def test_message_id_of_a_patch(repo, pw, cli, qemu):
    sid, mbox = qemu
    patch_id = msgids(mbox)[2]
    pw.reset()
    result = cli(patch_id, "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert pw.count() <= 5, pw.paths()  # the 4 of a series id, and the look-up
    assert len(log_messages(repo, f"{repo.base}..HEAD")) == 3


@pytest.mark.parametrize(
    "form",
    [
        "{url}/project/qemu-devel/list/?series={sid}",
        "{url}/api/series/{sid}/",
        "{url}/api/1.3/series/{sid}/",
        "{url}/series/{sid}/mbox/",
        "{url}/project/qemu-devel/patch/{patch_msgid}/",
        "{url}/project/qemu-devel/cover/{cover_msgid}/",
        "{url}/patch/{patch_id}/",
    ],
)
def test_patchwork_urls_name_their_server(repo, pw, cli, qemu, form):
    sid, mbox = qemu
    ids = msgids(mbox)
    arg = form.format(url=pw.url, sid=sid, patch_msgid=ids[1], cover_msgid=ids[0], patch_id=pw.patch_ids(sid)[0])
    # git config points at a server that does not exist: the URL's host must win.
    repo.git("config", "pwapply.server", "https://patchwork.invalid")
    result = cli(arg, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/improve-the-files-v2"


@pytest.mark.parametrize(
    "form",
    [
        "https://lore.kernel.org/qemu-devel/{msgid}/",
        "https://lore.kernel.org/r/{msgid}",
        "https://patch.msgid.link/{msgid}",
    ],
)
def test_lore_links_are_looked_up_on_the_configured_server(repo, pw, cli, qemu, form):
    sid, mbox = qemu
    repo.git("config", "pwapply.server", pw.url)
    repo.git("config", "pwapply.project", "qemu-devel")
    result = cli(form.format(msgid=msgids(mbox)[0]), cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert any("project=qemu-devel" in p for p in pw.paths())


def test_local_mbox_applies_offline(repo, cli, tmp_path):
    mbox = repo.series(EDITS, version=3, cover_subject="Make files nicer")
    path = tmp_path / "v3.mbox"
    path.write_bytes(mbox)
    result = cli(str(path), cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/make-files-nicer-v3"
    messages = log_messages(repo, f"{repo.base}..HEAD")
    assert [m.splitlines()[0] for m in messages] == [e[3] for e in EDITS]
    # No server known: the Link goes to lore's Message-ID redirector.
    assert messages[0].splitlines()[-1] == f"Link: https://lore.kernel.org/r/{msgids(mbox)[1]}"


def test_stdin_mbox_without_cover_takes_the_name_from_the_subject(repo, cli):
    mbox = repo.series(EDITS[:1], cover=False)
    result = cli("-", cwd=repo.path, input=mbox)
    assert result.exit_code == 0, result.output
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/file1-fix-line-3-v1"


def test_stdin_empty_is_an_input_error(repo, cli):
    result = cli("-", cwd=repo.path, input=b"")
    assert result.exit_code == 2
    assert "error: nothing on stdin" in result.stderr


def test_conflict_leaves_the_repository_exactly_as_it_was(repo, pw, cli, qemu):
    sid, _ = qemu
    repo.edit_line("src/file2.c", "line 10 of file 2\n", "line 10 of file 2, changed upstream\n")
    repo.commit("Upstream change")
    (repo.path / "untracked.txt").write_text("keep me\n")
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 1, result.output
    assert "error: patch 2/3 did not apply: file2: Improve line 10 (conflicts in src/file2.c)" in result.stderr
    assert "hint:" in result.stderr
    assert repo.state() == before
    assert "Traceback" not in result.output


def test_resolve_leaves_the_am_session_in_the_work_tree(repo, pw, cli, qemu):
    sid, _ = qemu
    repo.edit_line("src/file2.c", "line 10 of file 2\n", "line 10 of file 2, changed upstream\n")
    repo.commit("Upstream change")
    result = cli(str(sid), "--server", pw.url, "--resolve", cwd=repo.path)
    assert result.exit_code == 1, result.output
    assert "git am --continue" in result.stderr
    assert (repo.path / ".git" / "rebase-apply").is_dir()
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/improve-the-files-v2"
    # Patch 1 is committed with its Link; patch 2 waits with its trailers in the mail.
    assert "Link: " in repo.git("log", "-1", "--format=%B")
    waiting = repo.git("am", "--show-current-patch=raw")
    assert "Subject: [PATCH v2 2/3] file2: Improve line 10" in waiting
    assert f"Link: {pw.url}/project/qemu-devel/patch/" in waiting.split("\n---\n")[0]
    repo.git("am", "--abort")


def hook(repo, name, script):
    path = repo.path / ".git" / "hooks" / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


@pytest.mark.parametrize("name", ["applypatch-msg", "pre-applypatch"])
def test_a_hook_that_refuses_a_patch_is_named_with_what_it_said(repo, pw, cli, qemu, tmp_path, name):
    # git am says nothing when a hook refuses; it was reported as a patch that did not
    # apply, with a hint to try another --base.  applypatch-msg runs before the patch's
    # "Applying:" line: counting those lines named the patch before it.
    sid, _ = qemu
    count = tmp_path / "count"
    hook(
        repo,
        name,
        f"n=$(($(cat {count} 2>/dev/null || echo 0) + 1)); echo $n > {count}\n"
        '[ $n -lt 2 ] || { echo "style: no, thanks" >&2; echo "second line" >&2; exit 1; }\n',
    )
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 1, result.output
    assert (
        f"error: your {name} hook refused patch 2/3: file2: Improve line 10 (it said: style: no, thanks)"
        in result.stderr
    )
    assert "--resolve runs git am, and the hook, in your work tree" in result.stderr
    assert "second line" not in result.stderr  # -v shows the rest
    assert repo.state() == before


def test_a_refusing_hook_under_am_quiet_is_not_guessed(repo, pw, cli, qemu, tmp_path):
    sid, _ = qemu
    count = tmp_path / "count"
    hook(repo, "pre-applypatch", f"n=$(($(cat {count} 2>/dev/null || echo 0) + 1)); echo $n > {count}; [ $n -lt 2 ]\n")
    result = cli(str(sid), "--server", pw.url, "--", "-q", cwd=repo.path)
    assert result.exit_code == 1, result.output
    assert "error: your applypatch-msg or pre-applypatch hook refused patch 2/3: file2: Improve line 10" in (
        result.stderr
    )


def test_hooks_from_a_relative_hooks_path_run_in_the_temporary_worktree(repo, pw, cli, qemu):
    # core.hooksPath=.githooks is relative to the work tree git am runs in: in the
    # temporary worktree, which has no .githooks, git found no hook and applied what
    # plain git am in the user's tree refuses.  Run from a subdirectory, too.
    sid, _ = qemu
    (repo.path / ".githooks").mkdir()
    script = repo.path / ".githooks" / "pre-applypatch"
    script.write_text('#!/bin/sh\necho "policy: not today" >&2\nexit 1\n')
    script.chmod(0o755)
    repo.git("config", "core.hooksPath", ".githooks")
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, cwd=repo.path / "src")
    assert result.exit_code == 1, result.output
    assert "your pre-applypatch hook refused patch 1/3: file1: Fix line 3 (it said: policy: not today)" in (
        result.stderr
    )
    assert repo.state() == before


def test_resolve_lets_a_hook_that_needs_the_whole_tree_see_it(repo, pw, cli, qemu):
    # The temporary worktree holds only the files the series changes: a hook looking at
    # others refuses there, and passes in the user's work tree, where --resolve runs git
    # am.  It used to say "git am stopped" there even when git am had applied everything.
    sid, _ = qemu
    hook(repo, "pre-applypatch", 'test -f src/file5.c || { echo "src/file5.c is missing" >&2; exit 1; }\n')
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 1, result.output
    assert "your pre-applypatch hook refused patch 1/3: file1: Fix line 3 (it said: src/file5.c is missing)" in (
        result.stderr
    )
    result = cli(str(sid), "--server", pw.url, "--resolve", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "Applied 3 patches of series" in result.stderr
    assert "patches 1-3 were applied by git am in your work tree" in result.stderr
    assert not (repo.path / ".git" / "rebase-apply").exists()
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/improve-the-files-v2"
    assert repo.git("status", "--porcelain") == ""
    messages = log_messages(repo, f"{repo.base}..HEAD")
    assert len(messages) == 3
    assert all(f"Link: {pw.url}/project/qemu-devel/patch/" in m for m in messages), messages


def test_resolve_stops_where_the_hook_refuses_in_the_work_tree_too(repo, pw, cli, qemu):
    sid, _ = qemu
    hook(
        repo,
        "pre-applypatch",
        'if git diff --cached --name-only | grep -q file2; then echo "no file2" >&2; exit 1; fi\n',
    )
    result = cli(str(sid), "--server", pw.url, "--resolve", cwd=repo.path)
    assert result.exit_code == 1, result.output
    assert "error: your pre-applypatch hook refused patch 2/3: file2: Improve line 10 (it said: no file2)" in (
        result.stderr
    )
    assert "hint: git am stopped on branch pw/improve-the-files-v2: do what the hook asks, then git am --continue" in (
        result.stderr
    )
    assert (repo.path / ".git" / "rebase-apply").is_dir()
    assert len(log_messages(repo, f"{repo.base}..HEAD")) == 1
    repo.git("am", "--abort")


def test_resolve_names_the_patch_git_am_stops_at_in_the_work_tree(repo, pw, cli, qemu):
    # Refused by the hook at patch 1 in the scratch; in the work tree the hook passes and
    # patch 2 conflicts: the error is about patch 2 and its files, not the refusal.
    sid, _ = qemu
    repo.edit_line("src/file2.c", "line 10 of file 2\n", "line 10 of file 2, changed upstream\n")
    repo.commit("Upstream change")
    hook(repo, "pre-applypatch", 'test -f src/file5.c || { echo "src/file5.c is missing" >&2; exit 1; }\n')
    result = cli(str(sid), "--server", pw.url, "--resolve", cwd=repo.path)
    assert result.exit_code == 1, result.output
    assert "error: patch 2/3 did not apply: file2: Improve line 10 (conflicts in src/file2.c)" in result.stderr
    assert "hint: git am stopped on branch pw/improve-the-files-v2: fix the files, git add them" in result.stderr
    assert len(log_messages(repo, "HEAD~1..HEAD")) == 1 and "file1: Fix line 3" in repo.git("log", "-1", "--format=%s")
    repo.git("am", "--abort")


def test_a_failing_post_checkout_hook_leaves_the_branch_checked_out(repo, pw, cli, qemu):
    # git checkout returns the post-checkout hook's status after switching (git-lfs's hook
    # fails so when git-lfs is not installed).  pwapply took that for a checkout that did
    # not happen and deleted the branch HEAD now named: an unborn branch, every file staged.
    sid, _ = qemu
    hook(repo, "post-checkout", 'echo "git-lfs was not found on your path" >&2\nexit 2\n')
    result = cli(str(sid), "--server", pw.url, "-q", cwd=repo.path)  # a warning is told even so
    assert result.exit_code == 0, result.output
    assert "warning: the branch is checked out, but your post-checkout hook failed after it" in result.stderr
    assert "(it said: git-lfs was not found on your path)" in result.stderr
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/improve-the-files-v2"
    assert len(log_messages(repo, f"{repo.base}..HEAD")) == 3
    assert repo.git("status", "--porcelain") == ""


def test_an_untracked_file_in_the_way_stops_the_checkout_and_leaves_no_branch(repo, pw, cli):
    sid = pw.add_series("qemu-devel", repo.series([("src/new.c", None, "int new;\n", "Add new.c")], version=1))
    (repo.path / "src" / "new.c").write_text("my own, untracked\n")
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 5, result.output
    assert (
        "error: cannot check out pw/improve-the-files-v1: error: The following untracked working tree files "
        "would be overwritten by checkout: src/new.c\n" in result.stderr
    )
    assert "hint: move them out of the way, or use --no-checkout" in result.stderr
    assert repo.state() == before
    assert (repo.path / "src" / "new.c").read_text() == "my own, untracked\n"


@pytest.mark.parametrize("checkout", [True, False])
def test_force_will_not_move_a_branch_checked_out_in_another_work_tree(repo, pw, cli, qemu, tmp_path, checkout):
    # git branch -f refuses this.  pwapply moved the branch; with --no-checkout it stayed
    # moved, and the other work tree showed the series reverted in its index.
    sid, _ = qemu
    repo.git("branch", "pw/improve-the-files-v2")
    other = tmp_path / "other"
    repo.git("worktree", "add", "-q", str(other), "pw/improve-the-files-v2")
    before = repo.state()
    args = [str(sid), "--server", pw.url, "--force"] + ([] if checkout else ["--no-checkout"])
    result = cli(*args, cwd=repo.path)
    assert result.exit_code == 5, result.output
    assert (
        f"error: branch pw/improve-the-files-v2 is checked out in another work tree, at {other}; "
        "--force will not move it under it" in result.stderr
    )
    assert repo.state() == before
    assert pw.count("/mbox/") == 1  # refused once the name is known: after the download


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen to sign")
def test_commit_gpgsign_signs_the_commits_once_with_their_trailers(repo, pw, cli, qemu, tmp_path):
    # git am signs under commit.gpgSign; adding the trailers afterwards dropped those
    # signatures, so a maintainer who signs every commit got unsigned ones, silently.
    sid, _ = qemu
    key = tmp_path / "key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "maint", "-f", str(key)], check=True)
    signs = tmp_path / "signs"
    keygen = tmp_path / "keygen"  # ssh-keygen, counting the signatures made
    keygen.write_text(f'#!/bin/sh\ncase " $* " in *" -Y sign "*) echo x >> {signs};; esac\nexec ssh-keygen "$@"\n')
    keygen.chmod(0o755)
    allowed = tmp_path / "allowed"
    allowed.write_text("maint@example.org " + (tmp_path / "key.pub").read_text())
    for k, v in [
        ("gpg.format", "ssh"),
        ("gpg.ssh.program", str(keygen)),
        ("user.signingKey", str(key)),
        ("gpg.ssh.allowedSignersFile", str(allowed)),
        ("commit.gpgSign", "true"),
    ]:
        repo.git("config", k, v)
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    ids = repo.git("rev-list", "--reverse", f"{repo.base}..HEAD").split()
    assert len(ids) == 3
    for i in ids:
        assert "gpgsig -----BEGIN SSH SIGNATURE-----" in repo.git("cat-file", "commit", i)
        assert "Link: " in repo.git("log", "-1", "--format=%B", i)
        repo.git("verify-commit", i)
    assert (
        repo.git("log", "-1", "--format=%an <%ae> %ad|%cn <%ce> %cd", "--date=raw").strip()
        == f"{IDENT['GIT_AUTHOR_NAME']} <{IDENT['GIT_AUTHOR_EMAIL']}> 1700000000 +0000|"
        f"{IDENT['GIT_COMMITTER_NAME']} <{IDENT['GIT_COMMITTER_EMAIL']}> 1700000000 +0000"
    )
    assert signs.read_text().count("x") == 3  # not once in the scratch and again after


def test_a_signature_that_cannot_be_made_is_told_and_changes_nothing(repo, pw, cli, qemu):
    sid, _ = qemu
    repo.git("config", "commit.gpgSign", "true")
    repo.git("config", "gpg.program", "false")  # as a missing key or a wrong passphrase
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 2, result.output
    assert "error: cannot sign the commits as git am would (commit.gpgSign or -S): error: gpg failed" in (result.stderr)
    assert "-- --no-gpg-sign" in result.stderr
    assert repo.state() == before


def test_am_no_gpg_sign_overrides_commit_gpgsign(repo, pw, cli, qemu):
    sid, _ = qemu
    repo.git("config", "commit.gpgSign", "true")
    repo.git("config", "gpg.program", "false")  # a signature asked for would fail the run
    result = cli(str(sid), "--server", pw.url, "--", "--no-gpg-sign", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "gpgsig" not in repo.git("cat-file", "commit", "HEAD")


def test_no_branch_applies_on_the_current_branch(repo, pw, cli, qemu):
    sid, _ = qemu
    result = cli(str(sid), "--server", pw.url, "--no-branch", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "main"
    assert len(log_messages(repo, f"{repo.base}..main")) == 3
    assert repo.git("status", "--porcelain") == ""
    assert "fixed" in (repo.path / "src/file1.c").read_text()


def test_no_branch_applies_over_a_touched_file(repo, pw, cli, qemu):
    """A file whose stat data changed but not its content (touched, or a copied
    checkout) is clean to git status; the fast-forward must not call it "not uptodate"."""
    import os

    sid, _ = qemu
    touched = repo.path / "docs" / "index.rst"  # the series changes it
    st = touched.stat()
    os.utime(touched, (st.st_atime + 10, st.st_mtime + 10))
    assert repo.git("--no-optional-locks", "status", "--porcelain") == ""  # (and leaves the index stale)
    result = cli(str(sid), "--server", pw.url, "--no-branch", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert len(log_messages(repo, f"{repo.base}..main")) == 3
    assert "Welcome to the project." in touched.read_text()


def test_existing_branch_exits_5_and_force_moves_it(repo, pw, cli, qemu):
    sid, _ = qemu
    repo.git("branch", "pw/improve-the-files-v2")
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 5
    assert "error: branch pw/improve-the-files-v2 already exists" in result.stderr
    assert repo.state() == before
    result = cli(str(sid), "--server", pw.url, "--force", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert f"moved from {repo.base[:12]}" in result.stderr


def test_explicit_branch_exists_is_refused_before_any_request(repo, pw, cli, qemu):
    sid, _ = qemu
    repo.git("branch", "mine")
    pw.reset()
    result = cli(str(sid), "--server", pw.url, "-b", "mine", cwd=repo.path)
    assert result.exit_code == 5
    assert pw.count() == 0


@pytest.mark.parametrize("named", [True, False])
def test_the_branch_is_checked_once(repo, pw, cli, qemu, named):
    sid, _ = qemu
    result = cli(str(sid), "--server", pw.url, *(["-b", "mine"] if named else []), "-v", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("git check-ref-format --branch") == 1, result.stderr


def test_no_checkout_base_and_patch_subset(repo, pw, cli, qemu):
    sid, _ = qemu
    repo.write("NEWS", "news\n")
    repo.commit("Unrelated")
    result = cli(
        str(sid),
        "--server",
        pw.url,
        "--no-checkout",
        "--base",
        repo.base,
        "--patches",
        "1,3",
        "-b",
        "review/x",
        cwd=repo.path,
    )
    assert result.exit_code == 0, result.output
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "main"
    subjects = repo.git("log", "--reverse", "--format=%s", f"{repo.base}..review/x").splitlines()
    assert subjects == [EDITS[0][3], EDITS[2][3]]
    assert repo.rev("review/x~2") == repo.base


def test_signoff_comes_after_the_link(repo, pw, cli, qemu):
    sid, _ = qemu
    result = cli(str(sid), "--server", pw.url, "-s", cwd=repo.path)
    assert result.exit_code == 0, result.output
    last = log_messages(repo, f"{repo.base}..HEAD")[0].splitlines()[-2:]
    assert last[0].startswith("Link: ")
    assert last[1] == f"Signed-off-by: {IDENT['GIT_COMMITTER_NAME']} <{IDENT['GIT_COMMITTER_EMAIL']}>"


def test_link_format_precedence(repo, pw, cli, qemu, tmp_path):
    sid, mbox = qemu
    first = msgids(mbox)[1]
    repo.write(".b4-config", "[b4]\n    linkmask = https://lore.kernel.org/qemu-devel/%s\n")
    repo.commit("b4 config")

    def link_of(branch):
        return [line for line in repo.git("log", "-1", "--format=%B", f"{branch}~2").splitlines() if line][-1]

    assert cli(str(sid), "--server", pw.url, "-b", "a", "--no-checkout", cwd=repo.path).exit_code == 0
    assert link_of("a") == f"Link: https://lore.kernel.org/qemu-devel/{first}"
    repo.git("config", "pwapply.linkFormat", "{url}")
    assert cli(str(sid), "--server", pw.url, "-b", "b", "--no-checkout", cwd=repo.path).exit_code == 0
    assert link_of("b") == f"Link: {pw.url}/project/qemu-devel/patch/{first}/"
    assert (
        cli(
            str(sid),
            "--server",
            pw.url,
            "-b",
            "c",
            "--no-checkout",
            "--link-format",
            "Message-ID: <{msgid}>",
            cwd=repo.path,
        ).exit_code
        == 0
    )
    assert link_of("c") == f"Message-ID: <{first}>"
    assert cli(str(sid), "--server", pw.url, "-b", "d", "--no-checkout", "--no-link", cwd=repo.path).exit_code == 0
    assert "Link:" not in repo.git("log", "--format=%B", f"{repo.base}..d")


def test_b4_linktrailermask(repo, pw, cli, qemu):
    sid, mbox = qemu
    repo.write(
        ".b4-config",
        "[b4]\n    linkmask = https://lore.kernel.org/qemu-devel/%s\n    linktrailermask = Message-ID: <%s>\n",
    )
    repo.commit("b4 config")
    assert cli(str(sid), "--server", pw.url, cwd=repo.path).exit_code == 0
    assert repo.git("log", "-1", "--format=%(trailers:key=Message-ID,valueonly)").strip() == f"<{msgids(mbox)[3]}>"


def test_trailer_already_there_is_not_added_twice(repo, pw, cli):
    edits = [
        (
            "src/file1.c",
            "line 3 of file 1\n",
            "line 3!\n",
            "file1: x",
            "Body.\n\nReviewed-by: Rita Viewer <rita@example.org>",
        )
    ]
    mbox = repo.series(edits, version=1)
    sid = pw.add_series("qemu-devel", mbox)
    pw.add_cover_reply(sid, "Reviewed-by: Rita Viewer <rita@example.org>\n")
    assert cli(str(sid), "--server", pw.url, cwd=repo.path).exit_code == 0
    msg = repo.git("log", "-1", "--format=%B")
    assert msg.count("Reviewed-by: Rita Viewer") == 1


def test_extra_git_am_arguments_after_double_dash(repo, pw, cli, qemu):
    sid, _ = qemu
    result = cli(str(sid), "--server", pw.url, "--", "--message-id", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "message-id:" in repo.git("log", "-1", "--format=%B").lower()


def test_stray_arguments_are_refused(repo, cli, tmp_path):
    result = cli("1", "2", cwd=repo.path)
    assert result.exit_code == 2
    assert "unexpected argument(s): 2" in result.stderr


def test_commits_are_what_plain_git_am_makes_but_for_the_trailers(repo, pw, cli, qemu, tmp_path):
    sid, mbox = qemu
    assert cli(str(sid), "--server", pw.url, cwd=repo.path).exit_code == 0
    plain = tmp_path / "plain"
    repo.git("worktree", "add", "-q", "--detach", str(plain), repo.base)
    mbox_path = tmp_path / "series.mbox"
    mbox_path.write_bytes(pw.series_mbox(sid))
    from conftest import git

    git(plain, "am", "-q", "-3", str(mbox_path))
    fmt = "--format=%T %an <%ae> %ad %s"
    ours = repo.git("log", "--reverse", fmt, "--date=raw", f"{repo.base}..HEAD")
    theirs = git(plain, "log", "--reverse", fmt, "--date=raw", f"{repo.base}..HEAD")
    assert ours == theirs
    repo.git("worktree", "remove", "--force", str(plain))


@pytest.mark.parametrize("what", ["am", "cherry-pick", "rebase"])
def test_operations_in_progress_are_refused(repo, pw, cli, qemu, what):
    sid, mbox = qemu
    repo.git("checkout", "-q", "-b", "side")
    repo.edit_line("src/file1.c", "line 3 of file 1\n", "line 3 on side\n")
    side = repo.commit("side change")
    repo.git("checkout", "-q", "main")
    repo.edit_line("src/file1.c", "line 3 of file 1\n", "line 3 on main\n")
    repo.commit("main change")
    if what == "am":
        repo.git("format-patch", "-1", "--stdout", side)
        repo.git("am", input=repo.git("format-patch", "-1", "--stdout", side).encode(), check=False)
    elif what == "cherry-pick":
        repo.git("cherry-pick", side, check=False)
    else:
        repo.git("rebase", "side", check=False)
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 5, result.output
    assert "in progress" in result.stderr and "--abort" in result.stderr
    assert repo.state() == before


def test_patches_without_message_id_get_no_link_and_a_note(repo, cli, tmp_path):
    mbox = repo.series(EDITS[:2], cover=False, extra=["--no-thread"])
    mbox = b"\n".join(line for line in mbox.split(b"\n") if not line.lower().startswith(b"message-id:"))
    (tmp_path / "s.mbox").write_bytes(mbox)
    result = cli(str(tmp_path / "s.mbox"), cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "note: patch(es) 1, 2 carry no Message-ID, so they got no Link trailer" in result.stderr
    assert "Link:" not in repo.git("log", "--format=%B", f"{repo.base}..HEAD")


def test_every_kind_of_change_and_a_3way_fallback_apply_as_plain_git_am(repo, pw, cli, tmp_path):
    """The scratch checks out no directory: git am must find (or check out) every file a
    patch touches, for a 3-way fallback too, and make what it makes in a full work tree."""
    from conftest import git

    repo.git("checkout", "-q", "--detach", repo.base)
    repo.write("src/deep/er/still/new.c", "a new file in new directories\n")
    repo.commit("deep: Add a file")
    repo.git("rm", "-q", "src/file4.c")
    repo.commit("file4: Remove it")
    repo.git("mv", "src/file5.c", "tools/file5.c")
    repo.commit("file5: Move it to tools")
    (repo.path / "README").chmod(0o755)
    repo.commit("README: Make it executable")
    repo.edit_line("src/file1.c", "line 20 of file 1\n", "line 20 of file 1, fixed\n")
    repo.commit("file1: Fix line 20")
    mbox = repo.git("format-patch", "-M", "--stdout", "--thread", f"{repo.base}..HEAD").encode()
    repo.git("checkout", "-q", "main")
    # Upstream changed a line in the last patch's context: only the 3-way fallback applies it.
    repo.edit_line("src/file1.c", "line 18 of file 1\n", "line 18 of file 1, upstream\n")
    upstream = repo.commit("Upstream change")
    sid = pw.add_series("qemu-devel", mbox)

    result = cli(str(sid), "--server", pw.url, "-b", "ours", cwd=repo.path)
    assert result.exit_code == 0, result.output
    plain = tmp_path / "plain"
    repo.git("worktree", "add", "-q", "--detach", str(plain), upstream)
    (tmp_path / "series.mbox").write_bytes(mbox)
    am = git(plain, "am", "-3", str(tmp_path / "series.mbox"))
    assert "Falling back to patching base and 3-way merge" in am  # the case is the one meant
    fmt = "--format=%T %an <%ae> %ad %s"
    theirs = git(plain, "log", "--reverse", fmt, "--date=raw", f"{upstream}..HEAD")
    assert repo.git("log", "--reverse", fmt, "--date=raw", f"{upstream}..ours") == theirs
    assert len(theirs.splitlines()) == 5
    assert repo.git("status", "--porcelain") == ""
    assert (repo.path / "src/deep/er/still/new.c").exists() and not (repo.path / "src/file4.c").exists()
    repo.git("worktree", "remove", "--force", str(plain))


# ------------------------------------------------------------------ the scratch's git directory

WHERE_HOOK = """#!/bin/sh
git rev-parse --absolute-git-dir --git-common-dir >> "{out}"
"""


def test_git_am_works_in_a_git_directory_of_its_own(repo, pw, cli, qemu, tmp_path):
    """git am locks the packed-refs of the repository it works in after every patch: in
    the scratch's own git directory, never the user's, so that no interrupt can leave a
    lock of theirs behind.  Its objects still land in the user's object store."""
    sid, _ = qemu
    out = tmp_path / "where"
    hook = repo.path / ".git" / "hooks" / "applypatch-msg"
    hook.write_text(WHERE_HOOK.format(out=out))
    hook.chmod(0o755)
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    user = str(repo.path / ".git")
    (scratch,) = set(out.read_text().split())  # its git dir is also its common dir: not the user's
    assert scratch.startswith(user + "/pwapply-scratch-")
    assert [p.name for p in (repo.path / ".git").iterdir() if p.name.startswith("pwapply-")] == []  # gone
    assert repo.git("cat-file", "-t", "HEAD") == "commit\n"


def test_a_sha256_repository(tmp_path, pw, cli):
    from conftest import Repo

    subprocess.run(["git", "init", "-q", "--object-format=sha256", str(tmp_path / "r")], check=True)
    shutil.rmtree(tmp_path / "r")
    repo = Repo.__new__(Repo)
    repo.path = tmp_path / "r"
    subprocess.run(["git", "init", "-q", "--object-format=sha256", str(repo.path)], check=True)
    (repo.path / "src").mkdir()
    (repo.path / "docs").mkdir()
    (repo.path / "src" / "file1.c").write_text("".join(f"line {j} of file 1\n" for j in range(1, 41)))
    (repo.path / "src" / "file2.c").write_text("".join(f"line {j} of file 2\n" for j in range(1, 41)))
    (repo.path / "docs" / "index.rst").write_text("Docs\n====\n\nWelcome.\n")
    repo.git("add", ".")
    repo.git("commit", "-qm", "Initial import")
    repo.base = repo.rev("HEAD")
    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert len(repo.rev("HEAD")) == 64
    assert len(repo.git("log", "--format=%H", f"{repo.base}..HEAD").split()) == 3


def test_an_identity_chosen_by_includeif_gitdir_signs_off_in_the_scratch(repo, pw, cli, qemu, monkeypatch, tmp_path):
    """Maintainers pick their work identity by where the repository is
    (includeIf "gitdir:~/work/"): git am in the scratch must see the same one."""
    sid, _ = qemu
    for name in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name)
    work_id = tmp_path / "work-identity"
    work_id.write_text("[user]\n\tname = Work Maintainer\n\temail = maint@work.example\n")
    with open(os.path.expanduser("~/.gitconfig"), "a") as fh:
        fh.write("[user]\n\tname = Home\n\temail = home@example.org\n")
        fh.write(f'[includeIf "gitdir:{repo.path}/"]\n\tpath = {work_id}\n')
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert set(repo.git("log", "--format=%cn <%ce>", f"{repo.base}..HEAD").splitlines()) == {
        "Work Maintainer <maint@work.example>"
    }


def test_an_unedited_cover_letter_names_the_branch_after_the_first_patch(repo, pw, cli):
    from conftest import EDITS

    sid = pw.add_series("qemu-devel", repo.series(EDITS, cover_subject="*** SUBJECT HERE ***"))
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.stderr
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/file1-fix-line-3-v1"
