import pytest

from pwapply import config
from pwapply.errors import ConfigError


def build(flags=None, env=None, gitconfig=None, remotes=None, b4=None, url_server=None, url_project=None):
    return config.build(
        flags=flags or {},
        env=env or {},
        gitconfig=gitconfig or {},
        remotes=remotes or {},
        b4config=b4 or {},
        url_server=url_server,
        url_project=url_project,
    )


def test_precedence_flag_url_env_gitconfig_gitpw_known():
    gc = {"pwapply.server": "https://a.example", "pw.server": "https://b.example/api/1.1", "pwapply.project": "p"}
    known = {"origin": "https://gitlab.com/qemu-project/qemu.git"}
    assert build(remotes=known).server == "https://patchwork.ozlabs.org"
    assert build(remotes=known).project == "qemu-devel"
    assert build(gitconfig={"pw.server": "https://b.example/api/1.1"}, remotes=known).server == "https://b.example"
    assert build(gitconfig=gc, remotes=known).server == "https://a.example"
    assert build(gitconfig=gc, env={"PWAPPLY_SERVER": "https://e.example"}).server == "https://e.example"
    s = build(
        gitconfig=gc, env={"PWAPPLY_SERVER": "https://e.example"}, url_server="https://u.example", url_project="up"
    )
    assert (s.server, s.project, s.source("server")) == ("https://u.example", "up", "URL given")
    s = build(flags={"server": "https://f.example"}, gitconfig=gc, url_server="https://u.example")
    assert (s.server, s.source("server")) == ("https://f.example", "flag --server")


def test_b4_config_names_the_patchwork_of_a_project_that_says_where_it_is():
    """LTP's .b4-config: pw-url and pw-project, read after git config and before the
    known projects; its project goes with its server only."""
    b4 = {"b4.pw-url": "https://patchwork.ozlabs.org/", "b4.pw-project": "ltp"}
    s = build(b4=b4, remotes={"origin": "https://gitlab.com/qemu-project/qemu.git"})
    assert (s.server, s.project) == ("https://patchwork.ozlabs.org", "ltp")
    assert (s.source("server"), s.source("project")) == (".b4-config b4.pw-url", ".b4-config b4.pw-project")
    s = build(b4=b4, gitconfig={"pwapply.server": "https://a.example", "pwapply.project": "p"})
    assert (s.server, s.project) == ("https://a.example", "p")
    s = build(b4=b4, gitconfig={"pwapply.server": "https://a.example"})
    assert (s.server, s.project) == ("https://a.example", None)  # another server: not its project
    s = build(b4=b4, gitconfig={"pwapply.server": "patchwork.ozlabs.org"})
    assert (s.server, s.project) == ("https://patchwork.ozlabs.org", "ltp")


def test_config_shows_what_b4_config_names(repo, cli):
    repo.write(".b4-config", "[b4]\n  pw-url = https://patchwork.ozlabs.org/\n  pw-project = ltp\n")
    result = cli("config", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "https://patchwork.ozlabs.org" in result.stdout and ".b4-config b4.pw-url" in result.stdout
    assert ".b4-config b4.pw-project" in result.stdout


@pytest.mark.parametrize(
    "url",
    [
        "https://gitlab.com/qemu-project/qemu.git",
        "git@gitlab.com:qemu-project/qemu.git",
        "https://github.com/qemu/qemu",
        "https://git.qemu.org/git/qemu.git",
        "https://gitlab.com/qemu-project/qemu",
    ],
)
def test_qemu_clones_are_known(url):
    s = build(remotes={"upstream": url})
    assert (s.server, s.project) == ("https://patchwork.ozlabs.org", "qemu-devel")
    assert s.source("server") == "known project (remote upstream)"


def test_unknown_repository_needs_config():
    s = build(remotes={"origin": "https://example.org/x.git"})
    with pytest.raises(ConfigError) as exc:
        s.require_server()
    assert "git config pwapply.server" in (exc.value.hint or "")


def test_token_is_redacted_and_kept_from_other_servers():
    s = build(gitconfig={"pwapply.server": "https://a.example", "pwapply.token": "tok"})
    assert s.token == "tok"
    assert ("token", "<redacted>", "git config pwapply.token") in s.rows()
    other = build(
        gitconfig={"pwapply.server": "https://a.example", "pwapply.token": "tok"}, url_server="https://b.example"
    )
    assert other.token is None
    same = build(
        gitconfig={"pwapply.server": "https://a.example", "pwapply.token": "tok"}, url_server="https://a.example"
    )
    assert same.token == "tok"


def test_link_format_sources():
    b4 = {"b4.linkmask": "https://lore.kernel.org/qemu-devel/%s"}
    assert build(b4=b4).get("linkFormat") == "https://lore.kernel.org/qemu-devel/%s"
    both = dict(b4, **{"b4.linktrailermask": "Message-ID: <%s>"})
    assert build(b4=both).get("linkFormat") == "Message-ID: <%s>"
    assert build(b4=both, gitconfig={"pwapply.linkformat": "{url}"}).get("linkFormat") == "{url}"
    assert (
        build(b4=both, gitconfig={"pwapply.linkformat": "{url}"}, flags={"link_format": "x/{msgid}"}).get("linkFormat")
        == "x/{msgid}"
    )


@pytest.mark.parametrize(
    "raw,norm",
    [
        ("patchwork.ozlabs.org", "https://patchwork.ozlabs.org"),
        ("https://patchwork.ozlabs.org/", "https://patchwork.ozlabs.org"),
        ("https://patchwork.kernel.org/api/1.1/", "https://patchwork.kernel.org"),
        ("http://127.0.0.1:8000/api", "http://127.0.0.1:8000"),
    ],
)
def test_normalize_server(raw, norm):
    assert config.normalize_server(raw) == norm


def test_config_command_shows_sources(repo, cli):
    repo.git("remote", "add", "origin", "https://gitlab.com/qemu-project/qemu.git")
    repo.git("config", "pw.token", "sekrit")
    result = cli("config", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert "https://patchwork.ozlabs.org" in result.stdout
    assert "known project (remote origin)" in result.stdout
    assert "<redacted>" in result.stdout and "sekrit" not in result.output
    result = cli("config", "--json", cwd=repo.path)
    import json

    data = json.loads(result.stdout)
    assert data["project"] == {"value": "qemu-devel", "source": "known project (remote origin)"}


@pytest.mark.parametrize(
    "value,expected",
    [("true", True), ("Yes", True), ("on", True), ("1", True), ("-2", True), ("false", False), ("NO", False)]
    + [("off", False), ("0", False), ("", False)],
)
def test_booleans_are_read_by_gits_rules(value, expected):
    from pwapply.config import parse_bool

    assert parse_bool(value, "pwapply.check.strict") is expected


def test_a_boolean_git_would_refuse_is_refused():
    from pwapply.config import parse_bool
    from pwapply.errors import ConfigError

    with pytest.raises(ConfigError, match="bad boolean value 'maybe' for pwapply.check.strict"):
        parse_bool("maybe", "pwapply.check.strict")
