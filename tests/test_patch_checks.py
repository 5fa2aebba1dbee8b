"""The per-patch check (--check-patches): QEMU's .b4-config names checkpatch.pl; here
small scripts stand in for it: one that finds something, one that fails, one that
hangs, one that is missing, one that waits to be released (to see them run together)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EDITS
from test_faults import wait_for

# Finds something in the docs patch (it reads the mail on stdin), as checkpatch.pl would.
FINDS = """#!/bin/sh
mail=$(cat)
case "$mail" in
*"docs: Say welcome"*) echo "WARNING: line over 80 characters"; echo "total: 0 errors, 1 warnings"; exit 1 ;;
esac
exit 0
"""
FAILS = "#!/bin/sh\ncat >/dev/null\necho 'checkpatch: cannot read the spelling file' >&2\nexit 2\n"
HANGS = '#!/bin/sh\ncat >/dev/null\necho $$ >> "$(dirname "$0")/pids"\nexec sleep 60\n'
# Says it started, then waits to be released (as the post-checkout hook of test_interrupts).
WAITS = """#!/bin/sh
cat >/dev/null
dir=$(dirname "$0")
echo $$ > "$dir/started.$$"
while [ ! -e "$dir/release" ]; do sleep 0.01; done
"""


def script(repo, name: str, text: str) -> str:
    path = repo.path / "scripts" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return f"scripts/{name}"


def b4config(repo, command: str) -> None:
    (repo.path / ".b4-config").write_text(f"[b4]\n    am-perpatch-check-cmd = {command}\n")
    repo.commit("The project's b4 settings")


@pytest.fixture
def series(repo, pw):
    repo.git("config", "pwapply.server", pw.url)
    return pw.add_series("qemu-devel", repo.series(EDITS))


def test_findings_are_shown_per_patch_and_the_apply_goes_on(repo, pw, cli, series):
    b4config(repo, script(repo, "checkpatch.sh", FINDS) + " -q --terse --no-summary --mailback -")
    result = cli(str(series), "--check-patches", cwd=repo.path)
    assert result.exit_code == 0, result.stderr
    assert "per-patch check: 1 of 3 patches with findings, 2 clean" in result.stderr
    assert "  [3/3] docs: Say welcome properly\n      WARNING: line over 80 characters\n" in result.stderr
    assert len(repo.git("log", "--format=%H", f"{repo.base}..HEAD").split()) == 4  # .b4-config's commit too


def test_the_check_is_on_by_config_and_its_command_from_config_over_b4(repo, pw, cli, series):
    b4config(repo, "scripts/not-there.sh")
    repo.git("config", "pwapply.checkPatches", "true")
    repo.git("config", "pwapply.checkPatchesCmd", script(repo, "mine.sh", FINDS))
    repo.commit("my check script")
    result = cli(str(series), "--json", cwd=repo.path)
    assert result.exit_code == 0, result.stderr
    checks = json.loads(result.stdout)["checks"]
    assert [(c["patch"], c["status"]) for c in checks] == [(1, "clean"), (2, "clean"), (3, "findings")]
    assert checks[2]["output"] == ["WARNING: line over 80 characters", "total: 0 errors, 1 warnings"]
    shown = cli("config", cwd=repo.path)
    assert "git config pwapply.checkPatchesCmd" in shown.stdout


def test_no_check_patches_wins_over_the_config(repo, pw, cli, series):
    repo.git("config", "pwapply.checkPatches", "true")
    repo.git("config", "pwapply.checkPatchesCmd", "false")
    result = cli(str(series), "--no-check-patches", "--json", cwd=repo.path)
    assert result.exit_code == 0 and json.loads(result.stdout)["checks"] == []


def test_a_failing_check_is_a_warning_with_its_first_line(repo, pw, cli, series):
    repo.git("config", "pwapply.checkPatchesCmd", script(repo, "fails.sh", FAILS))
    repo.commit("a check that fails")
    result = cli(str(series), "--check-patches", cwd=repo.path)
    assert result.exit_code == 0, result.stderr
    assert (
        "warning: the per-patch check of [1/3] file1: Fix line 3: exit 2: checkpatch: cannot read the spelling file"
        in result.stderr
    )
    assert result.stderr.count("warning: the per-patch check of") == 3


def test_a_missing_command_is_one_warning(repo, pw, cli, series):
    repo.git("config", "pwapply.checkPatchesCmd", "scripts/checkpatch.pl -q -")
    result = cli(str(series), "--check-patches", cwd=repo.path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("warning: ") == 1
    assert "warning: the per-patch check did not run: cannot run scripts/checkpatch.pl: No such file" in result.stderr


def test_a_hanging_check_is_bounded_and_ended(repo, pw, cli, series):
    repo.git("config", "pwapply.checkPatchesCmd", script(repo, "hangs.sh", HANGS))
    repo.git("config", "pwapply.checkPatchesTimeout", "1")
    repo.commit("a check that hangs")
    result = cli(str(series), "--check-patches", cwd=repo.path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("gave no answer within 1 s") == 3
    for pid in (repo.path / "scripts" / "pids").read_text().split():
        wait_for(lambda pid=int(pid): not _alive(pid), f"check {pid} ended")


def test_check_patches_without_a_command_is_refused_before_any_request(repo, pw, cli, series):
    state = repo.state()
    result = cli(str(series), "--check-patches", cwd=repo.path)
    assert result.exit_code == 2
    assert "error: --check-patches: no per-patch check command is set" in result.stderr
    assert "hint: git config pwapply.checkPatchesCmd" in result.stderr
    assert pw.count() == 0 and repo.state() == state


def test_a_bad_patches_range_is_refused_before_any_request(repo, pw, cli, series):
    for bad in ("x", "0", "3-1", ","):
        result = cli(str(series), "-p", bad, cwd=repo.path)
        assert result.exit_code == 2, (bad, result.stderr)
        assert "--patches" in result.stderr and "hint: " in result.stderr
    assert pw.count() == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waits only for its parent to read it: it runs no more
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _pwapply(repo, *args: str) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [sys.executable, "-m", "pwapply", *args],
        cwd=repo.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_checks_run_a_few_at_a_time(repo, pw, series):
    from pwapply.apply.checks import AT_ONCE

    edits = [
        (f"src/file{i}.c", f"line {j} of file {i}\n", f"line {j} of file {i}, new\n", f"file{i}: line {j}")
        for i in range(1, 6)
        for j in (2, 30)
    ]
    sid = pw.add_series("qemu-devel", repo.series(edits, cover_subject="Ten patches"))
    repo.git("config", "pwapply.checkPatchesCmd", script(repo, "waits.sh", WAITS))
    repo.commit("a check that waits")
    scripts = repo.path / "scripts"
    proc = _pwapply(repo, str(sid), "--check-patches")
    try:
        wait_for(lambda: len(list(scripts.glob("started.*"))) >= 2, "two checks running together")
        assert len(list(scripts.glob("started.*"))) <= AT_ONCE
    finally:
        (scripts / "release").touch()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "per-patch check: 0 of 10 patches with findings, 10 clean" in err


def test_an_interrupt_while_checks_run_changes_nothing_and_ends_them(repo, pw, series):
    repo.git("config", "pwapply.checkPatchesCmd", script(repo, "waits.sh", WAITS))
    repo.commit("a check that waits")
    scripts = repo.path / "scripts"
    state = repo.state()
    proc = _pwapply(repo, str(series), "--check-patches")
    try:
        wait_for(lambda: len(list(scripts.glob("started.*"))) >= 2, "checks running")
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        (scripts / "release").touch()
    assert proc.returncode == 130, err
    assert "nothing was changed" in err
    for started in scripts.glob("started.*"):
        pid = int(started.read_text())
        wait_for(lambda pid=pid: not _alive(pid), f"check {pid} ended")
    for f in scripts.glob("started.*"):
        f.unlink()
    (scripts / "release").unlink()
    assert repo.state() == state


def test_a_bad_check_timeout_is_refused_before_any_request(repo, pw, cli, series):
    repo.git("config", "pwapply.checkPatchesCmd", "true")
    repo.git("config", "pwapply.checkPatchesTimeout", "soon")
    result = cli(str(series), "--check-patches", cwd=repo.path)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: pwapply.checkPatchesTimeout is 'soon': not a number of seconds",
        "hint: git config pwapply.checkPatchesTimeout 60",
    ]
    assert pw.count() == 0
    # Not read where no check runs.
    assert cli(str(series), "--no-check-patches", "-q", cwd=repo.path).exit_code == 0
