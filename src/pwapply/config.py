"""Settings: each value and where it came from.

Precedence, highest first: command-line flags, a Patchwork URL the user typed (its host
and project name the server), environment (PWAPPLY_*), git config (pwapply.*, then
git-pw's pw.*), the repository's conventions (.b4-config), the table of well-known
projects (matched on the repository's remotes, and, for the list archive, on the server
and project).  Built once per run and passed in.
"""

from __future__ import annotations

import os
import re
from dataclasses import field
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Tuple

from .errors import ConfigError
from .frozen import frozen
from .git.credential import fill
from .git.repo import read_config, read_config_file
from .naming import DEFAULT_BRANCH_FORMAT

if TYPE_CHECKING:
    from .git.run import Git

# (remote URL pattern, server, project).  Only entries we know for sure.
KNOWN_PROJECTS: Tuple[Tuple[str, str, Optional[str]], ...] = (
    (
        r"(gitlab\.com[:/]qemu-project/qemu|github\.com[:/]qemu/qemu|qemu\.org(/git)?/qemu)(\.git)?/?$",
        "https://patchwork.ozlabs.org",
        "qemu-devel",
    ),
    (
        r"(source\.denx\.de[:/]u-boot/u-boot|github\.com[:/]u-boot/u-boot)(\.git)?/?$",
        "https://patchwork.ozlabs.org",
        "uboot",
    ),
    (
        r"(gitlab\.com[:/]buildroot\.org/buildroot|git\.buildroot\.net/buildroot|github\.com[:/]buildroot/buildroot)(\.git)?/?$",
        "https://patchwork.ozlabs.org",
        "buildroot",
    ),
    (r"(github\.com[:/]openvswitch/ovs)(\.git)?/?$", "https://patchwork.ozlabs.org", "openvswitch"),
    (r"(github\.com[:/]getpatchwork/patchwork)(\.git)?/?$", "https://patchwork.ozlabs.org", "patchwork"),
    (r"(dpdk\.org/(git/)?dpdk|github\.com[:/]DPDK/dpdk)(\.git)?/?$", "https://patches.dpdk.org", "dpdk"),
    # The kernel has one server and many projects: a series id needs no project.
    (
        r"(git\.kernel\.org/pub/scm/linux/kernel/git/torvalds/linux|github\.com[:/]torvalds/linux)(\.git)?/?$",
        "https://patchwork.kernel.org",
        None,
    ),
)

DEFAULT_TIMEOUT = 30.0

# The keys `pwapply config` shows, in order.
B4_CHECK = "b4.am-perpatch-check-cmd"  # QEMU's: scripts/checkpatch.pl -q --terse --no-summary --mailback -
KEYS = ("server", "project", "archive", "token", "branchFormat", "linkFormat", "checkPatchesCmd")

# The list archive (public-inbox) of a known project, by (server, project).  Only those
# we know for sure; the kernel's projects all live in lore's index of every list.
KNOWN_ARCHIVES: Dict[Tuple[str, Optional[str]], str] = {
    ("https://patchwork.ozlabs.org", "qemu-devel"): "https://lore.kernel.org/qemu-devel",
    ("https://patchwork.ozlabs.org", "uboot"): "https://lore.kernel.org/u-boot",
    ("https://patchwork.kernel.org", None): "https://lore.kernel.org/all",
}


@frozen
class Value:
    value: Optional[str]
    source: str  # "flag --server", "env PWAPPLY_SERVER", "git config pw.server", ...


@frozen
class Settings:
    values: Mapping[str, Value]
    remotes: Mapping[str, str] = field(default_factory=dict)
    gitconfig: Mapping[str, str] = field(default_factory=dict)  # pwapply.* and pw.*, lowercased keys

    def get(self, key: str) -> Optional[str]:
        v = self.values.get(key)
        return v.value if v else None

    def source(self, key: str) -> str:
        v = self.values.get(key)
        return v.source if v else "unset"

    @property
    def server(self) -> Optional[str]:
        return self.get("server")

    @property
    def project(self) -> Optional[str]:
        return self.get("project")

    @property
    def archive(self) -> Optional[str]:
        """The list archive's base URL (a public-inbox inbox), when one is known."""
        return self.get("archive")

    @property
    def token(self) -> Optional[str]:
        return self.get("token")

    @property
    def branch_format(self) -> str:
        return self.get("branchFormat") or DEFAULT_BRANCH_FORMAT

    @property
    def me(self) -> Optional[str]:
        """Who the user is on Patchwork, for --mine: pwapply.user (or git-pw's
        pw.username), a username; else their address (user.email)."""
        c = self.gitconfig
        return c.get("pwapply.user") or c.get("pw.username") or c.get("user.email")

    def flag(self, key: str, default: bool = False) -> bool:
        """A boolean git config key (lowercase name), read by git's rules."""
        value = self.gitconfig.get(key)
        return default if value is None else parse_bool(value, key)

    def require_server(self) -> str:
        return require_server(self.server)

    def rows(self) -> List[Tuple[str, str, str]]:
        """(key, shown value, source) for `pwapply config`; the token is redacted."""
        out = []
        for key in KEYS:
            v = self.values.get(key)
            shown = "" if v is None or v.value is None else v.value
            if key == "token" and shown:
                shown = "<redacted>"
            if key == "branchFormat" and not shown:
                shown, src = DEFAULT_BRANCH_FORMAT, "default"
            else:
                src = v.source if v else "unset"
            out.append((key, shown, src))
        return out


def with_credential(settings: Settings, git: "Git", timeout: float) -> Tuple[Settings, str]:
    """The settings with the token git's credential helpers have for the configured
    server, when no token is set: (settings, "") or (settings unchanged, why not, when a
    helper failed or hung).  Never for a server named only by a URL the user pasted."""
    if settings.token or not settings.server or settings.source("server") == "URL given":
        return settings, ""
    token, why = fill(git, settings.server, timeout)
    if not token:
        return settings, why
    values = dict(settings.values)
    values["token"] = Value(token, "git credential")
    return Settings(values=values, remotes=settings.remotes, gitconfig=settings.gitconfig), ""


def require_server(server: Optional[str]) -> str:
    """The server, or the error that says none is configured."""
    if not server:
        raise ConfigError(
            "no Patchwork server configured for this repository",
            "run: git config pwapply.server https://patchwork.example.org "
            "(and git config pwapply.project <name>), or pass --server",
        )
    return server


def parse_bool(value: str, key: str) -> bool:
    """A git config boolean by git's rules: true/yes/on and false/no/off in any case, an
    integer (0 is false), the empty string false; a key with no value at all reads
    "true" (git/repo.py).  Anything else is refused, as git refuses it."""
    text = value.strip().lower()
    if text in ("true", "yes", "on"):
        return True
    if text in ("false", "no", "off", ""):
        return False
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text) != 0
    raise ConfigError(f"bad boolean value {value!r} for {key}", f"git config {key} true (or false)")


def normalize_server(url: str) -> str:
    """``patchwork.ozlabs.org`` / ``https://x/api/1.1/`` -> ``https://x``."""
    given = url = url.strip()
    hint = "give the server's URL, e.g. https://patchwork.ozlabs.org (--server, or git config pwapply.server)"
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url):
        # A host name alone is taken for https://: one that names a host (a dot, a port,
        # localhost), not a word that was meant as something else.
        host = re.split(r"[/:]", url, maxsplit=1)[0]
        if not ("." in host or host == "localhost" or re.match(r"^[^/]+:\d+(/|$)", url)):
            raise ConfigError(f"invalid server URL: {given!r} (no https://, and not a host name)", hint)
        url = "https://" + url
    url = url.rstrip("/")
    url = re.sub(r"/api(/\d+\.\d+)?$", "", url)
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", url):
        raise ConfigError(f"invalid server URL: {given!r}", hint)
    return url


def normalize_archive(url: str, source: str = "") -> str:
    """``lore.kernel.org/qemu-devel/`` / ``https://x/list/%s`` -> ``https://x/list``."""
    url = url.strip()
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url):
        url = "https://" + url
    url = re.sub(r"/?%s.*$", "", url).rstrip("/")  # a b4 mask: the base before its %s
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", url):
        raise ConfigError(
            f"invalid archive URL{f' ({source})' if source else ''}: {url!r}",
            "use the inbox's base, e.g. https://lore.kernel.org/qemu-devel",
        )
    return url


def _host(url: str) -> str:
    m = re.match(r"^[a-z]+://([^/]+)", url, re.I)
    return m.group(1).lower() if m else ""


def known_project(remotes: Mapping[str, str]) -> Optional[Tuple[str, Optional[str], str]]:
    """(server, project, remote name) of the first remote that names a known project."""
    for name in sorted(remotes, key=lambda n: (n != "origin", n != "upstream", n)):
        url = remotes[name]
        for pattern, server, project in KNOWN_PROJECTS:
            if re.search(pattern, url, re.I):
                return server, project, name
    return None


def build(
    *,
    flags: Mapping[str, Optional[str]],
    env: Mapping[str, str],
    gitconfig: Mapping[str, str],
    remotes: Mapping[str, str],
    b4config: Mapping[str, str],
    url_server: Optional[str] = None,
    url_project: Optional[str] = None,
    url_archive: Optional[str] = None,
) -> Settings:
    """Assemble Settings from every source.  Pure: the caller reads the sources."""
    values: Dict[str, Value] = {}

    def pick(key: str, candidates: List[Tuple[Optional[str], str]]) -> None:
        for value, source in candidates:
            if value is not None and value != "":
                values[key] = Value(value, source)
                return

    known = known_project(remotes)
    known_src = f"known project (remote {known[2]})" if known else ""
    pick(
        "server",
        [
            (flags.get("server"), "flag --server"),
            (url_server, "URL given"),
            (env.get("PWAPPLY_SERVER"), "env PWAPPLY_SERVER"),
            (gitconfig.get("pwapply.server"), "git config pwapply.server"),
            (gitconfig.get("pw.server"), "git config pw.server"),
            (b4config.get("b4.pw-url"), ".b4-config b4.pw-url"),
            (known[0] if known else None, known_src),
        ],
    )
    if "server" in values:
        v = values["server"]
        values["server"] = Value(normalize_server(v.value or ""), v.source)
    # A project only makes sense with the server it came with: a URL's project goes with
    # the URL's server, a known project's with its server.
    server_src = values["server"].source if "server" in values else ""
    # .b4-config's project names a project of .b4-config's server.
    b4_server = b4config.get("b4.pw-url")
    b4_project = b4config.get("b4.pw-project")
    if b4_project and not (
        "server" in values and b4_server and _host(normalize_server(b4_server)) == _host(values["server"].value or "")
    ):
        b4_project = None
    pick(
        "project",
        [
            (flags.get("project"), "flag --project"),
            (url_project if server_src in ("URL given", "flag --server") else None, "URL given"),
            (env.get("PWAPPLY_PROJECT") if server_src != "URL given" else None, "env PWAPPLY_PROJECT"),
            (gitconfig.get("pwapply.project") if server_src != "URL given" else None, "git config pwapply.project"),
            (gitconfig.get("pw.project") if server_src != "URL given" else None, "git config pw.project"),
            (b4_project if server_src != "URL given" else None, ".b4-config b4.pw-project"),
            (known[1] if known and server_src.startswith("known project") else None, known_src),
        ],
    )
    server = values["server"].value if "server" in values else None
    project = values["project"].value if "project" in values else None
    midmask = b4config.get("b4.midmask")
    pick(
        "archive",
        [
            (flags.get("archive"), "flag --archive"),
            (url_archive, "URL given"),
            (env.get("PWAPPLY_ARCHIVE"), "env PWAPPLY_ARCHIVE"),
            (gitconfig.get("pwapply.archive"), "git config pwapply.archive"),
            (midmask if midmask and "%s" in midmask else None, ".b4-config b4.midmask"),
            (
                KNOWN_ARCHIVES.get((server or "", project)) or KNOWN_ARCHIVES.get((server or "", None)),
                f"known project ({project or server})",
            ),
        ],
    )
    if "archive" in values:
        v = values["archive"]
        off = (v.value or "").strip().lower() in ("none", "off", "false", "no")  # no archive, not even a known one
        values["archive"] = Value(None if off else normalize_archive(v.value or "", v.source), v.source)
    pick(
        "token",
        [
            (env.get("PWAPPLY_TOKEN"), "env PWAPPLY_TOKEN"),
            (gitconfig.get("pwapply.token"), "git config pwapply.token"),
            (gitconfig.get("pw.token"), "git config pw.token"),
        ],
    )
    # A token belongs to the server it was configured for: a URL pasted for another
    # server does not get it, nor does another server named by --server.
    configured = env.get("PWAPPLY_SERVER") or gitconfig.get("pwapply.server") or gitconfig.get("pw.server")
    if "token" in values and server_src in ("URL given", "flag --server"):
        other = not configured or _host(normalize_server(configured)) != _host(values["server"].value or "")
        if other and (server_src == "URL given" or configured):
            values["token"] = Value(None, values["token"].source + " (not used: another server)")
    pick(
        "branchFormat",
        [
            (flags.get("branch_format"), "flag"),
            (gitconfig.get("pwapply.branchformat"), "git config pwapply.branchFormat"),
        ],
    )
    trailermask = b4config.get("b4.linktrailermask")
    pick(
        "linkFormat",
        [
            (flags.get("link_format"), "flag --link-format"),
            (gitconfig.get("pwapply.linkformat"), "git config pwapply.linkFormat"),
            (trailermask if trailermask and "%s" in trailermask else None, ".b4-config b4.linktrailermask"),
            (b4config.get("b4.linkmask"), ".b4-config b4.linkmask"),
        ],
    )
    pick(
        "checkPatchesCmd",
        [
            (gitconfig.get("pwapply.checkpatchescmd"), "git config pwapply.checkPatchesCmd"),
            (b4config.get(B4_CHECK), f".b4-config {B4_CHECK}"),
        ],
    )
    return Settings(values=values, remotes=dict(remotes), gitconfig=dict(gitconfig))


def load(
    git: "Git",
    repo_top: Optional[str],
    *,
    flags: Mapping[str, Optional[str]],
    env: Mapping[str, str],
    url_server: Optional[str] = None,
    url_project: Optional[str] = None,
    url_archive: Optional[str] = None,
) -> Settings:
    """Read every source (one git process, two with a .b4-config) and build Settings.
    ``git`` runs in the repository (or anywhere, outside one)."""
    gitconfig, remotes = read_config(git)
    b4: Dict[str, str] = {}
    if repo_top:
        b4 = read_config_file(
            git,
            os.path.join(repo_top, ".b4-config"),
            ("b4.linkmask", "b4.linktrailermask", "b4.midmask", B4_CHECK, "b4.pw-url", "b4.pw-project"),
        )
    return build(
        flags=flags,
        env=env,
        gitconfig=gitconfig,
        remotes=remotes,
        b4config=b4,
        url_server=url_server,
        url_project=url_project,
        url_archive=url_archive,
    )
