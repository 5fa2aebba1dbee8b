"""`git pwapply --help` opens `man git-pwapply`: the pages are installed beside the
program (pyproject.toml data-files) and say what --help says."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tool():
    spec = importlib.util.spec_from_file_location("man_tool", ROOT / "tools" / "man.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["pwapply", "git-pwapply"])
def test_the_pages_say_what_help_says(name):
    """Word for word: how Typer lays the help out (columns, {SERIES} or SERIES) differs
    from one of its versions to another, what the help says may not."""
    man = tool()
    committed = (ROOT / "man" / f"{name}.1").read_text(encoding="utf-8")
    assert words(committed) == words(man.page(name)), "the man page is stale: run python tools/man.py"


def words(text: str):
    return re.findall(r"[\w.@/:=-]+", text)


def test_the_pages_are_installed_where_man_looks():
    pyproject = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"\[tool\.setuptools\.data-files\]\n(.*?)\n\n", pyproject, re.S)
    assert block is not None
    assert '"share/man/man1" = ["man/pwapply.1", "man/git-pwapply.1"]' in block.group(1)


@pytest.mark.skipif(shutil.which("man") is None, reason="no man here")
def test_the_page_renders():
    proc = subprocess.run(
        ["man", "-l", str(ROOT / "man" / "git-pwapply.1")],
        capture_output=True,
        text=True,
        env={"MANPAGER": "cat", "PAGER": "cat", "PATH": "/usr/bin:/bin", "MANWIDTH": "80"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "GIT-PWAPPLY(1)" in proc.stdout and "pwapply status" in proc.stdout
