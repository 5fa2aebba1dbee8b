"""What a newcomer meets first: one error format for every bad command line (usage
errors too), errors as JSON under --json, a server that is no URL refused at once, a
word that is neither a command nor a series, and help that reads well."""

from __future__ import annotations

import json
import re

import pytest

from pwapply.main import main


def run(capsys, *argv: str):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def one_error(err: str) -> tuple[str, str]:
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: "), err
    return lines[0][len("error: ") :], lines[1][len("hint: ") :]


@pytest.mark.parametrize(
    "argv, message, hint",
    [
        (("diff",), "pwapply diff needs SERIES", "usage: pwapply diff [OPTIONS] SERIES"),
        (("versions",), "pwapply versions needs SERIES", "pwapply versions --help"),
        (("12345", "--bogus"), "pwapply apply has no option --bogus", "pwapply apply --help shows its options"),
        (("12345", "--bse", "x"), "pwapply apply has no option --bse", "did you mean --base?"),
        (("list", "--sinse", "2w"), "pwapply list has no option --sinse", "did you mean --since?"),
        (("list", "-n", "abc"), "invalid value for -n / --limit: abc is not a valid int", "pwapply list --help"),
        (("status", "--timeout", "soon"), "invalid value for --timeout", "pwapply status --help"),
    ],
)
def test_usage_errors_in_pwapplys_format(repo, monkeypatch, capsys, argv, message, hint):
    monkeypatch.chdir(repo.path)
    before = repo.state()
    code, out, err = run(capsys, *argv)
    assert code == 2
    got_message, got_hint = one_error(err)
    assert got_message.startswith(message) and hint in got_hint
    assert "Usage:" not in err and "Possible options" not in err and "--verbose" not in got_hint
    assert out == "" and repo.state() == before


def test_errors_as_json_under_json(repo, pw, monkeypatch, capsys):
    monkeypatch.chdir(repo.path)
    pw.add_project("qemu-devel")
    code, out, err = run(capsys, "424242", "--server", pw.url, "--json")
    assert code == 3
    data = json.loads(out)
    assert data["exit_code"] == 3 and "424242" in data["error"] and data["hint"]
    assert err.startswith("error: ")  # people still read stderr
    code, out, err = run(capsys, "list", "--json", "-n", "abc")
    assert code == 2 and json.loads(out)["exit_code"] == 2
    code, out, err = run(capsys, "versions", "424242", "--server", pw.url, "--json")
    assert code == 3 and json.loads(out)["error"]


@pytest.mark.parametrize("server", ["not-a-url", "https://", "ftp://patchwork.example.org", "patch work.org"])
def test_a_server_that_is_no_url_is_refused_at_once(repo, monkeypatch, capsys, server):
    """No look-up in DNS: refused as the bad input it is, exit 2, as https:// is."""
    monkeypatch.chdir(repo.path)
    before = repo.state()
    code, out, err = run(capsys, "500889", "--server", server)
    assert code == 2
    message, hint = one_error(err)
    assert message.startswith("invalid server URL") and "https://patchwork.ozlabs.org" in hint
    assert repo.state() == before


def test_a_host_name_alone_is_still_a_server(repo, monkeypatch, capsys, pw):
    monkeypatch.chdir(repo.path)
    host = pw.url.split("://", 1)[1]  # 127.0.0.1:PORT: a host and a port
    code, out, err = run(capsys, "versions", "424242", "--server", "http://" + host)
    assert code == 3  # asked, and not found: the URL was taken


@pytest.mark.parametrize("argv", [("foo",), ("foo", "--help"), ("frobnicate", "--json")])
def test_a_word_that_is_neither_a_command_nor_a_series(repo, monkeypatch, capsys, argv):
    monkeypatch.chdir(repo.path)
    code, out, err = run(capsys, *argv)
    assert code == 2
    message, hint = one_error(err)
    assert message == f"{argv[0]!r} is neither a command nor a series"
    assert "the commands are apply, list," in hint and "a series is a series id" in hint
    assert "Usage:" not in out


def test_a_mistyped_command_gets_a_suggestion(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo.path)
    code, out, err = run(capsys, "chek")
    assert code == 2 and one_error(err) == ("no command 'chek': did you mean 'check'?", "pwapply check --help")


def test_help_reads_well(capsys):
    code, out, err = run(capsys, "--help")
    assert code == 0
    commands = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(commands) >= 11
    for line in commands:  # each summary whole: no "..." cut
        assert not line.rstrip().endswith("..."), line
        assert len(line) <= 80, line
    examples = out.split("Examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert all(line.startswith("    pwapply ") for line in examples), examples  # one a line, whole
    assert "|" not in "".join(examples)
    assert "docs/" in out and "man pwapply" in out


@pytest.mark.parametrize("command", ["apply", "list", "versions", "diff", "check", "status", "update", "accept"])
def test_each_commands_help_reads_well(capsys, command):
    code, out, err = run(capsys, command, "--help")
    assert code == 0
    assert "{" not in out.splitlines()[0], out.splitlines()[0]  # Usage: pwapply apply [OPTIONS] SERIES
    assert not re.search(r"--[a-z]+-\n", out), "an option's name split across lines"
    examples = out.split("Examples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert examples and all(re.match(r"^    (pwapply|git) ", line) for line in examples), examples


def test_every_link_of_the_readme_and_the_docs_leads_somewhere():
    """The README and docs/ link each other by relative paths: each must name a file."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    broken = [
        f"{page.relative_to(root)}: {target}"
        for page in pages
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text())
        if "://" not in target and not (page.parent / target).exists()
    ]
    assert len(pages) > 5 and broken == []
