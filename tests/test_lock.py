"""Many runs in one repository: the lock is held only around what must not overlap (the
record, a branch's ref), waited for, and dropped by the kernel with its holder.

Runs in two work trees of one repository, as maintainers keep a tree per topic, on real
git and the fake Patchwork; no sleeps: where a test needs two runs to meet at the lock,
it holds the lock itself until both say they wait.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List

import pytest

from conftest import EDITS, Repo, start_pwapply
from pwapply import lock, record
from pwapply.errors import RepoStateError


@pytest.fixture
def trees(repo: Repo, tmp_path: Path) -> Iterator[List[Path]]:
    """The repository's work tree and a second one (git worktree add)."""
    second = tmp_path / "second"
    repo.git("worktree", "add", "-q", "--detach", str(second))
    yield [repo.path, second]


def series(repo: Repo, pw, topic: str) -> int:
    mbox, _ = repo.series_at(EDITS, cover_subject=f"Improve {topic}", tag=topic.replace(" ", "-"))
    return int(pw.add_series("qemu-devel", mbox, name=f"Improve {topic}"))


def start(cwd: Path, *args: str) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [sys.executable, "-m", "pwapply", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def common_dir(repo: Repo) -> str:
    return str(repo.path / ".git")


class Held:
    """The repository's lock, held by the test (as another run would hold it)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        os.write(self.fd, b"4242\n")

    def release(self) -> None:
        os.unlink(self.path)  # as a run lets go: removed while held
        os.close(self.fd)


@pytest.mark.parametrize("pair", ["side by side", "both wait for a held lock", "one waits"])
def test_two_applies_in_two_work_trees_both_succeed(repo, pw, trees, pair):
    ids = [series(repo, pw, f"{pair} {i}") for i in (1, 2)]
    held = Held(lock.lock_path(common_dir(repo))) if pair != "side by side" else None
    procs = []
    for i, (tree, sid) in enumerate(zip(trees, ids)):
        procs.append(start(tree, str(sid), "--server", pw.url))
        if held is not None and (pair == "both wait for a held lock" or i == 0):
            line = procs[-1].stderr.readline()  # type: ignore[union-attr]
            assert "waiting for another pwapply (pid 4242) working in this repository" in line, line
    if held is not None:
        held.release()
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "Applied 3 patches" in err
    branches = repo.git("for-each-ref", "--format=%(refname:short)", "refs/heads/pw/").split()
    assert len(branches) == 2
    made = record.load(common_dir(repo)).branches
    assert sorted(made) == sorted(branches)
    assert sorted(int(b.key.what) for b in made.values()) == sorted(ids)
    assert not os.path.exists(lock.lock_path(common_dir(repo)))  # there only while held
    status = subprocess.run(
        [sys.executable, "-m", "pwapply", "status", "--all", "--offline", "--json"],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert status.returncode == 0, status.stderr
    assert sorted(row["branch"] for row in json.loads(status.stdout)) == sorted(branches)


def test_the_same_series_in_two_trees_one_branch_and_a_clear_refusal(repo, pw, trees):
    """Both runs name the same branch; they meet at the lock: the first makes it, the
    second finds it made and changes nothing."""
    sid = series(repo, pw, "the same")
    held = Held(lock.lock_path(common_dir(repo)))
    procs = [start(tree, str(sid), "--server", pw.url, "--no-checkout") for tree in trees]
    for proc in procs:
        assert "waiting for another pwapply" in proc.stderr.readline()  # type: ignore[union-attr]
    held.release()
    outcomes = sorted((p.wait(timeout=60), p.stderr.read()) for p in procs)  # type: ignore[union-attr]
    assert [code for code, _ in outcomes] == [0, 5], outcomes
    assert "branch pw/improve-the-same-v1 was made while pwapply worked" in outcomes[1][1]
    assert "nothing was changed" in outcomes[1][1]


def test_a_run_killed_mid_apply_blocks_no_later_run(repo, pw):
    """SIGKILL as the branch is made: the lock file stays, naming a pid that is gone
    (and may be reused): the kernel dropped the lock, the next run goes on."""
    sid = series(repo, pw, "killed")
    proc = start_pwapply(repo, str(sid), "--server", pw.url, PWAPPLY_TEST_SIGNAL="before git update-ref@kill")
    proc.communicate(timeout=60)
    assert proc.returncode == -9
    assert os.path.exists(lock.lock_path(common_dir(repo)))  # left by the dead run
    again = subprocess.run(
        [sys.executable, "-m", "pwapply", str(sid), "--server", pw.url], cwd=repo.path, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert "waiting" not in again.stderr


def test_a_lock_file_naming_a_live_pid_blocks_nothing(repo, pw):
    """An old pwapply's pid file, or any file there naming a live process (pid 1, this
    test's parent, which is pid 1 itself when pytest's parent went away): only a held
    flock counts."""
    sid = series(repo, pw, "live pid")
    for n, pid in enumerate((1, os.getppid())):
        Path(lock.lock_path(common_dir(repo))).write_text(f"{pid}\n")
        proc = subprocess.run(
            [sys.executable, "-m", "pwapply", str(sid), "--server", pw.url, "-b", f"review-{n}", "--no-checkout"],
            cwd=repo.path,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr


def test_the_wait_is_bounded_and_said_once(repo):
    held = Held(lock.lock_path(common_dir(repo)))
    said: List[str] = []
    with pytest.raises(RepoStateError, match=r"another pwapply \(pid 4242\) has held this repository's lock"):
        with lock.repo_lock(common_dir(repo), said.append, wait=0.2):
            pytest.fail("taken while held")
    assert said == ["waiting for another pwapply (pid 4242) working in this repository ..."]
    with pytest.raises(RepoStateError):
        with lock.repo_lock(common_dir(repo), said.append, wait=0):
            pass
    held.release()
    with lock.repo_lock(common_dir(repo)):
        with lock.repo_lock(common_dir(repo)):  # taken again in the same run: no wait
            assert os.path.exists(lock.lock_path(common_dir(repo)))
    assert not os.path.exists(lock.lock_path(common_dir(repo)))


WRITER = """
import sys
from pwapply import record
common, who = sys.argv[1], sys.argv[2]
for i in range(25):
    record.update(common, lambda r, i=i: r.commits.__setitem__(f"{who}-{i}", f"<{who}.{i}@x>"))
"""


def test_concurrent_writers_of_the_record_lose_no_entry(repo):
    """Four processes, each adding 25 entries one read-modify-write at a time."""
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, common_dir(repo), f"w{n}"], stderr=subprocess.PIPE)
        for n in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    assert len(record.load(common_dir(repo)).commits) == 100


def test_a_half_written_record_is_never_read_as_data(repo):
    """A crash mid-write leaves a temporary file beside the record, never a torn record."""
    record.update(common_dir(repo), lambda r: r.commits.__setitem__("k", "<m@x>"))
    target = Path(record.path(common_dir(repo)))
    (target.parent / ".applied-torn").write_text('{"commits": {"j": ')
    assert record.load(common_dir(repo)).commits == {"k": "<m@x>"}
    target.write_text('{"commits": {"j": ')  # torn by hand: read as no record, not as data
    assert record.load(common_dir(repo)).commits == {}
