"""The house rules of docs/architecture.md, checked on the source itself (its syntax
tree, nothing is run): who may run processes, speak HTTP or use Typer; what a pure module
may import; how long a module may grow; where a dict from JSON may travel; that the
package's imports form no circle; which imports may wait inside a function (the start-up
budget); and that nothing outside the sources asks which source a series came from."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pwapply"
MODULES = sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)

# The modules that must not do I/O, and all that they may import at run time.
PURE = {
    "resolve",
    "mbox",
    "trailers",
    "naming",
    "text",
    "frozen",
    "deps",
    "thread",
    "check.rules",
    "sources.keys",
    "sources.model",
    "sources.waiting",
    "sources.patchwork.models",
}
PURE_STDLIB = {
    "__future__",
    "base64",
    "binascii",
    "codecs",
    "dataclasses",
    "datetime",
    "email",
    "email.header",
    "email.policy",
    "email.utils",
    "quopri",
    "re",
    "typing",
    "unicodedata",
    "urllib.parse",
}
MAX_LINES = 500
# Where a dict[str, Any] may appear: where JSON is parsed or made.
JSON_MODULES = {
    "sources.patchwork.client",
    "sources.patchwork.models",
    "sources.keys",
    "record",
    "cli.render",
    "testing.store",
    "testing.server",
}


def name_of(path: Path) -> str:
    """``src/pwapply/git/run.py`` -> ``git.run``; a package's __init__ is the package."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@functools.lru_cache(maxsize=None)
def parsed(path: Path) -> ast.Module:
    """The module's syntax tree, read once for all the tests."""
    return ast.parse(path.read_text(), str(path))


def runtime_imports(path: Path) -> Iterator[Tuple[int, str]]:
    """(line, absolute module name) of each import the module makes when it runs (those
    under ``if TYPE_CHECKING:`` are for mypy only)."""
    return iter(_runtime_imports(path))


@functools.lru_cache(maxsize=None)
def _runtime_imports(path: Path) -> Tuple[Tuple[int, str], ...]:
    return tuple(_walk_imports(path))


def _walk_imports(path: Path) -> Iterator[Tuple[int, str]]:
    tree = parsed(path)
    package = name_of(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    typing_only: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            for sub in node.body:
                typing_only.update(id(n) for n in ast.walk(sub))
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(["pwapply", *base, *([node.module] if node.module else [])])
                if node.module is None:  # from . import a, b
                    for alias in node.names:
                        yield node.lineno, f"{module}.{alias.name}"
                    continue
                yield node.lineno, module
            else:
                yield node.lineno, node.module or ""


def offenders(allowed: str, forbidden: Tuple[str, ...]) -> List[str]:
    """Modules outside ``allowed`` (a package or module prefix) that import one of
    ``forbidden`` at run time."""
    found = []
    for path in MODULES:
        if name_of(path).startswith(allowed):
            continue
        for line, module in runtime_imports(path):
            if module.split(".")[0] in forbidden:
                found.append(f"{path.relative_to(SRC)}:{line} imports {module}")
    return found


def test_only_the_git_layer_starts_processes():
    assert offenders("git", ("subprocess",)) == []


def test_only_the_one_transport_speaks_http():
    """httpx only in net/ (the transport under Patchwork's and the archive's clients, and
    the connection that preloads it)."""
    assert offenders("net", ("httpx", "httpcore", "urllib3", "requests")) == [
        f"sources/connection.py:{n} imports {m}" for n, m in _preloads()
    ]


def _preloads() -> List[Tuple[int, str]]:
    path = SRC / "sources" / "connection.py"
    return [(n, m) for n, m in runtime_imports(path) if m.split(".")[0] in ("httpx", "httpcore")]


def test_only_the_command_line_uses_typer():
    assert offenders("cli", ("typer", "click")) == []


def test_the_typer_free_paths_of_the_command_line_load_no_typer():
    """The pre-push hook's fast path and the everyday apply's render and map errors
    without Typer."""
    for name in (
        "cli.boundary",
        "cli.check",
        "cli.console",
        "cli.render",
        "cli.context",
        "cli.apply",
        "cli.apply_line",
    ):
        path = SRC / (name.replace(".", "/") + ".py")
        assert [m for _, m in runtime_imports(path) if m.split(".")[0] in ("typer", "click")] == [], name


@pytest.mark.parametrize("module", sorted(PURE))
def test_a_pure_module_imports_nothing_that_does_io(module):
    path = SRC / (module.replace(".", "/") + ".py")
    pure = {f"pwapply.{m}" for m in PURE} | {"pwapply.errors", "pwapply"}
    bad = [
        f"line {line}: {m}"
        for line, m in runtime_imports(path)
        if not (m in PURE_STDLIB or m in pure or m == "pwapply.errors")
    ]
    assert bad == [], f"{module} must stay free of I/O"


def test_no_module_is_over_500_lines():
    long = {name_of(p): n for p in MODULES if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_frozen_values_are_made_by_frozen():
    """@dataclass(frozen=True) compiles five methods a class as its module is imported;
    pwapply.frozen makes the same class for half of that (tests/test_frozen.py)."""
    slow = [
        f"{p.relative_to(SRC)}:{n}"
        for p in MODULES
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.match(r"\s*@(dataclasses\.)?dataclass\(.*frozen=True", line)
    ]
    assert slow == []


def test_json_dicts_stay_where_the_json_is_parsed():
    """No dict[str, Any] past the module that parses the JSON: typed values travel."""
    pattern = re.compile(r"(Dict|dict|Mapping)\[str, *Any\]")
    found: Dict[str, int] = {}
    for path in MODULES:
        if name_of(path) in JSON_MODULES:
            continue
        n = len(pattern.findall(path.read_text()))
        if n:
            found[name_of(path)] = n
    assert found == {}


def test_the_rules_see_what_they_are_about():
    """The checks above would pass on an empty tree: make sure they read the real one."""
    names = {name_of(p) for p in MODULES}
    assert {"git.run", "net.transport", "cli.app", "apply.pipeline", "check.rules", "sources.policy"} <= names
    assert offenders("nothing", ("subprocess",))  # the git layer does run processes
    assert offenders("nothing", ("typer",))
    app = SRC / "cli" / "app.py"
    assert any(m == "pwapply.cli.boundary" for _, m in runtime_imports(app))


# ------------------------------------------------------------------ imports


def imports(path: Path) -> Iterator[Tuple[int, str, bool]]:
    """(line, module, inside a function) of each import of the package's own modules the
    module makes at run time, ``from . import a`` resolved to the module ``a`` when it is
    one."""
    names = {name_of(p) for p in MODULES}
    tree = parsed(path)
    nested: Set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            nested.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        inside = id(node) in nested
        for line, module in runtime_imports_of(path, node):
            if not module.startswith("pwapply"):
                yield line, module, inside
                continue
            short = module[len("pwapply.") :]
            if isinstance(node, ast.ImportFrom) and node.module is not None:
                submodules = [f"{short}.{a.name}" for a in node.names if f"{short}.{a.name}" in names]
                if submodules:  # from .x import a_module
                    yield from ((line, m, inside) for m in submodules)
                    continue
            if short in names:
                yield line, short, inside
            elif short.rsplit(".", 1)[0] in names:  # from .x import a_name
                yield line, short.rsplit(".", 1)[0], inside


def runtime_imports_of(path: Path, node: ast.AST) -> List[Tuple[int, str]]:
    """runtime_imports() of one import statement (none for one under TYPE_CHECKING)."""
    return [(line, m) for line, m in runtime_imports(path) if line == getattr(node, "lineno", -1)]


def graph() -> Dict[str, Set[str]]:
    out: Dict[str, Set[str]] = {}
    for path in MODULES:
        me = name_of(path)
        out[me] = {m for _, m, _ in imports(path) if not m.startswith(("pwapply", me + "."))} - {me, ""}
        out[me] = {m for m in out[me] if m in {name_of(p) for p in MODULES}}
    return out


def test_the_package_imports_form_no_circle():
    """No module is reached again from its own imports, those inside functions included:
    an import circle is a design bug, not something to hide in a function."""
    assert circles_in(graph()) == []
    assert circles_in({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]  # it sees one


def circles_in(edges: Dict[str, Set[str]]) -> List[List[str]]:
    circles: List[List[str]] = []
    state: Dict[str, int] = {}
    path: List[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                circles.append(path[path.index(n) :] + [n])
            elif n not in state:
                visit(n)
        path.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    return circles


# What may be imported inside a function, and why: the start-up budget.  Everything else
# is imported at the top of its module.
DEFERRED = {
    # Measured costs a run must not pay before it needs them (-X importtime, here):
    "httpx": "110 ms with its transport: loaded in a thread, or by a run that asks a server",
    "httpcore": "httpx's transport, preloaded with it",
    "ssl": "20-30 ms: loaded with httpx, or for a --ca-bundle",
    "typer": "40-60 ms: the everyday apply and the pre-push hook do without it (main.py)",
    "click": "Typer's",
    "rich": "Typer's help formatting",
    "concurrent.futures": "20 ms with logging: the hook's path has no thread to wait for",
    "platform": "2 ms on every run, for a bug's report alone",
    "traceback": "4 ms on every run, for a bug's report alone",
    "difflib": "2 ms on every run, for a mistyped option's suggestion alone",
    "json": "on the hook's path, for an error under --json alone",
    "importlib.resources": "15 ms, for pwapply hooks alone",
    "pwapply.cli.app": "Typer's command line: main.py loads it only for what the fast paths do not answer",
    "pwapply.cli.apply_line": "the everyday apply's command line, read before Typer is",
    "pwapply.cli.apply": "the everyday apply, for main.py",
    "pwapply.cli.check": "the pre-push hook's check, for main.py and the check command",
    "pwapply.check.command": "the pre-push hook's check, for main.py and the check command",
    "pwapply.__version__": "--version, answered first",
    "pwapply.main": "the program's command line, after the signals are in place (__main__.py)",
    # A command's library, imported where the command runs: --help loads none of them.
    "pwapply.versions": "pwapply versions, for --help",
    "pwapply.listing": "pwapply list, for --help",
    "pwapply.diff": "pwapply diff, for --help",
    "pwapply.apply.options": "the apply's options, for --help",
    "pwapply.apply.pipeline": "the apply, for --help",
    "pwapply.branches.status": "pwapply status, for --help",
    "pwapply.branches.update": "pwapply update, for --help",
    "pwapply.branches.accept": "pwapply accept, for --help",
    "pwapply.demo": "pwapply demo, for --help",
    "pwapply.hooks": "pwapply hooks, for --help",
    "pwapply.resolve": "update --to-latest's, for --help",
    # The pre-push hook's run reads the configuration and opens the sources only when a
    # commit carries a trailer of ours: a push of other commits costs two git processes.
    "pwapply.config": "the hook's path reads no configuration for commits not ours",
    "pwapply.sources.connection": "the hook's path asks no server for commits not ours",
    "pwapply.sources.policy": "the hook's path asks no server for commits not ours",
}


def test_imports_wait_inside_a_function_only_for_the_start_up_budget():
    deferred = []
    for path in MODULES:
        if name_of(path).startswith("testing"):
            continue
        for line, module, inside in imports(path):
            if inside and module.split(".")[0] not in DEFERRED and f"pwapply.{module}" not in DEFERRED:
                if module not in DEFERRED:
                    deferred.append(f"{path.relative_to(SRC)}:{line} {module}")
    assert deferred == []


def test_few_imports_wait_inside_a_function():
    """The package's own modules imported inside a function: at most 30 (there were 130)."""
    own = [
        (path, line, module)
        for path in MODULES
        if not name_of(path).startswith("testing")
        for line, module, inside in imports(path)
        if inside and not module.startswith(tuple(k for k in DEFERRED if not k.startswith("pwapply")))
    ]
    assert len(own) <= 30, own


# ------------------------------------------------------------------ one seam for the sources

# What asks which source a series came from: the kinds of keys, the sources' classes and
# clients, the archive of a series tested for None.
SOURCE_BRANCHES = re.compile(
    r"(?<![.\w])(PATCHWORK|ARCHIVE|MBOX)\b|\bkey\.kind\b|\.source\s*==|isinstance\([^)]*(Patchwork|Archive|Mbox)"
    r"|\barchive is (not )?None|\.got\b|\bseries_id is (not )?None|\.id == 0"
)


def source_branches() -> List[str]:
    """Places outside the sources' own modules and the renderer that branch on the
    source of a series (imports of the kinds not counted, their uses are)."""
    found = []
    for path in MODULES:
        name = name_of(path)
        if name.startswith(("sources", "testing")) or name in ("cli.render", "resolve"):
            continue  # resolve.py's kinds are of what the user typed, not of sources
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if line.lstrip().startswith(("from ", "import ", "#")):
                continue
            if SOURCE_BRANCHES.search(line):
                found.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    return found


def test_nothing_after_the_fetch_asks_where_a_series_came_from():
    """At most 5 places outside the sources' own modules and the renderer (there were
    about 50); the rest carries a Key and asks its source."""
    assert len(source_branches()) <= 5, "\n".join(source_branches())


def test_every_package_has_its_init():
    """A directory of modules without __init__.py is a namespace package: setuptools'
    find leaves it out of a wheel, and the installed pwapply cannot import it."""
    dirs = {p.parent for p in MODULES}
    assert [str(d.relative_to(SRC)) for d in sorted(dirs) if not (d / "__init__.py").exists()] == []
