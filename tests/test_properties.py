"""Property-based tests of the pure modules, with git as the oracle where it has one."""

from __future__ import annotations

import re
import subprocess
from typing import List

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pwapply import naming, trailers
from pwapply.errors import InputError
from pwapply.resolve import resolve

NASTY = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200) | st.sampled_from(
    ["..", "-x", "a\nb", "\x00", "@{", "a" * 10000, "~^:?*[\\", "/..//./", " "]
)


@settings(max_examples=300, deadline=None)
@given(NASTY)
def test_any_series_argument_resolves_or_is_an_input_error(text):
    try:
        ref = resolve(text)
    except InputError as exc:
        assert exc.message and exc.hint
        return
    assert ref.kind and ref.value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NASTY, st.integers(min_value=1, max_value=99), NASTY, NASTY)
def test_every_generated_branch_name_is_valid_for_git(name, version, project, submitter):
    slug = naming.series_slug(name, None, 7)
    branch = naming.branch_name(
        naming.DEFAULT_BRANCH_FORMAT + "-{project}-{submitter}",
        {"id": 7, "version": version, "slug": slug, "project": project, "submitter": submitter},
    )
    assert "\n" not in branch and ".." not in branch
    ok = subprocess.run(["git", "check-ref-format", "--branch", branch], capture_output=True).returncode == 0
    assert ok, branch


LINE = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters=" :-<>@."), max_size=40
)
MESSAGE = st.builds(
    lambda title, paras: title.strip().replace("\n", " ") + "\n" + "".join("\n" + p + "\n" for p in paras),
    LINE.filter(lambda t: t.strip() != ""),
    st.lists(
        st.lists(
            LINE | st.sampled_from(["Signed-off-by: A <a@x>", "Reviewed-by: R <r@x>", "Cc: c@x", "Fixes: 123"]),
            min_size=1,
            max_size=4,
        ).map(lambda lines: "\n".join(line for line in lines if line.strip()) or "text"),
        max_size=3,
    ),
)
TRAILER = st.sampled_from(
    [
        trailers.Trailer("Link", "https://example.org/p/1"),
        trailers.Trailer("Tested-by", "T <t@x>"),
        trailers.Trailer("Signed-off-by", "A <a@x>"),
    ]
)


@settings(max_examples=200, deadline=None)
@given(MESSAGE, st.lists(TRAILER, min_size=1, max_size=3))
def test_adding_trailers_is_idempotent_and_keeps_every_line(message, new):
    once = trailers.add(message, new)
    assert trailers.add(once, new) == once
    kept = once.splitlines()
    for line in message.splitlines():
        assert line in kept
    for t in new:
        assert any(t.same_as(h) for h in trailers.existing(once) + trailers.below_title(once))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGE)
def test_a_trailer_goes_where_git_interpret_trailers_puts_it(message):
    from test_trailers import git_add

    link = trailers.Trailer("Link", "https://example.org/p/1")
    ours = trailers.add(message, [link])
    theirs = git_add(message, link)
    if "Link: https://example.org/p/1" in message:
        return  # already there: we add nothing anywhere, git only looks in the trailer block
    assert _spaced(ours) == _spaced(theirs)


def _spaced(message: str) -> List[str]:
    """Lines as git interpret-trailers spaces the trailers it keeps ("Fixes:1" becomes
    "Fixes: 1", "Key:" "Key: "): where the new trailer goes is what is compared; we keep
    the author's lines as they were sent."""
    return [re.sub(r"^([^\s:]+)[ \t]*:[ \t]*", r"\1: ", line).rstrip() for line in message.rstrip("\n").split("\n")]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_values_from_the_server_never_make_a_second_line(value):
    try:
        t = trailers.make_trailer("Link", value)
    except ValueError:
        return
    assert "\n" not in t.line() and "\r" not in t.line()
    assert len(t.line().splitlines()) == 1


def test_no_subprocess_runs_through_a_shell():
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "pwapply"
    for path in src.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    is_true = isinstance(kw.value, ast.Constant) and kw.value.value is True
                    assert not (kw.arg == "shell" and is_true), f"{path.name}:{node.lineno} uses shell=True"
