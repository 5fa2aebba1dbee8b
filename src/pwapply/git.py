"""The only module that runs git.

Every git command goes through :func:`run` (or :func:`popen` for streaming), which
raises :class:`GitError` with the argv, exit code and both streams.  Commands aimed at
a scratch worktree run without the GIT_DIR/GIT_INDEX_FILE/... that git leaks into hooks.

We call the git binary directly rather than through GitPython: every operation here is
one git command, GitPython would spawn the same processes, and importing it costs more
than the whole pre-push check may take.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from . import process
from .errors import GitError as GitError
from .errors import ConfigError, NotARepositoryError, RepoStateError

Logger = Callable[[str], None]
_log: Optional[Logger] = None

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


def set_logger(logger: Optional[Logger]) -> None:
    """``-v``: show every git command."""
    global _log
    _log = logger


def _env(clean: bool, extra: Optional[Mapping[str, str]]) -> Dict[str, str]:
    env = dict(os.environ)
    if clean:
        for name in _GIT_LOCAL_ENV:
            env.pop(name, None)
    env.setdefault("GIT_TERMINAL_PROMPT", "0")
    if extra:
        env.update(extra)
    return env


def run(
    args: Sequence[str],
    *,
    cwd: Optional[str] = None,
    input: Optional[bytes] = None,
    check: bool = True,
    clean_env: bool = False,
    env: Optional[Mapping[str, str]] = None,
) -> "subprocess.CompletedProcess[bytes]":
    """Run ``git <args>``; return the completed process (bytes); raise GitError on
    failure when ``check``.  A signal ends the wait at once, and the git process is
    stopped as git wants to be (SIGTERM: it removes its lock files)."""
    argv = ["git", *args]
    if _log:
        _log("git " + " ".join(_shell_quote(a) for a in args) + (f"   (in {cwd})" if cwd else ""))
    name = _step_name(args)
    process.step(f"before {name}")
    with process.child(
        argv,
        cwd=cwd,
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(clean_env, env),
    ) as proc:
        stdout, stderr = process.communicate(proc, input)
    process.step(f"after {name}")
    done = subprocess.CompletedProcess(argv, proc.returncode, stdout, stderr)
    if check and done.returncode != 0:
        raise GitError(argv, done.returncode, done.stdout, done.stderr)
    return done


def _step_name(args: Sequence[str]) -> str:
    """``git <subcommand>``, for the test hooks (process.step)."""
    words = list(args)
    while words and words[0].startswith("-"):
        words = words[2:] if words[0] in ("-c", "-C") else words[1:]
    return "git " + (words[0] if words else "")


def out(args: Sequence[str], *, cwd: Optional[str] = None, input: Optional[bytes] = None) -> str:
    """stdout of a git command as text, without the final newline."""
    stdout: bytes = run(args, cwd=cwd, input=input).stdout
    return stdout.decode("utf-8", "surrogateescape").rstrip("\n")


class Running:
    """A git command started in the background; ``result()`` waits for it, ``stop()``
    ends it if it still runs (both may be called more than once)."""

    def __init__(self, args: Sequence[str], *, cwd: str, clean_env: bool = False, note: str = "") -> None:
        self.argv = ["git", *args]
        if _log:
            _log(" ".join(_shell_quote(a) for a in self.argv) + f"   (in {cwd}{note})")
        self._name = _step_name(args)
        process.step(f"before {self._name}")
        self._stack = ExitStack()  # stops the command if it still runs
        self._done: Optional["subprocess.CompletedProcess[bytes]"] = None
        try:
            with process.hold():
                self._proc: Optional["subprocess.Popen[bytes]"] = self._stack.enter_context(
                    process.child(
                        self.argv,
                        cwd=cwd,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        env=_env(clean_env, None),
                    )
                )
        except BaseException:
            self._stack.close()
            raise

    def result(self, check: bool = True) -> "subprocess.CompletedProcess[bytes]":
        if self._done is None:
            assert self._proc is not None
            stdout, stderr = process.communicate(self._proc)
            self._done = subprocess.CompletedProcess(self.argv, self._proc.returncode, stdout, stderr)
            self._proc = None
            self._stack.close()
            process.step(f"after {self._name}")
        if check and self._done.returncode != 0:
            raise GitError(self.argv, self._done.returncode, self._done.stdout, self._done.stderr)
        return self._done

    def stop(self) -> None:
        self._proc = None
        self._stack.close()


def first_line(text: str) -> str:
    """The first line of a program's output that says something, stripped ("" if none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _shell_quote(arg: str) -> str:
    return arg if re.match(r"^[\w@%+=:,./-]+$", arg) else "'" + arg.replace("'", "'\\''") + "'"


# --------------------------------------------------------------------------- repository


@dataclass(frozen=True)
class Repo:
    top: str
    git_dir: str
    common_dir: str
    head: Optional[str]  # commit id, None on an unborn branch
    head_ref: Optional[str]  # refs/heads/x, None when detached
    object_format: str  # sha1 | sha256
    hooks: str  # where git looks for this work tree's hooks (core.hooksPath honoured), absolute


def open_repo(cwd: Optional[str] = None) -> Repo:
    """Find the repository we are in (one git process); NotARepositoryError outside one."""
    proc = run(
        [
            "rev-parse",
            "--show-toplevel",
            "--absolute-git-dir",
            "--git-common-dir",
            "--show-object-format",
            "--is-bare-repository",
            "--git-path",
            "hooks",
            "HEAD",
            "--symbolic-full-name",
            "HEAD",
        ],
        cwd=cwd,
        check=False,
    )
    lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) < 5:
        raise NotARepositoryError(
            "not inside a git repository",
            "cd into the checkout you want the series applied to (or run git init)",
        )
    if lines[4] == "true" or not lines[0]:
        raise NotARepositoryError("not inside a git work tree", "run pwapply in a checkout, not a bare repository")
    top, git_dir, common, fmt = lines[0], lines[1], lines[2], lines[3]
    common = common if os.path.isabs(common) else os.path.normpath(os.path.join(cwd or os.getcwd(), common))
    # Relative to where we are (a relative core.hooksPath included: git runs hooks from
    # the top of the work tree, and says where that is from here).
    hooks = os.path.normpath(os.path.join(cwd or os.getcwd(), lines[5])) if len(lines) > 5 else ""
    if proc.returncode == 0 and len(lines) == 8:
        head: Optional[str] = lines[6]
        head_ref: Optional[str] = lines[7] if lines[7].startswith("refs/") else None
    else:  # an unborn branch (or a path named HEAD): ask separately
        head = run(["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=top, check=False).stdout.decode().strip()
        ref = run(["symbolic-ref", "-q", "HEAD"], cwd=top, check=False).stdout
        head_ref = ref.decode("utf-8", "surrogateescape").strip() or None
    return Repo(
        top=top,
        git_dir=git_dir,
        common_dir=common,
        head=head or None,
        head_ref=head_ref,
        object_format=fmt,
        hooks=hooks or os.path.join(common, "hooks"),
    )


def read_config(repo_top: Optional[str]) -> Tuple[Dict[str, str], Dict[str, str]]:
    """(pwapply.*, pw.* and commit.gpgsign keys lowercased, remote name -> URL) in one
    git call."""
    proc = run(
        ["config", "-z", "--get-regexp", r"^(pwapply|pw)\.|^remote\..*\.url$|^commit\.gpgsign$"],
        cwd=repo_top,
        check=False,
    )
    values: Dict[str, str] = {}
    remotes: Dict[str, str] = {}
    for item in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if not item:
            continue
        key, nl, value = item.partition("\n")
        key = key.lower()
        if key == "commit.gpgsign" and not nl:
            value = "true"  # a key with no value at all is a true boolean
        if key.startswith("remote.") and key.endswith(".url"):
            remotes[key[len("remote.") : -len(".url")]] = value
        else:
            values[key] = value  # the last one wins, as git config --get does
    return values, remotes


def read_config_file(path: str, keys: Iterable[str]) -> Dict[str, str]:
    """Keys from a git-config-format file (a repository's .b4-config)."""
    if not os.path.isfile(path):
        return {}
    proc = run(["config", "-f", path, "-z", "--list"], check=False)
    wanted = {k.lower() for k in keys}
    found: Dict[str, str] = {}
    for item in proc.stdout.decode("utf-8", "replace").split("\0"):
        key, _, value = item.partition("\n")
        if key.lower() in wanted:
            found[key.lower()] = value
    return found


_IN_PROGRESS = (
    ("rebase-apply/applying", "git am", "git am --continue, or git am --abort"),
    ("rebase-apply", "a rebase", "git rebase --continue, or git rebase --abort"),
    ("rebase-merge", "a rebase", "git rebase --continue, or git rebase --abort"),
    ("MERGE_HEAD", "a merge", "git merge --continue, or git merge --abort"),
    ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --continue, or git cherry-pick --abort"),
    ("REVERT_HEAD", "a revert", "git revert --continue, or git revert --abort"),
    ("sequencer/todo", "a cherry-pick or revert", "git cherry-pick --continue, or --abort"),
)


def operation_in_progress(repo: Repo) -> Optional[Tuple[str, str]]:
    """(what, how to finish it) when an am/rebase/merge/cherry-pick is under way."""
    for path, what, finish in _IN_PROGRESS:
        if os.path.exists(os.path.join(repo.git_dir, path)):
            return what, finish
    return None


def status_later(repo: Repo) -> Optional[Running]:
    """Start `git status` of the tracked files now (None on an unborn branch: there is
    nothing to compare); dirty_tracked() reads its answer."""
    if repo.head is None:
        return None
    return Running(
        ["--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=no", "--ignore-submodules=dirty"],
        cwd=repo.top,
    )


def dirty_tracked(status: Optional[Running]) -> List[str]:
    """Tracked files with changes in the index or the work tree (untracked ones are
    fine), from a status_later() command: waits for it."""
    if status is None:
        return []
    entries = [e for e in status.result().stdout.decode("utf-8", "surrogateescape").split("\0") if e]
    return [e[3:] for e in entries if len(e) > 3 and e[2] == " "]


def rev_parse(repo: Repo, rev: str) -> Optional[str]:
    """The commit a revision names, or None."""
    proc = run(["rev-parse", "-q", "--verify", "--end-of-options", rev + "^{commit}"], cwd=repo.top, check=False)
    sha = proc.stdout.decode().strip()
    return sha or None


def branch_tip(repo: Repo, name: str) -> Optional[str]:
    return rev_parse(repo, f"refs/heads/{name}")


def worktree_with_branch(repo: Repo, name: str) -> Optional[str]:
    """The path of a work tree of this repository that has branch ``name`` checked out."""
    raw = run(["worktree", "list", "--porcelain"], cwd=repo.top).stdout.decode("utf-8", "surrogateescape")
    path = None
    for field in raw.splitlines():  # (-z would need git 2.36)
        if field.startswith("worktree "):
            path = field[len("worktree ") :]
        elif field == f"branch refs/heads/{name}":
            return path
    return None


def check_branch_name(repo: Repo, name: str) -> bool:
    proc = run(["check-ref-format", "--branch", name], cwd=repo.top, check=False)
    return proc.returncode == 0


def identity(repo: Repo) -> str:
    """``Name <email>`` of the committer, for --signoff."""
    ident = out(["var", "GIT_COMMITTER_IDENT"], cwd=repo.top)
    return re.sub(r"\s+\d+\s+[+-]\d{4}$", "", ident)


def update_ref(repo: Repo, ref: str, new: str, old: str, message: str) -> None:
    """Move ``ref`` to ``new`` only if it is still at ``old`` (all zeros: must not exist)."""
    run(["update-ref", "-m", message, ref, new, old], cwd=repo.top)


def delete_ref(repo: Repo, ref: str, old: str) -> None:
    run(["update-ref", "-d", ref, old], cwd=repo.top, check=False)


def checkout(repo: Repo, branch: str) -> Optional[str]:
    """Check out ``branch``; GitError if git did not switch to it.  git checkout also
    fails, with the post-checkout hook's status, when that hook fails after the switch
    (git-lfs's, say, without git-lfs installed): then the branch is checked out, and
    this returns the first line the hook printed.  None when all went well."""
    proc = run(["checkout", "-q", branch, "--"], cwd=repo.top, check=False)
    if proc.returncode == 0:
        return None
    head = run(["symbolic-ref", "-q", "HEAD"], cwd=repo.top, check=False).stdout
    if head.decode("utf-8", "surrogateescape").strip() == f"refs/heads/{branch}":
        return first_line(proc.stderr.decode("utf-8", "replace"))
    raise GitError(["git", "checkout", "-q", branch, "--"], proc.returncode, proc.stdout, proc.stderr)


def fast_forward_worktree(repo: Repo, old: str, new: str, message: str) -> None:
    """Move the current branch (or detached HEAD) from ``old`` to ``new`` and update the
    index and work tree for just the files that differ."""
    # read-tree -m refuses an entry whose stat data is stale ("not uptodate") even when
    # its content is unchanged (a touched or copied file, which git status calls clean):
    # refresh the index first, as git checkout and git merge do.
    run(["update-index", "-q", "--refresh"], cwd=repo.top, check=False)
    run(["read-tree", "-m", "-u", old, new], cwd=repo.top)
    try:
        run(["update-ref", "-m", message, "HEAD", new, old], cwd=repo.top)
    except GitError:
        run(["read-tree", "-m", "-u", new, old], cwd=repo.top, check=False)
        raise


def zero_id(repo: Repo) -> str:
    return "0" * (64 if repo.object_format == "sha256" else 40)


# ----------------------------------------------------------------- scratch worktree


class Scratch:
    """A detached worktree for applying a series without touching the user's tree.

    Its index holds the whole tree, but only the top level's files are checked out (a
    cone-mode sparse checkout set through ``-c`` for our commands alone, so the
    repository's config is not changed): `git apply`, and so `git am`, checks out each
    file a patch touches when it finds it missing, 3-way fallback included.  Writing no
    directory's files makes the scratch cheap on a big tree, and needs nothing from the
    series: ``start()`` begins reading the tree while the series downloads, and every
    command run in the scratch first waits for it (``ready()``).  The index is split
    (see ``_config``), which makes git am four times faster on a big tree.
    ``close()`` removes every trace: the directory and git's administrative entry for it.
    """

    def __init__(self, repo: Repo, base: str, *, hooks: bool = True) -> None:
        self.repo = repo
        self.base = base
        self.hooks = hooks  # False: git am runs none of the repository's hooks here
        self.tmp = tempfile.mkdtemp(prefix="pwapply-")
        self.path = os.path.join(self.tmp, "wt")
        self.admin: Optional[str] = None
        self._reading: Optional[Running] = None
        self._root = os.path.join(repo.common_dir, "worktrees")
        self._made_root = False

    def _config(self) -> List[str]:
        # A split index: git am writes the index twice a patch, and a whole index of a big
        # tree (3 MB for 35,000 files) is most of its time; split, each write holds only
        # the entries that changed and the rest stays in a shared file written once (in
        # the scratch's own admin directory, removed with it).  Not a sparse index: am
        # would expand it on every read.
        # maintenance.auto: git am ends with `git maintenance run --auto`, a process more,
        # and now and then a gc of the whole repository in the middle of our run; the
        # user's next git command does it in its own time.
        # sparse.expectFilesOutsideOfPatterns: else every index read stats each skipped
        # directory (350 on the bench tree, twice a patch) looking for files our fresh
        # worktree cannot have.
        return [
            "-c",
            "core.splitIndex=true",
            "-c",
            "index.sparse=false",
            "-c",
            "maintenance.auto=false",
            "-c",
            "core.sparseCheckout=true",
            "-c",
            "core.sparseCheckoutCone=true",
            "-c",
            "sparse.expectFilesOutsideOfPatterns=true",
            # The user's work tree's hooks, found where git finds them from there: a
            # relative core.hooksPath (an in-tree .githooks, husky's .husky/_) would
            # otherwise point into this worktree, which has no such directory.
            "-c",
            f"core.hooksPath={self.repo.hooks if self.hooks else os.devnull}",
        ]

    def git(
        self, args: Sequence[str], check: bool = True, env: Optional[Mapping[str, str]] = None
    ) -> "subprocess.CompletedProcess[bytes]":
        self.ready()
        return run([*self._config(), *args], cwd=self.path, check=check, clean_env=True, env=env)

    def start(self) -> "Scratch":
        """Add the worktree and begin reading ``base`` into its index, without waiting."""
        self._made_root = not os.path.isdir(self._root)
        run(
            ["worktree", "add", "--detach", "--no-checkout", "-q", self.path, self.base],
            cwd=self.repo.top,
            clean_env=True,
        )
        with open(os.path.join(self.path, ".git"), "rb") as fh:
            line = fh.read().decode("utf-8", "surrogateescape").strip()
        admin = line.split(":", 1)[1].strip() if line.startswith("gitdir:") else ""
        if not os.path.isabs(admin):
            admin = os.path.normpath(os.path.join(self.path, admin))
        self.admin = admin
        os.makedirs(os.path.join(admin, "info"), exist_ok=True)
        with open(os.path.join(admin, "info", "sparse-checkout"), "w", encoding="ascii") as fh:
            fh.write("/*\n!/*/\n")  # the top level's files, no directory
        self._reading = Running(
            [*self._config(), "read-tree", "-m", "-u", "HEAD"],
            cwd=self.path,
            clean_env=True,
            note=", while the series arrives",
        )
        return self

    def ready(self) -> None:
        """Wait until the index is read; raise GitError if that failed."""
        if self._reading is not None:
            self._reading.result()

    def close(self) -> None:
        """Remove the worktree and its entry in the repository.  A signal meanwhile is
        acted on once all is removed (process.hold)."""
        with process.hold():
            if self._reading is not None:
                self._reading.stop()
            if self.admin is None:  # interrupted during (or just after) git worktree add
                self.admin = self._find_admin()
            if self.admin and os.path.isdir(self.admin):
                shutil.rmtree(self.admin, ignore_errors=True)
            if self._made_root:  # git made <common>/worktrees for us: leave no trace
                try:
                    os.rmdir(self._root)
                except OSError:
                    pass
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _find_admin(self) -> Optional[str]:
        """The administrative directory git made for our worktree: the one whose
        ``gitdir`` file names it (git writes that file right after making the directory)."""
        ours = os.path.join(self.path, ".git")
        try:
            names = os.listdir(self._root)
        except OSError:
            return None
        for name in names:
            try:
                with open(os.path.join(self._root, name, "gitdir"), encoding="utf-8", errors="surrogateescape") as fh:
                    if os.path.normpath(fh.read().strip()) == ours:
                        return os.path.join(self._root, name)
            except OSError:
                continue
        return None

    def __enter__(self) -> "Scratch":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    def head(self) -> str:
        """The scratch worktree's detached HEAD, read from its HEAD file."""
        if self.admin:
            try:
                with open(os.path.join(self.admin, "HEAD"), encoding="ascii") as fh:
                    text = fh.read().strip()
                if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", text):
                    return text
            except (OSError, UnicodeDecodeError):
                pass
        return self.git(["rev-parse", "HEAD"]).stdout.decode().strip()

    def conflicted(self) -> List[str]:
        proc = self.git(["diff", "--name-only", "-z", "--diff-filter=U"], check=False)
        return [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


@dataclass
class AmResult:
    ok: bool
    applied: int  # patches applied
    failed_at: Optional[int]  # 1-based number of the patch that failed
    output: str  # stdout + stderr
    hook: Optional[str] = None  # the hook that refused that patch: applypatch-msg, pre-applypatch
    hook_said: str = ""  # the first line it printed


def am(
    scratch_or_repo: object,
    mbox_path: str,
    args: Sequence[str],
    on_applying: Optional[Callable[[int, str], None]] = None,
) -> AmResult:
    """Run ``git am <args> <mbox>`` in a Scratch (or the user's Repo, for --resolve),
    reporting each patch as it starts.  Never raises for a patch that fails."""
    if isinstance(scratch_or_repo, Scratch):
        scratch_or_repo.ready()
        cfg, cwd, clean = scratch_or_repo._config(), scratch_or_repo.path, True
        git_dir = scratch_or_repo.admin or ""
    else:
        assert isinstance(scratch_or_repo, Repo)
        cfg, cwd, clean = [], scratch_or_repo.top, False
        git_dir = scratch_or_repo.git_dir
    # In the scratch, git am signs nothing: the commits are rewritten (and signed then,
    # if git am would have signed them) once the trailers are known.
    argv = ["git", *cfg, "am", *args, *(["--no-gpg-sign"] if cfg else []), mbox_path]
    if _log:
        _log(" ".join(_shell_quote(a) for a in argv) + f"   (in {cwd})")
    applied_lines: List[str] = []
    lines: List[str] = []

    def on_line(raw: bytes) -> None:
        line = raw.decode("utf-8", "replace")
        lines.append(line)
        if line.startswith("Applying: "):
            applied_lines.append(line)
            if on_applying:
                on_applying(len(applied_lines), line[len("Applying: ") :])

    process.step("before git am")
    # On Ctrl-C or SIGTERM, git am is stopped (its locks removed) before anything else is cleaned up.
    with process.child(
        argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(clean, None)
    ) as proc:
        _, errbytes = process.communicate(proc, on_line=on_line)
    process.step("after git am")
    code = proc.returncode
    errtext = errbytes.decode("utf-8", "replace")
    output = "\n".join(lines) + ("\n" if lines else "") + errtext
    if code == 0:
        return AmResult(True, len(applied_lines), None, output)
    m = re.search(r"^Patch failed at (\d+)", output, re.M)
    if code == 1 and m is None:
        # git am exits 1 only when a hook refuses a patch (128 when a patch does not apply
        # or git dies), and says nothing itself: applypatch-msg runs before the patch's
        # "Applying:" line, pre-applypatch after it, on the patch its state file names.
        at = _am_next(git_dir) or max(len(applied_lines), 1)
        if any(a in ("-q", "--quiet") for a in args):  # no "Applying:" lines to tell them apart
            hook = "applypatch-msg or pre-applypatch"
        else:
            hook = "pre-applypatch" if at == len(applied_lines) else "applypatch-msg"
        return AmResult(False, at - 1, at, output, hook=hook, hook_said=first_line(errtext))
    failed = int(m.group(1)) if m else max(len(applied_lines), 1)
    return AmResult(False, failed - 1, failed, output)


def _am_next(git_dir: str) -> Optional[int]:
    """The number of the patch a stopped git am is at (its rebase-apply/next), if any."""
    try:
        with open(os.path.join(git_dir, "rebase-apply", "next"), encoding="ascii") as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def identity_problem(output: str) -> Optional[str]:
    """git's complaint when git am could not commit because it does not know the
    committer (no user.name / user.email), else None."""
    m = re.search(
        r"^fatal: ((?:unable to auto-detect email address|empty ident name|no email was given|"
        r"no name was given|name consists only of disallowed characters)[^\n]*)$",
        output,
        re.M,
    )
    return m.group(1) if m else None


def failing_files(output: str) -> List[str]:
    """Files named by git am/apply in its complaint about a patch that did not apply."""
    files: List[str] = []
    patterns = (
        r"^error: patch failed: (.+?):\d+$",
        r"^error: (.+?): does not exist in (?:index|working tree)$",
        r"^error: (.+?): already exists in (?:index|working directory)$",
        r"^error: (.+?): patch does not apply$",
        r"^CONFLICT \([^)]*\): Merge conflict in (.+)$",
        r"^error: (.+?): does not match index$",
    )
    for pat in patterns:
        for m in re.finditer(pat, output, re.M):
            if m.group(1) not in files:
                files.append(m.group(1))
    return files


# ------------------------------------------------------------ rewriting messages


@dataclass(frozen=True)
class Rewritten:
    id: str
    subject: str
    author: str  # "Name <email> 1700000000 +0000", as in the commit object


def commits_between(repo: Repo, base: str, tip: str) -> List[Rewritten]:
    """The commits of ``base..tip``, oldest first (first parents)."""
    raw = run(
        [
            "log",
            "--reverse",
            "--first-parent",
            "--date=raw",
            "--format=%H%x00%s%x00%an <%ae> %ad",
            f"{base}..{tip}",
            "--",
        ],
        cwd=repo.top,
    ).stdout.decode("utf-8", "surrogateescape")
    return [Rewritten(*line.split("\0", 2)) for line in raw.splitlines() if line.count("\0") == 2]


_SIGNATURES = (b"gpgsig", b"gpgsig-sha256")  # the headers that hold a commit's signature


def rewrite_messages(
    repo: Repo,
    base: str,
    tip: str,
    edit: Callable[[int, str], str],
    sign: Optional[str] = None,
) -> Tuple[str, List["Rewritten"]]:
    """Rewrite the message of every commit in base..tip with ``edit(index, message)``.

    Trees, authors, dates and committers stay byte for byte; parents are chained to the
    new commits.  Three git processes whatever the number of commits: rev-list, one
    ``cat-file --batch`` to read them, one ``hash-object --stdin-paths`` to write them.
    With ``sign`` (a key id, or "" for git's default key) each commit is made signed
    instead, by ``git commit-tree -S`` (a process and a signature a commit, as git am
    makes them), and checked against what was meant.  A signature a commit had is
    dropped: it cannot survive a new message.
    Returns the new tip and, for each commit in order, its id, subject and author line.
    """
    ids = out(["rev-list", "--reverse", "--topo-order", f"{base}..{tip}"], cwd=repo.top).split()
    if not ids:
        return tip, []
    objects = _read_objects(repo, ids)
    algo = hashlib.sha256 if repo.object_format == "sha256" else hashlib.sha1
    parent_map = {base: base}
    new_ids: List[str] = []
    done: List[Rewritten] = []
    expected: List[bytes] = []
    tmpdir = ""
    try:
        with process.hold():  # made and on the books, or not made
            tmpdir = tempfile.mkdtemp(prefix="pwapply-msg-")
        paths = []
        for i, (old, obj) in enumerate(zip(ids, objects), start=1):
            head, sep, msg = obj.partition(b"\n\n")
            hlines = _header_lines(head)
            encoding = "utf-8"
            new_hlines = []
            for line in hlines:
                key = line.split(b" ", 1)[0]
                if key in _SIGNATURES:
                    continue  # a signature cannot survive a new message
                if key == b"encoding":
                    encoding = line.split(b" ", 1)[1].decode("ascii", "replace").strip() or "utf-8"
                if key == b"parent":
                    p = line.split(b" ", 1)[1].decode().strip()
                    line = b"parent " + parent_map.get(p, p).encode()
                new_hlines.append(line)
            try:
                text = msg.decode(encoding, "surrogateescape")
                codec = encoding
            except LookupError:
                text, codec = msg.decode("utf-8", "surrogateescape"), "utf-8"
            edited = edit(i, text)
            author = next((h[7:] for h in new_hlines if h.startswith(b"author ")), b"")
            subject = edited.split("\n", 1)[0]
            new_msg = edited.encode(codec, "surrogateescape")
            body = b"\n".join(new_hlines) + b"\n\n" + new_msg
            if sign is None:
                sha = algo(b"commit %d\0" % len(body) + body).hexdigest()
                path = os.path.join(tmpdir, f"{i}")
                with open(path, "wb") as fh:
                    fh.write(body)
                paths.append(path)
            else:
                sha = _commit_signed(repo, new_hlines, new_msg, codec, sign)
                expected.append(body)
            parent_map[old] = sha
            new_ids.append(sha)
            done.append(Rewritten(sha, subject, author.decode("utf-8", "replace")))
        if sign is not None:
            _check_signed(repo, new_ids, expected)
            return new_ids[-1], done
        written = out(
            ["hash-object", "-t", "commit", "-w", "--stdin-paths"],
            cwd=repo.top,
            input=("\n".join(paths) + "\n").encode(),
        ).split()
        if written != new_ids:
            raise RepoStateError(
                "git wrote other commit ids than expected while adding trailers", "please report this as a bug"
            )
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    return new_ids[-1], done


_IDENT_RE = re.compile(rb"^(.*) <(.*)> (\d+) ([+-]\d{4})$")


def _commit_signed(repo: Repo, hlines: Sequence[bytes], message: bytes, codec: str, sign: str) -> str:
    """``git commit-tree -S`` of a commit with these header lines and message."""
    env: Dict[str, str] = {}
    parents: List[str] = []
    tree = ""
    for line in hlines:
        key, _, value = line.partition(b" ")
        if key == b"tree":
            tree = value.decode()
        elif key == b"parent":
            parents += ["-p", value.decode()]
        elif key in (b"author", b"committer"):
            m = _IDENT_RE.match(value)
            if m is None:
                raise RepoStateError(
                    f"cannot sign a commit with this {key.decode()} line: {value.decode('utf-8', 'replace')}",
                    "run again without signing (git am --no-gpg-sign: pwapply ... -- --no-gpg-sign)",
                )
            who = "GIT_AUTHOR" if key == b"author" else "GIT_COMMITTER"
            env[f"{who}_NAME"] = m.group(1).decode("utf-8", "surrogateescape")
            env[f"{who}_EMAIL"] = m.group(2).decode("utf-8", "surrogateescape")
            env[f"{who}_DATE"] = f"@{m.group(3).decode()} {m.group(4).decode()}"
    args = ["-c", f"i18n.commitEncoding={codec}", "commit-tree", tree, *parents, f"-S{sign}" if sign else "-S"]
    proc = run(args, cwd=repo.top, input=message, env=env, check=False)
    if proc.returncode != 0:
        said = first_line(proc.stderr.decode("utf-8", "replace"))
        raise ConfigError(
            f"cannot sign the commits as git am would (commit.gpgSign or -S): {said or 'git commit-tree failed'}",
            "check user.signingKey and gpg.format, or apply unsigned: pwapply ... -- --no-gpg-sign",
        )
    return proc.stdout.decode().strip()


def _read_objects(repo: Repo, ids: Sequence[str]) -> List[bytes]:
    """The contents of these objects, read by one ``git cat-file --batch``."""
    raw = run(["cat-file", "--batch"], cwd=repo.top, input=("\n".join(ids) + "\n").encode()).stdout
    objects: List[bytes] = []
    pos = 0
    for _ in ids:
        nl = raw.index(b"\n", pos)
        size = int(raw[pos:nl].split()[2])
        objects.append(raw[nl + 1 : nl + 1 + size])
        pos = nl + 1 + size + 1
    return objects


def _check_signed(repo: Repo, ids: Sequence[str], expected: Sequence[bytes]) -> None:
    """Each signed commit is, its signature aside, the commit that was meant."""
    for obj, want in zip(_read_objects(repo, ids), expected):
        head, _, msg = obj.partition(b"\n\n")
        kept = [h for h in _header_lines(head) if h.split(b" ", 1)[0] not in _SIGNATURES]
        if b"\n".join(kept) + b"\n\n" + msg != want:
            raise RepoStateError(
                "git commit-tree made another commit than meant while signing", "please report this as a bug"
            )


def _header_lines(head: bytes) -> List[bytes]:
    """Commit header lines, with continuation lines (gpgsig) folded into their header."""
    out_lines: List[bytes] = []
    for line in head.split(b"\n"):
        if line.startswith(b" ") and out_lines:
            out_lines[-1] += b"\n" + line
        else:
            out_lines.append(line)
    return out_lines


def log_messages(repo: Repo, rev: str, limit: int) -> List[Tuple[str, str, str]]:
    """(commit, first parent, message) of the last ``limit`` commits of ``rev``, newest
    first, following first parents."""
    raw = run(
        ["log", "--first-parent", f"-n{limit}", "--format=%H %P%x00%B%x00%x01", rev, "--"], cwd=repo.top
    ).stdout.decode("utf-8", "surrogateescape")
    out: List[Tuple[str, str, str]] = []
    for entry in raw.split("\0\x01"):
        entry = entry.lstrip("\n")
        if "\0" not in entry:
            continue
        ids, message = entry.split("\0", 1)
        parts = ids.split()
        out.append((parts[0], parts[1] if len(parts) > 1 else "", message))
    return out


def show(repo: Repo, args: Sequence[str], *, pager: bool) -> int:
    """Run a git command whose output is for the user: git's own pager and colours
    when stdout is a terminal (and ``pager``), plain otherwise."""
    argv = ["git"] + ([] if pager else ["--no-pager"]) + list(args)
    if _log:
        _log(" ".join(_shell_quote(a) for a in argv))
    with process.child(argv, cwd=repo.top, env=_env(False, None)) as proc:
        code = process.wait(proc)
    return code if code is not None else 1


def commits_for_check(repo: Repo, revs: Sequence[str]) -> List[Tuple[str, str, str, str]]:
    """(id, author line, subject, message) of the commits ``revs`` select, in one
    process; revisions the repository lacks (a remote's tip not fetched) are ignored."""
    proc = run(
        [
            "log",
            "--reverse",
            "--ignore-missing",
            "--date=raw",
            "--format=%H%x00%an <%ae> %ad%x00%s%x00%B%x00%x01",
            *revs,
            "--",
        ],
        cwd=repo.top,
        check=False,
    )
    if proc.returncode != 0:
        raise GitError(["git", "log", *revs], proc.returncode, proc.stdout, proc.stderr)
    out: List[Tuple[str, str, str, str]] = []
    for entry in proc.stdout.decode("utf-8", "surrogateescape").split("\0\x01"):
        parts = entry.lstrip("\n").split("\0", 3)
        if len(parts) == 4:
            out.append((parts[0], parts[1], parts[2], parts[3]))
    return out


def has_upstream(repo: Repo) -> bool:
    return run(["rev-parse", "-q", "--verify", "@{upstream}"], cwd=repo.top, check=False).returncode == 0
