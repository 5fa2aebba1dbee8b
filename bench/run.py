#!/usr/bin/env python3
"""pwapply's benchmark: medians and ratios against the bare commands it replaces.

    python bench/run.py                # the full run (a 35,000-file tree; several minutes)
    python bench/run.py --quick        # a smoke-sized run, as CI does (no targets judged)
    python bench/run.py --rtt 0.05     # add 50 ms to every request, like a distant server

Everything is made here, offline: a scratch repository the size of a real C project
(fast-import), series of 3, 16, 50 and 500 patches made with `git format-patch` from real
edits to it (plus a v1 of the 16-patch series), served by pwapply.testing.FakePatchwork on
loopback.  Each measurement interleaves the two sides (A B A B ...) from the same state,
and prints medians, their ratio and the peak memory of each side.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from pwapply.testing import FakePatchwork

ENV = dict(
    os.environ,
    GIT_AUTHOR_NAME="Bench Author",
    GIT_AUTHOR_EMAIL="author@example.org",
    GIT_COMMITTER_NAME="Bench Maintainer",
    GIT_COMMITTER_EMAIL="maint@example.org",
    GIT_CONFIG_NOSYSTEM="1",
    NO_PROXY="*",
)
# PYTHONDONTWRITEBYTECODE would make every run compile every module again: a user's
# install has its bytecode cached, so measure that.
for _name in (
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "PWAPPLY_SERVER",
    "PWAPPLY_TOKEN",
    "PYTHONDONTWRITEBYTECODE",
):
    ENV.pop(_name, None)
BIN = os.path.dirname(sys.executable)
ENV["PATH"] = BIN + os.pathsep + ENV.get("PATH", "")
PWAPPLY = shutil.which("pwapply", path=ENV["PATH"]) or "pwapply"


# Changed lines (- and +) per patch in the real series recorded from a Patchwork server
# (../shared/fixtures/patchwork-real/mbox): 3 to 18, most under 10; one file each, one to
# three hunks.  The bench's patches cycle through these.
HUNK_LINES = (8, 8, 13, 7, 5, 8, 8, 18, 8, 7, 5, 4, 7, 4, 3)


def settle(repo: str) -> None:
    """Make the checkout look like a user's: files written a while ago, the index
    refreshed after them.  A tree checked out in the same second as its index was
    written leaves every entry "racily clean", and then each index write (git am makes
    two a patch) re-reads files to be sure: twice the cost of a real tree's git am."""
    then = time.time() - 3600
    for top, dirs, files in os.walk(repo):
        if ".git" in dirs:
            dirs.remove(".git")
        for name in files:
            os.utime(os.path.join(top, name), (then, then))
    git(repo, "update-index", "-q", "--really-refresh")


def git(repo: str, *args: str, input: Optional[bytes] = None) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, env=ENV, input=input, check=True, capture_output=True).stdout


# ---------------------------------------------------------------- the scratch project


class Project:
    """A C-project-sized repository built with git fast-import, and series of real edits."""

    def __init__(self, root: str, files: int, dirs: int, history: int) -> None:
        self.root = root
        self.repo = os.path.join(root, "project")
        self.files = files
        self.dirs = dirs
        self.paths = [f"d{(i % dirs) // 20:02d}/sub{i % dirs:03d}/file{i // dirs:04d}.c" for i in range(files)]
        self.content: Dict[str, List[str]] = {}
        self.last_tip = ""
        os.makedirs(self.repo)
        git(self.repo, "init", "-q", "-b", "main")
        # Each 500-patch apply leaves ~2,000 loose objects; git am's automatic gc would
        # then repack the whole repository in the background, during later measurements
        # (and only after the runs that ask for it: plain git am and git-pw, not pwapply,
        # whose scratch has it off).  Off for everyone: quieter and fair.
        git(self.repo, "config", "gc.auto", "0")
        git(self.repo, "config", "maintenance.auto", "false")
        stream = [self._commit("refs/heads/main", "Initial import", self.paths, first=True)]
        for n in range(history):
            picked = [self.paths[(n * 7919 + k * 104729) % files] for k in range(3)]
            stream.append(self._commit("refs/heads/main", f"History commit {n}", picked, edit=f"h{n}"))
        git(self.repo, "fast-import", "--quiet", input=b"".join(stream))
        git(self.repo, "reset", "-q", "--hard", "main")  # the one full checkout
        settle(self.repo)
        self.base = git(self.repo, "rev-parse", "HEAD").decode().strip()

    def _text(self, path: str) -> List[str]:
        if path not in self.content:
            self.content[path] = [f"/* line {k} of {path} */\n" for k in range(1, 31)]
        return self.content[path]

    def _commit(
        self,
        ref: str,
        message: str,
        paths: Sequence[str],
        *,
        first: bool = False,
        edit: str = "",
        parent: Optional[str] = None,
        when: int = 1700000000,
    ) -> bytes:
        out = [f"commit {ref}\n".encode()]
        ident = "Bench Author <author@example.org>"
        out.append(f"author {ident} {when} +0000\ncommitter {ident} {when} +0000\n".encode())
        msg = f"{message}\n\nSigned-off-by: {ident}\n".encode()
        out.append(b"data %d\n%s" % (len(msg), msg))
        if parent:
            out.append(f"from {parent}\n".encode())
        for i, path in enumerate(paths):
            lines = self._text(path)
            if not first:
                # Shaped as the real series recorded from Patchwork (../shared/fixtures):
                # one or two hunks a file, of 3 to 18 changed lines, the span cycling.
                seed = len(edit) * 13 + i * 7 + sum(map(ord, edit))
                span = HUNK_LINES[seed % len(HUNK_LINES)] // 2 or 1  # lines replaced: - and + each
                hunks = 1 + seed % 2
                for h in range(hunks):
                    k = (seed + h * 15) % (len(lines) - span)
                    for j in range(k, k + span):
                        lines[j] = f"/* {edit}: changed line {j + 1} of {path} */\n"
            data = "".join(lines).encode()
            out.append(f"M 100644 inline {path}\n".encode() + b"data %d\n" % len(data) + data)
        out.append(b"\n")
        return b"".join(out)

    def series(
        self,
        name: str,
        count: int,
        *,
        version: int = 1,
        cover: str = "",
        variant: str = "",
        on: Optional[str] = None,
        blurb: str = "",
        topic: str = "change",
    ) -> bytes:
        """``count`` commits of clustered real edits on a throwaway branch (from ``on``,
        else the base), as `git format-patch --cover-letter --thread` gives them, with
        ``blurb`` in the cover letter.  The branch's tip is left in ``last_tip``."""
        saved = {p: list(v) for p, v in self.content.items()}
        ref = f"refs/heads/bench-{name}"
        stream = []
        # A series touches a few files in a few directories, as real ones do.
        subdirs = [f"sub{(count * 7 + k * 3) % self.dirs:03d}/" for k in range(3)]
        cluster = [p for p in self.paths if any(d in p for d in subdirs)][:60]
        for n in range(count):
            picked = [cluster[(n * 5 + k) % len(cluster)] for k in range(1 + n % 2)]
            tag = f"{name}-{n}{variant if n == count // 2 else ''}"
            stream.append(
                self._commit(
                    ref,
                    f"{cluster[n % len(cluster)].split('/')[1]}: {topic} {n + 1} of {count}",
                    picked,
                    edit=tag,
                    parent=(on or self.base) if n == 0 else None,
                    when=1700000000 + n,
                )
            )
        git(self.repo, "fast-import", "--quiet", "--force", input=b"".join(stream))
        if on is None:
            self.content = saved  # else the next series of a chain builds on these edits
        mbox = git(
            self.repo,
            "format-patch",
            "--stdout",
            "--cover-letter",
            "--thread",
            f"-v{version}",
            f"{on or self.base}..{ref}",
        )
        self.last_tip = git(self.repo, "rev-parse", ref).decode().strip()
        git(self.repo, "update-ref", "-d", ref)
        # Cover letters' Message-IDs come from the clock: two made in one second would
        # share one.  Real mail never does.
        mbox = mbox.replace(b"<cover.", f"<cover.{name}.".encode())
        if blurb:
            mbox = mbox.replace(b"*** BLURB HERE ***", blurb.encode())
        return mbox.replace(b"*** SUBJECT HERE ***", (cover or f"Bench series of {count}").encode())

    def plain_commits(self, count: int) -> str:
        """A branch of ``count`` commits without trailers, for the pre-push check."""
        ref = f"refs/heads/plain-{count}"
        stream = []
        for n in range(count):
            path = self.paths[(n * 31) % self.files]
            stream.append(
                self._commit(
                    ref, f"Plain change {n}", [path], edit=f"p{count}-{n}", parent=self.base if n == 0 else None
                )
            )
        saved = {p: list(v) for p, v in self.content.items()}
        git(self.repo, "fast-import", "--quiet", "--force", input=b"".join(stream))
        self.content = saved
        return ref


# ---------------------------------------------------------------- measuring


# Runs one command and reports its time and the peak RSS of its process tree.  It is a
# separate small process because Linux counts, in a child's peak RSS, the memory of the
# process it was forked from: measured straight from this one, every command would show
# this benchmark's own size.
LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
elapsed = time.perf_counter() - started
with open(sys.argv[1], "w") as fh:
    json.dump([elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status)], fh)
"""


def timed(argv: Sequence[str], cwd: str, env: Optional[Dict[str, str]] = None) -> Tuple[float, int]:
    """(seconds, peak RSS in KiB of the process tree) of one run; raises on failure."""
    import json

    fd, out = tempfile.mkstemp(prefix="pwapply-bench-", suffix=".json")
    os.close(fd)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", LAUNCHER, out, *argv], cwd=cwd, env=env or ENV, stderr=subprocess.PIPE
        )
        with open(out) as fh:
            elapsed, peak, code = json.load(fh)
    finally:
        os.unlink(out)
    if code != 0 or proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[-500:]
        raise RuntimeError(f"{' '.join(argv)} failed ({code}): {err}")
    return float(elapsed), int(peak)


class Row:
    def __init__(
        self, name: str, a: List[Tuple[float, int]], b: List[Tuple[float, int]], target: Optional[float], note: str = ""
    ) -> None:
        self.name = name
        self.a = statistics.median(t for t, _ in a)
        self.b = statistics.median(t for t, _ in b)
        self.mem_a = max(m for _, m in a) / 1024
        self.mem_b = max(m for _, m in b) / 1024
        self.target = target
        self.note = note

    @property
    def ratio(self) -> float:
        return self.a / self.b if self.b else float("inf")

    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "ok" if self.ratio <= self.target else "MISSED"


Sample = List[Tuple[float, int]]


def rounds(
    runs: int, commands: Sequence[Tuple[Sequence[str], str]], reset: Callable[[], None] = lambda: None
) -> List[Sample]:
    """Run each (argv, cwd) once per round, in turn, ``runs`` rounds: A B A B ..."""
    samples: List[Sample] = [[] for _ in commands]
    for _ in range(runs):
        for i, (argv, cwd) in enumerate(commands):
            samples[i].append(timed(argv, cwd))
            reset()
    return samples


def measure_archive(
    proj: "Project",
    root: str,
    args: argparse.Namespace,
    runs: int,
    sizes: Sequence[int],
    rows: List[Row],
    notes: List[str],
    reset: Callable[[], None],
) -> None:
    """A series only the list's archive has (Patchwork, configured, does not know it: it
    is asked too, as it would be for QEMU), applied by its Message-ID, against `b4 shazam`
    of the same Message-ID from the same archive (b4.midmask), both behind the same delay."""
    import archive as bench_archive

    missing = bench_archive.why_not()
    if missing:
        notes.append(f"the archive's rows were skipped: {', '.join(missing)} missing")
        return
    threads = {}
    for n in sizes:
        mbox = proj.series(f"lore{n}", n, version=2, cover=f"Archive series of {n}")
        cover = re.search(rb"^Message-Id: <([^>]+)>", mbox, re.M | re.I)
        first = re.findall(rb"^Message-Id: <([^>]+)>", mbox, re.M | re.I)[1]
        assert cover is not None
        msgid = cover.group(1).decode()
        review = (
            f"From: Rev Iewer <rev@example.org>\nSubject: Re: [PATCH v2 1/{n}]\nDate: Thu, 16 Nov 2023 10:00:00 +0000\n"
            f"Message-ID: <review.{n}@example.org>\nIn-Reply-To: <{first.decode()}>\n\n"
            "Reviewed-by: Rev Iewer <rev@example.org>\n"
        ).encode()
        threads[n] = (msgid, mbox, review)
    arch = bench_archive.Archive(root, [m for _, mbox, r in threads.values() for m in (mbox, r)], args.rtt)
    try:
        git(proj.repo, "config", "b4.midmask", f"{arch.url}/%s")
        for n in sizes:
            msgid = threads[n][0]
            ours = [PWAPPLY, msgid, "-b", "bench-pw", "-q", "--archive", arch.url]
            b4 = ["sh", "-ec", f"git checkout -q -b bench-b4; b4 -q shazam {msgid}"]
            b, a = rounds(runs, [(b4, proj.repo), (ours, proj.repo)], reset)
            target = None if args.quick or args.rtt < 0.05 else 0.7
            rows.append(
                Row(f"archive: apply {n} patches / b4 shazam", a, b, target, "a Message-ID only the archive has")
            )
    finally:
        arch.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke-sized: small tree, few runs, no targets judged")
    ap.add_argument("--rtt", type=float, default=0.0, help="seconds added to every request (e.g. 0.05)")
    ap.add_argument("--runs", type=int, default=0, help="runs per measurement (default 5, --quick 2)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--repo", metavar="PATH", help="measure on this checkout of yours (with --mbox) instead")
    ap.add_argument("--mbox", metavar="FILE", help="a series as git format-patch or Patchwork gives it")
    ap.add_argument("--base", metavar="REF", default="HEAD", help="apply on REF (default HEAD)")
    ap.add_argument("--sizes", metavar="N,N", help="the series sizes applied (default 3,16,50,500; --quick 3,16)")
    ap.add_argument("--only-apply", action="store_true", help="measure the applies alone (not diff, status, push)")
    args = ap.parse_args()
    if args.repo or args.mbox:
        if not (args.repo and args.mbox):
            ap.error("--repo and --mbox go together")
        return on_repo(args.repo, args.mbox, args.base, args.rtt, args.runs or 5)
    runs = args.runs or (2 if args.quick else 5)
    files, dirs, history = (2000, 40, 20) if args.quick else (35000, 350, 300)
    sizes = (3, 16) if args.quick else (3, 16, 50, 500)
    if args.sizes:
        sizes = tuple(int(n) for n in args.sizes.split(","))
    pushes = (1, 50) if args.quick else (1, 50, 1000)
    root = tempfile.mkdtemp(prefix="pwapply-bench-")
    home = os.path.join(root, "home")
    os.makedirs(home)
    ENV.update(HOME=home, XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_CONFIG_HOME=os.path.join(home, ".config"))
    rows: List[Row] = []
    notes: List[str] = []
    try:
        t0 = time.perf_counter()
        proj = Project(root, files, dirs, history)
        print(
            f"scratch project: {files} files in {dirs} directories, {history + 1} commits "
            f"({time.perf_counter() - t0:.1f} s to build)",
            flush=True,
        )
        with FakePatchwork() as pw:
            pw.delay = args.rtt
            ids: Dict[int, int] = {}
            for n in sizes:
                ids[n] = pw.add_series(
                    "bench", proj.series(f"s{n}", n, version=2), date=f"2026-05-{n % 28 + 1:02d}T10:00:00"
                )
            v1 = pw.add_series("bench", proj.series("s16v1", 16, version=1, variant="-v1"), date="2026-04-01T10:00:00")
            print(f"  series made ({time.perf_counter() - t0:.0f} s)", flush=True)
            git(proj.repo, "config", "pwapply.server", pw.url)
            gitpw = shutil.which("git-pw", path=ENV["PATH"])
            if gitpw:  # git-pw reads pw.*; pwapply.server above wins for pwapply
                git(proj.repo, "config", "pw.server", f"{pw.url}/api/1.2/")
                git(proj.repo, "config", "pw.project", "bench")
            mbox_file = os.path.join(root, "series.mbox")
            fetcher = shutil.which("curl")

            def download(url: str, target: str = mbox_file) -> str:
                if fetcher:
                    return f"curl -sf -o {target} {url}"
                code = f"import urllib.request as u; open('{target}', 'wb').write(u.urlopen('{url}').read())"
                return f'{sys.executable} -c "{code}"'

            def reset() -> None:
                git(proj.repo, "checkout", "-q", "-f", "main")
                for br in ("bench-pw", "bench-base", "bench-gitpw", "bench-b4"):
                    subprocess.run(["git", "branch", "-q", "-D", br], cwd=proj.repo, env=ENV, capture_output=True)
                shutil.rmtree(os.path.join(home, ".cache"), ignore_errors=True)

            for n in sizes:
                url = f"{pw.url}/series/{ids[n]}/mbox/"
                baseline = ["sh", "-ec", f"{download(url)}; git checkout -q -b bench-base; git am -q -3 {mbox_file}"]
                ours = [PWAPPLY, str(ids[n]), "-b", "bench-pw", "-q"]
                commands = [(baseline, proj.repo), (ours, proj.repo)]
                if gitpw:  # git-pw applies on the current branch: give it its own, as pwapply does
                    commands.append(
                        (["sh", "-ec", f"git checkout -q -b bench-gitpw; {gitpw} series apply {ids[n]}"], proj.repo)
                    )
                b, a, *rest = rounds(runs, commands, reset)
                g = rest[:1]
                target = None if args.quick or args.rtt < 0.05 else {3: 1.25, 16: 1.2, 50: 1.15, 500: 1.05}.get(n)
                per = statistics.median(t for t, _ in a) / n * 1000
                rows.append(Row(f"apply {n} patches", a, b, target, f"{per:.1f} ms/patch"))
                if g:
                    rows.append(Row("  pwapply / git-pw series apply", a, g[0], None if args.quick else 0.75))
                print(f"  measured apply {n} ({time.perf_counter() - t0:.0f} s)", flush=True)
            notes.append(
                f"requests for one apply of a series id: {_requests_per_apply(pw, ids[sizes[0]], proj, reset)}"
            )
            measure_archive(proj, root, args, runs, [n for n in sizes if n <= 16] or [sizes[0]], rows, notes, reset)
            print(f"  measured the archive ({time.perf_counter() - t0:.0f} s)", flush=True)

            if not args.only_apply:
                # diff of v1/v2 (cold cache), against applying v2 alone the bare way.
                if 16 in ids:  # v1 is of the 16-patch series
                    diff = [PWAPPLY, "diff", str(ids[16]), "--against", str(v1), "--no-pager"]
                    url16 = f"{pw.url}/series/{ids[16]}/mbox/"
                    base16 = [
                        "sh",
                        "-ec",
                        f"{download(url16)}; git checkout -q -b bench-base; git am -q -3 {mbox_file}",
                    ]
                    b, a = rounds(runs, [(base16, proj.repo), (diff, proj.repo)], reset)
                    rows.append(Row("diff v1..v2 (16 patches)", a, b, None, "vs one bare apply"))
                    print(f"  measured diff ({time.perf_counter() - t0:.0f} s)", flush=True)

                # A chain of three series of 3 patches, each based on the one before (its cover
                # letter says so), against the bare commands of someone who knows the chain:
                # three downloads and three git am.
                chain: List[int] = []
                on: Optional[str] = None
                based = ""
                for k, name in enumerate(("chain-a", "chain-b", "chain-c")):
                    mbox = proj.series(name, 3, on=on, blurb=based or "The first of a chain.")
                    on = proj.last_tip
                    cover = re.search(rb"^Message-Id: <(cover\.[^>]+)>", mbox, re.M | re.I)
                    assert cover is not None
                    based = f"Based-on: <{cover.group(1).decode()}>"
                    chain.append(pw.add_series("bench", mbox, date=f"2026-03-0{k + 1}T10:00:00"))
                files = [os.path.join(root, f"chain{k}.mbox") for k in range(3)]
                fetch = "; ".join(download(f"{pw.url}/series/{sid}/mbox/", f) for sid, f in zip(chain, files))
                bare = [
                    "sh",
                    "-ec",
                    f"{fetch}; git checkout -q -b bench-base; " + "; ".join(f"git am -q -3 {f}" for f in files),
                ]
                ours = [PWAPPLY, str(chain[-1]), "-b", "bench-pw", "-q"]
                b, a = rounds(runs, [(bare, proj.repo), (ours, proj.repo)], reset)
                rows.append(Row("apply a chain of 3 series of 3 patches", a, b, None, "vs 3 bare downloads + git am"))
                notes.append(f"requests for the chain of 3: {_requests_per_apply(pw, chain[-1], proj, reset)}")
                print(f"  measured chain ({time.perf_counter() - t0:.0f} s)", flush=True)

                # A maintainer's morning: pwapply status over 20 branches applied from 20
                # series (some with review tags arrived since), next to asking the same with
                # 20 runs of pwapply check, one a branch.
                for k in range(20):
                    mbox = proj.series(f"life{k}", 4, cover=f"Life series {k}", topic=f"topic {k} step")
                    sid = pw.add_series("bench", mbox, date=f"2026-02-{k + 1:02d}T10:00:00")
                    git(proj.repo, "checkout", "-q", "main")
                    timed([PWAPPLY, str(sid), "-b", f"life-{k}", "-q"], proj.repo)
                    if k % 3 == 0:
                        pw.add_patch_reply(pw.patch_ids(sid)[1], "Reviewed-by: Rev Iewer <rev@example.org>\n")
                git(proj.repo, "checkout", "-q", "main")
                status = [PWAPPLY, "status"]
                checks = ["sh", "-ec", f"for k in $(seq 0 19); do {PWAPPLY} check -q main..life-$k; done"]
                b, a = rounds(runs, [(checks, proj.repo), (status, proj.repo)])
                asked = []
                for argv in (status, checks):
                    pw.reset()
                    timed(argv, proj.repo)
                    asked.append(pw.count())
                rows.append(Row("status of 20 branches / 20 checks", a, b, None, f"{asked[0]} vs {asked[1]} requests"))
                print(f"  measured status ({time.perf_counter() - t0:.0f} s)", flush=True)

        if not args.only_apply:
            # The pre-push check: the same push with and without the hook.
            remote = os.path.join(root, "remote.git")
            git(root, "init", "-q", "--bare", remote)
            git(proj.repo, "remote", "add", "origin", remote)
            git(proj.repo, "push", "-q", "origin", "main")
            git(proj.repo, "fetch", "-q", "origin")
            with_hook, without = os.path.join(root, "hooks-on"), os.path.join(root, "hooks-off")
            os.makedirs(without)
            from pwapply.hooks import install

            install(with_hook)
            typer_only = [sys.executable, "-c", "import typer"]
            for n in pushes:
                ref = proj.plain_commits(n)
                push = ["git", "-c", "core.hooksPath={}", "push", "--dry-run", "-q", "origin", f"{ref}:{ref}"]
                on = [a.format(with_hook) for a in push]
                off = [a.format(without) for a in push]
                b, a, ta = rounds(runs * 2, [(off, proj.repo), (on, proj.repo), (typer_only, root)])
                rows.append(Row(f"push of {n} commits, hook vs none", a, b, None))
                added = statistics.median(t for t, _ in a) - statistics.median(t for t, _ in b)
                typer_t = statistics.median(t for t, _ in ta)
                target = None if args.quick else 1.5
                rows.append(Row(f"  hook's added time ({n}) / import typer", [(added, 0)], [(typer_t, 0)], target))
                print(f"  measured push {n} ({time.perf_counter() - t0:.0f} s)", flush=True)

            for what in ("--help", "--version"):
                b, a = rounds(runs * 2, [(typer_only, root), ([PWAPPLY, what], root)])
                rows.append(Row(f"pwapply {what} / import typer", a, b, None if args.quick else 1.2))
            if gitpw:
                b, a = rounds(runs * 2, [([gitpw, "--help"], root), ([PWAPPLY, "--help"], root)])
                rows.append(Row("pwapply --help / git-pw --help", a, b, None))

        if not gitpw:
            notes.append("git-pw is not installed: its comparison was skipped (pip install -e '.[bench]' adds it)")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(f"{'measurement':<44} {'pwapply':>9} {'baseline':>9} {'ratio':>7} {'target':>7}  {'peak MB':>15}  note")
    for r in rows:
        tgt = f"<={r.target:g}" if r.target else ""
        mem = f"{r.mem_a:.0f} / {r.mem_b:.0f}" if r.mem_a else ""
        print(f"{r.name:<44} {r.a:>8.3f}s {r.b:>8.3f}s {r.ratio:>7.2f} {tgt:>7}  {mem:>15}  {r.verdict()} {r.note}")
    for note in notes:
        print(f"note: {note}")
    print(
        f"rtt added per request: {args.rtt:g} s; {runs} interleaved runs per line; medians; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    missed = [r.name for r in rows if r.verdict() == "MISSED"]
    if missed:
        print("targets missed: " + "; ".join(missed))
    return 0


def on_repo(repo: str, mbox_path: str, base: str, rtt: float, runs: int) -> int:
    """The apply rows on a maintainer's own checkout and series: the series is served by
    FakePatchwork on loopback (``rtt`` added per request), and pwapply, the bare
    commands and git-pw (when installed) apply it from ``base`` in turn.  The checkout
    must be clean; it is left on the branch it was on, the bench's branches removed."""
    repo = os.path.abspath(repo)
    if git(repo, "status", "--porcelain", "--untracked-files=no").strip():
        print("bench: the checkout has changes: commit or stash them first", file=sys.stderr)
        return 2
    start = (
        git(repo, "symbolic-ref", "-q", "--short", "HEAD").decode().strip()
        or git(repo, "rev-parse", "HEAD").decode().strip()
    )
    base_id = git(repo, "rev-parse", "--verify", f"{base}^{{commit}}").decode().strip()
    with open(mbox_path, "rb") as fh:
        data = fh.read()
    root = tempfile.mkdtemp(prefix="pwapply-bench-")
    home = os.path.join(root, "home")
    os.makedirs(home)
    ENV.update(HOME=home, XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_CONFIG_HOME=os.path.join(home, ".config"))
    mbox_file = os.path.join(root, "series.mbox")
    rows: List[Row] = []
    try:
        with FakePatchwork() as pw:
            pw.delay = rtt
            sid = pw.add_series("bench", data, date="2026-05-01T10:00:00")
            n = len(pw.patch_ids(sid))
            url = f"{pw.url}/series/{sid}/mbox/"
            gitpw = shutil.which("git-pw", path=ENV["PATH"])
            fetch = f"curl -sf -o {mbox_file} {url}" if shutil.which("curl") else None
            if fetch is None:
                code = f"import urllib.request as u; open('{mbox_file}', 'wb').write(u.urlopen('{url}').read())"
                fetch = f'{sys.executable} -c "{code}"'

            def reset() -> None:
                git(repo, "checkout", "-q", "-f", "--detach", base_id)
                for br in ("bench-pw", "bench-base", "bench-gitpw"):
                    subprocess.run(["git", "branch", "-q", "-D", br], cwd=repo, env=ENV, capture_output=True)

            reset()
            bare = ["sh", "-ec", f"{fetch}; git checkout -q -b bench-base; git am -q -3 {mbox_file}"]
            ours = [PWAPPLY, str(sid), "-b", "bench-pw", "-q", "--server", pw.url, "--project", "bench", "--no-deps"]
            commands: List[Tuple[Sequence[str], str]] = [(bare, repo), (ours, repo)]
            if gitpw:
                pwconf = f"-c pw.server={pw.url}/api/1.2/ -c pw.project=bench"
                commands.append(
                    (["sh", "-ec", f"git checkout -q -b bench-gitpw; git {pwconf} pw series apply {sid}"], repo)
                )
            b, a, *g = rounds(runs, commands, reset)
            per = statistics.median(t for t, _ in a) / n * 1000
            bare_per = statistics.median(t for t, _ in b) / n * 1000
            rows.append(Row(f"apply {n} patches", a, b, None, f"{per:.1f} ms/patch; bare {bare_per:.1f} ms/patch"))
            if g:
                rows.append(Row("  pwapply / git-pw series apply", a, g[0], None))
    finally:
        subprocess.run(["git", "checkout", "-q", "-f", start], cwd=repo, env=ENV, capture_output=True)
        for br in ("bench-pw", "bench-base", "bench-gitpw"):
            subprocess.run(["git", "branch", "-q", "-D", br], cwd=repo, env=ENV, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'measurement':<44} {'pwapply':>9} {'baseline':>9} {'ratio':>7}  note")
    for r in rows:
        print(f"{r.name:<44} {r.a:>8.3f}s {r.b:>8.3f}s {r.ratio:>7.2f}  {r.note}")
    print(f"rtt added per request: {rtt:g} s; {runs} interleaved runs per line; medians; on {repo} from {base}")
    return 0


def _requests_per_apply(pw: FakePatchwork, sid: int, proj: Project, reset: Callable[[], None]) -> str:
    pw.reset()
    timed([PWAPPLY, str(sid), "-b", "bench-pw", "-q"], proj.repo)
    reset()
    return f"{pw.count()} ({', '.join(p.split('?')[0] for p in pw.paths())})"


if __name__ == "__main__":
    sys.exit(main())
