"""The watchdog: whatever the run's threads are doing, a signal before the commit point
ends it within GRACE (process.py), its scratch area removed and the repository as it
was; a second signal ends it at once; after the commit point the run completes.

A wait that never returns is made at a named step (PWAPPLY_TEST_SIGNAL=STEP@HOW+hang,
see pwapply.steps): the thread there stops hearing signals, the signal goes to another
thread, and the thread blocks for good, as a main thread blocked in C whose signal
another thread took.  No test here measures time: a run the watchdog failed to end
would run into the subprocess's bound and fail the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import CancelledError
from pathlib import Path
from typing import List

import pytest

from conftest import EDITS, Repo

INTERRUPTED = "interrupted: nothing was changed in your repository"


def pwapply(repo: Repo, *args: str, **env: str) -> "subprocess.CompletedProcess[str]":
    """pwapply as its own process in its own session, as a shell job is."""
    return subprocess.run(
        [sys.executable, "-m", "pwapply", *args],
        cwd=repo.path,
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )


def scratch_areas(repo: Repo) -> List[str]:
    """What an apply makes for itself: the scratch work tree's directories, temporary
    files, the lock file."""
    tmp = os.environ["TMPDIR"]
    return sorted(
        [p for p in os.listdir(tmp)]
        + [p for p in os.listdir(repo.path / ".git") if p.startswith("pwapply-scratch-") or p == "pwapply.lock"]
    )


@pytest.mark.parametrize(
    "at",
    [
        "wait series",  # the main thread waits for a request
        "before git am",  # ... starts git am in the scratch work tree
        "before git rev-parse #3",  # ... holds the repository's lock, the commit point next
    ],
)
@pytest.mark.parametrize("how", ["int", "term", "hup"])
def test_a_wait_that_never_returns_still_ends_after_the_signal(repo, pw, at, how):
    sid = pw.add_series("qemu-devel", repo.series(EDITS))
    before = repo.state()
    done = pwapply(repo, str(sid), "--server", pw.url, PWAPPLY_TEST_SIGNAL=f"{at}@{how}+hang")
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().endswith(INTERRUPTED), done.stderr
    assert "Traceback" not in done.stderr
    assert repo.state() == before  # the scratch area, the temporary files and the lock file are gone
    assert scratch_areas(repo) == []


def test_a_second_signal_ends_the_run_at_once(repo, pw):
    """With a grace longer than the subprocess's bound, only the second signal can end
    the run in time."""
    sid = pw.add_series("qemu-devel", repo.series(EDITS))
    before = repo.state()
    done = pwapply(
        repo, str(sid), "--server", pw.url, PWAPPLY_TEST_SIGNAL="before git am@int2+hang", PWAPPLY_TEST_GRACE="600"
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().endswith(INTERRUPTED)
    assert repo.state() == before


def test_after_the_commit_point_the_run_completes_whatever_the_watchdog(repo, pw):
    """Signalled after the commit point and then deaf for longer than the grace: the
    watchdog stands down, the branch is made and checked out."""
    sid = pw.add_series("qemu-devel", repo.series(EDITS))
    done = pwapply(
        repo,
        str(sid),
        "--server",
        pw.url,
        PWAPPLY_TEST_SIGNAL="before git update-ref@int+stall",
        PWAPPLY_TEST_GRACE="0.1",
    )
    assert done.returncode == 0, done.stderr
    assert "pwapply finished the job rather than leave it half done" in done.stderr
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/improve-the-files-v1"
    assert len(repo.git("rev-list", f"{repo.base}..HEAD").split()) == 3
    assert scratch_areas(repo) == []


def test_a_request_that_never_returns_ends_as_any_wait(repo, pw):
    """A worker thread stuck in a request: the main thread's wait hears the signal."""
    sid = pw.add_series("qemu-devel", repo.series(EDITS))
    before = repo.state()
    done = pwapply(repo, str(sid), "--server", pw.url, PWAPPLY_TEST_SIGNAL="before GET /series/N/mbox/@int+hang")
    assert done.returncode == 130, done.stderr
    assert repo.state() == before


@pytest.fixture
def applied(repo, pw):
    """A repository with a branch pwapply applied, and a newer version on the server."""
    sid = pw.add_series("qemu-devel", repo.series(EDITS))
    done = pwapply(repo, str(sid), "--server", pw.url, "--no-checkout")
    assert done.returncode == 0, done.stderr
    v2 = pw.add_series("qemu-devel", repo.series(EDITS, version=2), date="2026-05-01T10:00:00")
    return sid, v2


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["update", "pw/improve-the-files-v1"],
        ["check", "main..pw/improve-the-files-v1"],
        ["versions", "{v1}"],
        ["diff", "{v2}"],
        ["accept", "pw/improve-the-files-v1", "--dry-run"],
        ["list", "--project", "qemu-devel"],
    ],
    ids=lambda c: c[0],
)
def test_every_command_that_waits_ends_after_the_signal(repo, pw, applied, command):
    """Each command hung at its first wait for the server (or, with nothing to ask, at
    its first git command): exit 130, the repository as it was."""
    v1, v2 = applied
    args = [a.format(v1=v1, v2=v2) for a in command]
    steps_file = Path(os.environ["TMPDIR"]).parent / "steps.txt"
    listed = pwapply(repo, *args, "--server", pw.url, PWAPPLY_TEST_STEPS=str(steps_file))
    assert listed.returncode in (0, 1), listed.stderr
    steps = steps_file.read_text().split("\n")[:-1]
    steps_file.unlink()
    at = next((s for s in steps if s.startswith("wait ")), None) or next(s for s in steps if s.startswith("before git"))
    before = repo.state()
    done = pwapply(repo, *args, "--server", pw.url, PWAPPLY_TEST_SIGNAL=f"{at}@int+hang")
    assert done.returncode == 130, (at, done.stderr)
    assert done.stderr.strip().startswith("interrupted: "), done.stderr
    assert repo.state() == before


def test_the_pre_push_hook_ends_after_the_signal(repo, pw, applied):
    """The hook's path (no Typer): hung at its wait for the server, it still ends."""
    v1, _ = applied
    tip = repo.rev("pw/improve-the-files-v1")
    refs = f"refs/heads/x {tip} refs/heads/x {'0' * 40}\n"
    before = repo.state()
    done = subprocess.run(
        [sys.executable, "-m", "pwapply", "check", "--pre-push", "origin", "url"],
        cwd=repo.path,
        env=dict(os.environ, PWAPPLY_SERVER=pw.url, PWAPPLY_TEST_SIGNAL="wait check@term+hang"),
        input=refs,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip() == "interrupted: nothing was checked", done.stderr
    assert repo.state() == before


@pytest.mark.parametrize("how", ["int", "term", "hup", "group"])
def test_a_signal_before_a_command_runs_ends_it_quietly(repo, how):
    """Before a command's body runs (Python loading Typer, say) there is nothing to
    undo: exit 130 at once, one line, no traceback."""
    done = pwapply(repo, "status", PWAPPLY_TEST_SIGNAL=f"start@{how}")
    assert done.returncode == 130, done.stderr
    assert done.stderr == INTERRUPTED + "\n"


def test_pool_threads_are_daemons_and_shutdown_never_waits():
    from pwapply.threads import Pool

    release = threading.Event()
    pool = Pool(2, "test")
    running = [pool.submit(release.wait, 30) for _ in range(2)]
    queued = pool.submit(lambda: "never run")
    workers = [t for t in threading.enumerate() if t.name.startswith("test-")]
    assert len(workers) == 2 and all(t.daemon for t in workers)
    pool.shutdown()  # returns at once, although two tasks still run
    assert queued.cancelled()
    with pytest.raises(CancelledError):
        queued.result(0)
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)
    release.set()
    assert [f.result(30) for f in running] == [True, True]


def test_pool_reuses_idle_threads():
    from pwapply.threads import Pool

    with Pool(4, "reuse") as pool:
        for n in range(20):
            assert pool.submit(lambda n=n: n * 2).result(30) == n * 2
        assert len([t for t in threading.enumerate() if t.name.startswith("reuse-")]) == 1


def test_no_thread_pwapply_starts_can_hold_the_exit():
    """Every thread in the package is a daemon: no ThreadPoolExecutor (its workers are
    joined at exit), no threading.Thread without daemon=True."""
    import re

    src = Path(__file__).resolve().parents[1] / "src" / "pwapply"
    for path in src.rglob("*.py"):
        text = path.read_text()
        if path.parts[-2] == "testing":
            continue  # the fake server's threads live in the tests' process
        assert not re.search(r"ThreadPoolExecutor\(|import .*ThreadPoolExecutor", text), path
        for call in re.findall(r"threading\.Thread\((.*?)\)\.start\(\)", text, re.S):
            assert "daemon=True" in call, (path, call)
