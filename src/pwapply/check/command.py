"""The body of `pwapply check`, without Typer: the pre-push hook runs it on every push,
so `pwapply check --pre-push` reaches it straight from the entry point (main.py).

Which commits: those being pushed (the hook's stdin) that no remote has, or a range the
user gives, or @{upstream}..HEAD.  The configuration is read only when one of them
carries a trailer of ours (gather.py): a push of other commits costs two git processes.
"""

from __future__ import annotations

import os
import re
from dataclasses import field, replace
from typing import TYPE_CHECKING, Callable, List, Mapping, Optional

from .. import record
from ..frozen import frozen
from ..git.repo import Commit, Repo, commits_for_check, has_upstream, open_repo
from ..git.run import Logger
from ..ui import UI
from .gather import Context, run
from .rules import Report, links, severities

if TYPE_CHECKING:
    from ..config import Settings
    from ..sources.policy import Sources

ZERO = re.compile(r"^0+$")


@frozen
class CheckOptions:
    revs: List[str] = field(default_factory=list)
    pre_push: bool = False
    timeout: float = 10.0
    offline: bool = False
    strict: Optional[bool] = None  # None: git config pwapply.check.strict
    server: Optional[str] = None
    project: Optional[str] = None
    ca_bundle: Optional[str] = None
    remote: Optional[str] = None  # the remote pushed to (the hook's first argument)


@frozen
class Checked:
    report: Report
    strict: bool  # an unreachable server refuses the push
    pre_push: bool = False  # as git's hook: say nothing when there was nothing to check

    @property
    def failed(self) -> bool:
        return self.report.errors(self.strict)


def check(opts: CheckOptions, read_stdin: Callable[[], str], log: Optional[Logger] = None) -> Checked:
    """Check the commits; what was found, and whether it should stop the push."""
    repo = open_repo(log=log)
    opts = from_pre_commit(opts, os.environ)
    rev_args = revs_to_check(repo, opts.revs, opts.pre_push and not opts.revs, read_stdin)
    commits = commits_for_check(repo, rev_args, given=bool(opts.revs) and not opts.pre_push) if rev_args else []
    loaded: "List[Settings]" = []  # filled only when a commit calls for the configuration

    opened: "List[Sources]" = []

    def load_context() -> Context:
        # The start-up budget: the pre-push hook's run loads the configuration and the
        # sources only when a commit carries a trailer of ours (tests/test_architecture.py).
        from ..config import load
        from ..sources.connection import Connection
        from ..sources.policy import Sources

        settings = load(repo.git, repo.top, flags={"server": opts.server, "project": opts.project}, env=os.environ)
        loaded.append(settings)
        conn = Connection(
            timeout=opts.timeout,
            ca_bundle=opts.ca_bundle,
            log=log,
            token=settings.token,
            token_server=settings.server,
        )
        sources = Sources(conn, server=settings.server, project=settings.project, archive=None, ui=UI())
        opened.append(sources)
        return Context(severities(settings.gitconfig), settings.server, sources)

    try:
        report = run(
            commits, common_dir=repo.common_dir, load_context=load_context, offline=opts.offline, timeout=opts.timeout
        )
    finally:
        for s in opened:
            s.close()
    strict = opts.strict
    if strict is None:
        strict = loaded[0].flag("pwapply.check.strict") if loaded else False
    checked = Checked(report, strict, opts.pre_push)
    if opts.pre_push and loaded and not checked.failed and loaded[0].flag("pwapply.acceptonpush"):
        # Noted whatever the remote: they are marked once a remote of pwapply.acceptRemotes
        # has them (branches/accept.pending), so a push to a fork first marks nothing, and
        # the push to origin after it (whose commits a remote already has) still does.
        _to_accept(repo, commits, loaded[0].server)
    return checked


def from_pre_commit(opts: CheckOptions, environ: Mapping[str, str]) -> CheckOptions:
    """`pwapply check` run by the pre-commit framework at its pre-push stage: the push's
    range and remote come in PRE_COMMIT_FROM_REF, PRE_COMMIT_TO_REF and
    PRE_COMMIT_REMOTE_NAME (pre-commit reads git's stdin itself), and the check is the
    hook's."""
    to = environ.get("PRE_COMMIT_TO_REF")
    if opts.revs or opts.pre_push or not to:
        return opts
    frm = environ.get("PRE_COMMIT_FROM_REF") or ""
    revs = [to, "--not", frm] if frm and not ZERO.match(frm) else [to, "--not", "--remotes"]
    return replace(opts, revs=revs, pre_push=True, remote=environ.get("PRE_COMMIT_REMOTE_NAME") or opts.remote)


def _to_accept(repo: Repo, commits: List[Commit], server: Optional[str]) -> None:
    """Note the commits being pushed whose patches are to be marked accepted once the push
    is seen on the remote (pwapply hooks install --accept: reference-transaction)."""
    if not server:
        return
    known = record.load(repo.common_dir)
    wanted = []
    for c in commits:
        for host, msgid in links(c.message):
            applied = known.lookup(msgid)
            target = host or (applied.key.where if applied else None) or server
            if target.rstrip("/") == server.rstrip("/"):
                wanted.append(record.Pending(c.id, msgid, server))
                break

    def add(r: record.Record) -> None:
        for p in wanted:
            r.pending[p.commit] = p

    if wanted:
        record.update(repo.common_dir, add)


def revs_to_check(repo: Repo, revs: List[str], pre_push: bool, read_stdin: Callable[[], str]) -> List[str]:
    """git log arguments for the commits to check."""
    if pre_push:
        # stdin: "<local ref> <local sha> <remote ref> <remote sha>" per ref pushed.  What
        # any remote already has needs no check: exclude the remote tips and --remotes.
        local, remote = [], []
        for line in read_stdin().splitlines():
            parts = line.split()
            if len(parts) != 4:
                continue
            if not ZERO.match(parts[1]):  # a deletion pushes nothing
                local.append(parts[1])
            if not ZERO.match(parts[3]):  # a new branch has no remote tip
                remote.append(parts[3])
        return [*local, "--not", *remote, "--remotes"] if local else []
    if revs:
        return revs
    if has_upstream(repo):
        return ["@{upstream}..HEAD"]
    return ["HEAD", "--not", "--remotes"]
