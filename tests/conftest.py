"""Hermetic tests with real git and a Patchwork-shaped server on loopback.

Every test gets its own HOME and XDG dirs, no system git config, fixed identities and
dates, no editor, and none of the PWAPPLY_* or GIT_DIR-like variables of the caller.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import pytest

from public_inbox import MISSING, WHY_SKIPPED, PublicInbox
from pwapply.testing import FakePatchwork

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL = SHARED / "fixtures" / "patchwork-real"
# What is made once a process goes here, not into the TMPDIR of the test that made it.
SYSTEM_TMP = tempfile.gettempdir()

# The interrupt sweeps and the signal stress run whole with PWAPPLY_EXHAUSTIVE=1, sampled
# with PWAPPLY_EXHAUSTIVE=0; unset, whole in CI and sampled on a developer's machine.
# .ci/run runs them whole once, on the newest Python.
EXHAUSTIVE = os.environ.get("PWAPPLY_EXHAUSTIVE", "1" if os.environ.get("CI") else "0") not in ("", "0")

IDENT = {
    "GIT_AUTHOR_NAME": "A U Thor",
    "GIT_AUTHOR_EMAIL": "author@example.org",
    "GIT_COMMITTER_NAME": "Maint Ainer",
    "GIT_COMMITTER_EMAIL": "maint@example.org",
    "GIT_AUTHOR_DATE": "1700000000 +0000",
    "GIT_COMMITTER_DATE": "1700000000 +0000",
}


@pytest.fixture(scope="session", autouse=True)
def default_signals() -> Iterator[None]:
    """The tests signal pwapply, in this process and in the children they start.  A CI
    job started in the background inherits SIGINT ignored (under nohup, SIGHUP too), and
    pwapply rightly keeps an ignored signal ignored: give the suite, and so its
    children, the default dispositions."""
    import signal

    wanted: Dict[signal.Signals, Any] = {
        signal.SIGINT: signal.default_int_handler,
        signal.SIGTERM: signal.SIG_DFL,
        signal.SIGHUP: signal.SIG_DFL,
    }
    saved = {sig: signal.signal(sig, handler) for sig, handler in wanted.items()}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture(autouse=True)
def hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith(("PWAPPLY_", "GIT_")) or name in ("NO_COLOR", "EMAIL"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_EDITOR", "false")
    monkeypatch.setenv("GIT_PAGER", "cat")
    monkeypatch.setenv("NO_COLOR", "1")
    for key, value in IDENT.items():
        monkeypatch.setenv(key, value)
    # Loopback only: a proxy from the environment must not catch our test server.
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
    return home


def git(repo: Path, *args: str, input: Optional[bytes] = None, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, input=input, capture_output=True)
    if check and proc.returncode:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
    return proc.stdout.decode("utf-8", "replace")


@functools.lru_cache(maxsize=None)
def _first_commit() -> Tuple[Path, str]:
    """A repository with the project's first commit, made once a process (IDENT's fixed
    dates make it the same commit every time) and copied for each test: four git
    processes fewer a test (three: the copy's index is refreshed)."""
    root = Path(tempfile.mkdtemp(prefix="pwapply-first-commit-", dir=SYSTEM_TMP))
    atexit.register(shutil.rmtree, root, True)
    path = root / "work"
    path.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(IDENT, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, HOME=str(root))

    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=path, env=env, capture_output=True, check=True).stdout.decode()

    run("init", "-q", "-b", "main")
    for d in ("docs", "src", "tools"):
        (path / d).mkdir()
    for i in range(1, 6):
        (path / "src" / f"file{i}.c").write_text("".join(f"line {j} of file {i}\n" for j in range(1, 41)))
    (path / "docs" / "index.rst").write_text("Docs\n====\n\nWelcome.\n")
    (path / "README").write_text("A project.\n")
    run("add", ".")
    run("commit", "-qm", "Initial import")
    return path, run("rev-parse", "HEAD").strip()


class Repo:
    """A real repository in a tmp dir, with helpers to make series from real edits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        template, self.base = _first_commit()
        shutil.copytree(template, path, symlinks=True)
        # The copies' files are new to the index (inode, ctime): as fresh as a checkout.
        git(path, "update-index", "-q", "--refresh")

    def git(self, *args: str, **kw: object) -> str:
        return git(self.path, *args, **kw)  # type: ignore[arg-type]

    def rev(self, rev: str) -> str:
        return self.git("rev-parse", rev).strip()

    def write(self, rel: str, text: str) -> None:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    def edit_line(self, rel: str, old: str, new: str) -> None:
        p = self.path / rel
        text = p.read_text()
        assert old in text, (rel, old)
        p.write_text(text.replace(old, new, 1))

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-qm", message)
        return self.rev("HEAD")

    def series(
        self,
        edits: Sequence[Tuple[Any, ...]],
        *,
        version: int = 1,
        cover: bool = True,
        cover_subject: str = "Improve the files",
        base: Optional[str] = None,
        extra: Sequence[str] = (),
        tag: str = "",
    ) -> bytes:
        """Make one commit per (path, old, new, subject[, body]) on a throwaway branch from
        ``base``, return `git format-patch --thread` of them (a cover letter first when
        ``cover``), and leave the repository as it was."""
        mbox, _ = self.series_at(
            edits, version=version, cover=cover, cover_subject=cover_subject, base=base, extra=extra, tag=tag
        )
        return mbox

    def series_at(
        self,
        edits: Sequence[Tuple[Any, ...]],
        *,
        version: int = 1,
        cover: bool = True,
        cover_subject: str = "Improve the files",
        blurb: str = "This series improves the files.",
        base: Optional[str] = None,
        extra: Sequence[str] = (),
        tag: str = "",
    ) -> Tuple[bytes, str]:
        """As series(), and the tip commit too (another series can be made on it).  A
        ``tag`` goes into every Message-ID: series made with the same dates need one to
        tell their cover letters apart."""
        # Few git processes a series (a test makes many series, and on Python 3.9 each
        # process forks the whole pytest process): an edit is one `commit -a`, a whole
        # file written an add and a commit.
        start_branch = self.git("symbolic-ref", "-q", "--short", "HEAD", check=False).strip()
        start = self.rev("HEAD")
        b = base or start
        self.git("checkout", "-q", "--detach", b)
        for edit in edits:
            path, old, new, subject = edit[:4]
            body = edit[4] if len(edit) > 4 else ""
            if old is None:
                self.write(path, new)
            else:
                self.edit_line(path, old, new)
            msg = (
                subject
                + ("\n\n" + body if body else "")
                + f"\n\nSigned-off-by: {IDENT['GIT_AUTHOR_NAME']} <{IDENT['GIT_AUTHOR_EMAIL']}>"
            )
            if old is None:
                self.git("add", "--", path)
            self.git("commit", "-qam", msg)
        tip = self.rev("HEAD")
        args = ["format-patch", "--stdout", "--thread", f"-v{version}", f"{b}..HEAD", *extra]
        if cover:
            args.insert(1, "--cover-letter")
        out = subprocess.run(["git", *args], cwd=self.path, capture_output=True, check=True).stdout
        # Message-IDs from format-patch are commit id + clock: with fixed dates, an unchanged
        # patch of v1 and v2 would share one.  Real mail never does: tell them apart.
        out = re.sub(rb"<([0-9a-f]{40}|cover)\.(\d+)\.git\.", rb"<\1.\2.v%d%s.git." % (version, tag.encode()), out)
        if cover:
            out = out.replace(b"*** SUBJECT HERE ***", cover_subject.encode())
            out = out.replace(b"*** BLURB HERE ***", blurb.encode())
        if start_branch:
            self.git("checkout", "-q", start_branch)
        else:
            self.git("checkout", "-q", "--detach", start)
        return out, tip

    def state(self) -> Dict[str, str]:
        """Everything that must not change when pwapply fails."""
        return repo_state(self.path, os.environ["TMPDIR"])


def repo_state(path: Path, tmpdir: str) -> Dict[str, str]:
    """Everything of a repository that must not change when pwapply fails or is
    interrupted before its commit point: refs, HEAD, status, index, worktrees, stash,
    am session, the entries of .git, lock files anywhere in it, the temporary
    directory's entries and every file's contents."""

    def g(*args: str) -> str:
        return git(path, *args, check=args[0] != "symbolic-ref")

    return {
        "refs": g("for-each-ref", "--format=%(refname) %(objectname)"),
        "head": g("symbolic-ref", "-q", "HEAD") + g("rev-parse", "HEAD").strip(),
        "status": g("status", "--porcelain", "--untracked-files=all"),
        "index": g("ls-files", "--stage"),
        "worktrees": g("worktree", "list", "--porcelain").replace(str(path), "<repo>"),
        "stash": g("stash", "list"),
        "am": str((path / ".git" / "rebase-apply").exists()),
        "admin": str(sorted(p.name for p in (path / ".git").iterdir())),
        "locks": str(sorted(str(p.relative_to(path)) for p in (path / ".git").rglob("*.lock"))),
        "tmp": str(sorted(os.listdir(tmpdir))),
        "files": "\n".join(
            sorted(
                f"{p.relative_to(path)}:{p.read_bytes()!r}"
                for p in path.rglob("*")
                if p.is_file() and ".git" not in p.parts
            )
        ),
    }


EDITS = [
    ("src/file1.c", "line 3 of file 1\n", "line 3 of file 1, fixed\n", "file1: Fix line 3"),
    (
        "src/file2.c",
        "line 10 of file 2\n",
        "line 10 of file 2, better\n",
        "file2: Improve line 10",
        "Line 10 was not good enough.",
    ),
    ("docs/index.rst", "Welcome.\n", "Welcome to the project.\n", "docs: Say welcome properly"),
]


def add_origin(repo: "Repo", tmp_path: Path) -> Path:
    """A bare remote, origin, that main was pushed to and is the upstream of main."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "origin", "main")
    repo.git("branch", "-q", "--set-upstream-to=origin/main")
    return remote


def start_pwapply(repo: "Repo", *args: str, **env: str) -> "subprocess.Popen[str]":
    """pwapply as its own process, in a session (and process group) of its own, as a
    shell job is: stderr to read, stdout to nowhere."""
    return subprocess.Popen(
        [sys.executable, "-m", "pwapply", *args],
        cwd=repo.path,
        env=dict(os.environ, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Any]:
    """A real public-inbox archive (tests/public_inbox.py): feed it with ``add()``, then
    ``serve()``.  Skipped where public-inbox is not installed, except in CI."""
    if MISSING:
        if os.environ.get("CI"):
            pytest.fail(WHY_SKIPPED)
        pytest.skip(WHY_SKIPPED)
    pi = PublicInbox(tmp_path / "archive")
    yield pi
    pi.close()


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "work")


@pytest.fixture
def pw() -> Iterator[FakePatchwork]:
    with FakePatchwork() as server:
        yield server
    assert server.errors == [], "the fake server failed to answer:\n" + "\n".join(server.errors)


class CLI:
    """Runs pwapply in-process as the user would, in a directory."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def __call__(self, *args: str, cwd: Path, input: Optional[bytes] = None, env: Optional[Dict[str, str]] = None):
        from typer.testing import CliRunner

        from pwapply.cli.app import app

        self.monkeypatch.chdir(cwd)
        for k, v in (env or {}).items():
            self.monkeypatch.setenv(k, v)
        import inspect

        # click < 8.2 mixes stderr into stdout unless told not to.
        kw: Dict[str, Any] = {}
        if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
            kw["mix_stderr"] = False
        runner = CliRunner(**kw)
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CLI:
    return CLI(monkeypatch)


@pytest.fixture
def tls_pw(tmp_path: Path) -> Iterator[Tuple[FakePatchwork, Path]]:
    """A FakePatchwork over https with a certificate from a local CA (trustme), and the
    CA's PEM file."""
    import ssl

    trustme = pytest.importorskip("trustme")

    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with FakePatchwork(ssl_context=ctx) as server:
        yield server, ca_file
    assert server.errors == [], "the fake server failed to answer:\n" + "\n".join(server.errors)


def msgids(mbox: bytes) -> List[str]:
    import re

    return re.findall(r"^Message-ID: <([^>]+)>", mbox.decode(), re.M | re.I)
