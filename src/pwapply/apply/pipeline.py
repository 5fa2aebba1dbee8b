"""The apply pipeline, top to bottom: check the repository and make the scratch worktree
-> fetch the series -> pick the patches and name the branch -> find what the series is
based on -> git am of the chain in the scratch -> add the trailers -> the commit point ->
make and check out the branch -> record.

The user's branch, index and work tree are touched only past the commit point, when
every patch has applied; until then the series lives in a sparse scratch worktree that
is removed whatever happens (error, Ctrl-C, SIGTERM).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from typing import Callable, Dict, List, Optional, Sequence

from .. import lock, mbox, process
from ..config import Settings
from ..errors import InputError
from ..git import repo as gitrepo
from ..git.repo import Repo
from ..git.rewrite import read_commits, rewrite_messages
from ..git.scratch import Scratch
from ..mbox import Patch
from ..resolve import SeriesRef, is_msgid
from ..sources.connection import Connection
from ..sources.model import Series
from ..sources.policy import Sources
from ..ui import UI
from . import already
from . import chain as chains
from .am import Run, am_options, apply_runs
from .branch import branch_name, check_branch, preflight
from .checks import PatchChecks
from .finish import Entry, Target, edit, finish, hand_over, remember, still
from .options import Options, Plan, Result
from .trailer_plan import trailer_plan

HOOK_HINT = (
    "your repository is as it was; the hook ran in pwapply's temporary worktree, which holds only the top-level "
    "files and those the series changes (-v shows all it printed); --resolve runs git am, and the hook, in your "
    "work tree"
)
CONFLICT_HINT = "your repository is as it was; try another --base, or --resolve to fix it up by hand"


def run(
    ref: SeriesRef,
    settings: Settings,
    repo: Repo,
    opts: Options,
    conn: Connection,
    ui: UI,
    *,
    read_stdin: Callable[[], bytes] = lambda: b"",
) -> Result:
    opts.check()
    plan = Plan.make(settings, opts)  # the settings, once: from here on only their values flow
    if not ref.offline and plan.server:
        conn.warm(plan.server)  # the TLS context is made while git checks the repository
    with ExitStack() as stack:  # the scratch worktree and the sources live until the end
        base, scratch, named_tip = preflight(repo, opts, stack)
        sources = stack.enter_context(
            Sources(
                conn,
                server=plan.server,
                project=plan.project,
                archive=None if ref.offline else plan.archive,  # a local mbox's bases: on Patchwork
                ui=ui,
                read_stdin=read_stdin,
            )
        )
        root = sources.fetch(ref, cover_text=not opts.no_deps)
        if root.incomplete and not opts.allow_incomplete:
            raise InputError(root.incomplete, "apply what there is with --allow-incomplete")
        patches = pick(root.patches, opts.patches)
        checks = _start_checks(plan, repo, patches, stack)  # they run while git am does
        target = _target(repo, opts, plan, root, named_tip)
        signoff = gitrepo.identity(repo) if opts.signoff else None

        # What the series is based on: what its patches and the server name is known now;
        # what its cover letter names, once its text is in.  git am does not wait for
        # it: the series alone is applied meanwhile, and again on its chain if it names one.
        bases = chains.Bases(root, sources, repo, base, ui)
        chain = None if opts.no_deps else bases.chain(chains.named_now(root, plan.server))
        runs = _runs(chain, root, patches)
        attempt = apply_runs(scratch, runs, opts.three_way, opts.passthrough, ui)
        # The new commits are read while the cover letter's text and replies may still be
        # on their way (read again below if its text names bases and the chain is applied).
        read = read_commits(repo, base, attempt.tip) if attempt.failure is None else None
        if chain is None and not opts.no_deps and not root.cover_known:
            chain = bases.chain(chains.named_by_cover(root, plan.server))
            if chain is not None:  # start again, on the chain
                scratch.close()
                with process.hold():
                    scratch = stack.enter_context(Scratch(repo, base))
                runs = _runs(chain, root, patches)
                attempt = apply_runs(scratch, runs, opts.three_way, opts.passthrough, ui)
        # Fewer commits than patches, or a stop: does the base have some of them already?
        if attempt.failure is None and (read is None or read.tip != attempt.tip):
            read = read_commits(repo, base, attempt.tip)
        there: Dict[int, "already.There"] = {}
        if not opts.resolve and (
            attempt.failure is not None or (read is not None and len(read.ids) < len(entries_of(runs)))
        ):
            there = already.find(repo, base, runs[-1].patches)
        if there:
            gone = already.notes(there, runs[-1].patches, runs[-1].label)
            patches = [p for i, p in enumerate(runs[-1].patches) if i not in there]
            if not patches:  # never an empty branch
                return Result(None, base, base, [], root.key, root.label, root.version, root.name or "", notes=gone)
            runs[-1] = Run(runs[-1].source, patches, runs[-1].label)
            scratch.close()
            with process.hold():
                scratch = stack.enter_context(Scratch(repo, base))
            attempt = apply_runs(scratch, runs, opts.three_way, opts.passthrough, ui)
            read = read_commits(repo, base, attempt.tip) if attempt.failure is None else None
            root = replace(root, notes=(*root.notes, *gone))
        if read is not None and not read.ids:  # git am made no commit ("No changes"): no empty branch
            why = "git am found every patch already applied (No changes -- Patch already applied)"
            return Result(None, base, base, [], root.key, root.label, root.version, root.name or "", notes=[why])
        scratch.close()  # before the hand-over's own git am, and before the branch is made

        labelled = len(runs) > 1
        warnings = chains.newer_warnings(chain) if chain is not None else []  # asked for while git am ran
        if attempt.failure is not None and not opts.resolve:
            label = f"{runs[attempt.failed or 0].label}: " if labelled else ""
            raise attempt.failure.error(HOOK_HINT if attempt.failure.hook else CONFLICT_HINT, label=label)
        entries = [
            Entry(p, r.source, trailers, r.label, n, len(r.patches))
            for r in runs
            for trailers in [trailer_plan(plan, r.source, signoff)]  # waits for each cover letter's replies
            for n, p in enumerate(r.patches, start=1)
        ]
        checked = checks.results() if checks is not None else []  # before anything of the user's changes
        if attempt.failure is not None:
            at = sum(len(r.patches) for r in runs[: attempt.failed]) + attempt.failure.number - 1
            rest = entries[at:]
            options = am_options(opts.three_way, opts.passthrough, [e.patch for e in rest])
            # Raises where git am stops in the work tree; returns if it applied the rest there.
            with lock.repo_lock(repo.common_dir, ui.info):
                result = hand_over(
                    repo, base, attempt.failure, entries[:at], rest, plan.sign, options, target, labelled
                )
        else:
            new_tip, commits = rewrite_messages(repo, base, attempt.tip, edit(entries), plan.sign, read=read)
            with lock.repo_lock(repo.common_dir, ui.info):  # another run's branch and record wait
                still(repo, target)
                process.commit()  # the commit point: from here on the run completes, whatever signal comes
                result = finish(repo, base, new_tip, commits, target, root)
                remember(repo, entries, commits, result)
    result.checks = checked
    if plan.check_note:
        result.warnings.append(plan.check_note)
    result.series = chains.summary(chain, root, patches)
    late = root.completed()  # what the archive added (asked for already)
    result.notes.extend([*root.notes, *[n for n in late.notes if n not in root.notes], *bases.notes])
    result.warnings.extend([*root.warnings, *[w for w in late.warnings if w not in root.warnings], *warnings])
    result.archive, result.from_archive = root.archive, list(root.filled)
    unlinked = [str(p.index) for p in patches if not is_msgid(p.msgid)]
    if opts.link and unlinked:
        result.notes.append(f"patch(es) {', '.join(unlinked)} carry no Message-ID, so they got no Link trailer")
    return result


def entries_of(runs: List[Run]) -> List[Patch]:
    return [p for r in runs for p in r.patches]


def pick(patches: Sequence[Patch], spec: Optional[str]) -> List[Patch]:
    """The patches --patches names (all without it)."""
    if not spec:
        return list(patches)
    return [patches[i - 1] for i in mbox.parse_range(spec, len(patches))]


def _start_checks(plan: Plan, repo: Repo, patches: List[Patch], stack: ExitStack) -> Optional[PatchChecks]:
    """The per-patch check of each patch picked, started now (ended with the stack)."""
    if not plan.check_cmd or not patches:
        return None
    return stack.enter_context(PatchChecks(plan.check_cmd, repo.top, patches, plan.check_timeout))


def _target(repo: Repo, opts: Options, plan: Plan, root: Series, named_tip: Optional[str]) -> Target:
    """Where the commits land: the branch named with --branch, none with --no-branch, or
    the one named after the series (checked now)."""
    if opts.no_branch or opts.branch:
        return Target(None if opts.no_branch else opts.branch, named_tip, opts.checkout)
    name = branch_name(
        plan.branch_format,
        ident=root.ident,
        version=root.version,
        name=root.name,
        first_subject=root.first_subject,
        project=root.project,
        submitter=root.submitter,
    )
    return Target(name, check_branch(repo, name, opts.force), opts.checkout)


def _runs(chain: Optional[chains.Chain], root: Series, patches: List[Patch]) -> List[Run]:
    """What git am applies, in order: the bases not already in the base commit, then the
    patches picked of the series asked for."""
    runs = [Run(s, s.patches, s.label) for s in (chain.applied() if chain is not None else [])]
    runs.append(Run(root, patches, root.label))
    return runs
