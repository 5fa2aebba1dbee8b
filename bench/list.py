#!/usr/bin/env python3
"""`pwapply list` against `git pw series list` and `git pw patch list`: the same project
on the loopback Patchwork-shaped server, many series, a round trip added to every
request (as a distant server has), the commands interleaved, medians and ratios.

    python bench/list.py                 # 400 series, 50 ms a request, 7 runs
    python bench/list.py --series 100 --rtt 0.1 --runs 5

The project is shaped like qemu-devel's: series of 1 to 16 patches (most 1 to 4), a
third with a cover letter, later versions of some, most older series accepted or
superseded (not waiting), review replies on some patches.  git-pw shows a page of
series (or of patches) as the server has them; pwapply shows the newest version of
each series waiting, with its review state: it asks more, and must not take longer.
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
from typing import Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run import ENV, PWAPPLY, git, timed  # noqa: E402

from pwapply.testing import FakePatchwork  # noqa: E402

SIZES = (1, 1, 1, 2, 2, 3, 4, 4, 6, 8, 12, 16)  # patches a series, cycled


def make_series(repo: str, n: int, patches: int, version: int, cover: bool) -> bytes:
    """A series of ``patches`` real edits made with git format-patch, its Message-IDs
    and subjects its own (``n``)."""
    base = git(repo, "rev-parse", "HEAD").decode().strip()
    git(repo, "checkout", "-q", "--detach")
    for k in range(patches):
        path = os.path.join(repo, f"dir{n % 20}", f"file{n}-{k}.c")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("".join(f"/* line {j} of series {n} v{version} patch {k} */\n" for j in range(12)))
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"area{n % 9}: Change {k + 1} of series {n}\n\nWhy it is needed.")
    args = ["format-patch", "--stdout", "--thread", f"-v{version}", f"{base}..HEAD"]
    if cover:
        args.insert(1, "--cover-letter")
    out = git(repo, *args)
    git(repo, "checkout", "-q", "-")
    out = re.sub(rb"<([0-9a-f]{40}|cover)\.(\d+)\.git\.", rb"<\1.\2.s%dv%d.git." % (n, version), out)
    out = out.replace(b"*** SUBJECT HERE ***", b"area%d: A series of changes number %d" % (n % 9, n))
    return out.replace(b"*** BLURB HERE ***", b"What this series does.")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=400, help="series in the project (default 400)")
    ap.add_argument("--rtt", type=float, default=0.05, help="seconds added to every request (default 0.05)")
    ap.add_argument("--runs", type=int, default=7, help="interleaved runs a command (default 7)")
    ap.add_argument("-n", type=int, default=20, help="series shown (default 20, a screenful)")
    args = ap.parse_args()
    gitpw = shutil.which("git-pw", path=ENV["PATH"])
    if not gitpw:
        print("git-pw is not installed: pip install -e '.[bench]'")
        return 1
    root = tempfile.mkdtemp(prefix="pwapply-bench-list-")
    home = os.path.join(root, "home")
    os.makedirs(home)
    ENV.update(HOME=home, XDG_CACHE_HOME=os.path.join(home, ".cache"), XDG_CONFIG_HOME=os.path.join(home, ".config"))
    repo = os.path.join(root, "project")
    try:
        os.makedirs(repo)
        git(repo, "init", "-q", "-b", "main")
        with open(os.path.join(repo, "README"), "w") as f:
            f.write("A project.\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "Initial import")
        t0 = time.perf_counter()
        with FakePatchwork() as pw:
            made = 0
            for n in range(args.series):
                size = SIZES[n % len(SIZES)]
                versions = 1 + (n % 7 == 0) + (n % 21 == 0)  # some have a v2, a few a v3
                for v in range(1, versions + 1):
                    day = 1 + (n * 28) // args.series
                    sid = pw.add_series(
                        "qemu-devel",
                        make_series(repo, n, size, v, cover=size > 2),
                        date=f"2026-11-{day:02d}T{v + 8:02d}:{n % 60:02d}:00",
                        submitter=(f"Submitter {n % 37}", f"dev{n % 37}@example.org"),
                    )
                    made += 1
                    old = n < args.series * 0.7  # most of the older series are merged
                    for i, p in enumerate(pw.patch_ids(sid)):
                        if old or v < versions:
                            pw.set_state(p, "accepted" if v == versions else "superseded")
                        elif i % 3 == 0:
                            pw.add_patch_reply(p, "Looks right.\n\nReviewed-by: Rev Iewer <rev@example.org>\n")
            print(f"{made} series made ({time.perf_counter() - t0:.0f} s)", flush=True)
            git(repo, "config", "pwapply.server", pw.url)
            git(repo, "config", "pwapply.project", "qemu-devel")
            git(repo, "config", "pw.server", f"{pw.url}/api/1.2/")
            git(repo, "config", "pw.project", "qemu-devel")
            pw.delay = args.rtt
            commands = {
                "pwapply list": [PWAPPLY, "list", "-n", str(args.n)],
                "git pw series list": [gitpw, "series", "list", "--limit", str(args.n)],
                "git pw patch list": [gitpw, "patch", "list", "--limit", "100"],
            }
            requests: Dict[str, int] = {}
            for name, argv in commands.items():
                pw.reset()
                out = subprocess.run(argv, cwd=repo, env=ENV, capture_output=True, text=True)
                assert out.returncode == 0, out.stderr
                requests[name] = len(pw.paths())
                if name == "pwapply list":
                    shown = len(out.stdout.splitlines()) - 1
            samples: Dict[str, List[float]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, argv in commands.items():
                    samples[name].append(timed(argv, repo)[0])
        base = statistics.median(samples["git pw series list"])
        print()
        print(f"{'command':<22} {'median':>8} {'min':>8} {'max':>8} {'/ git pw series list':>21} {'requests':>9}")
        for name, got in samples.items():
            med = statistics.median(got)
            print(
                f"{name:<22} {med:>7.3f}s {min(got):>7.3f}s {max(got):>7.3f}s {med / base:>21.2f} {requests[name]:>9}"
            )
        print(
            f"\n{made} series, {args.rtt:g} s added to every request, {args.runs} interleaved runs; "
            f"pwapply showed {shown} series waiting (newest version, readiness); git-pw a page of "
            f"{args.n} series of any state and version, and of 100 patches; python {sys.version.split()[0]}, "
            f"{os.cpu_count()} cores"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
