"""The pre-push hook: a thin shell shim that runs `pwapply check --pre-push`.

`pwapply hooks install` puts it where git looks for hooks (core.hooksPath honoured).  A
pre-push hook that is not ours is kept beside it as ``pre-push.pwapply-chained`` and
still runs first, with the same arguments and stdin; `pwapply hooks uninstall` puts it
back.  Our file carries a marker so that we recognise it; installing twice changes
nothing.  The script is the package's resources/pre-push, the one copy.
"""

from __future__ import annotations

import os
from typing import Tuple

from .errors import RepoStateError

MARKER = "pwapply-hook-v1"
CHAINED = "pre-push.pwapply-chained"


def script() -> str:
    """The hook as shipped (resources/pre-push; hooks/pre-push at the top of the
    repository is the same file)."""
    from importlib.resources import files

    return (files("pwapply") / "resources" / "pre-push").read_text(encoding="utf-8")


def is_ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return MARKER in fh.read(4096)
    except OSError:
        return False


def install(hooks_dir: str) -> Tuple[str, bool]:
    """(what happened, changed?)"""
    os.makedirs(hooks_dir, exist_ok=True)
    target = os.path.join(hooks_dir, "pre-push")
    chained = os.path.join(hooks_dir, CHAINED)
    if is_ours(target):
        _write(target)  # refresh an older copy of ours; same content: nothing changes
        return f"already installed in {hooks_dir}", False
    kept = ""
    if os.path.lexists(target):
        if os.path.lexists(chained):
            raise RepoStateError(
                f"both {target} and {chained} exist",
                "move one of them away, then run pwapply hooks install again",
            )
        os.rename(target, chained)
        kept = f"; your pre-push hook is kept as {CHAINED} and still runs first"
    _write(target)
    return f"installed {target}{kept}", True


def uninstall(hooks_dir: str) -> Tuple[str, bool]:
    target = os.path.join(hooks_dir, "pre-push")
    chained = os.path.join(hooks_dir, CHAINED)
    if not is_ours(target):
        return f"no pwapply hook in {hooks_dir}", False
    os.unlink(target)
    if os.path.lexists(chained):
        os.rename(chained, target)
        return f"removed the pwapply hook and put your pre-push hook back in {hooks_dir}", True
    return f"removed {target}", True


def _write(path: str) -> None:
    text = script()
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
