"""Applied branches over their life: `pwapply status`, `update` and `accept`, on real
repositories with a local bare remote, against the fake Patchwork."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import List

import pytest

from conftest import EDITS, add_origin

EDITS_B = [
    ("src/file4.c", "line 7 of file 4\n", "line 7 of file 4, shorter\n", "file4: Shorten line 7"),
    ("src/file5.c", "line 9 of file 5\n", "line 9 of file 5, clearer\n", "file5: Clarify line 9"),
]
TOKEN = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def origin(repo, tmp_path, pw, monkeypatch):
    """The repository with an origin it has pushed main to, configured for the fake
    server, pwapply on PATH as a hook would find it."""
    add_origin(repo, tmp_path)
    repo.git("config", "pwapply.server", pw.url)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    return repo


def apply(cli, repo, sid, *args):
    result = cli(str(sid), *args, cwd=repo.path)
    assert result.exit_code == 0, result.output
    return repo.git("symbolic-ref", "--short", "HEAD").strip()


@pytest.fixture
def two(origin, pw, cli):
    """Two series applied on branches of their own, the second checked out."""
    a = pw.add_series("qemu-devel", origin.series(EDITS), date="2026-04-21T20:00:00")
    b = pw.add_series(
        "qemu-devel", origin.series(EDITS_B, cover_subject="Tidy files 4 and 5"), date="2026-04-22T20:00:00"
    )
    a_branch = apply(cli, origin, a)
    origin.git("checkout", "-q", "main")
    b_branch = apply(cli, origin, b)
    pw.reset()
    return (a, a_branch), (b, b_branch)


def log(repo, rev, fmt="%B%x00"):
    return [
        m.strip()
        for m in repo.git("log", "--reverse", f"--format={fmt}", f"{repo.base}..{rev}").split("\0")
        if m.strip()
    ]


def trailers_of(repo, rev) -> List[List[str]]:
    out = repo.git("log", "--reverse", "--format=%(trailers:only,unfold)%x00", f"{repo.base}..{rev}")
    return [[line for line in m.strip().splitlines() if line] for m in out.split("\0") if m.strip()]


# ------------------------------------------------------------------ status


def test_status_one_line_per_branch_with_what_changed(two, origin, pw, cli):
    (a, a_branch), (b, b_branch) = two
    pw.add_patch_reply(pw.patch_ids(a)[0], "Reviewed-by: Late Reviewer <late@example.org>\n")
    pw.add_cover_reply(a, "Tested-by: Tess Ter <tess@example.org>\n")
    v2 = pw.add_series("qemu-devel", origin.series(EDITS, version=2), date="2026-04-28T20:00:00")
    pw.set_state(pw.patch_ids(b)[1], "changes-requested")
    pw.set_check(pw.patch_ids(b)[0], "fail")

    result = cli("status", cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    a_line = next(line for line in lines if a_branch in line)
    b_line = next(line for line in lines if b_branch in line)
    assert a_line.startswith("  ") and b_line.startswith("* "), lines  # the current branch is marked
    assert f"series {a} v1" in a_line and "3 commits" in a_line
    assert f"v2 posted (series {v2})" in a_line
    # The cover letter's tag counts for each of the three commits, the patch's for one.
    assert "4 review tags to add" in a_line
    assert f"series {b} v1" in b_line and "1 changes-requested" in b_line and "CI checks failed on 1" in b_line
    # Each series asked once, however many branches and commits: no per-patch request.
    for sid in (a, b):
        asked = [p for p in pw.paths() if f"/series/{sid}/" in p or f"series={sid}&" in p or f"covers/{sid}/" in p]
        assert sorted(p.split("?")[0] for p in asked) == sorted(
            [f"/api/series/{sid}/", f"/series/{sid}/mbox/", "/api/1.2/patches/", f"/api/1.2/covers/{sid}/comments/"]
        ), pw.paths()
    # And one listing of the other versions for both: they have one submitter.
    assert pw.count("msgid=") == 0 and pw.count("/api/1.2/series/?") == 1 and len(pw.paths()) == 9

    verbose = cli("status", "-v", cwd=origin.path)
    assert "+ Reviewed-by: Late Reviewer <late@example.org>" in verbose.stdout
    assert "+ Tested-by: Tess Ter <tess@example.org>" in verbose.stdout


def test_status_json(two, origin, pw, cli):
    (a, a_branch), (b, b_branch) = two
    pw.add_patch_reply(pw.patch_ids(b)[0], "Acked-by: Ack Er <ack@example.org>\n")
    result = cli("status", "--json", cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    rows = {r["branch"]: r for r in json.loads(result.stdout)}
    assert rows[a_branch]["series"] == a and rows[a_branch]["commits"] == 3 and not rows[a_branch]["current"]
    assert rows[b_branch]["current"] and rows[b_branch]["newer"] is None
    assert rows[b_branch]["tags"] == [
        {
            "commit": origin.rev(f"{b_branch}~1"),
            "subject": "file4: Shorten line 7",
            "tag": "Acked-by: Ack Er <ack@example.org>",
        }
    ]
    assert rows[a_branch]["merged"] is False


def test_status_merged_upstream(two, origin, pw, cli):
    (a, a_branch), _ = two
    origin.git("checkout", "-q", "main")
    origin.git("merge", "-q", "--ff-only", a_branch)
    origin.git("push", "-q", "origin", "main")
    rows = {r["branch"]: r for r in json.loads(cli("status", "--json", "--offline", cwd=origin.path).stdout)}
    assert rows[a_branch]["merged"] is True
    line = next(x for x in cli("status", "--offline", cwd=origin.path).stdout.splitlines() if a_branch in x)
    assert "merged" in line


def test_status_offline_asks_nothing(two, origin, pw, cli):
    result = cli("status", "--offline", cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    assert pw.count() == 0
    assert len([x for x in result.stdout.splitlines() if "series " in x]) == 2


def test_status_with_the_server_down_gives_what_git_knows_and_one_warning(two, origin, pw, cli, mocker):
    mocker.patch("pwapply.net.transport.time.sleep")  # the retries' backoff
    pw.fault("/api/", status=503)
    result = cli("status", "--timeout", "2", cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    assert len([x for x in result.stdout.splitlines() if "series " in x]) == 2
    assert result.stderr.count("warning: ") == 1, result.stderr
    assert "could not ask" in result.stderr


def test_status_leaves_out_deleted_branches_unless_all(two, origin, pw, cli):
    (a, a_branch), _ = two
    origin.git("branch", "-q", "-D", a_branch)
    assert a_branch not in cli("status", "--offline", cwd=origin.path).stdout
    every = cli("status", "--offline", "--all", cwd=origin.path).stdout
    assert a_branch in every and "deleted" in every


def test_status_with_nothing_applied(origin, cli):
    result = cli("status", cwd=origin.path)
    assert result.exit_code == 0
    assert "pwapply made no branch here yet" in result.stderr


# ------------------------------------------------------------------ update


@pytest.mark.parametrize("where", ["patch", "cover", "both"])
def test_update_adds_the_tags_before_the_link_and_never_twice(two, origin, pw, cli, where):
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    if where in ("patch", "both"):
        pw.add_patch_reply(pw.patch_ids(a)[1], "Reviewed-by: Late Reviewer <late@example.org>\n")
    if where in ("cover", "both"):
        pw.add_cover_reply(a, "Tested-by: Tess Ter <tess@example.org>\n")
    before = origin.rev("HEAD")
    trees = log(origin, "HEAD", "%T %an <%ae> %ad")
    result = cli("update", cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    assert origin.rev("HEAD") != before
    assert log(origin, "HEAD", "%T %an <%ae> %ad") == trees  # trees, authors, author dates untouched
    assert origin.git("status", "--porcelain") == ""  # work tree and index need no change
    for i, t in enumerate(trailers_of(origin, "HEAD")):
        assert t[-1].startswith("Link: "), t
        added = t[1:-1]
        want = []
        if where in ("patch", "both") and i == 1:
            want.append("Reviewed-by: Late Reviewer <late@example.org>")
        if where in ("cover", "both"):
            want.append("Tested-by: Tess Ter <tess@example.org>")
        assert added == want, t
    assert f"(git branch -f {a_branch} {before[:12]} undoes it)" in result.stderr
    # The reflog says what moved it.
    assert "pwapply: update" in origin.git("reflog", "-1", a_branch)

    again = cli("update", cwd=origin.path)
    assert again.exit_code == 0
    assert "no review tag to add" in again.stderr
    assert origin.rev("HEAD") == origin.rev(a_branch)


def test_update_a_branch_that_is_not_checked_out(two, origin, pw, cli):
    (a, a_branch), (b, b_branch) = two
    pw.add_cover_reply(a, "Reviewed-by: R <r@example.org>\n")
    head = origin.rev("HEAD")
    result = cli("update", a_branch, cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    assert origin.rev("HEAD") == head and origin.git("symbolic-ref", "--short", "HEAD").strip() == b_branch
    assert all("Reviewed-by: R <r@example.org>" in t for t in trailers_of(origin, a_branch))


def test_update_keeps_the_messages_of_a_users_commit_on_top(two, origin, pw, cli):
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    origin.write("src/file3.c", "mine\n")
    origin.commit("file3: my own change\n\nLink: https://example.org/not-a-patch\nSigned-off-by: Me <me@x>")
    mine = log(origin, "HEAD")[-1]
    pw.add_cover_reply(a, "Reviewed-by: R <r@example.org>\n")
    result = cli("update", cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    messages = log(origin, "HEAD")
    assert messages[-1] == mine
    assert all("Reviewed-by: R <r@example.org>" in m for m in messages[:3])
    assert origin.git("status", "--porcelain") == ""


def test_update_refuses_a_merge_in_the_range(two, origin, pw, cli):
    (a, a_branch), (b, b_branch) = two
    origin.git("checkout", "-q", a_branch)
    origin.git("merge", "-q", "--no-edit", b_branch)
    pw.add_cover_reply(a, "Reviewed-by: R <r@example.org>\n")
    state = origin.state()
    result = cli("update", cwd=origin.path)
    assert result.exit_code == 5, result.stderr
    assert "merge" in result.stderr and "hint: " in result.stderr
    assert origin.state() == state


def test_update_dry_run_changes_nothing(two, origin, pw, cli):
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    pw.add_patch_reply(pw.patch_ids(a)[0], "Reviewed-by: Late Reviewer <late@example.org>\n")
    state = origin.state()
    result = cli("update", "--dry-run", cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    assert "would add 1 review tag" in result.stderr
    assert "Reviewed-by: Late Reviewer <late@example.org>" in result.stderr
    assert origin.state() == state


def test_a_record_naming_a_source_this_pwapply_lacks(two, origin, pw, cli):
    """A record written by a newer pwapply may name a kind of source this one does not
    have: update refuses (exit 2, nothing changed), status says it and shows what git
    knows."""
    applied = origin.path / ".git" / "pwapply" / "applied.json"
    applied.write_text(applied.read_text().replace('"kind": "patchwork"', '"kind": "patchew"'))
    state = origin.state()
    result = cli("update", cwd=origin.path)
    assert result.exit_code == 2 and result.stdout == ""
    assert f"error: no source of series of the kind 'patchew' ({pw.url})" in result.stderr
    assert "hint: is the record of a newer pwapply?" in result.stderr
    assert origin.state() == state
    result = cli("status", cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("not asked") == 2
    assert (
        f"warning: could not ask 127.0.0.1:{pw.url.rsplit(':', 1)[1]} (no source of series of the kind" in result.stderr
    )
    assert pw.count() == 0


def test_update_of_a_pushed_branch_warns(two, origin, pw, cli):
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    origin.git("push", "-q", "origin", a_branch)
    pw.add_cover_reply(a, "Reviewed-by: R <r@example.org>\n")
    result = cli("update", cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    assert f"warning: its commits are on origin/{a_branch}" in result.stderr
    assert "published history" in result.stderr


def test_update_says_when_a_newer_version_is_posted_and_to_latest_applies_it(two, origin, pw, cli, capfd):
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    edits = [EDITS[0], (*EDITS[1][:3], "file2: Improve line 10 more"), EDITS[2]]
    v2 = pw.add_series("qemu-devel", origin.series(edits, version=2, base=origin.base), date="2026-04-28T20:00:00")
    result = cli("update", cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    assert f"v2 is posted (series {v2})" in result.stderr and "pwapply update --to-latest" in result.stderr
    old = origin.rev(a_branch)

    latest = cli("update", "--to-latest", cwd=origin.path)
    assert latest.exit_code == 0, latest.stderr
    branch = origin.git("symbolic-ref", "--short", "HEAD").strip()
    assert branch != a_branch and "v2" in branch
    assert origin.rev(a_branch) == old  # the old branch stays, for comparing
    assert log(origin, "HEAD", "%s%x00")[1] == "file2: Improve line 10 more"
    assert origin.rev("HEAD~3") == origin.base  # on the commit the old branch was made on
    assert f"what changed since {a_branch}" in latest.stderr
    # The range-diff summary: only the changed patch is marked changed (trailers left out).
    shown = capfd.readouterr().out.splitlines()
    assert [line.split()[2] for line in shown] == ["=", "!", "="], shown
    assert "file2: Improve line 10" in shown[1]


def test_update_of_a_branch_pwapply_did_not_make(origin, cli):
    state = origin.state()
    result = cli("update", cwd=origin.path)
    assert result.exit_code == 2
    assert "pwapply did not make branch main" in result.stderr and "hint: " in result.stderr
    assert origin.state() == state


def test_update_refuses_a_concurrent_change_of_the_branch(two, origin, pw, cli, monkeypatch):
    """The branch moves with update-ref NEW OLD: moved meanwhile, it is not overwritten."""
    from pwapply import process

    (a, a_branch), _ = two
    pw.add_cover_reply(a, "Reviewed-by: R <r@example.org>\n")
    origin.git("checkout", "-q", a_branch)
    origin.write("src/file3.c", "meanwhile\n")
    meanwhile = origin.commit("file3: committed meanwhile")
    origin.git("reset", "-q", "--hard", "HEAD~1")

    commit = process.commit

    def move_then_commit() -> None:  # another git command moves the branch meanwhile
        origin.git("update-ref", f"refs/heads/{a_branch}", meanwhile)
        commit()

    monkeypatch.setattr(process, "commit", move_then_commit)
    result = cli("update", cwd=origin.path)
    assert result.exit_code == 5, result.stderr
    assert origin.rev(a_branch) == meanwhile


# ------------------------------------------------------------------ accept


@pytest.fixture
def pushed(two, origin, pw):
    """Series a's branch pushed to origin, and a maintainer's token."""
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    origin.git("push", "-q", "origin", a_branch)
    pw.tokens[TOKEN] = True
    pw.reset()
    return a, a_branch


def test_accept_marks_the_pushed_commits_with_their_commit(pushed, origin, pw, cli):
    a, a_branch = pushed
    result = cli("accept", cwd=origin.path, env={"PWAPPLY_TOKEN": TOKEN})
    assert result.exit_code == 0, result.stderr
    commits = origin.git("rev-list", "--reverse", f"{origin.base}..HEAD").split()
    assert sorted(pw.changes) == sorted(zip(pw.patch_ids(a), ["accepted"] * 3, commits))
    assert "marked 3 patches accepted" in result.stderr
    # The token was sent with the changes and nothing else asked for it.
    assert all(h.get("authorization") == f"Token {TOKEN}" for m, _, h in pw.requests if m == "PATCH")


def test_accept_another_state_from_config(pushed, origin, pw, cli):
    a, _ = pushed
    origin.git("config", "pwapply.acceptState", "awaiting-upstream")
    result = cli("accept", cwd=origin.path, env={"PWAPPLY_TOKEN": TOKEN})
    assert result.exit_code == 0, result.stderr
    assert {s for _, s, _ in pw.changes} == {"awaiting-upstream"}


def test_accept_dry_run_lists_and_changes_nothing(pushed, origin, pw, cli):
    result = cli("accept", "--dry-run", cwd=origin.path)  # no token needed to look
    assert result.exit_code == 0, result.stderr
    assert "would mark 3 patches accepted" in result.stderr
    assert pw.changes == [] and not any(m == "PATCH" for m, _, _ in pw.requests)


def test_accept_without_a_token(pushed, origin, pw, cli):
    result = cli("accept", cwd=origin.path)
    assert result.exit_code == 2, result.stderr
    assert "token" in result.stderr and "hint: git config pwapply.token" in result.stderr
    assert pw.changes == []


def test_accept_skips_unpushed_commits_unless_forced(two, origin, pw, cli):
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    pw.tokens[TOKEN] = True
    result = cli("accept", cwd=origin.path, env={"PWAPPLY_TOKEN": TOKEN})
    assert result.exit_code == 0, result.stderr
    assert pw.changes == []
    assert "no remote-tracking branch has it yet" in result.stderr
    forced = cli("accept", "--force", cwd=origin.path, env={"PWAPPLY_TOKEN": TOKEN})
    assert forced.exit_code == 0, forced.stderr
    assert len(pw.changes) == 3


def test_accept_refused_by_the_server_names_the_patch_and_lists_the_others(pushed, origin, pw, cli):
    a, _ = pushed
    refused = pw.patch_ids(a)[1]

    def forbid(h) -> bool:
        if h.command != "PATCH":
            return False
        h._json({"detail": "You do not have permission to perform this action."}, status=403)
        return True

    pw.fault(f"/patches/{refused}/", handler=forbid)
    result = cli("accept", cwd=origin.path, env={"PWAPPLY_TOKEN": TOKEN})
    assert result.exit_code == 4, result.stderr
    assert f"error: patch {refused} (file2: Improve line 10)" in result.stderr
    assert "marked 2 patches accepted" in result.stderr
    assert sorted(p for p, _, _ in pw.changes) == sorted(set(pw.patch_ids(a)) - {refused})


def test_accept_never_sends_the_token_to_a_host_named_only_by_a_trailer(pushed, origin, pw, cli):
    a, a_branch = pushed
    origin.write("src/file3.c", "pasted\n")
    origin.commit(
        "file3: from elsewhere\n\nLink: https://patchwork.example.org/project/qemu-devel/patch/1-x@example.org/"
    )
    origin.git("push", "-q", "origin", a_branch)
    result = cli("accept", "HEAD~1..HEAD", cwd=origin.path, env={"PWAPPLY_TOKEN": TOKEN})
    assert result.exit_code == 0, result.stderr
    assert "patchwork.example.org" in result.stderr and "not marked" in result.stderr
    assert pw.changes == []


def test_accept_of_a_branch_pwapply_did_not_make_asks_for_a_range(origin, cli):
    result = cli("accept", cwd=origin.path, env={"PWAPPLY_TOKEN": TOKEN})
    assert result.exit_code == 2
    assert "hint: name them" in result.stderr


# ------------------------------------------------------------------ accept after a push


def test_accept_after_a_real_push_through_the_installed_hooks(two, origin, pw):
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    pw.tokens[TOKEN] = True
    origin.git("config", "pwapply.token", TOKEN)
    proc = subprocess.run(
        [sys.executable, "-m", "pwapply", "hooks", "install", "--accept"],
        cwd=origin.path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert os.path.exists(origin.path / ".git" / "hooks" / "reference-transaction")
    push = subprocess.run(["git", "push", "origin", a_branch], cwd=origin.path, capture_output=True, text=True)
    assert push.returncode == 0, push.stderr
    commits = origin.git("rev-list", "--reverse", f"{origin.base}..HEAD").split()
    assert sorted(pw.changes) == sorted(zip(pw.patch_ids(a), ["accepted"] * 3, commits)), push.stderr
    assert "pwapply: marked 3 pushed patches accepted" in push.stderr
    assert not (origin.path / ".git" / "pwapply" / "accept-pending").exists()


@pytest.mark.parametrize("configured", [None, "fork", "origin, fork"])
def test_accept_on_push_only_for_the_remotes_it_is_for(two, origin, pw, tmp_path, configured):
    """A push to a personal fork marks nothing, unless pwapply.acceptRemotes names it (by
    default only the upstream's remote, else origin, does)."""
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    pw.tokens[TOKEN] = True
    origin.git("config", "pwapply.token", TOKEN)
    if configured:
        origin.git("config", "pwapply.acceptRemotes", configured)
    fork = tmp_path / "fork.git"
    subprocess.run(["git", "init", "-q", "--bare", str(fork)], check=True)
    origin.git("remote", "add", "fork", str(fork))
    subprocess.run([sys.executable, "-m", "pwapply", "hooks", "install", "--accept"], cwd=origin.path, check=True)
    push = subprocess.run(["git", "push", "fork", a_branch], cwd=origin.path, capture_output=True, text=True)
    assert push.returncode == 0, push.stderr
    assert len(pw.changes) == (3 if configured else 0), push.stderr
    if not configured:  # to origin (the upstream's remote) it marks them
        push = subprocess.run(["git", "push", "origin", a_branch], cwd=origin.path, capture_output=True, text=True)
        assert push.returncode == 0, push.stderr
        assert len(pw.changes) == 3, push.stderr


def test_nothing_is_marked_for_a_push_that_failed(two, origin, pw, tmp_path):
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    pw.tokens[TOKEN] = True
    origin.git("config", "pwapply.token", TOKEN)
    subprocess.run([sys.executable, "-m", "pwapply", "hooks", "install", "--accept"], cwd=origin.path, check=True)
    refuse = tmp_path / "remote.git" / "hooks" / "pre-receive"
    refuse.write_text("#!/bin/sh\necho 'not today' >&2\nexit 1\n")
    refuse.chmod(0o755)
    push = subprocess.run(["git", "push", "origin", a_branch], cwd=origin.path, capture_output=True, text=True)
    assert push.returncode != 0
    assert pw.changes == []
    # A later fetch moves remote-tracking branches, but not to these commits: still nothing.
    subprocess.run(["git", "fetch", "-q", "origin"], cwd=origin.path, check=True)
    assert pw.changes == []
    # Once the push goes through, the waiting acceptances are made.
    refuse.unlink()
    push = subprocess.run(["git", "push", "origin", a_branch], cwd=origin.path, capture_output=True, text=True)
    assert push.returncode == 0, push.stderr
    assert len(pw.changes) == 3, push.stderr


def test_hooks_uninstall_removes_both(origin, cli):
    assert cli("hooks", "install", "--accept", cwd=origin.path).exit_code == 0
    assert origin.git("config", "--bool", "pwapply.acceptOnPush").strip() == "true"
    assert cli("hooks", "uninstall", cwd=origin.path).exit_code == 0
    hooks_dir = origin.path / ".git" / "hooks"
    assert not (hooks_dir / "pre-push").exists() and not (hooks_dir / "reference-transaction").exists()


def test_status_asks_one_listing_of_versions_per_submitter(origin, pw, cli):
    a = pw.add_series("qemu-devel", origin.series(EDITS), date="2026-04-21T20:00:00", submitter=("A", "a@x.org"))
    b = pw.add_series("qemu-devel", origin.series(EDITS_B, cover_subject="Tidy"), submitter=("B", "b@x.org"))
    c = pw.add_series("qemu-devel", origin.series(EDITS_B, cover_subject="Tidy more"), submitter=("A", "a@x.org"))
    for sid in (a, b, c):
        apply(cli, origin, sid)
        origin.git("checkout", "-q", "main")
    v2 = pw.add_series(
        "qemu-devel", origin.series(EDITS_B, version=2, cover_subject="Tidy"), submitter=("B", "b@x.org")
    )
    pw.reset()
    rows = json.loads(cli("status", "--json", cwd=origin.path).stdout)
    assert [r["newer"] for r in rows] == [None, {"series": v2, "version": 2}, None]
    assert pw.count("/api/1.2/series/?") == 2, pw.paths()


# ------------------------------------------------------------------ every refusal, seen


def test_update_with_head_detached_asks_for_the_branch(two, origin, cli):
    origin.git("checkout", "-q", "--detach")
    state = origin.state()
    result = cli("update", cwd=origin.path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: HEAD is not on a branch",
        "hint: name the branch: pwapply update BRANCH",
    ]
    assert origin.state() == state


def test_update_of_a_deleted_branch(two, origin, cli):
    (a, a_branch), _ = two
    origin.git("branch", "-q", "-D", a_branch)
    result = cli("update", a_branch, cwd=origin.path)
    assert result.exit_code == 2
    assert (
        f"error: branch {a_branch} no longer exists" in result.stderr and "hint: pwapply status --all" in result.stderr
    )


def test_update_of_a_rebased_branch_is_refused(two, origin, pw, cli):
    (a, a_branch), _ = two
    # Onto a commit that does not have the one pwapply applied it on (a rewritten history).
    other = origin.git("commit-tree", "-m", "Initial import, rewritten", f"{origin.base}^{{tree}}").strip()
    origin.git("checkout", "-q", a_branch)
    origin.git("rebase", "-q", "--onto", other, origin.base)
    pw.add_cover_reply(a, "Reviewed-by: R <r@example.org>\n")
    state = origin.state()
    result = cli("update", cwd=origin.path)
    assert result.exit_code == 5
    assert f"error: branch {a_branch} is no longer on the commit pwapply applied it on" in result.stderr
    assert "hint: it was rebased" in result.stderr
    assert origin.state() == state


def test_accept_a_state_the_server_does_not_have(pushed, origin, pw, cli):
    origin.git("config", "pwapply.acceptState", "merged")
    result = cli("accept", cwd=origin.path, env={"PWAPPLY_TOKEN": TOKEN})
    assert result.exit_code == 4
    assert "refused the state of patch" in result.stderr and "Invalid state merged" in result.stderr
    assert "hint: check git config pwapply.acceptState" in result.stderr
    assert pw.changes == []


def test_accept_with_a_token_the_server_does_not_know(pushed, origin, pw, cli):
    result = cli("accept", cwd=origin.path, env={"PWAPPLY_TOKEN": "f" * 40})
    assert result.exit_code == 4
    assert "(HTTP 401): not a maintainer of its project?" in result.stderr and "hint: " in result.stderr
    assert pw.changes == []


def test_accept_of_an_unknown_revision(pushed, origin, pw, cli):
    result = cli("accept", "nosuch..HEAD", cwd=origin.path, env={"PWAPPLY_TOKEN": TOKEN})
    assert result.exit_code == 2
    assert "error: not a revision or range of this repository: nosuch..HEAD" in result.stderr
    assert pw.changes == [] and pw.count() == 0


# ------------------------------------------------------------------ the server given on the command line


@pytest.fixture
def elsewhere(origin, cli):
    """A second Patchwork server, and a branch applied from it (--server, as a
    maintainer who never wrote the server into git config does)."""
    from pwapply.testing import FakePatchwork

    with FakePatchwork() as other:
        sid = other.add_series("uboot", origin.series(EDITS_B, cover_subject="Tidy elsewhere", base=origin.base))
        origin.git("checkout", "-q", "main")
        branch = apply(cli, origin, sid, "--server", other.url)
        other.reset()
        yield other, sid, branch


def test_status_and_update_take_the_server_and_narrow_to_its_branches(two, elsewhere, origin, pw, cli):
    other, sid, branch = elsewhere
    (a, a_branch), (b, b_branch) = two
    rows = json.loads(cli("status", "--json", "--server", other.url, cwd=origin.path).stdout)
    assert [r["branch"] for r in rows] == [branch]
    assert other.count() > 0 and pw.count() == 0  # only that server was asked
    rows = json.loads(cli("status", "--json", "--offline", cwd=origin.path).stdout)
    assert sorted(r["branch"] for r in rows) == sorted([a_branch, b_branch, branch])
    other.add_cover_reply(sid, "Reviewed-by: Rev Iewer <rev@example.org>\n")
    updated = cli("update", branch, "--server", other.url, cwd=origin.path)
    assert updated.exit_code == 0, updated.stderr
    assert "Reviewed-by: Rev Iewer <rev@example.org>" in origin.git("log", "-1", "--format=%B", branch)
    state = origin.state()
    wrong = cli("update", a_branch, "--server", other.url, cwd=origin.path)
    assert wrong.exit_code == 2 and f"branch {a_branch} was applied from {pw.url}, not from {other.url}" in wrong.stderr
    assert origin.state() == state


def test_accept_takes_the_server_and_sends_the_token_there_only(elsewhere, origin, pw, cli):
    other, sid, branch = elsewhere
    origin.git("config", "--unset", "pwapply.server")  # never written into git config
    origin.git("checkout", "-q", branch)
    origin.git("push", "-q", "origin", branch)
    other.tokens[TOKEN] = True
    result = cli("accept", "--server", other.url, cwd=origin.path, env={"PWAPPLY_TOKEN": TOKEN})
    assert result.exit_code == 0, result.stderr
    assert len(other.changes) == 2 and pw.count() == 0
    assert all(h.get("authorization") == f"Token {TOKEN}" for m, _, h in other.requests if m == "PATCH")


def test_a_configured_token_never_goes_to_another_server_given_by_flag(elsewhere, origin, pw, cli):
    """pwapply.server and pwapply.token are the first server's: --server naming another
    does not take the token with it."""
    other, sid, branch = elsewhere
    origin.git("config", "pwapply.token", TOKEN)
    origin.git("checkout", "-q", branch)
    origin.git("push", "-q", "origin", branch)
    result = cli("accept", "--server", other.url, cwd=origin.path)
    assert result.exit_code == 2 and "token" in result.stderr, result.stderr
    assert all("authorization" not in h for _, _, h in other.requests) and other.changes == []


def test_update_to_latest_says_when_the_branch_is_the_latest(two, origin, pw, cli):
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    result = cli("update", "--to-latest", cwd=origin.path)
    assert result.exit_code == 0, result.stderr
    assert f"{a_branch} is already the latest version (v1 of series {a})" in result.stderr


@pytest.mark.parametrize("command,step", [(["status"], "ask the servers"), (["update", "--dry-run"], "ask the server")])
def test_status_and_update_ask_the_servers_before_reading_the_branches(two, origin, pw, tmp_path, command, step):
    """The requests leave first; git reads each branch while they are on their way."""
    (a, a_branch), _ = two
    origin.git("checkout", "-q", a_branch)
    steps = tmp_path / "steps"
    proc = subprocess.run(
        [sys.executable, "-m", "pwapply", *command],
        cwd=origin.path,
        env=dict(os.environ, PWAPPLY_TEST_STEPS=str(steps)),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    seen = steps.read_text().splitlines()
    first_log = next(i for i, s in enumerate(seen) if s.startswith("before git log"))
    assert seen.index(step) < first_log, seen
    assert any(s.startswith("before GET") for s in seen)
