"""The pre-push hook: a thin shell shim that runs `pwapply check --pre-push`.

`pwapply hooks install` puts it where git looks for hooks (core.hooksPath honoured).  A
pre-push hook that is not ours is kept beside it as ``pre-push.pwapply-chained`` and
still runs first, with the same arguments and stdin; `pwapply hooks uninstall` puts it
back.  Our file carries a marker so that we recognise it; installing twice changes
nothing.  ``hooks/pre-push`` in the repository is this same script.
"""

from __future__ import annotations

import os
from typing import Tuple

from .errors import RepoStateError

MARKER = "pwapply-hook-v1"
CHAINED = "pre-push.pwapply-chained"

SCRIPT = """#!/bin/sh
# pwapply pre-push hook (pwapply-hook-v1): refuses to push a superseded or rejected
# Patchwork series, and warns about review tags the commits lack.
# Installed by `pwapply hooks install`, removed by `pwapply hooks uninstall`.
# A pre-push hook that was here before is kept as pre-push.pwapply-chained and runs
# first, with the same arguments and input.  Skip all hooks once: git push --no-verify

input=$(cat; echo x)
input=${input%x}
here=$(dirname "$0")
if [ -x "$here/pre-push.pwapply-chained" ]; then
    printf '%s' "$input" | "$here/pre-push.pwapply-chained" "$@" || exit $?
fi
if command -v pwapply >/dev/null 2>&1; then
    printf '%s' "$input" | pwapply check --pre-push "$@"
    exit $?
fi
echo "pwapply is not installed: this push was not checked (pip install pwapply)" >&2
exit 0
"""


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
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.read() == SCRIPT and os.access(path, os.X_OK):
                return
    except OSError:
        pass
    tmp = path + ".pwapply-tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(SCRIPT)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
