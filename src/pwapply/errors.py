"""Error types. Library code raises these; only the CLI decides what the user sees.

Each error carries a one-line message, an optional hint and its exit code:

    0 done
    1 a patch did not apply (the repository was restored)
    2 bad usage or input
    3 not found on the server
    4 network or server failure
    5 the repository's state refused the operation
"""

from __future__ import annotations

from typing import Optional, Sequence

EXIT_OK = 0
EXIT_APPLY = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_NETWORK = 4
EXIT_REPO_STATE = 5


class PwapplyError(Exception):
    """An expected failure, reported to the user as `error:` + `hint:`."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InputError(PwapplyError):
    """What the user typed (or gave on stdin) is not something we can use."""

    exit_code = EXIT_USAGE


def require_timeout(timeout: float) -> None:
    """Every command's --timeout is a length of time: 0, a negative or nan is bad usage
    (it would otherwise surface as a server that 'did not answer within 0 s')."""
    if not timeout > 0:
        raise InputError("--timeout must be more than 0 seconds", "e.g. --timeout 30")


class ConfigError(PwapplyError):
    """A setting is missing or invalid."""

    exit_code = EXIT_USAGE


class NotARepositoryError(PwapplyError):
    exit_code = EXIT_USAGE


class NotFoundError(PwapplyError):
    exit_code = EXIT_NOT_FOUND


class NetworkError(PwapplyError):
    """The server could not be reached, timed out, or answered garbage."""

    exit_code = EXIT_NETWORK


class RepoStateError(PwapplyError):
    """The repository is in a state that refuses the operation."""

    exit_code = EXIT_REPO_STATE


class ApplyError(PwapplyError):
    """A patch did not apply; the repository has been restored."""

    exit_code = EXIT_APPLY

    def __init__(
        self,
        message: str,
        hint: Optional[str] = None,
        *,
        number: int = 0,
        subject: str = "",
        files: Sequence[str] = (),
        details: str = "",
    ) -> None:
        super().__init__(message, hint)
        self.number = number
        self.subject = subject
        self.files = tuple(files)
        self.details = details


class GitError(PwapplyError):
    """A git command failed in a way we did not expect.

    Carries the argv, exit code and both streams so that `-v` can show them.
    """

    exit_code = EXIT_REPO_STATE

    def __init__(self, argv: Sequence[str], returncode: int, stdout: bytes, stderr: bytes) -> None:
        first = stderr.decode("utf-8", "replace").strip().splitlines()
        detail = first[-1] if first else f"exit code {returncode}"
        words = list(argv[1:])
        while words and words[0].startswith("-"):  # name the command, not our -c settings
            words = words[2:] if words[0] in ("-c", "-C") else words[1:]
        name = " ".join(words[:1] + [w for w in words[1:2] if not w.startswith("-")])  # "worktree add"
        super().__init__(f"git {name} failed: {detail}", "run again with -v to see the git command and all it said")
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def details(self) -> str:
        """What -v shows after the error: the command and git's whole stderr."""
        return "$ " + " ".join(self.argv) + "\n" + self.stderr.decode("utf-8", "replace")
