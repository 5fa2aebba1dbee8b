"""The token from git's credential helpers: `git credential fill` for the configured
server, its password being the token (as a helper stores it for `git push` over https).

Never a prompt: no terminal (GIT_TERMINAL_PROMPT=0) and no askpass program (an empty
GIT_ASKPASS stops git from looking for core.askPass or SSH_ASKPASS), so that a hook can
never block on it.  Bounded in time: git and its helper run in a process group of their
own, ended together when the time is up.
"""

from __future__ import annotations

from typing import Optional, Tuple
from urllib.parse import urlsplit

from .run import Git, first_line, run_program

NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": ""}


def request(server: str) -> bytes:
    """What `git credential fill` reads for ``server``: protocol, host (with its port)
    and path (used by git only with credential.useHttpPath)."""
    parts = urlsplit(server)
    lines = [f"protocol={parts.scheme}", f"host={parts.netloc}"]
    path = parts.path.strip("/")
    if path:
        lines.append(f"path={path}")
    return ("\n".join(lines) + "\n\n").encode()


def fill(git: Git, server: str, timeout: float) -> Tuple[Optional[str], str]:
    """(the token git's credential helpers have for ``server``, "") or (None, why not:
    "" when no helper has one, else what went wrong)."""
    argv = ["git", *git.config, "credential", "fill"]
    git._show(argv)
    try:
        code, out, err = run_program(argv, cwd=git.cwd, stdin=request(server), timeout=timeout, env=git._env(NO_PROMPT))
    except TimeoutError:
        return None, f"git credential gave no answer within {timeout:g} s"
    if code != 0:
        # No helper had one, and git would have asked: "terminal prompts disabled".
        lines = [x for x in err.decode("utf-8", "replace").splitlines() if "terminal prompts disabled" not in x]
        said = first_line("\n".join(lines))
        return None, f"git credential: {said}" if said else ""
    password = None
    for line in out.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition("=")
        if key == "password" and value:
            password = value
    return password, ""
