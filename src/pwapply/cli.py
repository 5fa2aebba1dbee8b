"""Command line: parse arguments, call one pipeline, render its result.  No logic here.

``pwapply SERIES`` is ``pwapply apply SERIES``: a first argument that is not a command
name is taken as the series.  httpx and the pipeline modules are imported only by the
commands that use them, so ``--help`` and ``--version`` start fast.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List, Optional

import typer
from typer.core import TyperGroup

from . import __version__
from .console import Console
from .errors import InputError, PwapplyError, require_timeout

EXIT_BUG = 70  # an unexpected exception: a bug in pwapply

EPILOG = (
    "Examples:  pwapply 500889  |  pwapply https://patchwork.ozlabs.org/project/qemu-devel/list/?series=500889"
    "  |  pwapply 20260421202110.306051-1-peterx@redhat.com  |  pwapply ./v2.mbox --no-branch"
    "  |  pwapply config"
)


class DefaultToApply(TyperGroup):
    """Route ``pwapply SERIES ...`` to ``pwapply apply SERIES ...``."""

    def parse_args(self, ctx: Any, args: List[str]) -> List[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version", "-V"):
            args = ["apply", *args]
        if "--" in args:  # what follows -- goes to git am, and only that
            ctx.meta["pwapply.passthrough"] = args[args.index("--") + 1 :]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=DefaultToApply,
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Apply a Patchwork series as a git branch, with a Link trailer on every commit.\n\n"
    "pwapply SERIES is the same as pwapply apply SERIES.",
    epilog=EPILOG,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pwapply {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    pass


# ----------------------------------------------------------------------- output


def _fail(console: Console, exc: PwapplyError) -> "typer.Exit":
    return typer.Exit(console.fail(exc))


# ----------------------------------------------------------------------- apply


@app.command(
    "apply",
    context_settings={"allow_extra_args": True, "allow_interspersed_args": True},
    epilog="Examples:  pwapply 500889  |  pwapply apply 500889 --base origin/master -s"
    "  |  pwapply 500889 --patches 1-3,5  |  pwapply 500889 -- --reject"
    "  |  pwapply ./series.mbox --no-branch  |  git format-patch -3 --stdout | pwapply -",
)
def apply_cmd(
    ctx: typer.Context,
    series: str = typer.Argument(
        ..., metavar="SERIES", help="Series id (500889), Message-ID, Patchwork or lore URL, mbox file, or - for stdin."
    ),
    server: Optional[str] = typer.Option(
        None,
        "--server",
        metavar="URL",
        help="Patchwork server, e.g. --server https://patchwork.ozlabs.org (default: git config pwapply.server).",
    ),
    project: Optional[str] = typer.Option(
        None, "--project", metavar="NAME", help="Patchwork project for Message-ID lookups, e.g. --project qemu-devel."
    ),
    base: Optional[str] = typer.Option(
        None, "--base", metavar="REF", help="Commit to apply on, e.g. --base origin/master (default: HEAD)."
    ),
    branch: Optional[str] = typer.Option(
        None,
        "--branch",
        "-b",
        metavar="NAME",
        help="Branch to create, e.g. -b review/foo (default: pw/{slug}-v{version}, or pwapply.branchFormat).",
    ),
    no_branch: bool = typer.Option(
        False, "--no-branch", help="Apply on top of the current branch instead of creating one (a maintainer's queue)."
    ),
    force: bool = typer.Option(
        False, "--force", "-f", help="Move an existing branch of that name; its old tip is printed."
    ),
    no_checkout: bool = typer.Option(False, "--no-checkout", help="Create the branch but stay where you are."),
    three_way: bool = typer.Option(
        True, "--3way/--no-3way", help="Let git am fall back to a 3-way merge (default: on)."
    ),
    signoff: bool = typer.Option(False, "--signoff", "-s", help="Add your Signed-off-by after the Link trailer."),
    patches: Optional[str] = typer.Option(
        None, "--patches", "-p", metavar="RANGE", help="Apply only some patches, e.g. --patches 1-3,5."
    ),
    link_format: Optional[str] = typer.Option(
        None,
        "--link-format",
        metavar="TEMPLATE",
        help="Link trailer template with {msgid} {url} {project}, e.g. "
        "'https://lore.kernel.org/qemu-devel/{msgid}' or 'Message-ID: <{msgid}>'.",
    ),
    no_link: bool = typer.Option(False, "--no-link", help="Add no Link trailer."),
    allow_incomplete: bool = typer.Option(
        False, "--allow-incomplete", help="Apply a series even if some of its patches never reached the server."
    ),
    resolve: bool = typer.Option(
        False, "--resolve", help="On a conflict, leave git am stopped in your work tree to fix it by hand."
    ),
    timeout: float = typer.Option(
        30.0,
        "--timeout",
        metavar="SECONDS",
        help="Give up on the server after this long, all requests together, e.g. --timeout 60.",
    ),
    max_mbox_size: float = typer.Option(
        64.0, "--max-mbox-size", metavar="MIB", help="Refuse a series mbox larger than this, e.g. --max-mbox-size 256."
    ),
    ca_bundle: Optional[str] = typer.Option(
        None, "--ca-bundle", metavar="FILE", help="Trust the CAs in FILE for https, e.g. --ca-bundle /etc/my-ca.pem."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show HTTP requests and git commands."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
) -> None:
    """Fetch a series and apply it on a new branch, with a Link trailer on every commit.

    Anything after -- goes to git am, e.g. pwapply 500889 -- --whitespace=fix
    """
    from . import apply

    console = Console(quiet=quiet, verbose=verbose)
    try:
        require_timeout(timeout)
        if not max_mbox_size > 0:
            raise InputError("--max-mbox-size must be more than 0 MiB", "e.g. --max-mbox-size 64")
        opts = apply.Options(
            base=base,
            branch=branch,
            no_branch=no_branch,
            force=force,
            checkout=not no_checkout,
            three_way=three_way,
            signoff=signoff,
            patches=patches,
            am_args=_passthrough(ctx),
            link=not no_link,
            allow_incomplete=allow_incomplete,
            resolve=resolve,
            timeout=timeout,
            max_mbox=int(max_mbox_size * 1024 * 1024),
            ca_bundle=ca_bundle,
        )
        flags = {"server": server, "project": project, "link_format": link_format}
        _apply(console, series, flags, opts, as_json)
    except PwapplyError as exc:
        raise _fail(console, exc) from None
    except KeyboardInterrupt:
        print("interrupted: nothing was changed in your repository", file=sys.stderr, flush=True)
        raise typer.Exit(130) from None
    raise typer.Exit(0)


def _apply(console: Console, series: str, flags: Dict[str, Optional[str]], opts: Any, as_json: bool) -> None:
    from . import apply, config, git, process
    from .resolve import resolve as resolve_ref

    # Before the commit point, a signal undoes everything (KeyboardInterrupt, exit 130);
    # from it on, the run completes and says that it was interrupted late.
    with process.guard() as run:
        verbose_logger = console.debug if console.verbose else None
        if verbose_logger:
            git.set_logger(verbose_logger)
        ref = resolve_ref(series, is_file=os.path.isfile)
        if not ref.offline:  # import httpx (~0.1 s) while git checks the repository
            import threading

            threading.Thread(target=__import__, args=("httpx",), daemon=True).start()
        repo = git.open_repo()
        settings = config.load(repo.top, flags=flags, env=os.environ, url_server=ref.server, url_project=ref.project)
        ui = apply.UI(progress=console.progress, info=console.info, debug=verbose_logger)
        with process.Lock(repo.common_dir):
            result = apply.run(ref, settings, repo, opts, ui, read_stdin=lambda: sys.stdin.buffer.read())
        if run.late is not None:
            what = "the branch was made" if result.branch else "your branch was moved"
            result.warnings.append(
                f"interrupted ({_signal_name(run.late)}) after {what}: "
                "pwapply finished the job rather than leave it half done"
            )
        _render(console, result, as_json)


def _signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _render(console: Console, result: Any, as_json: bool) -> None:
    n = len(result.commits)
    if as_json:
        print(
            json.dumps(
                {
                    "branch": result.branch,
                    "base": result.base,
                    "tip": result.tip,
                    "series": result.series_id,
                    "version": result.version,
                    "name": result.name,
                    "commits": [{"id": c[0], "subject": c[1]} for c in result.commits],
                    "old_tip": result.old_tip,
                    "checked_out": result.checked_out,
                    "notes": result.notes,
                    "warnings": result.warnings,
                },
                indent=2,
            )
        )
    what = f"series {result.series_id} v{result.version}" if result.series_id else "the mbox"
    console.info(f"Applied {n} patch{'es' if n != 1 else ''} of {what}" + (f": {result.name}" if result.name else ""))
    if result.branch:
        state = "checked out" if result.checked_out else "not checked out"
        console.info(f"  branch: {result.branch} ({state})")
    console.info(f"  base:   {result.base[:12]}")
    if result.old_tip:
        console.info(
            f"  moved from {result.old_tip[:12]} (git branch -f {result.branch} {result.old_tip[:12]} restores it)"
        )
    for note in result.notes:
        console.info(f"note: {note}")
    for warning in result.warnings:
        console.warn(warning)
    target = result.branch or "HEAD"
    console.info(f"next: git log --oneline {result.base[:12]}..{target}   # then build and test")


# ----------------------------------------------------------------------- versions


def _setup(console: Console, series: str, server: Optional[str], project: Optional[str]) -> Any:
    """(ref, repo or None, settings) for the commands that only read."""
    from . import config, git
    from .resolve import resolve as resolve_ref

    if console.verbose:
        git.set_logger(console.debug)
    ref = resolve_ref(series, is_file=os.path.isfile)
    try:
        repo: Optional[Any] = git.open_repo()
    except PwapplyError:
        repo = None
    settings = config.load(
        repo.top if repo else None,
        flags={"server": server, "project": project},
        env=os.environ,
        url_server=ref.server,
        url_project=ref.project,
    )
    return ref, repo, settings


@app.command("versions", epilog="Examples:  pwapply versions 500889  |  pwapply versions 500889 --json")
def versions_cmd(
    series: str = typer.Argument(..., metavar="SERIES", help="Any form pwapply apply takes (not an mbox)."),
    server: Optional[str] = typer.Option(None, "--server", metavar="URL", help="As for apply."),
    project: Optional[str] = typer.Option(None, "--project", metavar="NAME", help="As for apply."),
    timeout: float = typer.Option(30.0, "--timeout", metavar="SECONDS", help="As for apply, e.g. --timeout 60."),
    as_json: bool = typer.Option(False, "--json", help="Print the versions as a JSON list on stdout."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show HTTP requests."),
) -> None:
    """List every version of a series on the server; * marks the one you named."""
    from . import apply, versions

    console = Console(quiet=False, verbose=verbose)
    try:
        require_timeout(timeout)
        ref, _, settings = _setup(console, series, server, project)
        ui = apply.UI(progress=console.progress, info=console.info, debug=console.debug if verbose else None)
        listing = versions.list_versions(ref, settings, timeout, ui)
    except PwapplyError as exc:
        raise _fail(console, exc) from None
    rows: List[Dict[str, Any]] = []
    for s in listing.versions:
        rows.append(
            {
                "id": s.id,
                "version": s.version,
                "date": s.date,
                "name": s.name,
                "total": s.total,
                "received_total": s.received_total,
                "received_all": s.received_all,
                "states": list(listing.states.get(s.id, ())),
                "current": s.id == listing.current.id,
                "web_url": s.web_url,
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    print(f"  {'series':>8}  {'ver':<4} {'date':<10}  {'patches':>7}  {'received':<8}  states")
    for r in rows:
        mark = "*" if r["current"] else " "
        print(
            f"{mark} {r['id']:>8}  v{r['version']:<3} {str(r['date'])[:10]:<10}  {r['total']:>7}  "
            f"{r['received_total']}/{r['total']:<6}  {versions.summarize_states(r['states'])}   {r['name'] or ''}"
        )


@app.command(
    "diff",
    context_settings={"allow_extra_args": True, "allow_interspersed_args": True},
    epilog="Examples:  pwapply diff 500889  |  pwapply diff 500889 --against v1"
    "  |  pwapply diff 500889 --against 499120 --base origin/master  |  pwapply diff 500889 -- --no-dual-color",
)
def diff_cmd(
    ctx: typer.Context,
    series: str = typer.Argument(..., metavar="SERIES", help="The newer version, in any form apply takes."),
    against: Optional[str] = typer.Option(
        None,
        "--against",
        metavar="SERIES|vN",
        help="The version to compare with, e.g. --against v1 or --against 499120 (default: the closest earlier).",
    ),
    base: Optional[str] = typer.Option(
        None,
        "--base",
        metavar="REF",
        help="Apply a version here when its base-commit is not in this repository (default: HEAD).",
    ),
    keep_trailers: bool = typer.Option(
        False, "--trailers", help="Compare the trailers added after posting too (Link, Reviewed-by, ...)."
    ),
    interdiff: bool = typer.Option(
        False, "--interdiff", help="Show git diff of the two tips instead of a range-diff (both on one base)."
    ),
    no_pager: bool = typer.Option(False, "--no-pager", help="Do not page the output."),
    refresh: bool = typer.Option(False, "--refresh", help="Download the mboxes again instead of using the cache."),
    server: Optional[str] = typer.Option(None, "--server", metavar="URL", help="As for apply."),
    project: Optional[str] = typer.Option(None, "--project", metavar="NAME", help="As for apply."),
    timeout: float = typer.Option(30.0, "--timeout", metavar="SECONDS", help="As for apply, e.g. --timeout 60."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show HTTP requests and git commands."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but the diff and errors."),
) -> None:
    """Show what changed between two versions of a series (git range-diff).

    Neither your work tree nor your branches are touched. Options after -- go to
    git range-diff (or git diff with --interdiff), e.g. -- --creation-factor=80
    """
    from . import apply, git, process, versions

    console = Console(quiet=quiet, verbose=verbose)
    try:
        with process.guard():  # a signal: KeyboardInterrupt, and the temporary worktrees go
            require_timeout(timeout)
            passthrough = _passthrough(ctx)
            ref, repo, settings = _setup(console, series, server, project)
            if repo is None:
                repo = git.open_repo()  # raises the not-a-repository error
            ui = apply.UI(progress=console.progress, info=console.info, debug=console.debug if verbose else None)
            opts = versions.DiffOptions(
                against=against,
                base=base,
                trailers=keep_trailers,
                interdiff=interdiff,
                pager=not no_pager,
                refresh=refresh,
                passthrough=passthrough,
                timeout=timeout,
            )
            code = versions.diff(ref, settings, repo, opts, ui)
    except PwapplyError as exc:
        raise _fail(console, exc) from None
    except KeyboardInterrupt:
        print("interrupted: nothing was left behind", file=sys.stderr, flush=True)
        raise typer.Exit(130) from None
    raise typer.Exit(0 if code == 0 else 5)


def _passthrough(ctx: typer.Context) -> List[str]:
    """What came after --; anything else left over is a mistake."""
    passthrough: List[str] = ctx.meta.get("pwapply.passthrough", [])
    stray = list(ctx.args[: len(ctx.args) - len(passthrough)]) if passthrough else list(ctx.args)
    if stray:
        raise InputError(
            f"unexpected argument(s): {' '.join(stray)}",
            "give one SERIES; options for git go after --, e.g. pwapply 500889 -- --reject",
        )
    return list(passthrough)


# ----------------------------------------------------------------------- check


@app.command(
    "check",
    epilog="Examples:  pwapply check  |  pwapply check origin/master..my-queue  |  pwapply check --offline"
    "  |  (from hooks/pre-push) pwapply check --pre-push origin git@example.org:repo.git",
)
def check_cmd(
    revs: Optional[List[str]] = typer.Argument(
        None,
        metavar="[REVRANGE]...",
        help="Commits to check, e.g. origin/master..HEAD (default: @{upstream}..HEAD, or what no remote has).",
    ),
    pre_push: bool = typer.Option(
        False,
        "--pre-push",
        help="Run as git's pre-push hook: arguments are the remote and its URL, refs come on stdin.",
    ),
    timeout: float = typer.Option(
        10.0,
        "--timeout",
        metavar="SECONDS",
        help="Give up on the server after this long in all, e.g. --timeout 5 (the push then goes on).",
    ),
    offline: bool = typer.Option(False, "--offline", help="Only the checks that need no server (lost trailers)."),
    strict: Optional[bool] = typer.Option(
        None,
        "--strict/--no-strict",
        help="Refuse the push when the server cannot be reached (default: git config pwapply.check.strict).",
    ),
    server: Optional[str] = typer.Option(None, "--server", metavar="URL", help="As for apply."),
    project: Optional[str] = typer.Option(None, "--project", metavar="NAME", help="As for apply."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show HTTP requests and git commands."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors."),
) -> None:
    """Check commits before they are pushed: superseded series, rejected patches, review
    tags they lack, failed CI checks, lost Link trailers.

    Exit 1 when the push should not go on. Severity of each check:
    git config pwapply.check.<superseded|state|tags|checks|trailer> error|warn|off
    """
    from . import checkcmd

    code = checkcmd.run(
        revs=list(revs or []),
        pre_push=pre_push,
        timeout=timeout,
        offline=offline,
        strict=strict,
        server=server,
        project=project,
        verbose=verbose,
        quiet=quiet,
    )
    raise typer.Exit(code)


# ----------------------------------------------------------------------- hooks

hooks_app = typer.Typer(help="Install or remove the pre-push hook that runs pwapply check.", no_args_is_help=True)
app.add_typer(hooks_app, name="hooks")


@hooks_app.command("install", epilog="Example:  pwapply hooks install")
def hooks_install() -> None:
    """Install the pre-push hook in this repository (an existing one keeps running)."""
    _hooks(install=True)


@hooks_app.command("uninstall", epilog="Example:  pwapply hooks uninstall")
def hooks_uninstall() -> None:
    """Remove the pre-push hook, putting back the one it replaced."""
    _hooks(install=False)


def _hooks(install: bool) -> None:
    from . import git, hooks

    console = Console(quiet=False, verbose=False)
    try:
        repo = git.open_repo()
        what, _ = (hooks.install if install else hooks.uninstall)(repo.hooks)
    except PwapplyError as exc:
        raise _fail(console, exc) from None
    console.info(what)


# ----------------------------------------------------------------------- demo


@app.command("demo", epilog="Example:  pwapply demo  |  pwapply demo --dir /tmp/pwdemo")
def demo_cmd(
    directory: Optional[str] = typer.Option(
        None,
        "--dir",
        metavar="DIR",
        help="Where to build the demo (default: a new temporary directory, kept afterwards).",
    ),
) -> None:
    """Run the whole job on a scratch project, offline: apply v1 and v2 of a series from a
    local Patchwork-shaped server, diff them, and let the pre-push hook refuse v1."""
    from . import demo

    raise typer.Exit(demo.run(lambda line: print(line, flush=True), keep=directory))


# ----------------------------------------------------------------------- config


@app.command("config", epilog="Example:  pwapply config  |  pwapply config --json")
def config_cmd(
    server: Optional[str] = typer.Option(None, "--server", metavar="URL", help="As for apply."),
    project: Optional[str] = typer.Option(None, "--project", metavar="NAME", help="As for apply."),
    as_json: bool = typer.Option(False, "--json", help="Print the settings as JSON on stdout."),
) -> None:
    """Show each effective setting and where it came from (the token is never shown)."""
    from . import config, git

    console = Console(quiet=False, verbose=False)
    try:
        try:
            top: Optional[str] = git.open_repo().top
        except PwapplyError:
            top = None
        settings = config.load(top, flags={"server": server, "project": project}, env=os.environ)
    except PwapplyError as exc:
        raise _fail(console, exc) from None
    rows = settings.rows()
    if as_json:
        print(json.dumps({k: {"value": v or None, "source": s} for k, v, s in rows}, indent=2))
        return
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        print(f"{key:<{width}}  {value or '-':<45}  ({source})")
    if not settings.server:
        console.info("hint: git config pwapply.server https://patchwork.example.org")


def main() -> None:
    code = 0
    try:
        app()
    except PwapplyError as exc:  # pragma: no cover - commands catch their own
        code = Console(False, False).fail(exc)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except KeyboardInterrupt:
        code = 130
    except Exception:
        import traceback

        traceback.print_exc()
        print("pwapply: internal error (a bug): please report it with the traceback above", file=sys.stderr)
        sys.exit(EXIT_BUG)
    # Everything is written and cleaned up by now (the lock, the scratch worktree and the
    # temporary files are released by the commands themselves): skip the interpreter's
    # teardown of httpx, ssl and friends, which costs tens of milliseconds per run.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # the terminal hung up
            pass
    os._exit(code)
