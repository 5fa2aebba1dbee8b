"""The commands for series over their life: `pwapply list` (what waits), and for the
branches made of them, `status`, `update` and `accept`.  Thin, as app.py's: parse, run
the library under the boundary, render."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

import typer

from ..config import Settings, load, require_server, with_credential
from ..errors import require_timeout
from ..git.repo import Repo, open_repo
from . import boundary, context, options, render
from .console import Console

if TYPE_CHECKING:
    from ..record import Branch
    from ..sources.connection import Connection
    from ..sources.model import Summary


def _repo_and_settings(
    console: Console, server: Optional[str] = None, project: Optional[str] = None
) -> Tuple[Repo, Settings]:
    repo = open_repo(log=console.debug if console.verbose else None)
    return repo, load(repo.git, repo.top, flags={"server": server, "project": project}, env=os.environ)


def _server(settings: Settings, given: Optional[str]) -> Optional[str]:
    """The server --server named, as the settings read it (normalized); None without it."""
    return settings.server if given else None


def list_cmd(
    state: List[str] = typer.Option(
        [],
        "--state",
        metavar="STATE",
        help="List the series with patches in STATE instead (repeat it for several), e.g. --state accepted.",
    ),
    every: bool = typer.Option(False, "--all", help="Every series, whatever its state, archived or not."),
    since: Optional[str] = typer.Option(
        None, "--since", metavar="DATE", help="Only series posted since DATE, e.g. --since 2026-11-30 or --since 2w."
    ),
    submitter: Optional[str] = typer.Option(
        None, "--submitter", metavar="WHO", help="Only series from WHO (an address, or Patchwork's person id)."
    ),
    search: Optional[str] = typer.Option(
        None, "--search", metavar="TEXT", help="Only series whose name contains TEXT."
    ),
    mine: bool = typer.Option(
        False,
        "--mine",
        help="Only series delegated to you (the token's user: pwapply.user, else your user.email).",
    ),
    limit: Optional[int] = typer.Option(
        None, "-n", "--limit", metavar="N", help="Show N series (default: a screenful; -n 0: all)."
    ),
    server: Optional[str] = options.SERVER,
    project: Optional[str] = options.PROJECT,
    archive: Optional[str] = typer.Option(
        None,
        "--archive",
        metavar="URL",
        help="Also list the series of this public-inbox archive Patchwork does not have (alone, without a server),"
        " e.g. --archive https://lore.kernel.org/qemu-devel.",
    ),
    timeout: float = options.TIMEOUT,
    ca_bundle: Optional[str] = options.CA_BUNDLE,
    as_json: bool = typer.Option(False, "--json", help="Print the series as JSON on stdout."),
    verbose: bool = options.VERBOSE,
) -> None:
    """What waits for review: a line a series, newest first, its newest version only,
    how ready it is (R: patches reviewed or acked, T: tested, NACKED, failed checks) and
    what this repository has of it; pwapply ID then applies one."""
    console = Console(quiet=False, verbose=verbose, json=as_json)

    def body(guard: Any) -> int:
        from .. import listing  # the sources: --help loads none of them

        require_timeout(timeout)
        repo, settings = context.here(
            console, {"server": server, "project": project, "archive": archive}, repo_needed=False
        )
        tty = sys.stdout.isatty()
        rows = shutil.get_terminal_size((80, 24)).lines - 4 if tty else 20
        query = listing.query(
            states=state,
            every=every,
            since_text=since,
            submitter=submitter,
            search=search,
            mine=mine,
            me=settings.me or "",
            limit=max(rows, 5) if limit is None else limit,
        )
        conn = context.connection(console, settings, timeout, ca_bundle)
        with context.sources(settings, conn, context.ui(console), archive=bool(archive) or not settings.server) as s:
            listed = listing.list_waiting(s, query, repo, archive=bool(archive))
        width = shutil.get_terminal_size().columns if tty or "COLUMNS" in os.environ else None
        render.waiting(console, listed, as_json, datetime.now(timezone.utc), width)
        return 0

    raise typer.Exit(boundary.run(console, body, "nothing was changed"))


def status_cmd(
    every: bool = typer.Option(False, "--all", help="Also the branches pwapply made that were deleted since."),
    offline: bool = typer.Option(False, "--offline", help="Only what git knows: no request."),
    timeout: float = typer.Option(
        10.0, "--timeout", metavar="SECONDS", help="Give up on the servers after this long, e.g. --timeout 5."
    ),
    server: Optional[str] = options.SERVER,
    project: Optional[str] = options.PROJECT,
    ca_bundle: Optional[str] = options.CA_BUNDLE,
    as_json: bool = options.JSON,
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="List the review tags; show requests and git commands."
    ),
) -> None:
    """The branches pwapply made here, and what changed since: a newer version, review
    tags their commits lack, patch states, failed checks, merged upstream."""
    console = Console(quiet=False, verbose=verbose, json=as_json)

    def body(guard: Any) -> int:
        from ..branches.status import status

        require_timeout(timeout)
        repo, settings = _repo_and_settings(console, server, project)
        conn = context.connection(console, settings, timeout, ca_bundle)
        with context.sources(settings, conn, context.ui(console)) as sources:
            rows, warnings = status(
                repo, sources, every=every, offline=offline, timeout=timeout, server=_server(settings, server)
            )
        render.statuses(console, rows, as_json)
        for warning in warnings:
            console.warn(warning)
        return 0

    raise typer.Exit(boundary.run(console, body, "nothing was changed"))


def update_cmd(
    branch: Optional[str] = typer.Argument(None, metavar="[BRANCH]", help="A branch pwapply made (default: HEAD's)."),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Show what would be added; change nothing."),
    to_latest: bool = typer.Option(
        False, "--to-latest", help="When a newer version is posted, apply it as its own branch, and compare."
    ),
    server: Optional[str] = options.SERVER,
    project: Optional[str] = options.PROJECT,
    timeout: float = options.TIMEOUT,
    ca_bundle: Optional[str] = options.CA_BUNDLE,
    as_json: bool = options.JSON,
    verbose: bool = options.VERBOSE,
    quiet: bool = options.QUIET,
) -> None:
    """Add the review tags given on the list since a branch was applied to its commits,
    before their Link trailers; trees, authors and dates stay as they are."""
    console = Console(quiet=quiet, verbose=verbose, json=as_json)

    def body(guard: Any) -> int:
        from ..apply.options import signing_key
        from ..branches import update as updating

        require_timeout(timeout)
        repo, settings = _repo_and_settings(console, server, project)
        made = updating.find(repo, branch, _server(settings, server))
        conn = context.connection(console, settings, timeout, ca_bundle)
        with context.sources(settings, conn, context.ui(console)) as sources:
            up = updating.plan(repo, sources, made)
        if to_latest and up.newer is not None:
            return _to_latest(console, repo, settings, conn, made, up.newer, as_json)
        if to_latest:
            console.info(f"{made.name} is already the latest version (v{made.version} of {up.short or made.label})")
        if up.added and not dry_run:
            updating.apply(repo, made, up, signing_key(settings.flag("commit.gpgsign"), ()), console.info)
        render.updated(console, up, dry_run, as_json, late=guard.late)
        return 0

    raise typer.Exit(boundary.run(console, body, "nothing was changed in your repository"))


def _to_latest(
    console: Console,
    repo: Repo,
    settings: Settings,
    conn: "Connection",
    made: "Branch",
    newest: "Summary",
    as_json: bool,
) -> int:
    """--to-latest: the newest version applied as its own branch (a normal apply, on the
    commit the old branch was made on), and the range-diff summary of the old branch
    against it."""
    from ..apply import pipeline
    from ..apply.options import Options
    from ..diff import summary
    from ..resolve import resolve

    ui = context.ui(console)
    ref = resolve(newest.ref)
    if ref.server is None and ref.archive is None:  # a bare series id: on the server it came from
        ref = replace(ref, server=newest.key.where)
    result = pipeline.run(ref, settings, repo, Options(base=made.base), conn, ui)
    render.applied(console, result, as_json)
    if not result.commits:
        return 0
    console.info(f"what changed since {made.name}:")
    summary(repo, (made.base, made.name), (result.base, result.tip))
    return 0


def accept_cmd(
    revs: Optional[List[str]] = typer.Argument(
        None, metavar="[REVRANGE]...", help="Commits, e.g. origin/master~5..origin/master (default: HEAD's branch)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", "-n", help="List what would be marked; change nothing."),
    force: bool = typer.Option(False, "--force", help="Mark commits no remote-tracking branch has yet, too."),
    pending: bool = typer.Option(
        False, "--pending", help="Mark what pushes recorded (pwapply hooks install --accept runs this)."
    ),
    server: Optional[str] = options.SERVER,
    project: Optional[str] = options.PROJECT,
    timeout: float = options.TIMEOUT,
    ca_bundle: Optional[str] = options.CA_BUNDLE,
    verbose: bool = options.VERBOSE,
    quiet: bool = options.QUIET,
) -> None:
    """Mark the patches of pushed commits accepted on Patchwork (git config
    pwapply.acceptState for another state), with the commit each went in as.

    Needs the token of one of the project's maintainers.  A commit whose Link names
    another server than the configured one is not marked: the token goes nowhere else.
    """
    console = Console(quiet=quiet, verbose=verbose)

    def body(guard: Any) -> int:
        from ..branches import accept as accepting

        require_timeout(timeout)
        repo, settings = _repo_and_settings(console, server, project)
        if not dry_run:  # the token may come from git's credential helpers
            settings, why = with_credential(settings, repo.git, timeout)
            if why:
                console.warn(why)
        state = settings.gitconfig.get("pwapply.acceptstate") or "accepted"
        conn = context.connection(console, settings, timeout, ca_bundle)
        if pending:
            clients = {settings.server: conn.client(settings.server)} if settings.server and settings.token else {}
            try:
                remotes = accepting.accept_remotes(repo, settings.gitconfig.get("pwapply.acceptremotes"))
                marked, warnings = accepting.pending(repo, clients, state, remotes)
            finally:
                for c in clients.values():
                    c.close()
            render.accepted_after_push(console, marked, warnings, state)
            return 0
        commits = accepting.commits_to_accept(repo, list(revs or []))
        with conn.client(require_server(settings.server)) as client:
            result = accepting.accept(repo, client, commits, state=state, force=force, dry_run=dry_run)
        render.accepted(console, result, client.host, dry_run)
        if result.failure is not None:
            raise result.failure
        return 0

    raise typer.Exit(boundary.run(console, body, "nothing more was marked"))
