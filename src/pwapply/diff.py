"""`pwapply diff`: one version of a series against another, whatever its source.

Each version is applied in a scratch worktree (or taken from the branch pwapply already
made for it), on what it is based on, the trailers added after posting are stripped,
and `git range-diff` (or `git diff` of the two tips) shows the rest.  Nothing of the
user's is touched.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from . import deps, mbox, process, record, trailers
from .apply import chain as chains
from .apply.am import Run, am_options, apply_in, apply_runs, describe_failure
from .apply.branch import base_commit
from .apply.options import Plan
from .errors import InputError, NotFoundError, PwapplyError
from .git import repo as gitrepo
from .git.repo import Repo
from .git.rewrite import rewrite_messages
from .git.scratch import Scratch
from .resolve import SeriesRef, resolve
from .sources.model import Key, Series, Summary
from .sources.policy import Sources
from .ui import UI
from .versions import need_server


@dataclass
class DiffOptions:
    against: Optional[str] = None
    base: Optional[str] = None
    trailers: bool = False
    interdiff: bool = False
    pager: bool = True
    refresh: bool = False
    passthrough: Sequence[str] = ()
    no_deps: bool = False  # compare the versions alone, without what they are based on


@dataclass
class Side:
    series: Summary
    base: str
    tip: str
    origin: str  # "branch pw/..." or "applied on <base>"
    count: int = 0
    notes: List[str] = field(default_factory=list)
    msgids: Optional[Set[str]] = None  # its patches' Message-IDs (None: not known)


def diff(ref: SeriesRef, plan: Plan, repo: Repo, opts: DiffOptions, sources: Sources, ui: UI) -> int:
    """Show how ``ref``'s series changed since another version; git's exit code."""
    need_server(ref)
    fallback = base_commit(repo, opts.base)
    listing = sources.versions(ref)
    current = listing.current
    other = _against(sources, opts.against, listing.versions, current)
    pair = [other, current]
    made = {s.key: _branch_side(repo, s) for s in pair}
    if opts.base is None:  # the other version goes where a branch of one was made
        fallback = next((m.base for m in made.values() if m is not None), fallback)
    need = [s for s in pair if made[s.key] is None]
    got = {s.key: sources.for_key(s.key).get(s.key, fresh=opts.refresh) for s in need}
    # Where each version to apply goes, and what it is based on: its bases are applied
    # first, so that the comparison is of the series' own patches.
    placed = {k: _side_base(repo, g, fallback) for k, g in got.items()}
    bases = {k: [] if opts.no_deps else _bases(sources, g, repo, placed[k][0], ui) for k, g in got.items()}
    ui.info(
        f"comparing v{other.version} ({other.short}, {_count(other, got)}) "
        f"with v{current.version} ({current.short}, {_count(current, got)}): {current.name}"
    )
    sides: List[Side] = []
    with ExitStack() as stack:
        for s in pair:
            side = made[s.key]
            if side is None:
                base, origin = placed[s.key]
                side = _apply_side(repo, stack, s, got[s.key], bases[s.key], base, origin, ui)
            sides.append(side)
    return _compare(repo, sides, opts, ui)


def _count(s: Summary, got: Dict[Key, Series]) -> str:
    n = len(got[s.key].patches) if s.key in got else s.total
    return f"{n} patch{'es' if n != 1 else ''}"


def _compare(repo: Repo, sides: List[Side], opts: DiffOptions, ui: UI) -> int:
    """range-diff (or, with --interdiff, diff) of the two sides applied."""
    if not opts.trailers:
        sides = [_strip_side(repo, side) for side in sides]
    for side in sides:
        ui.info(f"  v{side.series.version}: {side.origin}")
    old, new = sides
    if opts.interdiff:
        if old.base != new.base:
            raise InputError(
                "--interdiff needs both versions on the same base "
                f"(v{old.series.version} is on {old.base[:12]}, v{new.series.version} on {new.base[:12]})",
                "give --base REF to apply both on one base, or drop --interdiff",
            )
        return repo.git.show(["diff", *opts.passthrough, old.tip, new.tip], pager=opts.pager)
    return repo.git.show(
        ["range-diff", *opts.passthrough, f"{old.base}..{old.tip}", f"{new.base}..{new.tip}"], pager=opts.pager
    )


def _branch_side(repo: Repo, series: Summary) -> Optional[Side]:
    """The branch pwapply made for this version, when it still exists and still starts
    where it was made."""
    for name, b in record.load(repo.common_dir).branches.items():
        if b.key != series.key:
            continue
        tip = gitrepo.branch_tip(repo, name)
        if tip is not None and gitrepo.is_ancestor(repo, b.base, tip):
            count = len(gitrepo.commits_between(repo, b.base, tip))
            return Side(series, b.base, tip, f"branch {name}", count)
    return None


def _against(sources: Sources, against: Optional[str], versions: Sequence[Summary], current: Summary) -> Summary:
    """The version to compare with: --against vN, or a series or mail named; else the
    closest earlier version."""
    if against is None:
        here = (current.version, current.date)
        earlier = [s for s in versions if s.key != current.key and (s.version, s.date) < here]
        if not earlier:
            raise NotFoundError(
                f"found no earlier version of {current.name!r} (v{current.version}) {current.held}",
                "name the one to compare with: --against SERIES or --against vN",
            )
        return max(earlier, key=lambda s: (s.version, s.date))
    m = re.fullmatch(r"[vV](\d+)", against.strip())
    if m:
        wanted = [s for s in versions if s.version == int(m.group(1)) and s.key != current.key]
        if not wanted:
            have = ", ".join(f"v{s.version}" for s in versions) or "none"
            raise NotFoundError(
                f"no v{m.group(1)} of {current.name!r} {current.held} (versions: {have})",
                "pick one of them (pwapply versions lists them)",
            )
        return max(wanted, key=lambda s: (s.version, s.date))
    try:
        other = sources.for_key(current.key).summary(resolve(against))
    except PwapplyError as exc:
        raise InputError(f"--against {against}: {exc.message}", exc.hint) from None
    if other.key == current.key:
        raise InputError("--against names the same series", "name another version of it")
    return other


def _side_base(repo: Repo, series: Series, fallback: str) -> Tuple[str, str]:
    """Where a version is applied: its base-commit when the repository has it, else
    ``fallback``; and how that is told."""
    for text in [series.cover_text()] + [p.raw.decode("utf-8", "replace") for p in series.patches]:
        wanted = mbox.base_commit(text)
        if wanted:
            found = gitrepo.rev_parse(repo, wanted)
            if found:
                return found, " (its base-commit)"
            break
    return fallback, ""


def _bases(sources: Sources, series: Series, repo: Repo, base: str, ui: UI) -> List[Run]:
    """The series a version is based on (Based-on:, Depends-on:, the server's
    dependencies), in the order they apply, without those its base already has."""
    found = deps.merge([chains.named_now(series, sources.server), chains.named_by_cover(series, sources.server)])
    chain = chains.Bases(series, sources, repo, base, ui).chain(found, newer=False, told=False)
    return [Run(s, s.patches, s.label) for s in (chain.applied() if chain is not None else [])]


def _apply_side(
    repo: Repo,
    stack: ExitStack,
    series: Summary,
    got: Series,
    bases: Sequence[Run],
    base: str,
    origin: str,
    ui: UI,
) -> Side:
    patches = list(got.patches)
    if not patches:
        raise InputError(f"v{series.version} ({series.short}) has no patch to apply", "compare other versions")
    with process.hold():  # made and on the stack, or not made at all
        # Without the repository's hooks: nothing lands here, so neither a hook that polices
        # what lands (applypatch-msg, pre-applypatch) nor one that announces it has a say.
        scratch = stack.enter_context(Scratch(repo, base, hooks=False))
    ui.progress(f"applying v{series.version} ({series.short})")
    label = f"v{series.version} ({series.short}) on {base[:12]}{origin}: "
    attempt = apply_runs(scratch, bases, True, (), ui)
    if attempt.failure is not None:
        raise attempt.failure.error(
            "nothing was left behind; give --base REF where it applies, or --no-deps",
            label=f"{label}{bases[attempt.failed or 0].label}: ",
        )
    own = attempt.tip
    outcome = apply_in(scratch, patches, am_options(True, (), patches), ui)
    if not outcome.ok:
        failure = describe_failure(scratch, outcome, patches)
        raise failure.error(f"nothing was left behind; give --base REF where v{series.version} applies", label=label)
    tip = scratch.head()
    on = f" after {len(bases)} series it is based on" if bases else ""
    return Side(
        series, own, tip, f"applied on {base[:12]}{origin}{on}", len(patches), msgids={p.msgid for p in patches}
    )


def _strip_side(repo: Repo, side: Side) -> Side:
    """The same commits without the trailers added after posting (Link or Message-ID to
    one of the series' patches, review tags), so that gaining a Reviewed-by is no change."""
    tip = _strip(repo, side.base, side.tip, side.msgids)
    return Side(side.series, side.base, tip, side.origin, side.count, side.notes, side.msgids)


def _strip(repo: Repo, base: str, tip: str, ids: Optional[Set[str]]) -> str:
    """base..tip rewritten without review tags and Link/Message-ID trailers (those naming
    one of ``ids``; all of them when None)."""

    def drop(t: trailers.Trailer) -> bool:
        key = t.key.lower()
        if key in trailers.REVIEW_KEYS:
            return True
        return key in trailers.LINK_KEYS and (ids is None or any(i in t.value for i in ids))

    def edit(_: int, message: str) -> str:
        return trailers.strip(message, drop)

    new_tip, _ = rewrite_messages(repo, base, tip, edit)
    return new_tip


def summary(repo: Repo, old: Tuple[str, str], new: Tuple[str, str]) -> int:
    """One line a commit: how the commits of two applied branches, each (base, tip),
    pair up and which changed (`git range-diff --no-patch`), the trailers added after
    posting left out."""
    a, b = (_strip(repo, base, tip, None) for base, tip in (old, new))
    return repo.git.show(["range-diff", "--no-patch", f"{old[0]}..{a}", f"{new[0]}..{b}"], pager=False)
