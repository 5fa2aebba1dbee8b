"""The token from git's credential helpers: asked only when a command needs a token and
none is set, only for the configured server, never prompting, bounded in time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pwapply.config import build, with_credential
from pwapply.git.run import Git

TOKEN = "0123456789abcdef0123456789abcdef01234567"


def store(tmp_path: Path, url: str, token: str = TOKEN) -> Path:
    """A credential store file as `git credential-store` writes it."""
    scheme, rest = url.split("://", 1)
    f = tmp_path / "credentials"
    f.write_text(f"{scheme}://pwapply:{token}@{rest.rstrip('/')}\n")
    return f


def settings_for(server: str, source: str = "git config pwapply.server"):
    s = build(flags={}, env={}, gitconfig={"pwapply.server": server}, remotes={}, b4config={})
    if source == "URL given":
        s = build(flags={}, env={}, gitconfig={}, remotes={}, b4config={}, url_server=server)
    return s


def test_the_token_comes_from_a_store_helper(repo, tmp_path):
    server = "https://patchwork.example.org"
    repo.git("config", "credential.helper", f"store --file {store(tmp_path, server)}")
    got, why = with_credential(settings_for(server), Git(cwd=str(repo.path)), 10.0)
    assert (got.token, got.source("token"), why) == (TOKEN, "git credential", "")
    # The token stays out of what `pwapply config` shows.
    assert ("token", "<redacted>", "git credential") in got.rows()


def test_another_host_gets_nothing_and_nothing_prompts(repo, tmp_path):
    repo.git("config", "credential.helper", f"store --file {store(tmp_path, 'https://patchwork.example.org')}")
    got, why = with_credential(settings_for("https://elsewhere.example.org"), Git(cwd=str(repo.path)), 10.0)
    assert got.token is None and why == ""  # git would have prompted: it may not


def test_a_server_named_only_by_a_pasted_url_is_not_asked_for(repo, tmp_path):
    asked = tmp_path / "asked"
    repo.git("config", "credential.helper", f"!f() {{ touch {asked}; }}; f")
    got, _ = with_credential(settings_for("https://patchwork.example.org", "URL given"), Git(cwd=str(repo.path)), 10.0)
    assert got.token is None and not asked.exists()


def test_a_failing_helper_is_said_and_gives_no_token(repo, tmp_path):
    repo.git("config", "credential.helper", "!f() { echo 'keyring locked' >&2; exit 1; }; f")
    got, why = with_credential(settings_for("https://patchwork.example.org"), Git(cwd=str(repo.path)), 10.0)
    assert got.token is None and why == "git credential: keyring locked"


def test_a_hanging_helper_is_bounded_and_ended(repo, tmp_path):
    pid_file = tmp_path / "helper.pid"
    repo.git("config", "credential.helper", f"!f() {{ echo $$ > {pid_file}; exec sleep 60; }}; f")
    got, why = with_credential(settings_for("https://patchwork.example.org"), Git(cwd=str(repo.path)), 1.0)
    assert got.token is None and why == "git credential gave no answer within 1 s"
    pid = int(pid_file.read_text())
    from test_faults import wait_for

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        # A zombie waiting for its parent (git, ended too) counts as gone.
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
        except OSError:
            return True

    wait_for(gone, "the helper ended with git")


def pushed_with_a_helper(repo, tmp_path, pw, cli) -> None:
    """A series applied and pushed to a bare origin; the token in a credential store."""
    from conftest import EDITS

    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    repo.git("config", "pwapply.server", pw.url)
    repo.git("config", "credential.helper", f"store --file {store(tmp_path, pw.url)}")
    pw.tokens[TOKEN] = True
    sid = pw.add_series("qemu-devel", repo.series(EDITS))
    assert cli(str(sid), cwd=repo.path).exit_code == 0
    repo.git("push", "-q", "origin", "HEAD")


def test_accept_takes_the_token_from_the_helper(repo, tmp_path, pw, cli):

    pushed_with_a_helper(repo, tmp_path, pw, cli)
    result = cli("accept", cwd=repo.path)
    assert result.exit_code == 0, result.stderr
    assert len(pw.changes) == 3
    shown = cli("config", cwd=repo.path)
    assert "git credential" in shown.stdout and TOKEN not in shown.stdout + shown.stderr


def test_the_helpers_token_does_not_follow_a_redirect_to_another_port(repo, tmp_path, pw, cli):
    """accept's PATCH answered by a 307 to the same host's other port: refused, and the
    server there never sees the token the credential helper gave."""

    from pwapply.testing import FakePatchwork

    pushed_with_a_helper(repo, tmp_path, pw, cli)
    with FakePatchwork() as other:

        def moved(h) -> bool:
            if h.command != "PATCH":
                return False
            h.send_response(307)
            h.send_header("Location", other.url + h.path)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return True

        pw.fault("/api/", handler=moved)
        result = cli("accept", cwd=repo.path)
        assert result.exit_code == 4, result.stderr
        assert f"to another server ({other.url})" in result.stderr
        assert other.requests == [] and pw.changes == []
        assert TOKEN not in result.stdout + result.stderr


def test_no_token_anywhere_says_where_one_can_come_from(repo, tmp_path, pw, cli):
    from conftest import EDITS

    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    repo.git("config", "pwapply.server", pw.url)
    sid = pw.add_series("qemu-devel", repo.series(EDITS))
    assert cli(str(sid), cwd=repo.path).exit_code == 0
    repo.git("push", "-q", "origin", "HEAD")
    result = cli("accept", cwd=repo.path)
    assert result.exit_code == 2
    assert "git credential helper" in result.stderr and pw.changes == []


@pytest.mark.skipif(sys.platform != "linux", reason="the hook's environment")
def test_the_pre_push_path_asks_no_helper(repo, tmp_path, monkeypatch):
    asked = tmp_path / "asked"
    repo.git("config", "credential.helper", f"!f() {{ touch {asked}; }}; f")
    repo.git("config", "pwapply.server", "https://patchwork.example.org")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    subprocess.run([sys.executable, "-m", "pwapply", "hooks", "install"], cwd=repo.path, check=True)
    repo.write("src/file3.c", "plain\n")
    repo.commit("file3: a commit without trailers")
    push = subprocess.run(["git", "push", "origin", "HEAD:main"], cwd=repo.path, capture_output=True, text=True)
    assert push.returncode == 0, push.stderr
    assert not asked.exists()
