"""`pwapply apply` under the boundary, without Typer: the Typer command runs it, and so
does main.py's fast path for the everyday call (the command line read by apply_line.py).
"""

from __future__ import annotations

import sys
from typing import Any

from ..apply import pipeline
from ..apply.options import Options
from ..errors import InputError, require_timeout
from ..sources.connection import Preload
from . import boundary, context, render
from .apply_line import STRAY_HINT, ApplyArgs
from .console import Console

NOTHING_CHANGED = "nothing was changed in your repository"


def run(args: ApplyArgs) -> int:
    """Apply the series under the boundary; the exit code."""
    console = Console(quiet=args.quiet, verbose=args.verbose, json=args.as_json)

    def body(guard: Any) -> int:
        if args.stray:
            raise InputError(f"unexpected argument(s): {' '.join(args.stray)}", STRAY_HINT)
        require_timeout(args.timeout)
        if not args.max_mbox_size > 0:
            raise InputError("--max-mbox-size must be more than 0 MiB", "e.g. --max-mbox-size 64")
        opts = Options(
            base=args.base,
            branch=args.branch,
            no_branch=args.no_branch,
            force=args.force,
            checkout=not args.no_checkout,
            three_way=args.three_way,
            signoff=args.signoff,
            patches=args.patches,
            passthrough=list(args.passthrough),
            link=not args.no_link,
            allow_incomplete=args.allow_incomplete,
            resolve=args.resolve,
            no_deps=args.no_deps,
            check_patches=args.check_patches,
        )
        preload = Preload()  # httpx loads in a thread while git looks at the repository
        flags = {
            "server": args.server,
            "project": args.project,
            "archive": args.archive,
            "link_format": args.link_format,
        }
        ref, repo, settings = context.where(console, args.series, flags, repo_needed=True, preload=preload)
        assert repo is not None
        conn = context.connection(
            console, settings, args.timeout, args.ca_bundle, max_mbox=args.max_mbox, preload=preload
        )
        ui = context.ui(console)
        result = pipeline.run(ref, settings, repo, opts, conn, ui, read_stdin=lambda: sys.stdin.buffer.read())
        # Before the commit point, a signal undoes everything (exit 130); from it on,
        # the run completes and says it was interrupted late.
        if guard.late is not None:
            what = "the branch was made" if result.branch else "your branch was moved"
            result.warnings.append(
                f"interrupted ({boundary.signal_name(guard.late)}) after {what}: "
                "pwapply finished the job rather than leave it half done"
            )
        render.applied(console, result, args.as_json)
        return 0

    return boundary.run(console, body, NOTHING_CHANGED)
