"""The commands: parse the arguments, turn them into the library's options once, run
the library under the boundary, render the result.  No logic here.

``pwapply SERIES`` is ``pwapply apply SERIES``: a first argument that is not a command
name is taken as the series.  Each command's body imports its library where it runs, so
that ``--help`` loads none of them (the start-up budget, tests/test_architecture.py);
``--version`` and the everyday apply do without Typer (main.py).
"""

from __future__ import annotations

import difflib
import inspect
import os
import re
from typing import Any, List, Optional, Tuple

import typer
from typer.core import TyperGroup

from .. import __version__
from ..errors import InputError, require_timeout
from . import admin, boundary, completion, context, life, options, render
from .apply_line import STRAY_HINT, ApplyArgs
from .console import Console

EPILOG = options.examples(
    "pwapply list",
    "pwapply 500889",
    "pwapply https://patchwork.ozlabs.org/project/qemu-devel/list/?series=500889",
    "pwapply 20260421202110.306051-1-peterx@redhat.com",
    "pwapply ./v2.mbox --no-branch",
    "pwapply config",
)


ROOT_OPTIONS = ("--help", "-h", "--version", "-V", "--install-completion", "--show-completion")


class DefaultToApply(TyperGroup):
    """Route ``pwapply SERIES ...`` to ``pwapply apply SERIES ...``; a word close to a
    command's name, that names no file here, is taken for a typo of it."""

    def parse_args(self, ctx: Any, args: List[str]) -> List[str]:
        if args and args[0] in completion.OPTIONS:
            raise typer.Exit(completion.run(args, typer.echo))
        if args and args[0] not in self.commands and args[0] not in ROOT_OPTIONS:
            names = [name for name, cmd in self.commands.items() if not cmd.hidden]
            typo = _typo(args[0], names)
            wrong = None
            if typo:
                wrong = InputError(f"no command {args[0]!r}: did you mean {typo!r}?", f"pwapply {typo} --help")
            elif _word(args[0]):  # no series can be a plain word: say what either would be
                wrong = InputError(
                    f"{args[0]!r} is neither a command nor a series",
                    f"the commands are {', '.join(names)} (pwapply --help); a series is a series id (500889), "
                    "a Message-ID, a Patchwork or lore URL, or an mbox file",
                )
            if wrong is not None:  # said here: no command's boundary runs for it
                raise typer.Exit(Console(quiet=False, verbose=False, json="--json" in args).fail(wrong))
            args = ["apply", *args]
        if "--" in args:  # what follows -- goes to git am, and only that
            ctx.meta["pwapply.passthrough"] = args[args.index("--") + 1 :]
        return super().parse_args(ctx, args)


def _word(word: str) -> bool:
    """A plain word (no digit, @, / or .: those are series ids, Message-IDs, URLs and
    files) that names no file here: a command, or a typo of one."""
    return re.fullmatch(r"[a-z][a-z-]{1,20}", word) is not None and not os.path.exists(word)


def _typo(word: str, names: List[str]) -> Optional[str]:
    """The command ``word`` is a typo of: a plain word close to one name."""
    if not _word(word):
        return None
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.7)
    return close[0] if close else None


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
    # Answered before Typer parses anything (DefaultToApply.parse_args): here for --help.
    install_completion: Optional[str] = typer.Option(
        None,
        "--install-completion",
        metavar="[SHELL]",
        help="Install completion for bash, zsh or fish (default: yours).",
    ),
    show_completion: Optional[str] = typer.Option(
        None, "--show-completion", metavar="[SHELL]", help="Print the completion script for bash, zsh or fish."
    ),
) -> None:
    pass


def _extra(ctx: typer.Context) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """The words Typer left over: (stray ones, a mistake; what came after --)."""
    passthrough: List[str] = ctx.meta.get("pwapply.passthrough", [])
    return tuple(ctx.args[: len(ctx.args) - len(passthrough)]), tuple(passthrough)


def _passthrough(ctx: typer.Context) -> List[str]:
    """What came after --; anything else left over is a mistake."""
    stray, passthrough = _extra(ctx)
    if stray:
        raise InputError(f"unexpected argument(s): {' '.join(stray)}", STRAY_HINT)
    return list(passthrough)


# ----------------------------------------------------------------------- apply


@options.command(
    app,
    "apply",
    "Apply a series on a new branch, with Link trailers.",
    "pwapply 500889",
    "pwapply apply 500889 --base origin/master -s",
    "pwapply 500889 --patches 1-3,5",
    "pwapply 500889 -- --reject",
    "pwapply ./series.mbox --no-branch",
    "git format-patch -3 --stdout | pwapply -",
    context_settings={"allow_extra_args": True, "allow_interspersed_args": True},
)
def apply_cmd(ctx: typer.Context, series: str, **values: Any) -> None:
    """Fetch a series and apply it on a new branch, with a Link trailer on every commit.

    Anything after -- goes to git am, e.g. pwapply 500889 -- --whitespace=fix
    """
    stray, passthrough = _extra(ctx)
    args = ApplyArgs(series=series, passthrough=passthrough, stray=stray, **values)
    from . import apply  # the pipeline: --help loads none of it

    raise typer.Exit(apply.run(args))


# Typer reads the apply command's options from its signature: made from OPTIONS
# (cli/apply_line.py), the table main.py's parser reads too.
_SERIES = inspect.Parameter(
    "series",
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    annotation=str,
    default=typer.Argument(
        ...,
        metavar="SERIES",
        help="Series id (500889), Message-ID, Patchwork, lore or public-inbox URL, mbox file, or - for stdin.",
    ),
)
_CTX = inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)
apply_cmd.__signature__ = inspect.Signature([_CTX, _SERIES, *options.parameters()])  # type: ignore[attr-defined]
apply_cmd.__annotations__ = {p.name: p.annotation for p in apply_cmd.__signature__.parameters.values()}  # type: ignore[attr-defined]


# ----------------------------------------------------------------------- list

options.command(
    app,
    "list",
    "What waits for review, and how ready it is.",
    "pwapply list",
    "pwapply list --since 2w --search vfio",
    "pwapply list --mine",
    "pwapply list --state accepted -n 10",
    "pwapply list --json",
)(life.list_cmd)


# ----------------------------------------------------------------------- versions


@options.command(
    app, "versions", "Every version of a series.", "pwapply versions 500889", "pwapply versions 500889 --json"
)
def versions_cmd(
    series: str = typer.Argument(..., metavar="SERIES", help="Any form pwapply apply takes (not an mbox)."),
    server: Optional[str] = options.SERVER,
    project: Optional[str] = options.PROJECT,
    archive: Optional[str] = options.ARCHIVE_URL,
    timeout: float = options.TIMEOUT,
    ca_bundle: Optional[str] = options.CA_BUNDLE,
    as_json: bool = typer.Option(False, "--json", help="Print the versions as a JSON list on stdout."),
    verbose: bool = options.VERBOSE,
) -> None:
    """List every version of a series on the server (or, for a Message-ID it does not
    know, in the list's archive); * marks the one you named."""
    console = Console(quiet=False, verbose=verbose, json=as_json)

    def body(guard: Any) -> int:
        from ..versions import list_versions, need_server

        require_timeout(timeout)
        flags = {"server": server, "project": project, "archive": archive}
        ref, _, settings = context.where(console, series, flags, repo_needed=False)
        need_server(ref)
        conn = context.connection(console, settings, timeout, ca_bundle)
        with context.sources(settings, conn, context.ui(console)) as sources:
            listing = list_versions(ref, sources)
        render.versions(listing, as_json)
        return 0

    raise typer.Exit(boundary.run(console, body, "nothing was left behind"))


# ----------------------------------------------------------------------- diff


@options.command(
    app,
    "diff",
    "What changed between two versions (git range-diff).",
    "pwapply diff 500889",
    "pwapply diff 500889 --against v1",
    "pwapply diff 500889 --against 499120 --base origin/master",
    "pwapply diff 500889 -- --no-dual-color",
    context_settings={"allow_extra_args": True, "allow_interspersed_args": True},
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
    no_deps: bool = typer.Option(
        False, "--no-deps", help="Apply each version alone, not on the series its Based-on:/Depends-on: lines name."
    ),
    server: Optional[str] = options.SERVER,
    project: Optional[str] = options.PROJECT,
    archive: Optional[str] = options.ARCHIVE_URL,
    timeout: float = options.TIMEOUT,
    ca_bundle: Optional[str] = options.CA_BUNDLE,
    verbose: bool = options.VERBOSE,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but the diff and errors."),
) -> None:
    """Show what changed between two versions of a series (git range-diff): on Patchwork,
    or, for a Message-ID it does not know, in the list's archive.

    Neither your work tree nor your branches are touched. Options after -- go to
    git range-diff (or git diff with --interdiff), e.g. -- --creation-factor=80
    """
    console = Console(quiet=quiet, verbose=verbose)

    def body(guard: Any) -> int:
        from ..apply.options import Options, Plan
        from ..diff import DiffOptions, diff

        require_timeout(timeout)
        passthrough = _passthrough(ctx)
        flags = {"server": server, "project": project, "archive": archive}
        ref, repo, settings = context.where(console, series, flags, repo_needed=True)
        assert repo is not None
        ui = context.ui(console)
        opts = DiffOptions(
            against=against,
            base=base,
            trailers=keep_trailers,
            interdiff=interdiff,
            pager=not no_pager,
            refresh=refresh,
            passthrough=passthrough,
            no_deps=no_deps,
        )
        conn = context.connection(console, settings, timeout, ca_bundle)
        with context.sources(settings, conn, ui) as sources:
            code = diff(ref, Plan.make(settings, Options()), repo, opts, sources, ui)
        return 0 if code == 0 else 5

    raise typer.Exit(boundary.run(console, body, "nothing was left behind"))


# ----------------------------------------------------------------------- check


@options.command(
    app,
    "check",
    "Check commits before a push: latest version, nacks, tags.",
    "pwapply check",
    "pwapply check origin/master..my-queue",
    "pwapply check --offline",
    "pwapply check --pre-push origin git@example.org:repo.git   (as hooks/pre-push runs it)",
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
    server: Optional[str] = options.SERVER,
    project: Optional[str] = options.PROJECT,
    ca_bundle: Optional[str] = options.CA_BUNDLE,
    verbose: bool = options.VERBOSE,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors."),
) -> None:
    """Check commits before they are pushed: superseded series, rejected patches, review
    tags they lack, failed CI checks, lost Link trailers.

    Exit 1 when the push should not go on. Severity of each check:
    git config pwapply.check.<superseded|state|nacked|tags|checks|trailer> error|warn|off
    """
    from .check import CheckOptions, check

    opts = CheckOptions(
        revs=[] if pre_push else list(revs or []),
        pre_push=pre_push,
        remote=revs[0] if pre_push and revs else None,  # git gives the hook the remote and its URL
        timeout=timeout,
        offline=offline,
        strict=strict,
        server=server,
        project=project,
        ca_bundle=ca_bundle,
    )
    raise typer.Exit(check(opts, Console(quiet=quiet, verbose=verbose)))


# ----------------------------------------------------------------------- hooks

app.add_typer(admin.hooks_app, name="hooks", short_help="Install or remove the hooks: the push check, accepting.")


# ----------------------------------------------------------------------- series over their life


options.command(
    app,
    "status",
    "The branches pwapply made, and what changed since.",
    "pwapply status",
    "pwapply status -v",
    "pwapply status --all --json",
)(life.status_cmd)
options.command(
    app,
    "update",
    "Add the review tags that arrived to a branch.",
    "pwapply update",
    "pwapply update pw/foo-v2 --dry-run",
    "pwapply update --to-latest",
)(life.update_cmd)
options.command(
    app,
    "accept",
    "Mark pushed patches accepted on Patchwork.",
    "pwapply accept",
    "pwapply accept origin/master~3..origin/master --dry-run",
    "git config pwapply.acceptState awaiting-upstream",
)(life.accept_cmd)


# ----------------------------------------------------------------------- demo


@options.command(
    app, "demo", "The whole job on a scratch project, offline.", "pwapply demo", "pwapply demo --dir /tmp/pwdemo"
)
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
    console = Console(quiet=False, verbose=False)

    def body(guard: Any) -> int:
        from .. import demo

        return demo.run(lambda line: print(line, flush=True), keep=directory)

    raise typer.Exit(boundary.run(console, body, "nothing was changed"))


# ----------------------------------------------------------------------- config

options.command(app, "config", "Each setting, and where it comes from.", "pwapply config", "pwapply config --json")(
    admin.config_cmd
)


def main(argv: List[str]) -> int:
    """The command line ``argv`` through Typer: its exit code."""
    if completion.asked(os.environ):
        completion.setup()
    # The same variable whatever the program is called as (git-pwapply, python -m pwapply).
    return boundary.program(lambda: _typer(argv))


def _typer(argv: List[str]) -> Any:
    """Typer's run of ``argv``, with what it cannot read said as any bad input is."""
    try:
        return app(args=argv, complete_var=completion.VAR, standalone_mode=False)
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `pwapply`: the help
            exc.show()  # type: ignore[attr-defined]
            return 2
        usage = boundary.usage_error(exc)
        if usage is None:
            raise
        return Console(quiet=False, verbose=False, json="--json" in argv).fail(usage)
