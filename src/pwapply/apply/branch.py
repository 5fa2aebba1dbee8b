"""Where a series goes: the base commit, the branch and its name, and whether the
repository lets it go there (checked before any request, while the scratch worktree is
made)."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Optional, Sequence, Tuple

from .. import naming, process
from ..errors import ConfigError, InputError, PwapplyError, RepoStateError
from ..git import repo as gitrepo
from ..git.repo import Repo
from ..git.scratch import Scratch
from ..text import first_few
from .options import Options


def preflight(repo: Repo, opts: Options, stack: ExitStack) -> Tuple[str, Scratch, Optional[str]]:
    """Refuse early (before any network) what would fail later.  Returns the base
    commit, the scratch worktree on it (its index is read while `git status` looks at
    the work tree and while the series downloads: it needs nothing else), and the tip of
    the branch named with --branch (kept: the final update-ref still refuses if it moved
    meanwhile), checked while git status runs too."""
    busy = gitrepo.operation_in_progress(repo)
    if busy:
        raise RepoStateError(f"{busy[0]} is in progress in this repository", f"finish it first: {busy[1]}")
    with process.hold():  # on the stack before a Ctrl-C can leave it running
        status = gitrepo.status_later(repo)
        if status is not None:
            stack.callback(status.stop)
    try:
        base = base_commit(repo, opts.base)
        with process.hold():  # made and on the stack, or not made at all
            scratch = stack.enter_context(Scratch(repo, base))
        named_tip = check_branch(repo, opts.branch, opts.force) if opts.branch and not opts.no_branch else None
    except PwapplyError:
        _refuse_dirty(gitrepo.dirty_tracked(status))  # a dirty tree is told first, as if checked first
        raise
    _refuse_dirty(gitrepo.dirty_tracked(status))
    return base, scratch, named_tip


def _refuse_dirty(dirty: Sequence[str]) -> None:
    if dirty:
        raise RepoStateError(
            f"tracked files have changes: {first_few(dirty, 3)}",
            "commit or stash them first (git stash), then run pwapply again",
        )


def base_commit(repo: Repo, base: Optional[str]) -> str:
    """The commit ``--base`` names, or HEAD's."""
    if base:
        found = gitrepo.rev_parse(repo, base)
        if found is None:
            raise InputError(
                f"--base {base!r} is not a commit in this repository",
                "give a branch, tag or commit id (git fetch first if it is upstream)",
            )
        return found
    if repo.head is None:
        raise RepoStateError("HEAD has no commit yet", "commit something first, or give --base REF")
    return repo.head


def check_branch(repo: Repo, name: str, force: bool) -> Optional[str]:
    """Validate a branch name by git's rules; return its current tip (with --force)."""
    reason = naming.check_ref_format(name)
    if reason or not gitrepo.check_branch_name(repo, name):
        raise InputError(
            f"{name!r} is not a valid branch name" + (f" ({reason})" if reason else ""),
            "choose another with --branch NAME",
        )
    tip = gitrepo.branch_tip(repo, name)
    if tip is None:
        return None
    if not force:
        raise RepoStateError(
            f"branch {name} already exists", "use --force to move it (its old tip is printed), or --branch NAME"
        )
    if repo.head_ref == f"refs/heads/{name}":
        raise RepoStateError(
            f"branch {name} is checked out; --force will not move it under you",
            "switch to another branch first, or use --no-branch",
        )
    elsewhere = gitrepo.worktree_with_branch(repo, name)  # as git branch -f, which refuses too
    if elsewhere is not None:
        raise RepoStateError(
            f"branch {name} is checked out in another work tree, at {elsewhere}; --force will not move it under it",
            "check out another branch there first, or use --branch NAME",
        )
    return tip


def branch_name(
    branch_format: str,
    *,
    ident: str,
    version: int,
    name: Optional[str],
    first_subject: Optional[str],
    project: str,
    submitter: str,
) -> str:
    """The branch `pwapply SERIES` makes for a series by default (pwapply.branchFormat)."""
    fields = {
        "id": ident,
        "version": version,
        "slug": naming.series_slug(name, first_subject, ident),
        "project": project,
        "submitter": submitter,
    }
    try:
        return naming.branch_name(branch_format, fields)
    except ValueError as exc:
        raise ConfigError(
            f"bad branch format {branch_format!r}: {exc}",
            f"fields: {', '.join('{' + f + '}' for f in naming.FIELDS)}",
        ) from None
