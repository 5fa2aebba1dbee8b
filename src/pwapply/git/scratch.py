"""The scratch worktree where a series is applied without touching the user's tree,
``git am`` (there, or in the user's work tree for --resolve), and reading why git am
stopped.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

from .. import process
from .repo import Repo
from .run import Git, Running, first_line


class Scratch:
    """A detached work tree for applying a series without touching the user's tree.

    It has a git directory of its own, made inside the user's (so that their config's
    ``includeIf "gitdir:..."`` sections still match): its config includes the user's,
    its objects are the user's object store (GIT_OBJECT_DIRECTORY), but its HEAD, index,
    refs and logs are its own.  So nothing git does here takes a lock of the user's
    repository: git am deletes REBASE_HEAD after each patch, which locks the
    packed-refs of the repository it works in, and a git stopped by a signal in the
    instant between creating a lock file and putting it on the list its signal handler
    cleans leaves that file behind (seen about once in 80 interrupts of a git am).
    Here it can only be the scratch's own, removed with it.

    Its index holds the whole tree, but only the top level's files are checked out (a
    cone-mode sparse checkout set through ``-c`` for our commands alone): `git apply`,
    and so `git am`, checks out each file a patch touches when it finds it missing, 3-way
    fallback included.  Writing no directory's files makes the scratch cheap on a big
    tree, and needs nothing from the series: ``start()`` begins reading the tree while
    the series downloads, and every command run in the scratch first waits for it
    (``ready()``).  The index is split (see ``_config``), which makes git am four times
    faster on a big tree.  ``close()`` removes every trace.  Make it and put it on the
    books under process.hold().
    """

    def __init__(self, repo: Repo, base: str, *, hooks: bool = True) -> None:
        self.repo = repo
        self.base = base
        self.hooks = hooks
        self.tmp = tempfile.mkdtemp(prefix="pwapply-")
        process.own(self.tmp)  # the watchdog's to remove, if it must
        self.path = os.path.join(self.tmp, "wt")
        self.admin: Optional[str] = None  # the scratch's git directory
        self._git: Optional[Git] = None
        self._reading: Optional[Running] = None

    @property
    def git(self) -> Git:
        """git in the scratch, once its index is read."""
        self.ready()
        assert self._git is not None, "start() first"
        return self._git

    def start(self) -> "Scratch":
        """Make the git directory and the work tree, and begin reading ``base`` into the
        index, without waiting."""
        self.admin = tempfile.mkdtemp(prefix="pwapply-scratch-", dir=self.repo.common_dir)
        process.own(self.admin)
        os.makedirs(os.path.join(self.admin, "refs"))
        os.makedirs(os.path.join(self.admin, "info"))
        os.makedirs(self.path)
        with open(os.path.join(self.admin, "HEAD"), "w", encoding="ascii") as fh:
            fh.write(self.base + "\n")
        with open(os.path.join(self.admin, "config"), "w", encoding="utf-8") as fh:
            fh.write(_repository_config(self.repo))
        with open(os.path.join(self.admin, "info", "sparse-checkout"), "w", encoding="ascii") as fh:
            fh.write("/*\n!/*/\n")  # the top level's files, no directory
        attributes = os.path.join(self.repo.common_dir, "info", "attributes")
        if os.path.exists(attributes):  # the repository's own gitattributes apply here too
            shutil.copyfile(attributes, os.path.join(self.admin, "info", "attributes"))
        env = {
            "GIT_DIR": self.admin,
            "GIT_WORK_TREE": self.path,
            "GIT_OBJECT_DIRECTORY": os.path.join(self.repo.common_dir, "objects"),
        }
        hooks = self.repo.hooks if self.hooks else os.devnull
        self._git = self.repo.git.at(self.path, config=_config(hooks), clean_env=True, env=env)
        self._reading = self._git.start(["read-tree", "-m", "-u", "HEAD"], note=", while the series arrives")
        return self

    def ready(self) -> None:
        """Wait until the index is read; raise GitError if that failed."""
        if self._reading is not None:
            self._reading.result()

    def close(self) -> None:
        """Remove the work tree and the git directory.  A signal meanwhile is acted on
        once all is removed (process.hold)."""
        with process.hold():
            if self._reading is not None:
                self._reading.stop()
            if self.admin is not None:
                shutil.rmtree(self.admin, ignore_errors=True)
                process.disown(self.admin)
            shutil.rmtree(self.tmp, ignore_errors=True)
            process.disown(self.tmp)

    def __enter__(self) -> "Scratch":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    def head(self) -> str:
        """The scratch's detached HEAD, read from its HEAD file."""
        if self.admin:
            try:
                with open(os.path.join(self.admin, "HEAD"), encoding="ascii") as fh:
                    text = fh.read().strip()
                if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", text):
                    return text
            except (OSError, UnicodeDecodeError):
                pass
        return self.git.out(["rev-parse", "HEAD"])

    def conflicted(self) -> List[str]:
        proc = self.git.run(["diff", "--name-only", "-z", "--diff-filter=U"], check=False)
        return [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]

    def am(
        self, mbox_path: str, options: Sequence[str], on_applying: Optional[Callable[[int, str], None]] = None
    ) -> "AmResult":
        """git am here.  It signs nothing: the commits are rewritten (and signed then, if
        git am would have signed them) once their trailers are known."""
        return am(self.git, self.admin or "", mbox_path, [*options, "--no-gpg-sign"], on_applying)


# The repository extensions the scratch must share with the user's repository: how
# objects are named, and where missing ones come from (a partial clone).  Not the ref
# storage: the scratch's refs are its own, in files.
_SHARED_EXTENSIONS = ("objectformat", "compatobjectformat", "partialclone")


def _repository_config(repo: Repo) -> str:
    """The scratch's config: the repository format git checks before any include is
    read, then the user's repository config, included (with everything it includes)."""
    extensions = {
        k: v for k, v in _extensions(os.path.join(repo.common_dir, "config")).items() if k in _SHARED_EXTENSIONS
    }
    if repo.object_format != "sha1":
        extensions["objectformat"] = repo.object_format
    lines = ["[core]", f"\trepositoryformatversion = {1 if extensions else 0}", "\tbare = false"]
    if extensions:
        lines += ["[extensions]", *(f"\t{k} = {v}" for k, v in extensions.items())]
    quoted = os.path.join(repo.common_dir, "config").replace("\\", "\\\\").replace('"', '\\"')
    lines += ["[include]", f'\tpath = "{quoted}"']
    return "\n".join(lines) + "\n"


def _extensions(path: str) -> Dict[str, str]:
    """The ``[extensions]`` keys of a repository's config file (lowercased)."""
    found: Dict[str, str] = {}
    section = ""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for raw in fh:
                line = raw.split("#", 1)[0].split(";", 1)[0].strip()
                m = re.fullmatch(r"\[\s*([A-Za-z0-9.-]+)\s*\]", line)
                if m:
                    section = m.group(1).lower()
                elif section == "extensions" and "=" in line:
                    key, value = line.split("=", 1)
                    found[key.strip().lower()] = value.strip().strip('"')
    except OSError:
        pass
    return found


def _config(hooks: str) -> List[str]:
    """The scratch's ``-c`` settings.

    A split index: git am writes the index twice a patch, and a whole index of a big
    tree (3 MB for 35,000 files) is most of its time; split, each write holds only the
    entries that changed and the rest stays in a shared file written once (in the
    scratch's own admin directory, removed with it).  Not a sparse index: am would
    expand it on every read.
    maintenance.auto: git am ends with `git maintenance run --auto`, a process more, and
    now and then a gc of the whole repository in the middle of our run; the user's next
    git command does it in its own time.
    sparse.expectFilesOutsideOfPatterns: else every index read stats each skipped
    directory (350 on the bench tree, twice a patch) looking for files our fresh
    worktree cannot have.
    core.hooksPath: the user's work tree's hooks, found where git finds them from there
    (a relative core.hooksPath, an in-tree .githooks or husky's .husky/_, would
    otherwise point into this work tree, which has no such directory; and the default,
    <git dir>/hooks, into the scratch's git directory); /dev/null for none.
    """
    settings = {
        "core.splitIndex": "true",
        "index.sparse": "false",
        "maintenance.auto": "false",
        "core.sparseCheckout": "true",
        "core.sparseCheckoutCone": "true",
        "sparse.expectFilesOutsideOfPatterns": "true",
        "core.hooksPath": hooks,
    }
    return [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]


# ------------------------------------------------------------------ git am


@dataclass
class AmResult:
    ok: bool
    applied: int  # patches applied
    failed_at: Optional[int]  # 1-based number of the patch that failed
    output: str  # stdout + stderr
    hook: Optional[str] = None  # the hook that refused that patch: applypatch-msg, pre-applypatch
    hook_said: str = ""  # the first line it printed


def am(
    git: Git,
    git_dir: str,
    mbox_path: str,
    options: Sequence[str],
    on_applying: Optional[Callable[[int, str], None]] = None,
) -> AmResult:
    """Run ``git am <options> <mbox>`` with ``git`` (whose git directory is
    ``git_dir``), reporting each patch as it starts.  Never raises for a patch that
    fails: the result says which, and why."""
    applied_lines: List[str] = []
    lines: List[str] = []

    def on_line(raw: bytes) -> None:
        line = raw.decode("utf-8", "replace")
        lines.append(line)
        if line.startswith("Applying: "):
            applied_lines.append(line)
            if on_applying:
                on_applying(len(applied_lines), line[len("Applying: ") :])

    proc = git.run(["am", *options, mbox_path], check=False, on_line=on_line)
    code = proc.returncode
    errtext = proc.stderr.decode("utf-8", "replace")
    output = "\n".join(lines) + ("\n" if lines else "") + errtext
    if code == 0:
        return AmResult(True, len(applied_lines), None, output)
    m = re.search(r"^Patch failed at (\d+)", output, re.M)
    if code == 1 and m is None:
        # git am exits 1 only when a hook refuses a patch (128 when a patch does not apply
        # or git dies), and says nothing itself: applypatch-msg runs before the patch's
        # "Applying:" line, pre-applypatch after it, on the patch its state file names.
        at = _am_next(git_dir) or max(len(applied_lines), 1)
        if any(a in ("-q", "--quiet") for a in options):  # no "Applying:" lines to tell them apart
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
