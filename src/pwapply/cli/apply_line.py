"""The everyday command line, ``pwapply SERIES [options]``, read without Typer (and
without loading anything: Typer and click cost tens of milliseconds before the first
git command).

``parse`` reads exactly the apply command's grammar (its options, a value as the next
word or after =, what follows -- for git am) and gives up on anything else (-h, a word
that may be a command or a typo of one, a bad number, an option it does not know...),
which Typer then parses and answers as it always has.  tests/test_apply_line.py parses
command lines both ways and wants the same ApplyArgs.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

COMPLETE_VAR = "_PWAPPLY_COMPLETE"  # set when the shell asks for completions (Typer's)
STRAY_HINT = "give one SERIES; options for git go after --, e.g. pwapply 500889 -- --reject"


class Opt:
    """An option of the apply command: the ApplyArgs field it sets, its spellings, what
    it takes (``bool`` for a flag; ``str`` or ``float`` for a value), its default, and
    its help.  A flag with ``off`` has a spelling that sets it to False (--no-3way)."""

    def __init__(
        self,
        field: str,
        flags: Tuple[str, ...],
        kind: Any,
        default: Any,
        help: str,
        metavar: Optional[str] = None,
        off: Optional[str] = None,
        value: Any = True,
    ) -> None:
        self.field, self.flags, self.kind, self.default = field, flags, kind, default
        self.help, self.metavar, self.off, self.value = help, metavar, off, value


# The apply command's options, once: main.py's parser (below) and the Typer command
# (cli/app.py) take their spellings, defaults and help from here, and so do the options
# other commands share (cli/options.py).
OPTIONS: Tuple[Opt, ...] = (
    Opt(
        "server",
        ("--server",),
        str,
        None,
        "Patchwork server, e.g. --server https://patchwork.ozlabs.org (default: git config pwapply.server).",
        "URL",
    ),
    Opt(
        "project",
        ("--project",),
        str,
        None,
        "Patchwork project for Message-ID lookups, e.g. --project qemu-devel.",
        "NAME",
    ),
    Opt(
        "archive",
        ("--archive",),
        str,
        None,
        "The list's public-inbox archive, e.g. --archive https://lore.kernel.org/qemu-devel "
        "(default: git config pwapply.archive, .b4-config's midmask, or the known project's).",
        "URL",
    ),
    Opt("base", ("--base",), str, None, "Commit to apply on, e.g. --base origin/master (default: HEAD).", "REF"),
    Opt(
        "branch",
        ("--branch", "-b"),
        str,
        None,
        "Branch to create, e.g. -b review/foo (default: pw/{slug}-v{version}, or pwapply.branchFormat).",
        "NAME",
    ),
    Opt(
        "no_branch",
        ("--no-branch",),
        bool,
        False,
        "Apply on top of the current branch instead of creating one (a maintainer's queue).",
    ),
    Opt("force", ("--force", "-f"), bool, False, "Move an existing branch of that name; its old tip is printed."),
    Opt("no_checkout", ("--no-checkout",), bool, False, "Create the branch but stay where you are."),
    Opt("three_way", ("--3way",), bool, True, "Let git am fall back to a 3-way merge (default: on).", off="--no-3way"),
    Opt("signoff", ("--signoff", "-s"), bool, False, "Add your Signed-off-by after the Link trailer."),
    Opt("patches", ("--patches", "-p"), str, None, "Apply only some patches, e.g. --patches 1-3,5.", "RANGE"),
    Opt(
        "link_format",
        ("--link-format",),
        str,
        None,
        "Link trailer template with {msgid} {url} {project}, e.g. "
        "'https://lore.kernel.org/qemu-devel/{msgid}' or 'Message-ID: <{msgid}>'.",
        "TEMPLATE",
    ),
    Opt("no_link", ("--no-link",), bool, False, "Add no Link trailer."),
    Opt(
        "allow_incomplete",
        ("--allow-incomplete",),
        bool,
        False,
        "Apply a series even if some of its patches never reached the server.",
    ),
    Opt(
        "resolve",
        ("--resolve",),
        bool,
        False,
        "On a conflict, leave git am stopped in your work tree to fix it by hand.",
    ),
    Opt(
        "no_deps",
        ("--no-deps",),
        bool,
        False,
        "Apply the series alone, not the series its Based-on:/Depends-on: lines name (default: those first).",
    ),
    Opt(
        "check_patches",
        ("--check-patches",),
        bool,
        None,
        "Run the per-patch check (pwapply.checkPatchesCmd, or .b4-config am-perpatch-check-cmd, e.g. QEMU's "
        "checkpatch.pl) on each patch and show what it finds; the apply goes on (default: git config "
        "pwapply.checkPatches).",
        off="--no-check-patches",
    ),
    Opt(
        "timeout",
        ("--timeout",),
        float,
        30.0,
        "Give up on the server after this long, all requests together, e.g. --timeout 60.",
        "SECONDS",
    ),
    Opt(
        "max_mbox_size",
        ("--max-mbox-size",),
        float,
        64.0,
        "Refuse a series mbox larger than this, e.g. --max-mbox-size 256.",
        "MIB",
    ),
    Opt(
        "ca_bundle",
        ("--ca-bundle",),
        str,
        None,
        "Trust the CAs in FILE for https (a PEM file, e.g. /etc/my-ca.pem).",
        "FILE",
    ),
    Opt("as_json", ("--json",), bool, False, "Print the result as JSON on stdout."),
    Opt("verbose", ("--verbose", "-v"), bool, False, "Show HTTP requests and git commands."),
    Opt("quiet", ("--quiet", "-q"), bool, False, "Print nothing but errors."),
)
BY_FIELD: Dict[str, Opt] = {o.field: o for o in OPTIONS}


class ApplyArgs:
    """The apply command's arguments; the defaults are OPTIONS'."""

    series: str
    server: Optional[str]
    project: Optional[str]
    archive: Optional[str]
    base: Optional[str]
    branch: Optional[str]
    no_branch: bool
    force: bool
    no_checkout: bool
    three_way: bool
    signoff: bool
    patches: Optional[str]
    link_format: Optional[str]
    no_link: bool
    allow_incomplete: bool
    resolve: bool
    no_deps: bool
    check_patches: Optional[bool]
    timeout: float
    max_mbox_size: float
    ca_bundle: Optional[str]
    as_json: bool
    verbose: bool
    quiet: bool
    passthrough: Tuple[str, ...]  # after --, for git am
    stray: Tuple[str, ...]  # words left over: a mistake, told as such

    def __init__(self, **values: Any) -> None:
        for name in values:
            if name not in ApplyArgs.__annotations__:  # an argument, not a method
                raise TypeError(f"no argument {name!r}")
        defaults: Dict[str, object] = {"series": "", "passthrough": (), "stray": ()}
        defaults.update({o.field: o.default for o in OPTIONS})
        for name in ApplyArgs.__annotations__:
            setattr(self, name, values.get(name, defaults[name]))

    def values(self) -> Dict[str, object]:
        """Every argument, given or defaulted."""
        return {name: getattr(self, name) for name in ApplyArgs.__annotations__}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApplyArgs) and self.values() == other.values()

    def __repr__(self) -> str:
        return f"ApplyArgs({', '.join(f'{k}={v!r}' for k, v in self.values().items())})"

    @property
    def max_mbox(self) -> int:
        return int(self.max_mbox_size * 1024 * 1024)


# A flag sets its field to a value; an option with a value sets its field to the next
# word (or what follows =), converted.
FLAGS: Dict[str, Tuple[str, Any]] = {
    **{f: (o.field, True) for o in OPTIONS if o.kind is bool for f in o.flags},
    **{o.off: (o.field, False) for o in OPTIONS if o.kind is bool and o.off},
}
VALUED: Dict[str, Tuple[str, Any]] = {f: (o.field, o.kind) for o in OPTIONS if o.kind is not bool for f in o.flags}
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def parse(argv: Sequence[str], environ: Mapping[str, str]) -> Optional[ApplyArgs]:
    """``argv`` (after the program's name) as the apply command reads it, or None when
    it is not plainly an apply (Typer then parses it)."""
    if COMPLETE_VAR in environ:
        return None
    args = list(argv[1:] if argv[:1] == ["apply"] else argv)
    passthrough: Tuple[str, ...] = ()
    if "--" in args:
        at = args.index("--")
        args, passthrough = args[:at], tuple(args[at + 1 :])
    values: Dict[str, object] = {}
    words: List[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a in FLAGS:
            name, value = FLAGS[a]
            values[name] = value
            continue
        if a in VALUED:
            if i == len(args):
                return None  # a missing value: Typer's message
            key, raw = a, args[i]
            i += 1
        elif a.startswith("--") and a.partition("=")[0] in VALUED:
            key, _, raw = a.partition("=")
        elif a.startswith("-") and a != "-":
            return None  # -h, --help, an option of another command, -qs...
        else:
            words.append(a)
            continue
        name, kind = VALUED[key]
        try:
            values[name] = kind(raw)
        except ValueError:
            return None  # not a number: Typer's message
    if not words or (argv[:1] != ["apply"] and _may_be_command(words[0])):
        return None
    return ApplyArgs(series=words[0], stray=tuple(words[1:]), passthrough=passthrough, **values)


def _may_be_command(word: str) -> bool:
    """A plain lowercase word (as cli/app.py's typo check sees one): a command's name,
    or a typo of one, is Typer's to answer."""
    return 2 <= len(word) <= 21 and word[0] in _LOWER and all(c in _LOWER or c == "-" for c in word)
