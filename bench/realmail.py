"""pwapply and `b4 shazam` side by side on real mail: every series of the real-mail corpus
(tests/realmail/: liburing's series on the io_uring list), each applied by the Message-ID
its first merged commit's Link names, from one local public-inbox holding every thread,
on liburing's real history at the parent of that commit.

    python bench/realmail.py --liburing PATH [--runs 3] [--rtt 0]

--liburing is a clone of liburing (github.com/axboe/liburing; not in the repository: its
history is the bases).  b4 0.16 comes with the bench extra (pip install -e '.[bench]',
Python 3.11 or newer), and reads the archive through ``b4.midmask``.

One table, a row per figure, pwapply's and b4's: series applied; series whose merged
patches are all there (by patch-id, or by subject where the maintainer edited the
patch); review tags upstream carries that a reply in the thread gave and the commits
lack; review tags the commits have that upstream lacks; the median seconds of an apply.
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
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import realmail as rm  # noqa: E402
from archive import DelayProxy, why_not  # noqa: E402
from public_inbox import PublicInbox  # noqa: E402

REVIEW = ("reviewed-by", "acked-by", "tested-by", "reported-by")


def git(cwd: str, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def new_commits(repo: str, base: str) -> List[str]:
    """Each commit since ``base``: its message and diff, oldest first."""
    log = subprocess.run(
        ["git", "log", "--reverse", "-p", "--format=commit %H%n%n%B", f"{base}..HEAD"],
        cwd=repo,
        capture_output=True,
        text=True,
    ).stdout
    return re.split(r"(?m)^(?=commit [0-9a-f]{40}$)", log)[1:]


def judge(case: rm.Case, made: Sequence[str]) -> Tuple[bool, int, int]:
    """(every merged patch there, upstream tags a reply gave that are missing, tags
    upstream lacks)."""
    ids = rm.patch_ids(list(made))
    subjects = [rm.title(text.split("\n")[2]) if text.count("\n") > 2 else "" for text in made]
    whole = True
    missing = extra = 0
    for merged in case.commits:
        if merged.patch_id in ids:
            at = ids.index(merged.patch_id)
        elif rm.title(merged.subject) in subjects:
            at = subjects.index(rm.title(merged.subject))
        else:
            whole = False
            continue
        have = [(k.lower(), rm.address(v)) for k, v in re.findall(r"(?m)^([\w-]+):\s*(.+)$", made[at])]
        have = [h for h in have if h[0] in REVIEW]
        for key, value in merged.given:
            missing += (key.lower(), rm.address(value)) not in have
        upstream = {(k.lower(), rm.address(v)) for k, v in merged.tags}
        extra += sum(1 for h in set(have) if h not in upstream)
    return whole, missing, extra


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--liburing", required=True, help="a clone of liburing (its history gives the bases)")
    ap.add_argument("--runs", type=int, default=1, help="applies of each series by each tool (the median is kept)")
    ap.add_argument("--rtt", type=float, default=0.0, help="seconds added to each request (a distant archive)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N series (0: all)")
    a = ap.parse_args()
    missing = why_not()
    if missing:
        print("cannot run: " + ", ".join(missing), file=sys.stderr)
        return 2
    cases = [c for c in rm.cases()][: a.limit or None]
    root = Path(tempfile.mkdtemp(prefix="pwapply-realmail-bench-"))
    inbox = PublicInbox(root / "archive", "io-uring")
    proxy = None
    try:
        inbox.load(*rm.threads().values())
        inbox.serve()
        url = inbox.url
        if a.rtt:
            proxy = DelayProxy(int(inbox.base.rsplit(":", 1)[1]), a.rtt)
            url = f"{proxy.url}/io-uring"
        work = str(root / "liburing")
        subprocess.run(["git", "clone", "-q", "--no-checkout", a.liburing, work], check=True)
        git(work, "config", "b4.midmask", f"{url}/%s")
        git(work, "config", "user.name", "Bench Mark")
        git(work, "config", "user.email", "bench@example.org")
        env = dict(os.environ, PWAPPLY_ARCHIVE=url, GIT_PAGER="cat")
        tools = {
            "pwapply": lambda c: ["pwapply", c.msgid, "-q", "-b", "bench-pw"],
            "b4 shazam": lambda c: ["sh", "-ec", f"git checkout -q -b bench-b4; b4 -q shazam -l {c.msgid}"],
        }
        figures: Dict[str, Dict[str, float]] = {t: {"applied": 0, "whole": 0, "missing": 0, "extra": 0} for t in tools}
        seconds: Dict[str, List[float]] = {t: [] for t in tools}
        for n, case in enumerate(cases, 1):
            print(f"[{n}/{len(cases)}] {case.name}", file=sys.stderr)
            for tool, argv in tools.items():
                times = []
                for _ in range(a.runs):
                    git(work, "checkout", "-q", "-f", "--detach", case.base)
                    subprocess.run(["git", "branch", "-q", "-D", "bench-pw", "bench-b4"], cwd=work, capture_output=True)
                    subprocess.run(["git", "am", "--abort"], cwd=work, capture_output=True)
                    started = time.monotonic()
                    done = subprocess.run(argv(case), cwd=work, env=env, capture_output=True)
                    times.append(time.monotonic() - started)
                seconds[tool].append(statistics.median(times))
                if done.returncode != 0:
                    continue
                made = new_commits(work, case.base)
                if not made:
                    continue
                whole, miss, extra = judge(case, made)
                f = figures[tool]
                f["applied"] += 1
                f["whole"] += whole
                f["missing"] += miss
                f["extra"] += extra
        given = sum(len(m.given) for c in cases for m in c.commits)
        print(f"\n{len(cases)} series, {sum(len(c.commits) for c in cases)} merged patches, {given} tags a reply gave")
        print(f"| figure | {' | '.join(tools)} |")
        print(f"|---|{'---|' * len(tools)}")
        rows = [
            ("series applied", "applied"),
            ("series with every merged patch", "whole"),
            ("upstream tags a reply gave, missing", "missing"),
            ("tags upstream lacks", "extra"),
        ]
        for label, key in rows:
            print(f"| {label} | {' | '.join(str(int(figures[t][key])) for t in tools)} |")
        print(f"| median seconds an apply | {' | '.join(f'{statistics.median(seconds[t]):.3f}' for t in tools)} |")
        return 0
    finally:
        if proxy is not None:
            proxy.close()
        inbox.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
