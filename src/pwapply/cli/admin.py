"""The commands that set pwapply up in a repository: `pwapply hooks` and `pwapply config`.
Thin, as app.py's: parse, run under the boundary, render."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Optional

import typer

from ..config import load, with_credential
from ..errors import PwapplyError
from ..git.repo import open_repo, set_config
from ..git.run import Git
from . import boundary, options, render
from .console import Console

if TYPE_CHECKING:
    from ..git.repo import Repo

# ----------------------------------------------------------------------- hooks

hooks_app = typer.Typer(
    help="Install or remove the hooks: the pre-push check, and (--accept) marking pushed patches accepted.",
    no_args_is_help=True,
)


@options.command(
    hooks_app,
    "install",
    "Install the pre-push check (and with --accept, marking accepted).",
    "pwapply hooks install",
    "pwapply hooks install --accept",
)
def hooks_install(
    accept: bool = typer.Option(
        False,
        "--accept",
        help="Also mark the patches of pushed commits accepted on Patchwork once the push succeeded "
        "(a reference-transaction hook; git config pwapply.acceptOnPush).",
    ),
) -> None:
    """Install the pre-push hook in this repository (an existing one keeps running)."""
    _hooks(install=True, accept=accept)


@options.command(hooks_app, "uninstall", "Remove pwapply's hooks, and put yours back.", "pwapply hooks uninstall")
def hooks_uninstall() -> None:
    """Remove pwapply's hooks, putting back the ones they replaced."""
    _hooks(install=False, accept=True)


def _hooks(install: bool, accept: bool) -> None:
    console = Console(quiet=False, verbose=False)

    def body(guard: Any) -> int:
        from .. import hooks  # importlib.resources: 15 ms, for hooks alone

        repo = open_repo()
        names = [hooks.PRE_PUSH, hooks.ACCEPT] if accept else [hooks.PRE_PUSH]
        for name in names:
            what, _ = (hooks.install if install else hooks.uninstall)(repo.hooks, name)
            console.info(what)
        if accept:
            set_config(repo, "pwapply.acceptOnPush", "true" if install else None)
        return 0

    raise typer.Exit(boundary.run(console, body, "the hooks are as they were"))


# ----------------------------------------------------------------------- config


def config_cmd(
    server: Optional[str] = options.SERVER,
    project: Optional[str] = options.PROJECT,
    as_json: bool = typer.Option(False, "--json", help="Print the settings as JSON on stdout."),
) -> None:
    """Show each effective setting and where it came from (the token is never shown)."""
    console = Console(quiet=False, verbose=False, json=as_json)

    def body(guard: Any) -> int:
        try:
            repo: "Optional[Repo]" = open_repo()
        except PwapplyError:
            repo = None
        git = repo.git if repo is not None else Git()
        settings = load(git, repo.top if repo else None, flags={"server": server, "project": project}, env=os.environ)
        settings, why = with_credential(settings, git, 10.0)
        if why:
            console.warn(why)
        render.settings(console, settings.rows(), as_json, bool(settings.server))
        return 0

    raise typer.Exit(boundary.run(console, body, "nothing was changed"))
