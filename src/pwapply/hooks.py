"""The hooks: thin shell shims that run pwapply.

``pre-push`` runs `pwapply check --pre-push`; ``reference-transaction`` (with
`pwapply hooks install --accept`) runs `pwapply accept --pending` once a push has moved
the remote-tracking branches.  `pwapply hooks install` puts them where git looks for
hooks (core.hooksPath honoured).  A hook of that name that is not ours is kept beside it
as ``<name>.pwapply-chained`` and still runs first, with the same arguments and stdin;
`pwapply hooks uninstall` puts it back.  Our files carry a marker so that we recognise
them; installing twice changes nothing.  The scripts are the package's resources/, the
one copy of each (hooks/pre-push at the top of the repository links to it).
"""

from __future__ import annotations

import os
from typing import Tuple

from .errors import RepoStateError

MARKER = "pwapply-hook-v1"
PRE_PUSH = "pre-push"
ACCEPT = "reference-transaction"


def script(name: str = PRE_PUSH) -> str:
    """A hook as shipped (resources/<name>)."""
    from importlib.resources import files

    return (files("pwapply") / "resources" / name).read_text(encoding="utf-8")


def is_ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return MARKER in fh.read(4096)
    except OSError:
        return False


def install(hooks_dir: str, name: str = PRE_PUSH) -> Tuple[str, bool]:
    """(what happened, changed?)"""
    os.makedirs(hooks_dir, exist_ok=True)
    target = os.path.join(hooks_dir, name)
    chained = os.path.join(hooks_dir, f"{name}.pwapply-chained")
    if is_ours(target):
        _write(target, name)  # refresh an older copy of ours; same content: nothing changes
        return f"already installed in {hooks_dir}", False
    kept = ""
    if os.path.lexists(target):
        if os.path.lexists(chained):
            raise RepoStateError(
                f"both {target} and {chained} exist",
                "move one of them away, then run pwapply hooks install again",
            )
        os.rename(target, chained)
        kept = f"; your {name} hook is kept as {name}.pwapply-chained and still runs first"
    _write(target, name)
    return f"installed {target}{kept}", True


def uninstall(hooks_dir: str, name: str = PRE_PUSH) -> Tuple[str, bool]:
    target = os.path.join(hooks_dir, name)
    chained = os.path.join(hooks_dir, f"{name}.pwapply-chained")
    if not is_ours(target):
        return f"no pwapply {name} hook in {hooks_dir}", False
    os.unlink(target)
    if os.path.lexists(chained):
        os.rename(chained, target)
        return f"removed the pwapply hook and put your {name} hook back in {hooks_dir}", True
    return f"removed {target}", True


def _write(path: str, name: str) -> None:
    text = script(name)
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read() == text and os.access(path, os.X_OK):
                return
    except OSError:
        pass
    tmp = path + ".pwapply-tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
