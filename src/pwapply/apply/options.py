"""The data of an apply: what the user asked for (Options), what the settings make of
it once at the start (Plan: the values that flow down the pipeline, so that no step
below reads the settings again), and what came of it (Result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from ..config import Settings
from ..errors import InputError
from ..frozen import frozen
from ..mbox import range_parts
from ..sources.model import Key

if TYPE_CHECKING:
    from .checks import Checked

DEFAULT_CHECK_TIMEOUT = 60.0  # seconds each per-patch check may take


@dataclass
class Options:
    base: Optional[str] = None
    branch: Optional[str] = None
    no_branch: bool = False
    force: bool = False
    checkout: bool = True
    three_way: bool = True
    signoff: bool = False
    patches: Optional[str] = None
    passthrough: Sequence[str] = ()  # what came after --: options for git am
    link: bool = True
    allow_incomplete: bool = False
    resolve: bool = False
    no_deps: bool = False  # apply the series alone, not what it is based on
    check_patches: Optional[bool] = None  # run the per-patch check (None: git config pwapply.checkPatches)

    def check(self) -> None:
        """Refuse combinations that cannot mean anything, and malformed values, before
        any work."""
        if self.patches is not None:
            range_parts(self.patches)
        if self.no_branch and (self.branch or self.force):
            raise InputError(
                "--no-branch cannot be combined with --branch or --force",
                "--no-branch applies on top of the current branch",
            )
        if self.no_branch and self.base:
            raise InputError(
                "--no-branch cannot be combined with --base", "--no-branch applies on top of the current branch"
            )
        if self.resolve and not self.checkout:
            raise InputError(
                "--resolve needs the branch checked out; drop --no-checkout",
                "--resolve leaves the am session in your work tree",
            )


@frozen
class Plan:
    """The settings of this run as the pipeline needs them."""

    server: Optional[str]  # the configured (or typed) Patchwork server
    project: Optional[str]
    branch_format: str
    link_format: Optional[str]  # None: a Link to the patch's page (or lore without a server)
    link: bool
    sign: Optional[str]  # the key git am would sign with ("" git's default); None: unsigned
    check_cmd: Optional[str] = None  # the per-patch check to run; None: none
    check_timeout: float = DEFAULT_CHECK_TIMEOUT
    check_note: str = ""  # why the check asked for by git config does not run
    archive: Optional[str] = None  # the list's public-inbox archive, when one is known

    @classmethod
    def make(cls, settings: Settings, opts: Options) -> "Plan":
        wanted = opts.check_patches if opts.check_patches is not None else settings.flag("pwapply.checkpatches")
        command = settings.get("checkPatchesCmd") if wanted else None
        note = ""
        if wanted and not command:
            if opts.check_patches:
                raise InputError(
                    "--check-patches: no per-patch check command is set for this repository",
                    "git config pwapply.checkPatchesCmd 'scripts/checkpatch.pl -q --terse --no-summary --mailback -' "
                    "(or am-perpatch-check-cmd in .b4-config)",
                )
            note = "pwapply.checkPatches is on, but no check command is set here (pwapply.checkPatchesCmd)"
        return cls(
            server=settings.server,
            project=settings.project,
            branch_format=settings.branch_format,
            link_format=settings.get("linkFormat") if opts.link else None,
            link=opts.link,
            sign=signing_key(settings.flag("commit.gpgsign"), opts.passthrough),
            check_cmd=command,
            check_timeout=(
                _seconds(settings.gitconfig.get("pwapply.checkpatchestimeout"), DEFAULT_CHECK_TIMEOUT)
                if command
                else DEFAULT_CHECK_TIMEOUT
            ),
            check_note=note,
            archive=settings.archive,
        )


def _seconds(value: Optional[str], default: float) -> float:
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise InputError(
            f"pwapply.checkPatchesTimeout is {value!r}: not a number of seconds",
            "git config pwapply.checkPatchesTimeout 60",
        )
    return seconds


def signing_key(gpgsign: bool, am_options: Sequence[str]) -> Optional[str]:
    """The key git am would sign the commits with: "" for git's default key, None for
    no signature.  As git am decides: -S[KEY] / --gpg-sign[=KEY] / --no-gpg-sign among
    the options for it, else commit.gpgSign."""
    sign: Optional[str] = "" if gpgsign else None
    for arg in am_options:
        if arg in ("-S", "--gpg-sign"):
            sign = ""
        elif arg.startswith("-S"):
            sign = arg[2:]
        elif arg.startswith("--gpg-sign="):
            sign = arg.split("=", 1)[1]
        elif arg == "--no-gpg-sign":
            sign = None
    return sign


@frozen
class ChainItem:
    """A series of the chain an apply made (the one asked for is last)."""

    key: Key
    version: int
    name: str
    patches: int
    applied: bool
    why: str = ""  # why it was not applied


@dataclass
class Result:
    branch: Optional[str]
    base: str
    tip: str
    commits: List[Tuple[str, str]]  # (id, subject)
    key: Optional[Key]  # the series applied (None: nothing was)
    label: str  # "series 500889 v2", "v2 from <archive>", "the mbox"
    version: int
    name: str
    old_tip: Optional[str] = None
    checked_out: bool = False
    notes: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)  # told even with -q: something did not go as asked
    checks: List["Checked"] = field(default_factory=list)  # what the per-patch check said of each patch
    series: List[ChainItem] = field(default_factory=list)  # the chain, bases first
    archive: Optional[str] = None  # the list archive the series (or some of its patches) came from
    from_archive: List[int] = field(default_factory=list)  # patches the archive gave a Patchwork series
