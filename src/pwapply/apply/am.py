"""git am of a series in the scratch worktree: its options, the temporary mbox it reads,
and, when it stops, which patch failed and why."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence

from .. import mbox, process
from ..errors import ApplyError, ConfigError
from ..frozen import frozen
from ..git.scratch import AmResult, Scratch, failing_files, identity_problem
from ..mbox import Patch
from ..sources.model import Series
from ..text import first_few
from ..trailers import clean_value
from ..ui import UI


def am_options(three_way: bool, passthrough: Sequence[str], patches: Sequence[Patch] = ()) -> List[str]:
    """git am's options for these patches: -3 (or --no-3way), -p0 for diffs made without
    a/ b/ prefixes, then what the user gave after --."""
    options = ["-3"] if three_way else ["--no-3way"]
    if patches and not any(p.prefixed for p in patches) and not any(a.startswith("-p") for a in passthrough):
        options.append("-p0")  # diffs made with diff.noprefix: no a/ b/ to strip
    return options + list(passthrough)


@contextmanager
def mbox_file(patches: Sequence[Patch]) -> Iterator[str]:
    """A temporary mbox of these patches, for git am; removed at the end of the block.
    Made and on the books under process.hold(): a signal in between would leave it."""

    path = None
    try:
        with process.hold():
            fd, path = tempfile.mkstemp(prefix="pwapply-", suffix=".mbox")
            process.own(path, directory=False)
            with os.fdopen(fd, "wb") as fh:
                fh.write(mbox.join(patches))
        yield path
    finally:
        if path is not None:
            os.unlink(path)
            process.disown(path)


def apply_in(scratch: Scratch, patches: Sequence[Patch], options: Sequence[str], ui: UI, label: str = "") -> AmResult:
    """git am in the scratch worktree, with a progress line per patch (``[3/16] ...``, or
    ``[series 500120 3/16] ...`` with a ``label``)."""
    total = len(patches)
    prefix = f"{label} " if label else ""
    with mbox_file(patches) as path:
        return scratch.am(path, options, lambda n, subject: ui.progress(f"[{prefix}{n}/{total}] {subject}"))


@frozen
class Run:
    """One series as git am applies it: the one asked for, or a base of its chain."""

    source: Series
    patches: Sequence[Patch]
    label: str  # "series 500120 v2"


@dataclass
class Attempt:
    """What git am made of a chain in the scratch: the commits up to ``tip``; and, when a
    patch did not apply, which run it was in and why."""

    tip: str
    failed: Optional[int] = None  # index of the run that stopped
    failure: Optional["Failure"] = None


def apply_runs(scratch: Scratch, runs: Sequence[Run], three_way: bool, passthrough: Sequence[str], ui: UI) -> Attempt:
    """git am of each run in turn, in the scratch; it stops at the first that fails."""
    named = len(runs) > 1
    for k, run in enumerate(runs):
        options = am_options(three_way, passthrough, run.patches)
        outcome = apply_in(scratch, run.patches, options, ui, run.label if named else "")
        if not outcome.ok:
            return Attempt(scratch.head(), k, describe_failure(scratch, outcome, run.patches))
    return Attempt(scratch.head())


@dataclass
class Failure:
    number: int  # 1-based among the patches given to git am
    patch: Patch
    total: int
    files: List[str]
    done_tip: str  # the commit of the patches that did apply
    output: str
    hook: Optional[str] = None  # the git am hook that refused the patch, if one did
    hook_said: str = ""

    def error(self, hint: str, label: str = "") -> ApplyError:
        if self.hook:
            said = clean_value(self.hook_said)
            said = said if len(said) <= 160 else said[:157] + "..."
            what = f"{label}your {self.hook} hook refused patch {self.number}/{self.total}: {self.patch.title}" + (
                f" (it said: {said})" if said else ""
            )
        else:
            shown = first_few(self.files, 5)
            what = f"{label}patch {self.number}/{self.total} did not apply: {self.patch.title}" + (
                f" (conflicts in {shown})" if shown else ""
            )
        return ApplyError(
            what,
            hint,
            number=self.number,
            subject=self.patch.title,
            files=self.files,
            details=self.output,
        )

    def refusal(self) -> str:
        """What stopped git am, in a few words."""
        return f"the {self.hook} hook refused patch {self.number}" if self.hook else f"patch {self.number} failed"


def describe_failure(scratch: Scratch, outcome: AmResult, patches: Sequence[Patch]) -> Failure:
    """Which patch failed and on which files; a ConfigError when no patch was at fault
    (git cannot name the committer), since no --base or --resolve would help."""
    problem = identity_problem(outcome.output)
    if problem:
        raise ConfigError(
            f"git am cannot commit: git does not know who you are ({problem})",
            'set it: git config --global user.name "Your Name"; git config --global user.email you@example.org',
        )
    n = min(max(outcome.failed_at or 1, 1), len(patches))
    files = [] if outcome.hook else scratch.conflicted() or failing_files(outcome.output)
    return Failure(
        n, patches[n - 1], len(patches), files, scratch.head(), outcome.output, outcome.hook, outcome.hook_said
    )
