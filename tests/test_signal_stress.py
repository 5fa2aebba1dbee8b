"""The interrupt stress harness (tests/signal_stress.py), in a short form: every
command, every way of signalling, random instants of the first half second, servers
that answer late, the machine kept busy.  `python tests/signal_stress.py --runs 300`
is the long form, with figures.

A run counts as hung when it is still there long after its signal: the bound here is a
hang detector, generous for a loaded CI machine, not a measure of speed (the harness
prints the times; the watchdog's tests check the bound's mechanism).
"""

from __future__ import annotations

import os
from pathlib import Path

import signal_stress
from conftest import EXHAUSTIVE


def test_every_signal_before_the_commit_point_ends_the_run_and_changes_nothing(tmp_path: Path) -> None:
    setup = signal_stress.prepare(tmp_path / "stress")
    setup.pw.delay = 4.0  # every answer 4 s late: the signals all come before the commit point
    # Every command with every way of signalling; twice when exhaustive (conftest.py).
    # PWAPPLY_STRESS_RUNS=N for more.
    each = len(signal_stress.COMMANDS) * len(signal_stress.HOWS)
    runs_n = int(os.environ.get("PWAPPLY_STRESS_RUNS") or (2 * each if EXHAUSTIVE else each))
    try:
        with signal_stress.busy(os.cpu_count() or 2, 600):
            runs = signal_stress.stress(
                setup, runs_n, commands=signal_stress.COMMANDS, window=0.5, bound=15.0, workers=2
            )
    finally:
        setup.pw.stop()
    report = signal_stress.summary(runs)
    assert not any(r.bad for r in runs), report
    assert sum(r.code == 130 for r in runs) >= len(runs) // 2, report  # most were signalled while they ran
