"""The options several commands share, declared once (cli/apply_line.py's OPTIONS):
the server and project, the network (--timeout, --ca-bundle), the output (--json, -v,
-q); and the apply command's parameters, made from the same table."""

from __future__ import annotations

import inspect
from typing import Any, List, Optional

import typer

from .apply_line import BY_FIELD, OPTIONS, Opt


def typer_option(o: Opt) -> Any:
    """``o`` as Typer declares it: its spellings (--3way/--no-3way for one with an
    off spelling), its metavar and help."""
    flags = (f"{o.flags[0]}/{o.off}", *o.flags[1:]) if o.off else o.flags
    return typer.Option(o.default, *flags, metavar=o.metavar, help=o.help)


def annotation(o: Opt) -> Any:
    """The type Typer reads ``o``'s value as."""
    return Optional[o.kind] if o.default is None else o.kind


def parameters() -> List[inspect.Parameter]:
    """The apply command's options as a function's keyword parameters, in OPTIONS' order."""
    return [
        inspect.Parameter(o.field, inspect.Parameter.KEYWORD_ONLY, default=typer_option(o), annotation=annotation(o))
        for o in OPTIONS
    ]


SERVER = typer_option(BY_FIELD["server"])
PROJECT = typer_option(BY_FIELD["project"])
ARCHIVE_URL = typer_option(BY_FIELD["archive"])
TIMEOUT = typer_option(BY_FIELD["timeout"])
CA_BUNDLE = typer_option(BY_FIELD["ca_bundle"])
JSON = typer_option(BY_FIELD["as_json"])
VERBOSE = typer_option(BY_FIELD["verbose"])
QUIET = typer_option(BY_FIELD["quiet"])
