"""The pre-commit framework's pre-push stage runs the push check (.pre-commit-hooks.yaml),
with the real `pre-commit` on a scratch repository and a local bare remote: a superseded
series' push is refused, the latest version's goes.

The hook definition is the shipped one, validated by pre-commit itself; it is run as a
`repo: local` hook with `language: system` (the pwapply under test on PATH) so that no
test installs pwapply from the network into pre-commit's own environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EDITS, add_origin

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"

pytestmark = pytest.mark.skipif(shutil.which("pre-commit") is None, reason="pip install -e '.[test]' brings pre-commit")


def pre_commit(repo, *args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(["pre-commit", *args], cwd=repo.path, capture_output=True, text=True)


def test_the_shipped_manifest_is_valid():
    proc = subprocess.run(["pre-commit", "validate-manifest", str(MANIFEST)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture
def framework(repo, tmp_path, monkeypatch, pw):
    """A repository whose pushes go through pre-commit's pre-push stage, running the
    shipped pwapply-check hook; an origin main was pushed to; pwapply configured."""
    import yaml  # type: ignore[import-untyped]  # pre-commit's own dependency

    (hook,) = yaml.safe_load(MANIFEST.read_text())
    hook = {**hook, "language": "system"}
    config = {"repos": [{"repo": "local", "hooks": [hook]}]}
    (repo.path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    repo.git("add", ".pre-commit-config.yaml")
    repo.git("commit", "-qm", "pre-commit configuration")
    repo.base = repo.rev("HEAD")
    add_origin(repo, tmp_path)
    repo.git("config", "pwapply.server", pw.url)
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    installed = pre_commit(repo, "install", "--hook-type", "pre-push")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return repo


def push(repo, *args: str) -> "subprocess.CompletedProcess[str]":
    return subprocess.run(["git", "push", "origin", *args], cwd=repo.path, capture_output=True, text=True)


def test_a_superseded_series_is_refused_the_latest_goes(framework, pw, cli):
    repo = framework
    who = ("A U Thor", "author@example.org")
    v1 = pw.add_series("qemu-devel", repo.series(EDITS, version=1), date="2026-04-21T20:00:00", submitter=who)
    assert cli(str(v1), cwd=repo.path).exit_code == 0
    v1_branch = repo.git("symbolic-ref", "--short", "HEAD").strip()
    v2 = pw.add_series(
        "qemu-devel", repo.series(EDITS, version=2, base=repo.base), date="2026-04-28T20:00:00", submitter=who
    )
    before = repo.git("ls-remote", "origin")
    refused = push(repo, v1_branch)
    assert refused.returncode != 0, refused.stdout + refused.stderr
    said = refused.stdout + refused.stderr
    assert "pwapply check" in said and f"superseded by v2 (series {v2}); apply the new version: pwapply {v2}" in said
    assert repo.git("ls-remote", "origin") == before

    repo.git("checkout", "-q", "main")
    assert cli(str(v2), cwd=repo.path).exit_code == 0
    v2_branch = repo.git("symbolic-ref", "--short", "HEAD").strip()
    went = push(repo, v2_branch)
    assert went.returncode == 0, went.stdout + went.stderr
    assert v2_branch in repo.git("ls-remote", "origin")


def test_pwapply_check_reads_the_range_pre_commit_gives(framework, pw, cli):
    """As pre-commit runs it: no stdin, the range and the remote in its variables."""
    repo = framework
    sid = pw.add_series("qemu-devel", repo.series(EDITS), date="2026-04-21T20:00:00")
    assert cli(str(sid), cwd=repo.path).exit_code == 0
    env = dict(
        os.environ,
        PRE_COMMIT_FROM_REF=repo.base,
        PRE_COMMIT_TO_REF=repo.rev("HEAD"),
        PRE_COMMIT_REMOTE_NAME="origin",
        PRE_COMMIT_REMOTE_URL="unused",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pwapply", "check"], cwd=repo.path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "3 commits from Patchwork checked" in proc.stderr
