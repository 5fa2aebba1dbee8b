"""The whole flow, end to end: real git, real HTTP on loopback."""

from __future__ import annotations

import pytest

from conftest import EDITS, IDENT, msgids


def log_messages(repo, rng):
    out = repo.git("log", "--reverse", "--format=%H%x00%B%x01", rng)
    return [entry.split("\0", 1)[1].strip("\n") for entry in out.split("\x01") if "\0" in entry]


def test_series_id_applies_on_a_new_branch_with_trailers(repo, pw, cli):
    mbox = repo.series(EDITS, version=2)
    sid = pw.add_series("qemu-devel", mbox)
    pw.add_patch_reply(pw.patch_ids(sid)[1], "Looks good.\n\nReviewed-by: Rita Viewer <rita@example.org>\n")
    pw.add_cover_reply(sid, "> Reviewed-by: Quoted Person <q@example.org>\n\nTested-by: Tess Ter <tess@example.org>\n"
                            "Acked-by: Ack Er <ack@example.org>\n")
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
        block = lines[lines.index(sob):]
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
    assert repo.git("log", "-1", "--format=%an <%ae> %ad", "--date=raw").strip() == \
        f"{IDENT['GIT_AUTHOR_NAME']} <{IDENT['GIT_AUTHOR_EMAIL']}> 1700000000 +0000"
    # 3 requests: series, mbox, cover comments.
    assert pw.count() == 3, pw.paths()
    assert repo.git("worktree", "list").count("\n") == 1
