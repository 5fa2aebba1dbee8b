"""The apply pipeline, top to bottom: check the repository and make the scratch worktree
-> fetch the series -> pick the patches and name the branch -> git am in the scratch ->
add the trailers -> the commit point -> make and check out the branch -> record.

The user's branch, index and work tree are touched only past the commit point, when
every patch has applied; until then the series lives in a sparse scratch worktree that
is removed whatever happens (error, Ctrl-C, SIGTERM).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Callable

from .. import process
from ..config import Settings
from ..errors import InputError
from ..git import repo as gitrepo
from ..git.repo import Repo
from ..git.rewrite import rewrite_messages
from ..resolve import SeriesRef, is_msgid
from ..ui import UI
from .am import am_options, apply_in, describe_failure
from .branch import branch_name, check_branch, preflight
from .finish import Target, finish, hand_over, remember
from .options import Options, Plan, Result
from .source import fetch, pick
from .trailer_plan import trailer_plan

if TYPE_CHECKING:
    from ..patchwork.client import Connection

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
    conn: "Connection",
    ui: UI,
    *,
    read_stdin: Callable[[], bytes] = lambda: b"",
) -> Result:
    opts.check()
    plan = Plan.make(settings, opts)  # the settings, once: from here on only their values flow
    if not ref.offline and plan.server:
        conn.warm(plan.server)  # the TLS context is made while git checks the repository
    with ExitStack() as stack:  # the scratch worktree and the server connection live until the end
        base, scratch, named_tip = preflight(repo, opts, stack)
        source = fetch(ref, plan, conn, ui, read_stdin, stack)
        if source.incomplete and not opts.allow_incomplete:
            raise InputError(source.incomplete, "apply what there is with --allow-incomplete")
        patches = pick(source.patches, opts.patches)
        target = Target(opts.branch if not opts.no_branch else None, named_tip, opts.checkout)
        if not opts.branch and not opts.no_branch:
            name = branch_name(
                plan.branch_format,
                series_id=source.series_id,
                version=source.version,
                name=source.name,
                first_subject=source.first_subject,
                project=source.project,
                submitter=source.submitter,
            )
            target = Target(name, check_branch(repo, name, opts.force), opts.checkout)
        signoff = gitrepo.identity(repo) if opts.signoff else None
        options = am_options(opts.three_way, opts.passthrough, patches)
        failure = None
        try:
            outcome = apply_in(scratch, patches, options, ui)
            if outcome.ok:
                tip = scratch.head()
            else:
                failure = describe_failure(scratch, outcome, patches)
        finally:
            scratch.close()  # before the hand-over's own git am, and before the branch is made
        if failure is not None and not opts.resolve:
            raise failure.error(HOOK_HINT if failure.hook else CONFLICT_HINT)
        trailers = trailer_plan(plan, source, signoff)  # waits for the cover letter's replies
        if failure is not None:
            # Raises where git am stops in the work tree; returns if it applied the rest there.
            result = hand_over(repo, base, failure, patches, trailers, plan.sign, options, target, source)
        else:
            new_tip, commits = rewrite_messages(repo, base, tip, trailers.edit(patches), plan.sign)
            process.commit()  # the commit point: from here on the run completes, whatever signal comes
            result = finish(repo, base, new_tip, commits, target, source)
            remember(repo, source, patches, commits)
    result.notes.extend(source.notes)
    unlinked = [str(p.index) for p in patches if not is_msgid(p.msgid)]
    if opts.link and unlinked:
        result.notes.append(f"patch(es) {', '.join(unlinked)} carry no Message-ID, so they got no Link trailer")
    return result
