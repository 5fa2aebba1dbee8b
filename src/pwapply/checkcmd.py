"""The body of `pwapply check`, without Typer: the pre-push hook runs on every push,
so `pwapply check --pre-push` reaches it straight from the entry point (see main.py)."""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Dict, List, Optional

from .console import Console
from .errors import PwapplyError, require_timeout


def run(
    *,
    revs: List[str],
    pre_push: bool,
    timeout: float = 10.0,
    offline: bool = False,
    strict: Optional[bool] = None,
    server: Optional[str] = None,
    project: Optional[str] = None,
    verbose: bool = False,
    quiet: bool = False,
) -> int:
    """Check the commits; the exit code (1: the push should not go on)."""
    from . import process

    console = Console(quiet=quiet, verbose=verbose)
    with process.guard():
        return _run(console, revs, pre_push, timeout, offline, strict, server, project, verbose, quiet)


def _run(
    console: Console,
    revs: List[str],
    pre_push: bool,
    timeout: float,
    offline: bool,
    strict: Optional[bool],
    server: Optional[str],
    project: Optional[str],
    verbose: bool,
    quiet: bool,
) -> int:
    from . import check, git

    try:
        require_timeout(timeout)
        if verbose:
            git.set_logger(console.debug)
        repo = git.open_repo()
        rev_args = _check_revs(repo, list(revs or []), pre_push)
        commits = [check.Commit(*c) for c in git.commits_for_check(repo, rev_args)] if rev_args else []
        loaded: Dict[str, Any] = {}  # filled only when a commit calls for the configuration

        def load_context() -> check.Context:
            from . import config

            settings = config.load(repo.top, flags={"server": server, "project": project}, env=os.environ)
            loaded.update(gitconfig=settings.gitconfig, settings=settings)
            return check.Context(gitconfig=settings.gitconfig, server=settings.server, project=settings.project)

        def client_for(url: str) -> Any:
            from .patchwork import PatchworkClient

            settings = loaded.get("settings")
            token = None
            if settings is not None and (settings.server or "").rstrip("/") == url.rstrip("/"):
                token = settings.token
            return PatchworkClient(url, token=token, timeout=timeout, log=console.debug if verbose else None)

        report = check.run(
            commits,
            common_dir=repo.common_dir,
            load_context=load_context,
            client_for=client_for,
            offline=offline,
            timeout=timeout,
        )
    except PwapplyError as exc:
        return console.fail(exc)
    if strict is None:
        flag = loaded.get("gitconfig", {}).get("pwapply.check.strict", "")
        strict = flag.strip().lower() in ("true", "yes", "on", "1")
    for f in report.findings:
        if f.severity == "error" or not quiet:
            print(f.line(), file=sys.stderr, flush=True)
    for why in report.unreachable:
        verdict = "refusing the push (pwapply.check.strict)" if strict else "the push goes on"
        print(f"warning: could not check against {why}; {verdict}", file=sys.stderr, flush=True)
    failed = report.errors(strict)
    if failed:
        print("hint: fix the above, or push anyway with git push --no-verify", file=sys.stderr, flush=True)
    elif report.checked:
        console.info(f"pwapply: {report.checked} commit(s) from Patchwork checked")
    return 1 if failed else 0


ZERO = re.compile(r"^0+$")


def _check_revs(repo: Any, revs: List[str], pre_push: bool) -> List[str]:
    """git log arguments for the commits to check."""
    from . import git

    if pre_push:
        # stdin: "<local ref> <local sha> <remote ref> <remote sha>" per ref pushed.  What
        # any remote already has needs no check: exclude the remote tips and --remotes.
        local, remote = [], []
        for line in sys.stdin.read().splitlines():
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
    if git.has_upstream(repo):
        return ["@{upstream}..HEAD"]
    return ["HEAD", "--not", "--remotes"]
