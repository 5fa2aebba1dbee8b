"""The house rules of docs/architecture.md, checked on the source itself (its syntax
tree, nothing is run): who may run processes, speak HTTP or use Typer; what a pure module
may import; how long a module may grow; where a dict from JSON may travel."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pwapply"
MODULES = sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)

# The modules that must not do I/O, and all that they may import at run time.
PURE = {"resolve", "mbox", "trailers", "naming", "text", "deps", "thread", "check.rules", "patchwork.models"}
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
JSON_MODULES = {"patchwork.transport", "patchwork.models", "record", "cli.render", "testing.store", "testing.server"}


def name_of(path: Path) -> str:
    """``src/pwapply/git/run.py`` -> ``git.run``; a package's __init__ is the package."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def runtime_imports(path: Path) -> Iterator[Tuple[int, str]]:
    """(line, absolute module name) of each import the module makes when it runs (those
    under ``if TYPE_CHECKING:`` are for mypy only)."""
    tree = ast.parse(path.read_text(), str(path))
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


def test_only_the_patchwork_client_speaks_http():
    assert offenders("patchwork", ("httpx", "httpcore", "urllib3", "requests")) == []


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
    assert {"git.run", "patchwork.transport", "cli.app", "apply.pipeline", "check.rules"} <= names
    assert offenders("nothing", ("subprocess",))  # the git layer does run processes
    assert offenders("nothing", ("typer",))
    app = SRC / "cli" / "app.py"
    assert any(m == "pwapply.cli.boundary" for _, m in runtime_imports(app))
