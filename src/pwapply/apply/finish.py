"""Past the commit point: the branch is made (or moved) and checked out, or, for
--no-branch, the current branch fast-forwarded; --resolve hands what is left to git am
in the user's work tree; what was applied is recorded for `pwapply check`."""

from __future__ import annotations

from dataclasses import replace
from typing import List, Optional, Sequence

from .. import mbox, process, record
from ..errors import GitError, RepoStateError
from ..frozen import frozen
from ..git import repo as gitrepo
from ..git.repo import Commit, Repo
from ..git.rewrite import rewrite_messages
from ..git.scratch import am, failing_files
from ..mbox import Patch
from ..resolve import is_msgid
from ..sources.model import Series
from ..text import first_few
from .am import Failure, mbox_file
from .options import Result
from .trailer_plan import Edit, TrailerPlan


@frozen
class Target:
    """Where the commits land: a branch (made, or moved from ``old_tip`` with --force),
    checked out or not; or, with no branch, the current branch."""

    branch: Optional[str]
    old_tip: Optional[str]
    checkout: bool


def still(repo: Repo, target: Target) -> None:
    """Before the commit point, under the repository's lock: the branch is still as the
    run found it (another pwapply, in another work tree, may have made it meanwhile).
    The current branch (--no-branch) is moved by update-ref HEAD NEW OLD, which refuses
    a branch that moved, the work tree put back."""
    if target.branch is None:
        return
    if gitrepo.branch_tip(repo, target.branch) != target.old_tip:
        raise RepoStateError(
            f"branch {target.branch} was {'moved' if target.old_tip else 'made'} while pwapply worked "
            "(by another pwapply?)",
            "nothing was changed; use --branch NAME, or --force to move it",
        )


def finish(repo: Repo, base: str, tip: str, commits: Sequence[Commit], target: Target, source: Series) -> Result:
    what = f"pwapply: {source.label}"
    checked_out = False
    warnings: List[str] = []
    branch, old_tip = target.branch, target.old_tip
    if branch is None:
        gitrepo.fast_forward_worktree(repo, base, tip, what)
        checked_out = True
    else:
        ref = f"refs/heads/{branch}"
        gitrepo.update_ref(repo, ref, tip, old_tip or repo.zero_id, what)
        if target.checkout:
            try:
                hook_said = gitrepo.checkout(repo, branch)  # None, or the failed post-checkout hook's line
            except GitError as exc:
                if old_tip:
                    gitrepo.update_ref(repo, ref, old_tip, tip, "pwapply: restore")
                else:
                    gitrepo.delete_ref(repo, ref, tip)
                detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()
                named = [line.strip() for line in detail if line.startswith("\t")]  # the files in the way
                shown = first_few(named, 5)
                raise RepoStateError(
                    f"cannot check out {branch}: {detail[0] if detail else 'git checkout failed'}"
                    + (f" {shown}" if shown else ""),
                    "move them out of the way, or use --no-checkout"
                    if named
                    else "nothing was changed; --no-checkout makes the branch without checking it out",
                ) from None
            checked_out = True
            if hook_said is not None:  # checked out: the branch stays, and the user hears of the hook
                warnings.append(
                    "the branch is checked out, but your post-checkout hook failed after it"
                    + (f" (it said: {hook_said})" if hook_said else "")
                    + ": what it does after a checkout may not be done"
                )
    return Result(
        branch=branch,
        base=base,
        tip=tip,
        commits=[(c.id, c.subject) for c in commits],
        key=source.key,
        label=source.label,
        version=source.version,
        name=source.name or "",
        old_tip=old_tip,
        checked_out=checked_out,
        warnings=warnings,
    )


@frozen
class Entry:
    """A patch of the chain as it is applied: its series, the trailers that series'
    plan gives it, and where it stands in its series."""

    patch: Patch
    source: Series
    plan: TrailerPlan
    label: str  # "series 500120 v2"
    number: int  # 1-based, in the patches of its series that are applied
    total: int


def edit(entries: Sequence[Entry]) -> Edit:
    return Edit(tuple((e.patch, e.plan) for e in entries))


def hand_over(
    repo: Repo,
    base: str,
    failure: Failure,
    done: Sequence[Entry],
    rest: Sequence[Entry],
    sign: Optional[str],
    am_options: Sequence[str],
    target: Target,
    labelled: bool,
) -> Result:
    """--resolve: put the patches that applied (``done``) on the branch, check it out,
    and run `git am` on the ``rest`` in the user's work tree, where it stops at the
    failing patch.  (It may not: a hook that refused a patch in the temporary worktree,
    which holds only the files the series changes, can accept it in the whole tree.)"""
    tip, commits = rewrite_messages(repo, base, failure.done_tip, edit(done), sign)
    still(repo, target)
    process.commit()  # the commit point: the hand-over completes, whatever signal comes
    result = finish(repo, base, tip, commits, target, rest[-1].source)
    mails = []
    for e in rest:
        raw = mbox.add_trailers_to_mail(e.patch.raw, e.plan.for_patch(e.patch))
        mails.append(replace(e.patch, raw=raw if raw is not None else e.patch.raw))
    with mbox_file(mails) as path:
        outcome = am(repo.git, repo.git_dir, path, am_options)
    if outcome.ok:
        commits = [*commits, *gitrepo.commits_between(repo, tip, "HEAD")]
        result.tip = commits[-1].id if commits else tip
        result.commits = [(c.id, c.subject) for c in commits]
        remember(repo, [*done, *rest], commits, result)
        which = (
            f"the last {len(rest)} patches (from {rest[0].label} {rest[0].number}/{rest[0].total} on)"
            if labelled
            else f"patches {rest[0].number}-{rest[-1].number}"
        )
        result.notes.append(
            f"{which} were applied by git am in your work tree, "
            f"after {failure.refusal()} in pwapply's temporary worktree"
        )
        return result
    remember(repo, done, commits)
    stopped = rest[min(max(outcome.failed_at or 1, 1), len(rest)) - 1]
    if stopped.patch is not failure.patch or outcome.hook != failure.hook:  # stopped elsewhere, or for another reason
        files = [] if outcome.hook else failing_files(outcome.output)
        failure = Failure(
            stopped.number, stopped.patch, stopped.total, files, "", outcome.output, outcome.hook, outcome.hook_said
        )
    where = f"on branch {target.branch}" if target.branch else "on your branch"
    todo = "do what the hook asks" if failure.hook else "fix the files, git add them"
    raise failure.error(
        f"git am stopped {where}: {todo}, then git am --continue "
        "(git am --skip drops this patch, git am --abort gives up)",
        label=f"{stopped.label}: " if labelled else "",
    )


def remember(repo: Repo, entries: Sequence[Entry], commits: Sequence[Commit], result: Optional[Result] = None) -> None:
    """Note which series each applied Message-ID belongs to, and which commit came from
    which patch, for `pwapply check`; and the branch made, for `pwapply status` and
    `update` (see record.py).  A series its source cannot find again (a local mbox) is
    not recorded."""
    applied = [
        record.Applied(e.patch.msgid, e.source.known, e.source.project)
        for e in entries
        if e.source.known is not None and is_msgid(e.patch.msgid)
    ]
    made = [(c.author, c.subject, e.patch.msgid) for c, e in zip(commits, entries) if is_msgid(e.patch.msgid)]
    branch = None
    root = entries[-1].source if entries else None
    if result is not None and result.branch and root is not None and root.known is not None:
        chain = tuple(dict.fromkeys(e.source.key for e in entries if e.source.known is not None))
        known = root.known
        branch = record.Branch(result.branch, known, chain, known.label, root.project, result.base, result.tip)
    record.add(repo.common_dir, applied, made, branch)
