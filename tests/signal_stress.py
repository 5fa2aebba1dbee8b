"""A stress harness for interrupts: hundreds of pwapply runs, each signalled at a random
instant of its first half second, on a busy machine, against servers that answer late.

Each run is a real pwapply process (its own session, as a shell job) in a fresh copy
of a prepared repository.  It is signalled once (SIGINT to it, SIGINT to its process
group as a terminal's Ctrl-C does, SIGTERM, or SIGHUP) at a random instant of
``--window`` seconds after it started: start-up, imports, the preload thread, git
reading the repository, the lock, the first requests of both sources.  Every server it
asks answers ``--late`` seconds late, so the signal always comes before the commit
point.  Beside the runs, busy loops (bounded) keep every processor busy.

A run still alive ``--bound`` seconds after its signal is sent SIGABRT: with
PYTHONFAULTHANDLER set, Python prints every thread's stack on the way out, and the
harness keeps it.  What is counted: runs, the signal instants, the time from signal to
exit (worst and median), hangs, exit codes other than 130, tracebacks, and repositories
changed (anything repo_state sees: refs, HEAD, index, work tree, .git's entries, lock
files, the temporary directory).

    python tests/signal_stress.py --runs 300            # the figures, and any hang's stacks
    python tests/signal_stress.py --runs 50 --commands status,check

tests/test_signal_stress.py runs a short form of it in every test run.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import IDENT, repo_state  # noqa: E402

from pwapply.testing import FakePatchwork  # noqa: E402

PATCHES = 45  # U-Boot's series are often this long
HOWS = ("int", "group", "term", "hup")
EARLY_LINES = 10  # pwapply/__main__.py's lines before its first handler: `import signal`
SIGNUMS = {"int": signal.SIGINT, "group": signal.SIGINT, "term": signal.SIGTERM, "hup": signal.SIGHUP}


def make_hermetic(home: Path) -> None:
    """What tests/conftest.py's hermetic fixture does, for the harness run on its own:
    its own HOME, no system config, fixed identities, no proxy, no PWAPPLY_* or GIT_*."""
    for name in list(os.environ):
        if name.startswith(("PWAPPLY_", "GIT_")) or name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            del os.environ[name]
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n")
    os.environ.update(IDENT)
    os.environ.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_EDITOR="false",
        NO_COLOR="1",
        NO_PROXY="*",
    )


def _git(cwd: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True).stdout


@dataclass
class Setup:
    """A prepared repository (a branch pwapply applied from v1, main checked out), the
    server that has v1 and v2 of a series of PATCHES patches, and the archive (the same
    server's /inbox/, which serves their thread) ."""

    root: Path
    template: Path
    pw: FakePatchwork
    v1: int
    v2: int
    msgid: str
    branch: str

    def commands(self) -> Dict[str, List[str]]:
        """Each command that waits on the network or git, as the harness runs it."""
        server = ["--server", self.pw.url]
        return {
            "apply": [str(self.v2), "-b", "stress", *server],
            "apply-msgid": [self.msgid, "-b", "stress", "--project", "stress", *server],
            "status": ["status", *server],
            "update": ["update", self.branch, *server],
            "check": ["check", f"main..{self.branch}", "--strict", *server],
            "versions": ["versions", str(self.v1), *server],
            "diff": ["diff", str(self.v2), *server],
            "accept": ["accept", self.branch, "--dry-run", *server],
            "list": ["list", "--project", "stress", *server],
        }


def prepare(root: Path, *, https: bool = False, files: int = 0) -> Setup:
    """The template and the server, in an environment made hermetic already (by the
    tests' fixture, or make_hermetic).  ``https``: the server speaks TLS, with a
    certificate of a local CA that SSL_CERT_FILE names (so httpx's default context, made
    ahead in a thread, is the one used).  ``files``: that many more files in
    directories, for a tree that git takes longer to read."""
    work = root / "template"
    work.mkdir(parents=True)
    _git(work, "init", "-q")
    for i in range(PATCHES):
        (work / f"file{i:02}.c").write_text("".join(f"line {j} of file {i}\n" for j in range(20)))
    for i in range(files):
        d = work / f"dir{i // 100:03}"
        d.mkdir(exist_ok=True)
        (d / f"f{i}.c").write_text(f"file {i}\n")
    _git(work, "add", ".")
    _git(work, "commit", "-qm", "Initial import")
    base = _git(work, "rev-parse", "HEAD").decode().strip()

    def series(version: int) -> bytes:
        _git(work, "checkout", "-q", "--detach", base)
        for i in range(PATCHES):
            p = work / f"file{i:02}.c"
            p.write_text(p.read_text().replace("line 3 ", f"line 3 (v{version}) ", 1))
            _git(work, "commit", "-qam", f"file{i:02}: Change line 3\n\nSigned-off-by: A U Thor <author@example.org>")
        out = _git(work, "format-patch", "--stdout", "--thread", "--cover-letter", f"-v{version}", f"{base}..")
        out = out.replace(b"*** SUBJECT HERE ***", b"Change every file").replace(b"*** BLURB HERE ***", b"Blurb.")
        # Same dates in both versions: tell their Message-IDs apart, as real mail does.
        out = out.replace(b".git.", f".v{version}.git.".encode())
        _git(work, "checkout", "-q", "main")
        return out

    mbox1, mbox2 = series(1), series(2)
    ssl_context = None
    if https:
        import ssl

        import trustme

        ca = trustme.CA()
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(ssl_context)
        ca.cert_pem.write_to_path(str(root / "ca.pem"))
        os.environ["SSL_CERT_FILE"] = str(root / "ca.pem")
    pw = FakePatchwork(ssl_context=ssl_context).start()
    v1 = pw.add_series("stress", mbox1, date="2026-04-01T10:00:00")
    v2 = pw.add_series("stress", mbox2, date="2026-04-08T10:00:00")
    msgid = next(line for line in mbox2.decode().splitlines() if line.lower().startswith("message-id:"))
    msgid = msgid.split(":", 1)[1].strip().strip("<>")
    thread = gzip.compress(mbox1 + mbox2)
    pw.fault(r"^/inbox/", status=200, body=thread, headers={"Content-Type": "application/gzip"})
    _git(work, "config", "pwapply.archive", f"{pw.url}/inbox")
    # v1 applied as a user would, so that status, update, check and accept have a branch.
    done = subprocess.run(
        [sys.executable, "-m", "pwapply", str(v1), "--server", pw.url, "--no-checkout", "-q"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"preparing the template failed: {done.stderr}")
    branch = next(
        b
        for b in _git(work, "for-each-ref", "--format=%(refname:short)", "refs/heads/").decode().split()
        if b != "main"
    )
    return Setup(root, work, pw, v1, v2, msgid, branch)


@dataclass
class Run:
    command: str
    how: str
    at: float  # seconds after the start when the signal was sent
    code: Optional[int] = None
    to_exit: Optional[float] = None  # seconds from the signal to the exit
    hung: bool = False
    changed: List[str] = field(default_factory=list)  # what repo_state saw change
    stderr: str = ""

    @property
    def bad(self) -> bool:
        if self.before_pwapply:
            return False
        return self.hung or bool(self.changed) or self.code not in (130, 0) or "Traceback" in self.stderr

    @property
    def before_pwapply(self) -> bool:
        """Signalled while Python itself started (its site module, runpy), or loaded the
        signal module pwapply's first lines need, before pwapply's handler was in place:
        Python's own exit, out of pwapply's reach."""
        if self.hung or self.changed or self.code not in (1, -2, -1, -15):
            return False
        frames = re.findall(r'File "([^"]*)", line (\d+)', self.stderr)
        ours = [(f, int(n)) for f, n in frames if "/pwapply/" in f]
        return all(f.endswith("/pwapply/__main__.py") and n <= EARLY_LINES for f, n in ours)


def one(setup: Setup, n: int, command: str, how: str, at: float, bound: float) -> Run:
    """One run: a fresh copy of the template, pwapply started, signalled ``at`` seconds
    later, given ``bound`` seconds to exit (then SIGABRT, and its stacks kept)."""
    case = setup.root / f"run{n}"
    work, tmp = case / "work", case / "tmp"
    shutil.copytree(setup.template, work, symlinks=True)
    tmp.mkdir()
    before = repo_state(work, str(tmp))
    run = Run(command, how, at)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pwapply", *setup.commands()[command]],
        cwd=work,
        env=dict(os.environ, TMPDIR=str(tmp), PYTHONFAULTHANDLER="1"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    err: List[bytes] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read() if proc.stderr else b""), daemon=True)
    reader.start()
    started = time.monotonic()
    try:
        proc.wait(timeout=at)
    except subprocess.TimeoutExpired:
        sent = time.monotonic()
        try:
            if how == "group":
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.send_signal(SIGNUMS[how])
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=bound)
            run.to_exit = time.monotonic() - sent
        except subprocess.TimeoutExpired:
            run.hung = True
            os.killpg(proc.pid, signal.SIGABRT)  # faulthandler prints every thread's stack
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    else:
        run.at = time.monotonic() - started  # it ended before the signal
    reader.join(10)
    run.code = proc.returncode
    run.stderr = b"".join(err).decode("utf-8", "replace")
    if run.code == 130 or run.hung:
        after = repo_state(work, str(tmp))
        run.changed = sorted(k for k in before if before[k] != after[k])
    if not run.bad:
        shutil.rmtree(case, ignore_errors=True)
    return run


@contextmanager
def busy(processes: int, seconds: float) -> Iterator[None]:
    """``processes`` busy loops beside the block, each bounded to ``seconds``."""
    loop = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"
    procs = [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(processes)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def stress(
    setup: Setup,
    runs: int,
    *,
    commands: Sequence[str],
    window: float = 0.5,
    bound: float = 2.0,
    workers: int = 2,
    seed: Optional[int] = None,
) -> List[Run]:
    """``runs`` runs, spread over ``commands`` and the ways of signalling, each
    signalled at a uniformly random instant of its first ``window`` seconds."""
    rng = random.Random(seed)
    plan = [
        (n, commands[n % len(commands)], HOWS[(n // len(commands)) % len(HOWS)], rng.uniform(0, window))
        for n in range(runs)
    ]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda p: one(setup, p[0], p[1], p[2], p[3], bound), plan))


def summary(runs: Sequence[Run]) -> str:
    """The figures: runs, instants, time from signal to exit, hangs, exit codes,
    repositories changed; then each bad run with its stderr (the stacks of a hang)."""
    signalled = [r for r in runs if r.to_exit is not None]
    times = sorted(r.to_exit for r in signalled if r.to_exit is not None)
    lines = [
        f"runs: {len(runs)} ({len(signalled)} signalled before they ended, {sum(r.hung for r in runs)} hung)",
        f"signal instants: {min(r.at for r in runs):.3f} to {max(r.at for r in runs):.3f} s after the start",
    ]
    if times:
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        lines.append(
            f"signal to exit: median {statistics.median(times) * 1000:.0f} ms, 99th percentile {p99 * 1000:.0f} ms, "
            f"worst {times[-1] * 1000:.0f} ms"
        )
    codes: Dict[Optional[int], int] = {}
    for r in runs:
        codes[r.code] = codes.get(r.code, 0) + 1
    lines.append("exit codes: " + ", ".join(f"{c}: {k}" for c, k in sorted(codes.items(), key=lambda i: str(i[0]))))
    lines.append(f"repositories changed: {sum(bool(r.changed) for r in runs)}")
    early = [r for r in runs if r.before_pwapply]
    if early:
        lines.append(
            f"signalled before pwapply's first line ran (Python starting): {len(early)}, "
            f"at {max(r.at for r in early) * 1000:.0f} ms at the latest"
        )
    by_command: Dict[str, List[Run]] = {}
    for r in runs:
        by_command.setdefault(r.command, []).append(r)
    for command, rs in sorted(by_command.items()):
        worst = max((r.to_exit or 0.0) for r in rs)
        lines.append(f"  {command:12} {len(rs):4} runs, worst {worst * 1000:5.0f} ms, bad {sum(r.bad for r in rs)}")
    for r in runs:
        if r.bad:
            lines.append(
                f"--- {r.command} {r.how} at {r.at:.3f} s: exit {r.code}"
                + (" HUNG" if r.hung else "")
                + (f", changed {r.changed}" if r.changed else "")
            )
            lines.append(r.stderr.rstrip())
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--commands", default="all", help="comma-separated, of: " + ", ".join(COMMANDS))
    ap.add_argument("--late", type=float, default=4.0, help="seconds each server answer is late")
    ap.add_argument("--window", type=float, default=0.5, help="signal instants: uniform in [0, WINDOW] s")
    ap.add_argument("--bound", type=float, default=2.0, help="seconds after its signal a run is declared hung")
    ap.add_argument("--workers", type=int, default=2, help="runs at once")
    ap.add_argument("--busy", type=int, default=os.cpu_count() or 2, help="busy loops beside the runs")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the directory of the runs")
    ap.add_argument("--https", action="store_true", help="the server speaks TLS (a local CA)")
    ap.add_argument("--files", type=int, default=0, help="more files in the tree, for git to read")
    a = ap.parse_args(argv)
    commands = list(COMMANDS) if a.commands == "all" else a.commands.split(",")
    root = Path(tempfile.mkdtemp(prefix="pwapply-stress-"))
    make_hermetic(root / "home")
    setup = prepare(root, https=a.https, files=a.files)
    setup.pw.delay = a.late
    try:
        with busy(a.busy, 3600):
            runs = stress(
                setup, a.runs, commands=commands, window=a.window, bound=a.bound, workers=a.workers, seed=a.seed
            )
    finally:
        setup.pw.stop()
        if not a.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(summary(runs))
    return 1 if any(r.bad for r in runs) else 0


COMMANDS = ("apply", "apply-msgid", "status", "update", "check", "versions", "diff", "accept", "list")

if __name__ == "__main__":
    sys.exit(main())
