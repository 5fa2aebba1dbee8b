"""The early fetch (patchwork/early.py): a child fetches the series while pwapply loads.
Its result is the one pwapply would have fetched itself; its errors are pwapply's; when
it is gone, or fetched something else, pwapply asks the server itself; and it never
outlives the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from conftest import EDITS, Repo, start_pwapply
from pwapply.testing import FakePatchwork

BRANCH = "pw/improve-the-files-v2"
REVIEW = "Reviewed-by: Rev Iewer <rev@example.org>"


def finish(proc: "subprocess.Popen[str]") -> str:
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    return err


def stat(pid: str) -> List[str]:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp session ...


def in_session(sid: int) -> List[int]:
    """The processes still in session ``sid``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(stat(pid)[3]) == sid:
                found.append(int(pid))
        except (OSError, IndexError):
            pass
    return found


def kill_the_child(pw: FakePatchwork, procs: Dict[str, "subprocess.Popen[str]"]) -> None:
    """SIGKILL pwapply's forked child (not git: its command name is python's)."""
    parent = procs["run"].pid
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as fh:
                comm = fh.read()
            if int(stat(pid)[1]) == parent and not comm.startswith("git"):
                os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass


def steps_of(tmp_path: Path) -> List[str]:
    return (tmp_path / "steps").read_text().splitlines()


needs_linux = pytest.mark.skipif(sys.platform != "linux", reason="the early fetch forks on Linux only")


@needs_linux
def test_the_child_fetches_what_pwapply_would_have(repo, pw, tmp_path):
    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    pw.add_cover_reply(sid, REVIEW + "\n")
    other = Repo(tmp_path / "other")  # the same project, applied without the child
    assert other.git("rev-parse", "HEAD") == repo.git("rev-parse", "HEAD")
    args = [str(sid), "--server", pw.url, "-q"]

    finish(start_pwapply(repo, *args, PWAPPLY_TEST_STEPS=str(tmp_path / "steps")))
    early_paths = sorted(pw.paths())
    pw.reset()
    finish(start_pwapply(other, *args, PWAPPLY_EARLY_FETCH="0"))

    steps = steps_of(tmp_path)
    assert "wait early fetch" in steps and not [s for s in steps if s.startswith("before GET")]
    assert early_paths == sorted(pw.paths())  # the same requests, each once
    log = ["log", "--format=%an %ae %ad%n%B", f"{repo.base}..{BRANCH}"]
    assert repo.git(*log) == other.git(*log)
    assert REVIEW in repo.git(*log)


@needs_linux
def test_an_error_the_child_meets_is_the_runs(repo, pw):
    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    not_found = {"Content-Type": "application/json"}
    pw.fault(r"^/api/series/\d+/$", status=404, body=b'{"detail": "Not found."}', headers=not_found)
    before = repo.state()
    early = start_pwapply(repo, str(sid), "--server", pw.url)
    err = finish(early)
    assert pw.count("/api/series/") == 1  # asked once, by the child
    plain = start_pwapply(repo, str(sid), "--server", pw.url, PWAPPLY_EARLY_FETCH="0")
    assert finish(plain) == err
    assert early.returncode == plain.returncode == 3
    assert err.startswith("error: ") and err.count("error:") == 1
    assert repo.state() == before


@needs_linux
@pytest.mark.parametrize("at", [r"^/api/series/\d+/$", "/comments/"])
def test_a_child_gone_mid_way_leaves_pwapply_to_ask_itself(repo, pw, tmp_path, at):
    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    pw.add_cover_reply(sid, REVIEW + "\n")
    procs: Dict[str, "subprocess.Popen[str]"] = {}

    def kill(handler: object) -> bool:
        kill_the_child(pw, procs)
        return True  # no answer: its asker is dead

    pw.fault(at, handler=kill, times=1)
    procs["run"] = start_pwapply(repo, str(sid), "--server", pw.url, "-q", PWAPPLY_TEST_STEPS=str(tmp_path / "steps"))
    err = finish(procs["run"])
    assert procs["run"].returncode == 0, err
    fragment = "/api/series/" if at.startswith("^") else "/comments/"
    assert pw.count(fragment) == 2  # the child's, unanswered; then pwapply's own
    assert REVIEW in repo.git("log", "-1", "--format=%B", BRANCH)
    assert in_session(procs["run"].pid) == []


@needs_linux
def test_an_interrupt_while_the_child_fetches_ends_both(repo, pw):
    """The cover letter's replies never come; Ctrl-C as pwapply waits for them: exit
    130, nothing changed, and the child is gone with its request."""
    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    pw.fault("/comments/", status=200, stall=120.0)
    before = repo.state()
    proc = start_pwapply(repo, str(sid), "--server", pw.url, PWAPPLY_TEST_SIGNAL="wait cover comments@int-thread")
    err = finish(proc)
    assert proc.returncode == 130, err
    assert repo.state() == before
    assert in_session(proc.pid) == []
    if pw.count("/comments/"):  # asked before the interrupt: cut off, not answered
        assert pw.wait_for_hangup("/comments/")


@needs_linux
def test_a_run_refused_before_it_looks_at_the_series_ends_the_child(repo, pw):
    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    pw.fault(r"^/api/series/\d+/$", status=200, stall=120.0)
    (repo.path / "src" / "file1.c").write_text("changed\n")
    proc = start_pwapply(repo, str(sid), "--server", pw.url)
    err = finish(proc)
    assert proc.returncode == 5 and "tracked files have changes" in err
    assert in_session(proc.pid) == []
    if pw.count("/api/series/"):
        assert pw.wait_for_hangup("/api/series/")


# ------------------------------------------------------------------ the parent's end, alone


class FakeChild:
    """A child that sends what the test says (through a real pipe), as a real process."""

    def __init__(self) -> None:
        from pwapply.patchwork import early

        self.proc = subprocess.Popen(["sleep", "60"])
        r, self.w = os.pipe()
        self.early = early.Early(self.proc.pid, r)
        early._early = self.early

    def send(self, what: str, ok: bool, value: object) -> None:
        import pickle

        body = pickle.dumps((what, ok, value))
        os.write(self.w, len(body).to_bytes(4, "big") + body)

    def close(self) -> None:
        os.close(self.w)

    def ended(self) -> bool:
        try:
            os.kill(self.proc.pid, 0)
        except ProcessLookupError:
            return True
        return False


@pytest.fixture
def fake_child(monkeypatch):
    from pwapply.patchwork import early

    monkeypatch.setattr(early, "_early", None)
    child = FakeChild()
    yield child
    child.early.end()
    child.proc.poll()  # reaped by end(): Popen learns it is over
    monkeypatch.setattr(early, "_early", None)


def _client(pw: FakePatchwork):
    from pwapply.patchwork.client import PatchworkClient

    return PatchworkClient(pw.url)


def test_a_child_that_fetched_something_else_is_ended_and_not_used(repo, pw, fake_child):
    from pwapply.patchwork import early
    from pwapply.resolve import resolve

    ref = resolve("7")
    with _client(pw) as client:
        fake_child.send("key", True, early.key(resolve("8"), None, client, True))
        assert early.take(ref, None, client, True) is None
    assert fake_child.ended()
    assert pw.paths() == []


@pytest.mark.parametrize("sent", [[], ["key"]])
def test_a_child_gone_before_the_series_is_not_used(repo, pw, fake_child, sent):
    from pwapply.patchwork import early
    from pwapply.resolve import resolve

    ref = resolve("7")
    with _client(pw) as client:
        if sent:
            fake_child.send("key", True, early.key(ref, None, client, True))
        fake_child.close()
        assert early.take(ref, None, client, True) is None
    assert fake_child.ended()


def test_what_the_child_sent_is_taken_as_sent(repo, pw, fake_child):
    from pwapply.errors import NetworkError
    from pwapply.patchwork import early
    from pwapply.resolve import resolve

    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    ref = resolve(str(sid))
    with _client(pw) as client:
        series = client.series(sid)
        pw.reset()
        fake_child.send("key", True, early.key(ref, None, client, True))
        fake_child.send("fetched", True, (sid, series, b"the mbox"))
        fake_child.send("comments", True, ("a reply",))
        fake_child.send("text", False, NetworkError("the server went away", "try again"))
        fake_child.close()
        taken = early.take(ref, None, client, True)
        assert taken is not None
        got_id, got = taken
        assert (got_id, got.series, got.mbox) == (sid, series, b"the mbox")
        assert got.cover_comments() == ("a reply",)
        with pytest.raises(NetworkError, match="the server went away") as exc:
            got.cover_text()
        assert exc.value.hint == "try again"
    assert pw.paths() == []  # nothing asked again


def test_an_error_for_the_series_is_raised_as_the_childs(repo, pw, fake_child):
    from pwapply.errors import NotFoundError
    from pwapply.patchwork import early
    from pwapply.resolve import resolve

    ref = resolve("7")
    with _client(pw) as client:
        fake_child.send("key", True, early.key(ref, None, client, True))
        fake_child.send("fetched", False, NotFoundError("series 7 not found", "check the id"))
        with pytest.raises(NotFoundError, match="series 7 not found"):
            early.take(ref, None, client, True)
    assert fake_child.ended()
