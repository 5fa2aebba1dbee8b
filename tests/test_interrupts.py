"""An interrupt has two outcomes, never a third.  Before the commit point: exit 130,
"nothing was changed", and the repository exactly as it was.  From it on: the run
completes, exit 0, and says it was interrupted after the branch was made.

The runs are stopped deterministically, at named steps (PWAPPLY_TEST_SIGNAL, see
pwapply.steps.step): a first run lists the steps of a whole apply, then pwapply is
signalled at each of them in turn, in each of the ways a user or a system stops it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from conftest import EDITS, EXHAUSTIVE, repo_state

# SIGINT to pwapply; SIGINT to its whole process group (a terminal's Ctrl-C, which
# reaches git's processes too); SIGTERM to pwapply alone (kill, a service manager).
HOWS = ("int", "group", "term")
MODES = {
    "new branch": [],
    "--no-branch": ["--no-branch"],
    "--force": ["-b", "review", "--force"],
}


def pwapply(work: Path, tmpdir: Path, args: List[str], **env: str) -> "subprocess.CompletedProcess[str]":
    """pwapply as its own process, in its own process group (a shell job is)."""
    return subprocess.run(
        [sys.executable, "-m", "pwapply", *args],
        cwd=work,
        env=dict(os.environ, TMPDIR=str(tmpdir), **env),
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )


class Copies:
    """Fresh copies of one prepared repository, each with its own temporary directory."""

    def __init__(self, template: Path, root: Path) -> None:
        self.template = template
        self.root = root
        self.n = 0
        self.lock = threading.Lock()

    def make(self) -> Tuple[Path, Path]:
        with self.lock:
            self.n += 1
            case = self.root / f"case{self.n}"
        shutil.copytree(self.template, case / "work", symlinks=True)
        (case / "tmp").mkdir()
        return case / "work", case / "tmp"


Outcome = Tuple[str, str, int, str, Dict[str, str]]  # step, how, exit code, stderr, repository state

# CI signals every step in every way; a developer's run every step in one way (each way
# in turn) and the steps around the commit point in every way: each step still has its
# outcome checked, and each way still finds the one commit point.  conftest.EXHAUSTIVE
# says which.


def sweep(steps: List[str], commit_step: str) -> List[Tuple[str, str]]:
    """The (step, way of signalling) cases to run; and at each git command, a terminal's
    Ctrl-C while it runs (steps.py's ``git``: the git gets the SIGINT too)."""
    during = [(s, "git") for s in steps if s.startswith("before git ")]
    if EXHAUSTIVE:
        return [(s, how) for s in steps for how in HOWS] + during
    at = steps.index(commit_step)
    near = set(range(max(at - 2, 0), min(at + 2, len(steps))))
    return [
        (s, how) for i, s in enumerate(steps) for k, how in enumerate(HOWS) if i in near or (i + k) % len(HOWS) == 0
    ] + during


def two_outcomes(
    outcomes: List[Outcome], steps: List[str], before: Dict[str, str], after: Dict[str, str], late_says: List[str]
) -> Dict[str, int]:
    """Each run stopped at a step either undid everything (exit 130, the repository as
    ``before``) or completed (exit 0, as ``after``, saying ``late_says``); for each way
    of signalling, the index of the first step that completed."""
    first_late: Dict[str, int] = {}
    for at, how, code, err, state in outcomes:
        where = f"signal {how} at {at!r}: exit {code}\n{err}"
        assert "Traceback" not in err, where
        if code == 130:
            assert "interrupted: nothing was changed in your repository" in err, where
            assert state == before, where
        else:
            assert code == 0, where
            assert (
                "after the branch was made" in err
                or "after your branch was moved" in err
                or ("after the branch was moved" in err)
            ), where
            assert all(text in err for text in late_says), where
            assert state == after, where
            first_late.setdefault(how, steps.index(at))
    return first_late


@pytest.mark.parametrize("mode", list(MODES))
def test_every_step_has_two_outcomes(repo, pw, tmp_path, mode):
    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    if mode == "--force":
        repo.git("branch", "review", repo.base)
    args = [str(sid), "--server", pw.url, *MODES[mode]]
    copies = Copies(repo.path, tmp_path / "copies")

    work, tmpdir = copies.make()
    before = repo_state(work, str(tmpdir))
    steps_file = tmp_path / "steps.txt"
    done = pwapply(work, tmpdir, args, PWAPPLY_TEST_STEPS=str(steps_file))
    assert done.returncode == 0, done.stderr
    after = repo_state(work, str(tmpdir))
    assert after != before
    steps = steps_file.read_text().split("\n")[:-1]
    assert "before git update-ref" in steps or mode == "--no-branch"
    waits = [s for s in steps if s.startswith("wait ")]
    assert {"wait series", "wait mbox"} <= set(waits)  # each request, and each wait for it, is a step
    assert "before GET /api/series/N/" in steps

    commit_step = "before git update-index" if mode == "--no-branch" else "before git update-ref"
    cases = sweep(steps, commit_step)

    def one(case: Tuple[str, str]) -> Tuple[str, str, int, str, Dict[str, str]]:
        at, how = case
        work, tmpdir = copies.make()
        proc = pwapply(work, tmpdir, args, PWAPPLY_TEST_SIGNAL=f"{at}@{how}")
        return at, how, proc.returncode, proc.stderr, repo_state(work, str(tmpdir))

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(one, cases))

    first_late = two_outcomes(outcomes, steps, before, after, ["pwapply finished the job"])
    # One commit point: every step before it undoes, every step from it on completes.
    for at, how, code, _, _ in outcomes:
        if how in first_late:
            assert (code == 0) == (steps.index(at) >= first_late[how]), (at, how, code)
    assert set(first_late) == {*HOWS, "git"}, "some way of signalling never reached the commit point"
    assert all(steps[i] == commit_step for i in first_late.values()), first_late


def test_every_step_of_an_update_has_two_outcomes(repo, pw, tmp_path):
    """pwapply update's one commit point is the move of the branch: before it nothing is
    changed, from it on the review tags are on the branch."""
    sid = pw.add_series("qemu-devel", repo.series(EDITS))
    applied = pwapply(repo.path, Path(os.environ["TMPDIR"]), [str(sid), "--server", pw.url])
    assert applied.returncode == 0, applied.stderr
    pw.add_cover_reply(sid, "Reviewed-by: Rev Iewer <rev@example.org>\n")
    copies = Copies(repo.path, tmp_path / "copies")

    work, tmpdir = copies.make()
    before = repo_state(work, str(tmpdir))
    steps_file = tmp_path / "steps.txt"
    done = pwapply(work, tmpdir, ["update"], PWAPPLY_TEST_STEPS=str(steps_file))
    assert done.returncode == 0, done.stderr
    after = repo_state(work, str(tmpdir))
    assert after != before and after["status"] == before["status"] == ""
    steps = steps_file.read_text().split("\n")[:-1]
    assert "before git update-ref" in steps

    def one(case: Tuple[str, str]) -> Tuple[str, str, int, str, Dict[str, str]]:
        at, how = case
        work, tmpdir = copies.make()
        proc = pwapply(work, tmpdir, ["update"], PWAPPLY_TEST_SIGNAL=f"{at}@{how}")
        return at, how, proc.returncode, proc.stderr, repo_state(work, str(tmpdir))

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(one, sweep(steps, "before git update-ref")))
    first_late = two_outcomes(outcomes, steps, before, after, ["interrupted after the branch was moved"])
    for at, how, code, _, _ in outcomes:
        if how in first_late:
            assert (code == 0) == (steps.index(at) >= first_late[how]), (at, how, code)
    assert set(first_late) == {*HOWS, "git"}
    assert all(steps[i] == "before git update-ref" for i in first_late.values()), first_late


POST_CHECKOUT = """#!/bin/sh
# A slow post-checkout hook (git-lfs's, on a big tree): says it runs, then waits.
touch "{marker}"
while [ ! -e "{release}" ]; do sleep 0.02; done
"""


def test_ctrl_c_during_the_final_checkout_completes_it(repo, pw, tmp_path):
    """The half state of issue 12: a terminal's Ctrl-C while git checkout runs.  The
    checkout runs out of the terminal's reach and completes; pwapply says so."""
    from test_faults import wait_for

    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    marker, release = tmp_path / "checkout-running", tmp_path / "release"
    hook = repo.path / ".git" / "hooks" / "post-checkout"
    hook.write_text(POST_CHECKOUT.format(marker=marker, release=release))
    hook.chmod(0o755)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pwapply", str(sid), "--server", pw.url],
        cwd=repo.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(marker.exists, "git checkout running its hook")
        os.killpg(proc.pid, signal.SIGINT)  # pwapply, and every process of its group
        release.touch()
        _, err = proc.communicate(timeout=30)
    finally:
        release.touch()
    assert proc.returncode == 0, err
    assert "interrupted (SIGINT) after the branch was made" in err
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/improve-the-files-v2"
    assert repo.git("status", "--porcelain") == ""
    assert len(repo.git("log", "--format=%H", f"{repo.base}..HEAD").split()) == 3
    assert list((repo.path / ".git").rglob("*.lock")) == []


# ------------------------------------------------------------------ the lost signal


@pytest.mark.parametrize(
    "wait,path",
    [
        ("wait series", r"^/api/series/\d+/$"),
        ("wait mbox", r"^/series/\d+/mbox/$"),
        ("wait cover comments", r"/comments/"),
    ],
)
@pytest.mark.parametrize("how", ["int-thread", "term-thread"])
def test_a_signal_as_a_wait_begins_ends_the_run(repo, pw, wait, path, how):
    """The server never answers; the signal lands in another thread than the main one
    as the main thread goes to sleep in its wait for that answer: the run ends at once
    (else it would sleep until the server answered, here never)."""
    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    pw.fault(path, status=200, stall=120.0)
    before = repo.state()
    args = [str(sid), "--server", pw.url]
    proc = pwapply(repo.path, Path(os.environ["TMPDIR"]), args, PWAPPLY_TEST_SIGNAL=f"{wait}@{how}")
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    assert repo.state() == before
    # Cut off by the interrupt, not answered.  The signal comes as the main thread begins
    # its wait, and the thread asking may not have sent the request yet (CI once caught
    # it so): whatever the server got, it got no further than that.
    pw.settle()
    asked = [p for p in pw.paths() if re.search(path, p)]
    assert all(p in pw.hangups for p in asked), (asked, pw.hangups)


def test_a_signal_at_the_instant_a_wait_begins_is_never_lost(monkeypatch):
    """The main thread waits on a request (a future), a git command's output, a git
    process's exit.  The signal arrives as the wait begins, in another thread (the
    kernel gives a process's signal to any of its threads; none wakes a sleeping lock
    wait): the wait ends at once.  A watchdog ends a wait that missed its signal after
    10 s, and that fails the test rather than hang it."""
    from pwapply import process, steps
    from pwapply.git import run

    kinds = ("future", "output", "exit")
    for i in range(200):
        kind = kinds[i % len(kinds)]
        monkeypatch.setenv("PWAPPLY_TEST_SIGNAL", f"wait {kind}@{'term' if i % 2 else 'int'}-thread")
        monkeypatch.setattr(steps, "_steps", None)
        never: "Future[str]" = Future()
        child = None
        if kind != "future":
            child = subprocess.Popen(
                ["sleep", "10"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        fired = threading.Event()

        def settle(never=never, child=child, fired=fired):
            fired.set()
            never.set_result("lost")
            if child is not None:
                child.kill()

        watchdog = threading.Timer(10, settle)
        watchdog.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                with process.guard():
                    if kind == "future":
                        process.result(never, what="future")
                    else:
                        assert child is not None
                        steps.step(f"wait {kind}")
                        if kind == "output":
                            run.communicate(child)
                        else:
                            run.wait(child)
        finally:
            watchdog.cancel()
            if child is not None:
                run.stop(child)
        assert not fired.is_set(), f"iteration {i}: the signal was lost until the watchdog came ({kind})"
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_signal_ignored_at_the_start_stays_ignored():
    """nohup ignores SIGHUP, a shell's background job SIGINT: pwapply does not take them."""
    from pwapply import process

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with process.guard():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # taken
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_stopping_git_never_kills_it(monkeypatch):
    """git removes its lock files when it dies of SIGTERM, not of SIGKILL: a child is
    stopped with SIGTERM, and killed only when it outlives the grace period."""
    from pwapply.git.run import stop

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    stop(child)
    assert child.returncode == -signal.SIGTERM
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ready\n"
    stop(stubborn, grace=0.2)
    assert stubborn.returncode == -signal.SIGKILL
