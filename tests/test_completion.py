"""Shell completion (Typer's, loaded only when asked for) and typo'd commands."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run(*args: str, env=None, cwd=None) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(
        [sys.executable, "-m", "pwapply", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


@pytest.mark.parametrize("shell,marker", [("bash", "complete_bash"), ("zsh", "#compdef pwapply"), ("fish", "complete")])
def test_show_completion_for_a_named_shell(shell, marker):
    proc = run("--show-completion", shell)
    assert proc.returncode == 0, proc.stderr
    assert marker in proc.stdout and "_PWAPPLY_COMPLETE" in proc.stdout


def test_install_completion_for_bash(hermetic):
    proc = run("--install-completion", "bash")
    assert proc.returncode == 0, proc.stderr
    assert "bash completion installed" in proc.stdout
    assert "_PWAPPLY_COMPLETE" in "".join(p.read_text() for p in (hermetic / ".bash_completions").iterdir())
    assert ".bash_completions/pwapply.sh" in (hermetic / ".bashrc").read_text()


def test_an_unknown_shell_is_one_error_and_a_hint():
    proc = run("--show-completion", "tcsh")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: cannot complete for the shell 'tcsh'",
        "hint: name it: pwapply --show-completion bash (or zsh, or fish)",
    ]


def test_the_shell_asks_and_gets_command_names_and_options():
    env = {"_PWAPPLY_COMPLETE": "complete_bash", "COMP_WORDS": "pwapply sta", "COMP_CWORD": "1"}
    assert run(env=env).stdout.split() == ["status"]
    env = {"_PWAPPLY_COMPLETE": "complete_bash", "COMP_WORDS": "pwapply check --off", "COMP_CWORD": "2"}
    assert run(env=env).stdout.split() == ["--offline"]


@pytest.mark.parametrize(
    "args,word,command",
    [(["chek"], "chek", "check"), (["verions", "5"], "verions", "versions"), (["stauts"], "stauts", "status")],
)
def test_a_typo_of_a_command_gets_did_you_mean(args, word, command, tmp_path):
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"error: no command {word!r}: did you mean {command!r}?",
        f"hint: pwapply {command} --help",
    ]


def test_a_file_with_that_name_is_a_series_not_a_typo(tmp_path):
    (tmp_path / "chek").write_text("not an mbox\n")
    proc = run("chek", cwd=tmp_path)
    assert "did you mean" not in proc.stderr


def test_one_shell_at_most():
    proc = run("--show-completion", "bash", "zsh")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: --show-completion takes one shell at most",
        "hint: e.g. pwapply --show-completion bash",
    ]
