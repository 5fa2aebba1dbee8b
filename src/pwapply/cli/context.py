"""From the command line's flags to the values a command runs with, read once: what the
user named, the repository, the settings, and how to reach the servers."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Mapping, Optional, Tuple

from ..config import Settings, load
from ..errors import PwapplyError
from ..git.repo import Repo, open_repo
from ..git.run import Git
from ..resolve import SeriesRef, resolve
from ..ui import UI
from .console import Console

if TYPE_CHECKING:
    from ..sources.connection import Connection, Preload
    from ..sources.policy import Sources


def where(
    console: Console,
    series: str,
    flags: Mapping[str, Optional[str]],
    *,
    repo_needed: bool,
    preload: "Optional[Preload]" = None,
) -> Tuple[SeriesRef, Optional[Repo], Settings]:
    """What the user named, the repository we are in (None outside one, when that is
    allowed) and the settings, read once."""
    ref = resolve(series, is_file=os.path.isfile)
    if preload is not None and not ref.offline:
        preload.start()  # httpx loads while git checks the repository
    repo, settings = here(console, flags, repo_needed=repo_needed, ref=ref)
    return ref, repo, settings


def here(
    console: Console, flags: Mapping[str, Optional[str]], *, repo_needed: bool, ref: Optional[SeriesRef] = None
) -> Tuple[Optional[Repo], Settings]:
    """The repository we are in (None outside one, when that is allowed) and the
    settings (with what a URL the user gave, ``ref``, says of the server)."""
    log = console.debug if console.verbose else None
    try:
        repo: Optional[Repo] = open_repo(log=log)
    except PwapplyError:
        if repo_needed:
            raise
        repo = None
    git = repo.git if repo is not None else Git(log=log)
    settings = load(
        git,
        repo.top if repo is not None else None,
        flags=flags,
        env=os.environ,
        url_server=ref.server if ref is not None else None,
        url_project=ref.project if ref is not None else None,
        url_archive=ref.archive if ref is not None else None,
    )
    return repo, settings


def connection(
    console: Console, settings: Settings, timeout: float, ca_bundle: Optional[str], **kw: Any
) -> "Connection":
    from ..sources.connection import Connection  # --help makes no client: the start-up budget

    return Connection(
        timeout=timeout,
        ca_bundle=ca_bundle,
        log=console.debug if console.verbose else None,
        token=settings.token,
        token_server=settings.server,
        **kw,
    )


def ui(console: Console) -> UI:
    """The callbacks the library reports progress through, onto ``console``."""
    return UI(progress=console.progress, info=console.info, debug=console.debug if console.verbose else None)


def sources(settings: Settings, conn: "Connection", ui: UI, *, archive: bool = True) -> "Sources":
    """The sources the settings name (the archive left out with ``archive`` False)."""
    from ..sources.policy import Sources  # --help asks no source: the start-up budget

    return Sources(
        conn,
        server=settings.server,
        project=settings.project,
        archive=settings.archive if archive else None,
        ui=ui,
    )
