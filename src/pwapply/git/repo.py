"""The user's repository: finding it, reading its config and state, moving its refs,
checking out, and reading its history.  Every function is one or two git commands
(git/run.py); nothing here writes to the work tree but ``checkout`` and
``fast_forward_worktree``, which run only past the commit point.
"""

from __future__ import annotations

import os
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..errors import GitError, InputError, NotARepositoryError
from ..frozen import frozen
from .run import Git, Logger, Running, first_line


@frozen
class Repo:
    top: str
    git_dir: str
    common_dir: str
    head: Optional[str]  # commit id, None on an unborn branch
    head_ref: Optional[str]  # refs/heads/x, None when detached
    object_format: str  # sha1 | sha256
    hooks: str  # where git looks for this work tree's hooks (core.hooksPath honoured), absolute
    git: Git  # git at the top of the work tree

    @property
    def branch(self) -> Optional[str]:
        """The branch checked out (x of refs/heads/x), None when HEAD is detached."""
        if self.head_ref and self.head_ref.startswith("refs/heads/"):
            return self.head_ref[len("refs/heads/") :]
        return None

    @property
    def zero_id(self) -> str:
        """The id that means "no object" in this repository's hash."""
        return "0" * (64 if self.object_format == "sha256" else 40)


def open_repo(cwd: Optional[str] = None, log: Optional[Logger] = None) -> Repo:
    """Find the repository we are in (one git process); NotARepositoryError outside one.
    ``log`` shows every git command run on it (-v)."""
    proc = Git(cwd=cwd, log=log).run(
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
    git = Git(cwd=top, log=log)
    common = common if os.path.isabs(common) else os.path.normpath(os.path.join(cwd or os.getcwd(), common))
    # Relative to where we are (a relative core.hooksPath included: git runs hooks from
    # the top of the work tree, and says where that is from here).
    hooks = os.path.normpath(os.path.join(cwd or os.getcwd(), lines[5])) if len(lines) > 5 else ""
    if proc.returncode == 0 and len(lines) == 8:
        head: Optional[str] = lines[6]
        head_ref: Optional[str] = lines[7] if lines[7].startswith("refs/") else None
    else:  # an unborn branch (or a path named HEAD): ask separately
        head = git.run(["rev-parse", "-q", "--verify", "HEAD^{commit}"], check=False).stdout.decode().strip()
        ref = git.run(["symbolic-ref", "-q", "HEAD"], check=False).stdout
        head_ref = ref.decode("utf-8", "surrogateescape").strip() or None
    return Repo(
        top=top,
        git_dir=git_dir,
        common_dir=common,
        head=head or None,
        head_ref=head_ref,
        object_format=fmt,
        hooks=hooks or os.path.join(common, "hooks"),
        git=git,
    )


def read_config(git: Git) -> Tuple[Dict[str, str], Dict[str, str]]:
    """(pwapply.*, pw.*, commit.gpgsign and user.email keys lowercased, remote name -> URL) in one
    git call.  A key with no value at all (``[pwapply] checkPatches``) reads "true", as
    git reads it for a boolean."""
    proc = git.run(
        ["config", "-z", "--get-regexp", r"^(pwapply|pw)\.|^remote\..*\.url$|^commit\.gpgsign$|^user\.email$"],
        check=False,
    )
    values: Dict[str, str] = {}
    remotes: Dict[str, str] = {}
    for item in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if not item:
            continue
        key, nl, value = item.partition("\n")
        key = key.lower()
        if not nl:
            value = "true"
        if key.startswith("remote.") and key.endswith(".url"):
            remotes[key[len("remote.") : -len(".url")]] = value
        else:
            values[key] = value  # the last one wins, as git config --get does
    return values, remotes


def read_config_file(git: Git, path: str, keys: Iterable[str]) -> Dict[str, str]:
    """Keys from a git-config-format file (a repository's .b4-config)."""
    if not os.path.isfile(path):
        return {}
    proc = git.run(["config", "-f", path, "-z", "--list"], check=False)
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
    return repo.git.start(
        ["--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=no", "--ignore-submodules=dirty"]
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
    proc = repo.git.run(["rev-parse", "-q", "--verify", "--end-of-options", rev + "^{commit}"], check=False)
    sha = proc.stdout.decode().strip()
    return sha or None


def branch_tip(repo: Repo, name: str) -> Optional[str]:
    return rev_parse(repo, f"refs/heads/{name}")


def worktree_with_branch(repo: Repo, name: str) -> Optional[str]:
    """The path of a work tree of this repository that has branch ``name`` checked out."""
    raw = repo.git.run(["worktree", "list", "--porcelain"]).stdout.decode("utf-8", "surrogateescape")
    path = None
    for field in raw.splitlines():  # (-z would need git 2.36)
        if field.startswith("worktree "):
            path = field[len("worktree ") :]
        elif field == f"branch refs/heads/{name}":
            return path
    return None


def check_branch_name(repo: Repo, name: str) -> bool:
    return repo.git.run(["check-ref-format", "--branch", name], check=False).returncode == 0


def identity(repo: Repo) -> str:
    """``Name <email>`` of the committer, for --signoff."""
    return re.sub(r"\s+\d+\s+[+-]\d{4}$", "", repo.git.out(["var", "GIT_COMMITTER_IDENT"]))


def has_upstream(repo: Repo) -> bool:
    return repo.git.run(["rev-parse", "-q", "--verify", "@{upstream}"], check=False).returncode == 0


def upstream_remote(repo: Repo) -> Optional[str]:
    """The remote of the current branch's upstream (None: detached, or no upstream)."""
    if not repo.head_ref:
        return None
    proc = repo.git.run(["for-each-ref", "--format=%(upstream:remotename)", repo.head_ref], check=False)
    return proc.stdout.decode("utf-8", "replace").strip() or None


# ------------------------------------------------------------------ changing refs (past the commit point)


def update_ref(repo: Repo, ref: str, new: str, old: str, message: str) -> None:
    """Move ``ref`` to ``new`` only if it is still at ``old`` (all zeros: must not exist)."""
    repo.git.run(["update-ref", "-m", message, ref, new, old])


def delete_ref(repo: Repo, ref: str, old: str) -> None:
    repo.git.run(["update-ref", "-d", ref, old], check=False)


def checkout(repo: Repo, branch: str) -> Optional[str]:
    """Check out ``branch``; GitError if git did not switch to it.  git checkout also
    fails, with the post-checkout hook's status, when that hook fails after the switch
    (git-lfs's, say, without git-lfs installed): then the branch is checked out, and
    this returns the first line the hook printed.  None when all went well."""
    proc = repo.git.run(["checkout", "-q", branch, "--"], check=False)
    if proc.returncode == 0:
        return None
    head = repo.git.run(["symbolic-ref", "-q", "HEAD"], check=False).stdout
    if head.decode("utf-8", "surrogateescape").strip() == f"refs/heads/{branch}":
        return first_line(proc.stderr.decode("utf-8", "replace"))
    raise GitError(["git", "checkout", "-q", branch, "--"], proc.returncode, proc.stdout, proc.stderr)


def fast_forward_worktree(repo: Repo, old: str, new: str, message: str) -> None:
    """Move the current branch (or detached HEAD) from ``old`` to ``new`` and update the
    index and work tree for just the files that differ."""
    # read-tree -m refuses an entry whose stat data is stale ("not uptodate") even when
    # its content is unchanged (a touched or copied file, which git status calls clean):
    # refresh the index first, as git checkout and git merge do.
    repo.git.run(["update-index", "-q", "--refresh"], check=False)
    repo.git.run(["read-tree", "-m", "-u", old, new])
    try:
        repo.git.run(["update-ref", "-m", message, "HEAD", new, old])
    except GitError:
        repo.git.run(["read-tree", "-m", "-u", new, old], check=False)
        raise


# ------------------------------------------------------------------ reading history


@frozen
class Commit:
    id: str
    author: str  # "Name <email> 1700000000 +0000", as in the commit object
    subject: str
    message: str = ""
    parent: str = ""  # the first parent


def commits_between(repo: Repo, base: str, tip: str) -> List[Commit]:
    """The commits of ``base..tip``, oldest first (first parents), without messages."""
    raw = repo.git.run(
        [
            "log",
            "--reverse",
            "--first-parent",
            "--date=raw",
            "--format=%H%x00%s%x00%an <%ae> %ad",
            f"{base}..{tip}",
            "--",
        ]
    ).stdout.decode("utf-8", "surrogateescape")
    out = []
    for line in raw.splitlines():
        if line.count("\0") == 2:
            sha, subject, author = line.split("\0", 2)
            out.append(Commit(sha, author, subject))
    return out


def log_messages(repo: Repo, rev: str, limit: int) -> List[Commit]:
    """The last ``limit`` commits of ``rev`` with their messages and first parents,
    newest first, following first parents."""
    raw = repo.git.run(
        [
            "log",
            "--first-parent",
            f"-n{limit}",
            "--date=raw",
            "--format=%H %P%x00%an <%ae> %ad%x00%s%x00%B%x00%x01",
            rev,
            "--",
        ]
    ).stdout.decode("utf-8", "surrogateescape")
    out: List[Commit] = []
    for entry in raw.split("\0\x01"):
        parts = entry.lstrip("\n").split("\0", 3)
        if len(parts) == 4:
            ids = parts[0].split()
            out.append(Commit(ids[0], parts[1], parts[2], parts[3], ids[1] if len(ids) > 1 else ""))
    return out


def commits_for_check(repo: Repo, revs: Sequence[str], *, given: bool = False) -> List[Commit]:
    """The commits ``revs`` select, oldest first, in one process.  Revisions the
    repository lacks (a remote's tip not fetched) are ignored, unless the user ``given``
    them: then an unknown one is an InputError."""
    proc = repo.git.run(
        [
            "log",
            "--reverse",
            *([] if given else ["--ignore-missing"]),
            "--date=raw",
            "--format=%H%x00%an <%ae> %ad%x00%s%x00%B%x00%x01",
            *revs,
            "--",
        ],
        check=False,
    )
    if proc.returncode != 0:
        said = proc.stderr.decode("utf-8", "replace")
        if given and ("unknown revision" in said or "bad revision" in said):
            raise InputError(
                f"not a revision or range of this repository: {' '.join(revs)}",
                "give commits it has, e.g. origin/master..HEAD",
            )
        raise GitError(["git", "log", *revs], proc.returncode, proc.stdout, proc.stderr)
    out: List[Commit] = []
    for entry in proc.stdout.decode("utf-8", "surrogateescape").split("\0\x01"):
        parts = entry.lstrip("\n").split("\0", 3)
        if len(parts) == 4:
            out.append(Commit(parts[0], parts[1], parts[2], parts[3]))
    return out


# ------------------------------------------------------------------ branches over their life


@frozen
class Head:
    name: str  # "pw/foo-v2"
    tip: str
    upstream: str  # "refs/remotes/origin/master", or ""


def heads(repo: Repo) -> Dict[str, Head]:
    """Every local branch, its tip and its upstream, in one process."""
    raw = repo.git.out(["for-each-ref", "--format=%(refname)%00%(objectname)%00%(upstream)", "refs/heads"])
    out = {}
    for line in raw.splitlines():
        ref, tip, upstream = (line.split("\0") + ["", ""])[:3]
        name = ref[len("refs/heads/") :]
        out[name] = Head(name, tip, upstream)
    return out


def default_upstream(repo: Repo) -> str:
    """The remote's default branch: refs/remotes/origin/HEAD's target, else origin's
    main or master (a clone made by `git init` and `git remote add` has no origin/HEAD),
    else ""."""
    candidates = ["refs/remotes/origin/HEAD", "refs/remotes/origin/main", "refs/remotes/origin/master"]
    out = repo.git.out(["for-each-ref", "--format=%(refname) %(symref)", *candidates])
    found = dict((line.split(" ", 1) + [""])[:2] for line in out.splitlines() if line)
    for name in candidates:
        if name in found:
            return found[name].strip() or name
    return ""


def in_upstream(repo: Repo, upstream: str, tip: str, base: str) -> Tuple[int, int]:
    """(commits of base..tip whose change ``upstream`` has, commits in all), by patch-id
    (git cherry: a commit merged as it was posted, or rebased)."""
    proc = repo.git.run(["cherry", upstream, tip, base], check=False)
    lines = [line for line in proc.stdout.decode().splitlines() if line[:1] in "+-"]
    return sum(1 for line in lines if line.startswith("-")), len(lines)


def merges_between(repo: Repo, base: str, tip: str) -> List[str]:
    return repo.git.out(["rev-list", "--merges", f"{base}..{tip}"]).split()


def is_ancestor(repo: Repo, ancestor: str, commit: str) -> bool:
    return repo.git.run(["merge-base", "--is-ancestor", ancestor, commit], check=False).returncode == 0


def not_pushed(repo: Repo, commits: Sequence[str], remotes: Optional[Sequence[str]] = None) -> List[str]:
    """Those of ``commits`` that no remote-tracking branch has (of ``remotes`` only, when
    given)."""
    if not commits:
        return []
    tracking = ["--remotes"] if remotes is None else [f"--remotes={r}" for r in remotes]
    listed = repo.git.out(["rev-list", "--no-walk", *commits, "--not", *tracking]).split()
    return [c for c in commits if c in set(listed)]


def remote_branches_with(repo: Repo, commit: str) -> List[str]:
    """The remote-tracking branches that have ``commit``."""
    return repo.git.out(["for-each-ref", "--format=%(refname:short)", "--contains", commit, "refs/remotes"]).split()


def exists(repo: Repo, commit: str) -> bool:
    return repo.git.run(["cat-file", "-e", f"{commit}^{{commit}}"], check=False).returncode == 0


def set_config(repo: Repo, key: str, value: Optional[str]) -> None:
    """Set a key of the repository's config; None unsets it."""
    if value is None:
        repo.git.run(["config", "--unset-all", key], check=False)
    else:
        repo.git.run(["config", key, value])
