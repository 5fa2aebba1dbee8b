#!/usr/bin/env python3
"""Two versions of pwapply head to head: the same apply, from two revisions of this
repository, interleaved (old new old new ...), medians and the ratio of each pair.

    python bench/versions.py --old eb5f488                # against this checkout
    python bench/versions.py --old HEAD~3 --new HEAD --patches 3,16 --runs 30

bench/run.py measures pwapply against the bare commands it replaces; this one says
whether a change made pwapply itself slower or faster, which a ratio to git cannot
(the VM's speed wanders from one minute to the next; pairs run back to back do not).
Each revision is checked out in a work tree of its own and run from its source
(PYTHONPATH), with this Python and its installed dependencies; the series are real
edits made with git format-patch, served by pwapply.testing.FakePatchwork on loopback.
Each run applies the series onto a new branch (-b review --force) from main; the
checkout of main between runs is outside the clock.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from list import make_series  # noqa: E402
from run import ENV, git  # noqa: E402

from pwapply.testing import FakePatchwork  # noqa: E402

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tree(root: str, rev: str) -> str:
    """The source directory of ``rev`` ("" is this checkout as it is)."""
    if not rev:
        return os.path.join(HERE, "src")
    path = os.path.join(root, "trees", rev.replace("/", "_"))
    subprocess.run(["git", "-C", HERE, "worktree", "add", "-q", "--detach", path, rev], check=True)
    return os.path.join(path, "src")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", required=True, help="the revision to compare with (e.g. eb5f488)")
    ap.add_argument("--new", default="", help="the revision measured (default: this checkout as it is)")
    ap.add_argument("--patches", default="3,16", help="series sizes (default 3,16)")
    ap.add_argument("--runs", type=int, default=20, help="pairs of runs a size (default 20)")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="pwapply-bench-versions-")
    trees: Dict[str, str] = {}
    try:
        trees["old"] = tree(root, args.old)
        trees["new"] = tree(root, args.new)
        homes = {side: os.path.join(root, f"home-{side}") for side in trees}  # each its own cache
        for home in homes.values():
            os.makedirs(home)
        repo = os.path.join(root, "project")
        os.makedirs(repo)
        git(repo, "init", "-q", "-b", "main")
        for d in range(20):
            os.makedirs(os.path.join(repo, f"dir{d}"))
            for f in range(50):
                with open(os.path.join(repo, f"dir{d}", f"old{f}.c"), "w") as fh:
                    fh.write("".join(f"int f{d}_{f}_{j}(void) {{ return {j}; }}\n" for j in range(40)))
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "Initial import")
        print(f"old: {args.old}   new: {args.new or 'this checkout'}   {args.runs} pairs a size", flush=True)
        print(f"{'patches':>8} {'old median':>11} {'new median':>11} {'new/old':>8} {'pairs: min':>11} {'max':>6}")
        with FakePatchwork() as pw:
            git(repo, "config", "pwapply.server", pw.url)
            git(repo, "config", "pwapply.project", "qemu-devel")
            for n, size in enumerate(int(s) for s in args.patches.split(",")):
                sid = pw.add_series("qemu-devel", make_series(repo, n, size, 1, cover=size > 1))
                argv = [sys.executable, "-m", "pwapply", str(sid), "-b", "review", "--force"]
                times: Dict[str, List[float]] = {"old": [], "new": []}
                for run in range(args.runs + 1):  # the first pair warms the caches, not counted
                    for side in ("old", "new") if run % 2 else ("new", "old"):
                        git(repo, "checkout", "-q", "main")
                        home = homes[side]
                        env = dict(ENV, PYTHONPATH=trees[side], HOME=home, XDG_CACHE_HOME=f"{home}/.cache")
                        env.pop("PYTHONDONTWRITEBYTECODE", None)  # each side compiles once, as an install does
                        t0 = time.perf_counter()
                        done = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True)
                        took = time.perf_counter() - t0
                        if done.returncode != 0:
                            print(f"{side} failed (exit {done.returncode}):\n{done.stderr}")
                            return 1
                        if run:
                            times[side].append(took)
                ratios = [b / a for a, b in zip(times["old"], times["new"])]
                old, new = statistics.median(times["old"]), statistics.median(times["new"])
                print(
                    f"{size:>8} {old:>10.3f}s {new:>10.3f}s {statistics.median(ratios):>8.3f}"
                    f" {min(ratios):>11.2f} {max(ratios):>6.2f}"
                )
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; new/old is the median of the pairs' ratios")
        return 0
    finally:
        for src in trees.values():
            if src != os.path.join(HERE, "src"):
                subprocess.run(["git", "-C", HERE, "worktree", "remove", "--force", os.path.dirname(src)], check=False)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
