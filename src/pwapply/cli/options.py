"""The options several commands share, declared once (cli/apply_line.py's OPTIONS):
the server and project, the network (--timeout, --ca-bundle), the output (--json, -v,
-q); and the apply command's parameters, made from the same table."""

from __future__ import annotations

import inspect
from typing import Any, Callable, List, Optional, TypeVar

import typer
from typer.core import TyperCommand

from .apply_line import BY_FIELD, OPTIONS, Opt

DOCS = "More: man pwapply, and docs/ in pwapply's source (a page a command)."


class Command(TyperCommand):
    """A command whose usage line names its arguments plainly: ``SERIES``, as the help
    and the man page say it (Typer writes a required one ``{SERIES}``)."""

    def collect_usage_pieces(self, ctx: Any) -> List[str]:
        pieces: List[str] = super().collect_usage_pieces(ctx)
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in pieces]


def examples(*lines: str) -> str:
    """A command's epilog: its examples, one a line (click rewraps no paragraph that
    starts with \\b), and where the rest is documented."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines) + "\n\n" + DOCS


F = TypeVar("F", bound=Callable[..., Any])


def command(app: typer.Typer, name: str, summary: str, *lines: str, **kw: Any) -> Callable[[F], F]:
    """Register a command of ``app``: its one-line summary in the list of commands, its
    examples, its plain usage line."""
    register: Callable[[F], F] = app.command(name, cls=Command, short_help=summary, epilog=examples(*lines), **kw)
    return register


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
