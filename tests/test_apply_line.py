"""The everyday command line read without Typer (cli/apply_line.py) reads it as Typer
does, or leaves it to Typer: parsed both ways, the same ApplyArgs."""

from __future__ import annotations

from typing import Dict, List, Optional, Set

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pwapply.cli import apply as apply_cli
from pwapply.cli.apply_line import FLAGS, VALUED, ApplyArgs, parse


def typer_reads(argv: List[str], monkeypatch: pytest.MonkeyPatch) -> Optional[ApplyArgs]:
    """What the Typer command hands to cli/apply.run for ``argv`` (None: Typer refused
    it, or ran another command)."""
    from typer.testing import CliRunner

    from pwapply.cli.app import app

    seen: List[ApplyArgs] = []

    def run(args: ApplyArgs) -> int:
        seen.append(args)
        return 0

    monkeypatch.setattr(apply_cli, "run", run)
    result = CliRunner().invoke(app, argv, catch_exceptions=False)
    if result.exit_code != 0:
        return None
    return seen[0] if seen else None


EXAMPLES = [
    ["500889"],
    ["apply", "500889"],
    ["500889", "-b", "review/foo", "-q"],
    ["-q", "500889", "--base", "origin/master", "-s", "--no-3way"],
    ["20260421202110.306051-1-peterx@redhat.com", "--project=qemu-devel", "--json"],
    ["https://patchwork.ozlabs.org/project/qemu-devel/list/?series=500889", "--no-deps", "--force"],
    ["500889", "--patches", "1-3,5", "--no-link", "--allow-incomplete", "--resolve"],
    ["500889", "--", "--reject", "--whitespace=fix"],
    ["500889", "--timeout", "5", "--max-mbox-size=1.5", "--ca-bundle", "/etc/ca.pem", "--server", "http://x"],
    ["500889", "--check-patches", "--no-check-patches", "--3way", "-v", "--no-checkout", "--no-branch"],
    ["500889", "-b", "--odd"],  # a value that looks like an option is a value
    ["500889", "extra"],  # a stray word: an error, told by the command
    ["-", "--no-branch"],
]


@pytest.mark.parametrize("argv", EXAMPLES, ids=[" ".join(a) for a in EXAMPLES])
def test_the_everyday_command_lines_are_read_as_typer_reads_them(argv, monkeypatch):
    mine = parse(argv, {})
    assert mine is not None
    assert mine == typer_reads(argv, monkeypatch)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["500889", "-h"],
        ["status"],  # a command
        ["statsu"],  # a typo of one: Typer says "did you mean"
        ["versions", "500889"],
        ["500889", "-b"],  # no value
        ["500889", "--timeout", "soon"],  # not a number
        ["500889", "-qs"],  # short flags together: Typer's to read
        ["500889", "--unknown"],
        ["500889", "-bname"],
        ["--version"],
    ],
)
def test_anything_else_is_left_to_typer(argv):
    assert parse(argv, {}) is None


def test_a_shell_asking_for_completions_goes_to_typer():
    assert parse(["500889"], {"_PWAPPLY_COMPLETE": "bash_complete"}) is None


WORDS = st.sampled_from(
    ["500889", "12", "a@b.example", "https://pw.example.org/series/7/", "-", "x.mbox", "extra", "apply", "1-3", "--"]
)
OPTION = st.one_of(
    st.sampled_from(sorted(FLAGS)).map(lambda f: [f]),
    st.tuples(st.sampled_from(sorted(VALUED)), st.sampled_from(["main", "5", "0.5", "1e3", "x", "-v", "nan", ""])).map(
        list
    ),
    st.tuples(st.sampled_from(sorted(o for o in VALUED if o.startswith("--"))), st.sampled_from(["5", "a", ""])).map(
        lambda t: [f"{t[0]}={t[1]}"]
    ),
    WORDS.map(lambda w: [w]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(OPTION, max_size=6).map(lambda parts: [w for p in parts for w in p]))
def test_any_command_line_it_reads_typer_reads_alike(monkeypatch, argv):
    mine = parse(argv, {})
    if mine is not None:  # when it reads a line, Typer reads it the same (nan included)
        assert repr(mine) == repr(typer_reads(argv, monkeypatch)), argv


def test_apply_args_take_only_arguments():
    with pytest.raises(TypeError, match="no argument 'values'"):
        ApplyArgs(series="1", values={})


def test_it_knows_exactly_the_apply_commands_options():
    """Every option the Typer command takes is read here, with the same field, and no
    other: an option added to one and not the other fails here, not in a user's hands
    (the fast path would hand the line to Typer, or read an option Typer refuses)."""
    import typer.main

    from pwapply.cli.app import app

    command = typer.main.get_command(app).commands["apply"]  # type: ignore[attr-defined]
    typer_opts = {}
    for param in command.params:
        for opt in [*param.opts, *param.secondary_opts]:
            if opt.startswith("-"):
                typer_opts[opt] = param.name
    mine = {opt: field for opt, (field, _) in {**FLAGS, **VALUED}.items()}
    assert sorted(mine) == sorted(o for o in typer_opts if o not in ("--help", "-h"))
    # Typer's field names are the function's; apply_line's are ApplyArgs'.  Each option
    # of Typer's maps to one field of ours, and the same field for every spelling.
    fields: Dict[str, Set[str]] = {}
    for opt, name in typer_opts.items():
        if opt in mine:
            fields.setdefault(name, set()).add(mine[opt])
    assert all(len(ours) == 1 for ours in fields.values()), fields
    assert {f for ours in fields.values() for f in ours} == set(ApplyArgs.__annotations__) - {
        "series",
        "passthrough",
        "stray",
    }
