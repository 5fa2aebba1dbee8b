import re
import subprocess
import sys
from typing import Set


from pwapply import __version__


def test_help_lists_commands_and_examples(cli, tmp_path):
    result = cli("--help", cwd=tmp_path)
    assert result.exit_code == 0
    assert "apply" in result.stdout and "config" in result.stdout
    assert "pwapply 500889" in result.stdout


def test_apply_help_explains_every_option_with_an_example(cli, tmp_path):
    result = cli("apply", "--help", cwd=tmp_path)
    assert result.exit_code == 0
    out = result.stdout
    for opt in (
        "--server",
        "--project",
        "--base",
        "--branch",
        "--no-branch",
        "--force",
        "--no-checkout",
        "--no-3way",
        "--signoff",
        "--patches",
        "--link-format",
        "--no-link",
        "--allow-incomplete",
        "--resolve",
        "--timeout",
        "--json",
        "--verbose",
        "--quiet",
    ):
        assert opt in out, opt
    assert "e.g." in out and "Examples:" in out


def test_version(cli, tmp_path):
    result = cli("--version", cwd=tmp_path)
    assert result.stdout.strip() == f"pwapply {__version__}"


def test_series_and_apply_are_the_same_command(repo, cli):
    a = cli("nonsense-input-42", cwd=repo.path)  # not a plain word: it may be a series
    b = cli("apply", "nonsense-input-42", cwd=repo.path)
    assert a.exit_code == b.exit_code == 2
    assert a.stderr == b.stderr


def test_help_and_version_do_not_import_httpx():
    code = (
        "import sys; from pwapply.cli.app import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('httpx', 'git', 'pwapply.sources.patchwork.client', 'pwapply.apply.pipeline')\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def imported_by_an_apply(repo, pw, **env: str) -> Set[str]:
    """The modules `pwapply SERIES` loads in its own process (-X importtime)."""
    import os

    from conftest import EDITS

    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pwapply", str(sid), "--server", pw.url, "-q"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **env),
    )
    assert proc.returncode == 0, proc.stderr
    return {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time")}


def test_apply_does_not_import_httpx_command_line(repo, pw):
    """httpx imports its CLI (click, rich, pygments) when they are installed: 60 ms of
    every run.  The entry point keeps it out."""
    imported = imported_by_an_apply(repo, pw)
    assert "httpx" in imported  # the request was made through httpx
    assert not {"rich", "pygments"} & imported, {"rich", "pygments"} & imported


def test_the_everyday_apply_loads_no_typer(repo, pw):
    """Typer is not needed to read `pwapply SERIES`."""
    imported = imported_by_an_apply(repo, pw)
    assert "pwapply.apply.pipeline" in imported
    assert not {"typer", "click"} & imported


def test_json_output(repo, pw, cli):
    import json

    from conftest import EDITS

    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    result = cli(str(sid), "--server", pw.url, "--json", "-q", cwd=repo.path)
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["branch"] == "pw/improve-the-files-v2" and data["series"] == sid and len(data["commits"]) == 3
    assert result.stderr == ""


def test_git_pwapply_entry_point_is_declared():
    import pathlib

    pyproject = (pathlib.Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert re.search(r'^git-pwapply = "pwapply.__main__:run"$', pyproject, re.M)
    assert re.search(r'^pwapply = "pwapply.__main__:run"$', pyproject, re.M)


def test_progress_per_patch_on_a_terminal_only(repo, pw):
    import os
    import pty

    from conftest import EDITS

    sid = pw.add_series("qemu-devel", repo.series(EDITS, version=2))
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pwapply", str(sid), "--server", pw.url, "--no-checkout"],
        cwd=repo.path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait() == 0
    os.close(master)
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    assert "[1/3] file1: Fix line 3\n[2/3] file2: Improve line 10\n[3/3] docs: Say welcome properly\n" in text
    assert "Fetching from" in text
    # Not a terminal: no progress lines, only the result.
    piped = subprocess.run(
        [sys.executable, "-m", "pwapply", str(sid), "--server", pw.url, "-b", "other", "--no-checkout"],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0 and "[1/3]" not in piped.stderr and "Applied 3 patches" in piped.stderr


def test_a_bug_says_what_to_report_with_every_version(monkeypatch, capsys):
    """Exit 70, the traceback, and pwapply's, Python's and git's versions and the
    platform: what a bug report needs (pre-commit's error handler does the same)."""
    import platform

    from pwapply.cli import boundary

    def app() -> None:
        raise RuntimeError("an unexpected state")

    assert boundary.program(app) == 70
    err = capsys.readouterr().err
    assert "RuntimeError: an unexpected state" in err and "please report it to pwapply's issue tracker" in err
    assert re.search(rf"pwapply {re.escape(__version__)}, Python 3\.\d+\.\d+ \(\w+\), git version \d", err), err
    assert platform.platform() in err
