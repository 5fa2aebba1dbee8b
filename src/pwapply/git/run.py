"""The one way pwapply runs git: ``Git.run`` (and ``Git.start`` for a command that
runs in the background, ``Git.show`` for one whose output is for the user).

A ``Git`` says where a command runs, which ``-c`` settings go before the subcommand
(the scratch worktree's), whether the variables git sets for hooks (GIT_DIR, ...) are
cleared, and where ``-v`` shows the commands.  Output is bytes; a failure raises
GitError with the argv, the exit code and both streams.

Every child is started and put on the books under ``process.hold()``, and every wait
for one goes through ``process.wait_fds``: a signal ends the wait at once.  The child
is then stopped with SIGTERM, on which git removes its lock files, and killed only if it
is still there 5 s later.  Past the commit point, children get a session of their own,
out of reach of a terminal's Ctrl-C.

git, not GitPython: every operation here is one git command, GitPython would spawn the
same processes, and importing it costs more than a whole pre-push check.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from .. import process
from ..errors import GitError
from ..frozen import frozen
from ..steps import started, step

Logger = Callable[[str], None]
STOP_GRACE = 5.0  # how long a child stopped with SIGTERM may take to clean up and die

# Variables git sets for hooks and that would send a command to the wrong repository.
_GIT_LOCAL_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
)


@frozen
class Git:
    """How to run git: in ``cwd``, with ``config`` (``-c`` arguments) before the
    subcommand, without git's hook variables when ``clean_env``, with ``env`` set, shown
    to ``log``."""

    cwd: Optional[str] = None
    log: Optional[Logger] = None
    config: Tuple[str, ...] = ()
    clean_env: bool = False
    env: Tuple[Tuple[str, str], ...] = ()  # set for every command (after the cleaning)

    def at(
        self,
        cwd: str,
        *,
        config: Sequence[str] = (),
        clean_env: bool = False,
        env: Optional[Mapping[str, str]] = None,
    ) -> "Git":
        """The same git (and log), aimed elsewhere."""
        return replace(self, cwd=cwd, config=tuple(config), clean_env=clean_env, env=tuple((env or {}).items()))

    def run(
        self,
        args: Sequence[str],
        *,
        input: Optional[bytes] = None,
        check: bool = True,
        env: Optional[Mapping[str, str]] = None,
        on_line: Optional[Callable[[bytes], None]] = None,
    ) -> "subprocess.CompletedProcess[bytes]":
        """Run ``git <args>``; its completed process (bytes), GitError on failure when
        ``check``.  ``on_line`` sees each line of its output as it comes."""
        argv = ["git", *self.config, *args]
        self._show(argv)
        name = _step_name(args)
        step(f"before {name}")
        with child(
            argv,
            cwd=self.cwd,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._env(env),
        ) as proc:
            started()
            stdout, stderr = communicate(proc, input, on_line)
        # A terminal's Ctrl-C reaches git too: a git it ended has no answer, and its exit
        # status must not be read as one ("not an ancestor", "no such ref").
        process.checkpoint()
        step(f"after {name}")
        done = subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)
        if check and done.returncode != 0:
            raise GitError(argv, done.returncode, done.stdout, done.stderr)
        return done

    def out(self, args: Sequence[str], *, input: Optional[bytes] = None) -> str:
        """stdout of a git command as text, without the final newline."""
        stdout: bytes = self.run(args, input=input).stdout
        return stdout.decode("utf-8", "surrogateescape").rstrip("\n")

    def start(self, args: Sequence[str], note: str = "") -> "Running":
        """Start ``git <args>`` in the background; the caller puts it on its books (under
        process.hold()) and reads it with ``result()`` or ends it with ``stop()``."""
        argv = ["git", *self.config, *args]
        self._show(argv, note)
        name = _step_name(args)
        step(f"before {name}")  # before its environment is made: a test hook may add to it
        return Running(argv, name, cwd=self.cwd, env=self._env(None))

    def show(self, args: Sequence[str], *, pager: bool) -> int:
        """Run a git command whose output is for the user: git's own pager and colours
        when stdout is a terminal (and ``pager``), plain otherwise.  Its exit code."""
        argv = ["git"] + ([] if pager else ["--no-pager"]) + list(args)
        self._show(argv)
        return program(argv, cwd=self.cwd, env=self._env(None))

    def _show(self, argv: Sequence[str], note: str = "") -> None:
        if self.log:
            where = f"   (in {self.cwd}{note})" if self.cwd else ""
            self.log(" ".join(_shell_quote(a) for a in argv) + where)

    def _env(self, extra: Optional[Mapping[str, str]]) -> Dict[str, str]:
        env = dict(os.environ)
        if self.clean_env:
            for name in _GIT_LOCAL_ENV:
                env.pop(name, None)
        env.setdefault("GIT_TERMINAL_PROMPT", "0")
        env.update(self.env)
        if extra:
            env.update(extra)
        return env


class Running:
    """A git command started in the background; ``result()`` waits for it, ``stop()``
    ends it if it still runs (both may be called more than once)."""

    def __init__(self, argv: List[str], name: str, *, cwd: Optional[str], env: Mapping[str, str]) -> None:
        self.argv = argv
        self._name = name
        self._stack = ExitStack()  # stops the command if it still runs
        self._done: Optional["subprocess.CompletedProcess[bytes]"] = None
        try:
            with process.hold():
                self._proc: Optional["subprocess.Popen[bytes]"] = self._stack.enter_context(
                    child(
                        argv,
                        cwd=cwd,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        env=env,
                    )
                )
        except BaseException:
            self._stack.close()
            raise
        started()

    def result(self, check: bool = True) -> "subprocess.CompletedProcess[bytes]":
        if self._done is None:
            assert self._proc is not None
            stdout, stderr = communicate(self._proc)
            process.checkpoint()  # as in Git.run: a git a signal ended has no answer
            self._done = subprocess.CompletedProcess(self.argv, self._proc.returncode, stdout, stderr)
            self._proc = None
            self._stack.close()
            step(f"after {self._name}")
        if check and self._done.returncode != 0:
            raise GitError(self.argv, self._done.returncode, self._done.stdout, self._done.stderr)
        return self._done

    def stop(self) -> None:
        self._proc = None
        self._stack.close()


def first_line(text: str) -> str:
    """The first line of a program's output that says something, stripped ("" if none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _step_name(args: Sequence[str]) -> str:
    """``git <subcommand>``, for the test hooks (steps.step)."""
    words = list(args)
    while words and words[0].startswith("-"):
        words = words[2:] if words[0] in ("-c", "-C") else words[1:]
    return "git " + (words[0] if words else "")


def _shell_quote(arg: str) -> str:
    return arg if re.match(r"^[\w@%+=:,./-]+$", arg) else "'" + arg.replace("'", "'\\''") + "'"


# ------------------------------------------------------------------ child processes


def program(
    argv: Sequence[str], *, cwd: Optional[str] = None, env: Optional[Mapping[str, str]] = None, one_stream: bool = False
) -> int:
    """Run a program with the terminal's stdin, stdout and stderr (a pager, the demo's
    steps); its exit code.  With ``one_stream``, what it says on stderr goes to stdout,
    in order with the rest (the demo, read through a pager)."""
    sys.stdout.flush()
    with child(argv, cwd=cwd, env=env, **({"stderr": subprocess.STDOUT} if one_stream else {})) as proc:
        code = wait(proc)
    return code if code is not None else 1


def run_program(
    argv: Sequence[str],
    *,
    cwd: Optional[str],
    stdin: bytes,
    timeout: float,
    env: Optional[Mapping[str, str]] = None,
    on_start: Optional[Callable[["subprocess.Popen[bytes]"], None]] = None,
) -> Tuple[int, bytes, bytes]:
    """Run a program with ``stdin`` in a process group of its own (a per-patch check, or
    git with the credential helper it starts), ended whole when ``timeout`` runs out
    (TimeoutError) or the block is left; (exit code, stdout, stderr).  OSError when it
    cannot be started.  ``on_start`` sees the process once it runs (to end it from
    elsewhere)."""
    deadline = time.monotonic() + timeout
    with child(
        list(argv),
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    ) as proc:
        try:
            if on_start is not None:
                on_start(proc)
            out, err = communicate(proc, stdin, deadline=deadline)
        finally:
            end_group(proc)
    return proc.returncode, out, err


def end_group(proc: "subprocess.Popen[Any]") -> None:
    """SIGTERM to what is left of a process group started with start_new_session (its
    leader's children too, e.g. the perl of a shell script)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except OSError:  # gone already
        pass


@contextmanager
def child(argv: Sequence[str], **kw: Any) -> Iterator["subprocess.Popen[bytes]"]:
    """A child process for the block: started and on the books before a signal can
    act, and stopped (``stop()``) if it still runs when the block ends.  Past the
    commit point it gets a session of its own: a terminal's Ctrl-C reaches the whole
    foreground process group, and what must finish must not get it."""
    proc: Optional["subprocess.Popen[bytes]"] = None
    try:
        process.checkpoint()  # an interrupted run starts nothing more
        with process.hold():
            kw.setdefault("start_new_session", process.committed())
            proc = subprocess.Popen(list(argv), **kw)
            process.own_child(proc.pid, bool(kw["start_new_session"]))  # the watchdog's to end, if it must
        yield proc
    finally:
        if proc is not None:
            if proc.poll() is None:
                stop(proc)
            process.disown_child(proc.pid)


def communicate(
    proc: "subprocess.Popen[bytes]",
    input: Optional[bytes] = None,
    on_line: Optional[Callable[[bytes], None]] = None,
    deadline: Optional[float] = None,
) -> Tuple[bytes, bytes]:
    """Feed ``input``, read stdout and stderr to their end, and wait for the child to
    exit; a signal ends the wait at once (``child`` then stops it), and so does the
    ``deadline`` (time.monotonic()), with TimeoutError.  ``on_line`` sees each line of
    stdout as it comes."""
    out: List[bytes] = []
    err: List[bytes] = []
    readers: Dict[int, List[bytes]] = {}
    if proc.stdout is not None:
        readers[proc.stdout.fileno()] = out
    if proc.stderr is not None:
        readers[proc.stderr.fileno()] = err
    pending = memoryview(input or b"")
    writer = proc.stdin.fileno() if proc.stdin is not None else None
    if writer is not None:
        os.set_blocking(writer, False)
        if not pending:
            _close(proc.stdin)
            writer = None
    partial = b""
    while readers or writer is not None:
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise TimeoutError
        ready_r, ready_w = process.wait_fds(list(readers), left, [writer] if writer is not None else [])
        if writer is not None and writer in ready_w:
            try:
                pending = pending[os.write(writer, pending[:65536]) :]
            except BlockingIOError:
                pass
            except BrokenPipeError:
                pending = pending[:0]
            if not pending:
                _close(proc.stdin)
                writer = None
        for fd in ready_r:
            chunk = os.read(fd, 65536)
            if not chunk:
                del readers[fd]
                continue
            readers[fd].append(chunk)
            if on_line is not None and readers[fd] is out:
                partial += chunk
                *lines, partial = partial.split(b"\n")
                for line in lines:
                    on_line(line)
    if on_line is not None and partial:
        on_line(partial)
    _close(proc.stdout)
    _close(proc.stderr)
    if wait(proc, None if deadline is None else max(0.0, deadline - time.monotonic())) is None:
        raise TimeoutError
    return b"".join(out), b"".join(err)


def wait(proc: "subprocess.Popen[Any]", timeout: Optional[float] = None) -> Optional[int]:
    """Wait for the child to exit (at most ``timeout`` seconds): its exit code, or None
    if it still runs.  Watches a pidfd where the system has them, so that a signal
    still ends the wait at once."""
    if proc.poll() is not None:
        return proc.returncode
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(proc.pid)
        except OSError:
            pidfd = None
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while proc.poll() is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            if pidfd is not None:
                process.wait_fds([pidfd], remaining)
            else:
                process.wait_fds((), 0.01 if remaining is None else min(remaining, 0.01))
    finally:
        if pidfd is not None:
            os.close(pidfd)
    return proc.returncode


def stop(proc: "subprocess.Popen[Any]", grace: float = STOP_GRACE) -> None:
    """End a child that may hold a lock file of the user's repository: SIGTERM (git then
    removes its locks and dies), and a wait of at most ``grace`` seconds.  Only a child
    that is still there after that is killed.  Signals meanwhile are acted on after."""
    with process.hold():
        # Not reading the pipes to their end: a child of git's (a hook, a file-system
        # monitor) may outlive it holding them open.
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            _close(stream)
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except OSError:
                pass
            if wait(proc, grace) is None:
                proc.kill()
                wait(proc, grace)


def _close(stream: Any) -> None:
    if stream is not None:
        try:
            stream.close()
        except OSError:
            pass
