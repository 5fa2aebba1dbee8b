"""versions and diff: real git, the loopback Patchwork-shaped server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import EDITS

V2_EDITS = [
    EDITS[0],
    (
        "src/file2.c",
        "line 10 of file 2\n",
        "line 10 of file 2, much better\n",
        "file2: Improve line 10",
        "Line 10 was not good enough; v2 does it properly.",
    ),
    EDITS[2],
    ("src/file3.c", "line 1 of file 3\n", "line 1 of file 3, new in v2\n", "file3: New in v2"),
]


@pytest.fixture
def two(repo, pw):
    """v1 and v2 of one series by one submitter, with decoys that must not match."""
    me = ("A U Thor", "author@example.org")
    v1 = pw.add_series("qemu-devel", repo.series(EDITS, version=1), date="2026-04-21T20:00:00", submitter=me)
    # Decoys: same name by someone else, same name in another project, unrelated series by the same author.
    pw.add_series(
        "qemu-devel", repo.series(EDITS, version=1), date="2026-04-22T10:00:00", submitter=("Other", "o@x.org")
    )
    pw.add_series("other-project", repo.series(EDITS, version=3), date="2026-04-23T10:00:00", submitter=me)
    pw.add_series(
        "qemu-devel",
        repo.series(EDITS[:1], version=1, cover_subject="Something else"),
        date="2026-04-24T10:00:00",
        submitter=me,
    )
    v2 = pw.add_series("qemu-devel", repo.series(V2_EDITS, version=2), date="2026-04-28T19:00:00", submitter=me)
    pw.add_patch_reply(pw.patch_ids(v2)[0], "Reviewed-by: Rita Viewer <rita@example.org>\n")
    return v1, v2


def run(repo, *args, **kw):
    return subprocess.run([sys.executable, "-m", "pwapply", *args], cwd=repo.path, capture_output=True, text=True, **kw)


def test_versions_found_by_name_not_by_other_submitters_or_projects(repo, pw, cli, two):
    v1, v2 = two
    result = cli("versions", str(v2), "--server", pw.url, "--json", cwd=repo.path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(d["id"], d["version"], d["current"]) for d in data] == [(v1, 1, False), (v2, 2, True)]
    assert data[1]["states"] == ["new"] * 4
    table = cli("versions", str(v2), "--server", pw.url, cwd=repo.path).stdout
    assert f"* {v2:>8}  v2" in table and "4 new" in table


def test_versions_after_a_rename_and_across_pages(repo, pw, cli, two):
    v1, v2 = two
    me = ("A U Thor", "author@example.org")
    filler = repo.series(EDITS[:1], version=1, cover=False)
    for i in range(105):  # more than one page of the same submitter's series
        pw.add_series(
            "qemu-devel",
            filler,
            date=f"2026-04-25T{i // 60:02d}:{i % 60:02d}:00",
            submitter=me,
            name=f"Unrelated work {i}",
        )
    renamed = repo.series(V2_EDITS, version=3, cover_subject="Make the files much nicer")
    v3 = pw.add_series("qemu-devel", renamed, date="2026-05-02T09:00:00", submitter=me)
    result = cli("versions", str(v3), "--server", pw.url, "--json", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert [d["id"] for d in json.loads(result.stdout)] == [v1, v2, v3]
    assert any("page=2" in p for p in pw.paths())


def test_diff_shows_the_changed_and_the_new_patch(repo, pw, two):
    v1, v2 = two
    before = repo.state()
    proc = run(repo, "diff", str(v2), "--server", pw.url)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(" = " in line and "file1: Fix line 3" in line for line in lines), proc.stdout
    assert any(" ! " in line and "file2: Improve line 10" in line for line in lines), proc.stdout
    assert any(" > " in line and "file3: New in v2" in line for line in lines), proc.stdout
    assert "much better" in proc.stdout
    assert "Rita Viewer" not in proc.stdout  # a gained Reviewed-by is no change
    assert f"comparing v1 (series {v1}" in proc.stderr
    assert repo.state() == before


def test_diff_runs_none_of_the_repositorys_hooks(repo, pw, two, tmp_path):
    # Nothing lands when versions are compared: a hook policing what lands must not
    # block the comparison, and one announcing it must not fire.
    v1, v2 = two
    hooks = repo.path / ".git" / "hooks"
    (hooks / "pre-applypatch").write_text("#!/bin/sh\necho refused >&2\nexit 1\n")
    (hooks / "post-applypatch").write_text(f"#!/bin/sh\ntouch {tmp_path / 'announced'}\n")
    for h in ("pre-applypatch", "post-applypatch"):
        (hooks / h).chmod(0o755)
    proc = run(repo, "diff", str(v2), "--server", pw.url)
    assert proc.returncode == 0, proc.stderr
    assert "file3: New in v2" in proc.stdout
    assert not (tmp_path / "announced").exists()


def test_diff_keeps_trailers_when_asked(repo, pw, two):
    _, v2 = two
    proc = run(repo, "diff", str(v2), "--server", pw.url, "--trailers")
    assert proc.returncode == 0, proc.stderr
    assert "Rita Viewer" in proc.stdout


def test_diff_against_vn_and_interdiff_and_passthrough(repo, pw, two):
    v1, v2 = two
    proc = run(repo, "diff", str(v2), "--server", pw.url, "--against", "v1", "--interdiff")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("diff --git") and "much better" in proc.stdout
    proc = run(repo, "diff", str(v2), "--server", pw.url, "--against", str(v1), "--", "--no-patch")
    assert proc.returncode == 0, proc.stderr
    assert "much better" not in proc.stdout and "file3: New in v2" in proc.stdout


def test_second_diff_uses_the_cache(repo, pw, two):
    _, v2 = two
    assert run(repo, "diff", str(v2), "--server", pw.url).returncode == 0
    assert pw.count("/mbox/") == 2
    pw.reset()
    assert run(repo, "diff", str(v2), "--server", pw.url).returncode == 0
    assert pw.count("/mbox/") == 0
    assert pw.count("/api/series/") >= 1  # the series JSON is always fresh
    assert run(repo, "diff", str(v2), "--server", pw.url, "--refresh").returncode == 0
    assert pw.count("/mbox/") == 2


def test_diff_uses_existing_branches_without_downloading(repo, pw, cli, two):
    v1, v2 = two
    assert cli(str(v1), "--server", pw.url, "--no-checkout", cwd=repo.path).exit_code == 0
    assert cli(str(v2), "--server", pw.url, "--no-checkout", cwd=repo.path).exit_code == 0
    pw.reset()
    proc = run(repo, "diff", str(v2), "--server", pw.url, "--refresh")
    assert proc.returncode == 0, proc.stderr
    assert pw.count("/mbox/") == 0
    assert "branch pw/improve-the-files-v1" in proc.stderr
    assert any(" = " in line and "file1: Fix line 3" in line for line in proc.stdout.splitlines())


def test_version_that_does_not_apply_leaves_nothing(repo, pw, two):
    _, v2 = two
    repo.edit_line("src/file2.c", "line 10 of file 2\n", "line 10 of file 2, upstream\n")
    repo.commit("Upstream change")
    before = repo.state()
    proc = run(repo, "diff", str(v2), "--server", pw.url)
    assert proc.returncode == 1, proc.stderr
    assert "error: v1 (series" in proc.stderr and "patch 2/3 did not apply" in proc.stderr
    assert "src/file2.c" in proc.stderr
    assert repo.state() == before


def test_no_earlier_version_exits_3(repo, pw, two):
    v1, _ = two
    proc = run(repo, "diff", str(v1), "--server", pw.url)
    assert proc.returncode == 3
    assert "found no earlier version" in proc.stderr and "--against" in proc.stderr


def test_unknown_vn_exits_3(repo, pw, two):
    _, v2 = two
    proc = run(repo, "diff", str(v2), "--server", pw.url, "--against", "v7")
    assert proc.returncode == 3 and "no v7" in proc.stderr


def test_mbox_input_is_refused_for_versions(repo, cli, tmp_path):
    (tmp_path / "x.mbox").write_bytes(repo.series(EDITS[:1]))
    result = cli("versions", str(tmp_path / "x.mbox"), cwd=repo.path)
    assert result.exit_code == 2 and "not in an mbox" in result.stderr


def test_interrupted_diff_leaves_nothing(repo, pw, two):
    _, v2 = two
    before = repo.state()
    pw.fault(r"/series/\d+/mbox/", status=200, delay=60.0, times=4)  # not waited for
    proc = subprocess.Popen(
        [sys.executable, "-m", "pwapply", "diff", str(v2), "--server", pw.url],
        cwd=repo.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 10
    while pw.count("/mbox/") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert repo.state() == before


def test_each_version_on_its_own_base_commit(repo, pw):
    me = ("A U Thor", "author@example.org")
    old_base = repo.base
    pw.add_series(
        "qemu-devel",
        repo.series(EDITS, version=1, extra=[f"--base={old_base}"]),
        date="2026-04-21T20:00:00",
        submitter=me,
    )
    # Upstream moves on in a way v1 does not apply to; v2 is rebased onto it.
    repo.edit_line("src/file2.c", "line 10 of file 2\n", "line 10 of file 2, upstream\n")
    upstream = repo.commit("Upstream change")
    v2_edits = [
        EDITS[0],
        ("src/file2.c", "line 10 of file 2, upstream\n", "line 10 of file 2, v2\n", "file2: Improve line 10"),
        EDITS[2],
    ]
    v2 = pw.add_series(
        "qemu-devel",
        repo.series(v2_edits, version=2, extra=[f"--base={upstream}"]),
        date="2026-04-28T19:00:00",
        submitter=me,
    )
    proc = run(repo, "diff", str(v2), "--server", pw.url, "--", "--stat")
    assert proc.returncode == 0, proc.stderr
    assert f"v1: applied on {old_base[:12]} (its base-commit)" in proc.stderr
    assert "file2: Improve line 10" in proc.stdout
