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

TYPE_CHECKING = False  # typing costs 3-10 ms to load; the annotations need none of it
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

COMPLETE_VAR = "_PWAPPLY_COMPLETE"  # set when the shell asks for completions (Typer's)
STRAY_HINT = "give one SERIES; options for git go after --, e.g. pwapply 500889 -- --reject"


class ApplyArgs:
    """The apply command's arguments; the defaults are the command's (cli/app.py)."""

    series: str = ""
    server: Optional[str] = None
    project: Optional[str] = None
    archive: Optional[str] = None
    base: Optional[str] = None
    branch: Optional[str] = None
    no_branch: bool = False
    force: bool = False
    no_checkout: bool = False
    three_way: bool = True
    signoff: bool = False
    patches: Optional[str] = None
    link_format: Optional[str] = None
    no_link: bool = False
    allow_incomplete: bool = False
    resolve: bool = False
    no_deps: bool = False
    check_patches: Optional[bool] = None
    timeout: float = 30.0
    max_mbox_size: float = 64.0
    ca_bundle: Optional[str] = None
    as_json: bool = False
    verbose: bool = False
    quiet: bool = False
    passthrough: Tuple[str, ...] = ()  # after --, for git am
    stray: Tuple[str, ...] = ()  # words left over: a mistake, told as such

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            if name not in ApplyArgs.__annotations__:  # an argument, not a method
                raise TypeError(f"no argument {name!r}")
            setattr(self, name, value)

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
    "--no-branch": ("no_branch", True),
    "--force": ("force", True),
    "-f": ("force", True),
    "--no-checkout": ("no_checkout", True),
    "--3way": ("three_way", True),
    "--no-3way": ("three_way", False),
    "--signoff": ("signoff", True),
    "-s": ("signoff", True),
    "--no-link": ("no_link", True),
    "--allow-incomplete": ("allow_incomplete", True),
    "--resolve": ("resolve", True),
    "--no-deps": ("no_deps", True),
    "--check-patches": ("check_patches", True),
    "--no-check-patches": ("check_patches", False),
    "--json": ("as_json", True),
    "--verbose": ("verbose", True),
    "-v": ("verbose", True),
    "--quiet": ("quiet", True),
    "-q": ("quiet", True),
}
VALUED: Dict[str, Tuple[str, Any]] = {
    "--server": ("server", str),
    "--project": ("project", str),
    "--archive": ("archive", str),
    "--base": ("base", str),
    "--branch": ("branch", str),
    "-b": ("branch", str),
    "--patches": ("patches", str),
    "-p": ("patches", str),
    "--link-format": ("link_format", str),
    "--timeout": ("timeout", float),
    "--max-mbox-size": ("max_mbox_size", float),
    "--ca-bundle": ("ca_bundle", str),
}
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
