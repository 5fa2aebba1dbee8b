"""A series the base already has, in whole or in part (merged upstream since, a patch
picked ahead): said for what it is, by the commits that carry it; the rest applies with
each commit's own trailers; never an empty branch."""

from __future__ import annotations

import json

import pytest

from conftest import EDITS


def subjects(repo, rng):
    return repo.git("log", "--reverse", "--format=%s", rng).splitlines()


def test_a_series_the_base_has_whole_makes_no_branch(repo, pw, cli):
    sid = pw.add_series("qemu-devel", repo.series(EDITS))
    assert cli(str(sid), "--server", pw.url, "--no-checkout", "-b", "first", cwd=repo.path).exit_code == 0
    repo.git("merge", "-q", "--ff-only", "first")  # merged upstream since
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, "-b", "again", "--json", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "Nothing to apply: the base already has every patch of series" in result.stderr
    assert "no branch was made" in result.stderr
    data = json.loads(result.stdout)
    assert data["branch"] is None and data["commits"] == []
    assert repo.state() == before  # no empty branch


@pytest.mark.parametrize("three_way", ["--3way", "--no-3way"])
def test_a_patch_picked_ahead_is_named_and_the_rest_applies(repo, pw, cli, three_way):
    """Patch 2 is in the base already, as a commit of another message (git am -3 skips
    it; without -3 it stops on it): named, not applied again, and patches 1 and 3 get
    their own Links."""
    mbox = repo.series(EDITS)
    sid = pw.add_series("qemu-devel", mbox)
    path, old, new = EDITS[1][:3]
    repo.edit_line(path, old, new)
    picked = repo.commit("file2: the same change, picked ahead")
    result = cli(str(sid), "--server", pw.url, three_way, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert (
        f"series {sid} v1 patch 2/3 (file2: Improve line 10) is already in the base, as {picked[:12]} "
        "(file2: the same change, picked ahead): not applied again"
    ) in result.stderr
    assert subjects(repo, f"{picked}..HEAD") == [EDITS[0][3], EDITS[2][3]]
    links = [
        line for line in repo.git("log", "--format=%B", f"{picked}..HEAD").splitlines() if line.startswith("Link:")
    ]
    ids = pw.patch_ids(sid)
    assert len(links) == 2 and all("patch" in link for link in links)
    messages = repo.git("log", "--reverse", "--format=%B%x00", f"{picked}..HEAD").split("\0")
    first_id, third_id = (pw.mails[("patch", ids[0])].msgid, pw.mails[("patch", ids[2])].msgid)
    assert first_id in messages[0] and third_id in messages[1]  # each commit its own patch's Link
