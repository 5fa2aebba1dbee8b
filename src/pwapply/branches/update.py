"""`pwapply update [BRANCH]`: the review tags given on the list since a branch was
applied, added to its commits where the apply would have put them (before the Link),
never twice.

Only messages change: trees, authors and author dates stay, so a checked-out branch
needs no change of its work tree or index.  Commits on top that pwapply did not make
keep their messages (their ids change with their parents').  The branch moves with
``update-ref NEW OLD``, which refuses a concurrent change; that is the commit point.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional, Tuple

from .. import lock, process, record, threads, trailers
from ..check.rules import links, missing_tags
from ..errors import InputError, RepoStateError
from ..git import repo as gitrepo
from ..git.repo import Repo
from ..git.rewrite import rewrite_messages
from ..sources.model import Facts, Key, Summary, Want
from ..sources.policy import Sources
from ..steps import step
from ..trailers import Trailer


@dataclass
class Update:
    branch: str
    key: Key
    label: str  # "series 500889 v2", "v2 from the archive"
    version: int
    added: List[Tuple[str, str, List[Trailer]]] = field(default_factory=list)  # (commit, subject, tags)
    old_tip: str = ""
    commits: List[str] = field(default_factory=list)  # base..old_tip, oldest first (no merge among them)
    new_tip: str = ""
    newer: Optional[Summary] = None  # a newer version
    short: str = ""  # how its source names the series in passing ("series 500889", its page)
    published: List[str] = field(default_factory=list)  # remote-tracking branches that have its commits
    done: bool = False  # the branch was moved


def find(repo: Repo, name: Optional[str], server: Optional[str] = None) -> record.Branch:
    """The recorded branch ``name`` (the current one when None); with ``server``, one
    applied from that server."""
    if name is None:
        name = repo.branch
        if name is None:
            raise InputError("HEAD is not on a branch", "name the branch: pwapply update BRANCH")
    made = record.load(repo.common_dir).branches.get(name)
    if made is None:
        raise InputError(
            f"pwapply did not make branch {name}",
            "pwapply status lists the branches it made; pwapply update BRANCH names one",
        )
    if server is not None and made.where.rstrip("/") != server.rstrip("/"):
        raise InputError(
            f"branch {name} was applied from {made.where}, not from {server}",
            "drop --server, or name a branch applied from that server (pwapply status --server URL)",
        )
    return made


def plan(repo: Repo, sources: Sources, made: record.Branch) -> Update:
    """What an update of ``made`` would add (and whether a newer version exists), asked
    of the source it was applied from."""
    step("ask the server")  # first: git is read while it answers
    source = sources.for_key(made.key)
    asking = threads.in_thread(lambda: source.facts([made.series], Want(newer=True, states=False, tags=True)), "update")
    tip = gitrepo.branch_tip(repo, made.name)
    if tip is None:
        raise InputError(f"branch {made.name} no longer exists", "pwapply status --all shows it as deleted")
    if not gitrepo.is_ancestor(repo, made.base, tip):
        raise RepoStateError(
            f"branch {made.name} is no longer on the commit pwapply applied it on ({made.base[:12]})",
            "it was rebased: apply the series again (pwapply SERIES -b NAME)",
        )
    merges = gitrepo.merges_between(repo, made.base, tip)
    if merges:
        raise RepoStateError(
            f"branch {made.name} has a merge among its commits ({merges[0][:12]}): its messages are not rewritten",
            "update the branch by hand, or apply the series again on a new branch",
        )
    up = Update(made.name, made.key, made.label, made.version, old_tip=tip)
    commits = gitrepo.commits_for_check(repo, [f"{made.base}..{tip}"])
    facts: Dict[Key, Facts] = process.result(asking, what="review tags")
    root = facts.get(made.key)
    if root is not None:
        up.short = root.series.short
        up.newer = root.newer
    tags: Dict[str, List[Trailer]] = {m: t for f in facts.values() for m, t in f.tags.items()}
    for commit in commits:
        up.commits.append(commit.id)
        for _, msgid in links(commit.message):
            new = missing_tags(commit.message, tags.get(msgid, []))
            if new:
                up.added.append((commit.id, commit.subject, new))
    if up.added:
        up.published = gitrepo.remote_branches_with(repo, up.added[0][0])
    return up


def apply(
    repo: Repo, made: record.Branch, up: Update, sign: Optional[str], say: Callable[[str], None] = lambda _: None
) -> None:
    """Rewrite the messages and move the branch (the commit point), under the
    repository's lock (another run waited for, ``say`` told)."""
    by_commit = {c: tags for c, _, tags in up.added}

    def edit(i: int, message: str) -> str:  # the i-th commit of base..old_tip, as plan() listed them
        new = by_commit.get(up.commits[i - 1])
        if not new:
            return message
        return trailers.add_before(message, new, lambda t: t.key.lower() in trailers.LINK_KEYS)

    new_tip, _ = rewrite_messages(repo, made.base, up.old_tip, edit, sign)

    def moved(r: record.Record) -> None:
        r.branches[made.name] = replace(made, tip=new_tip)

    with lock.repo_lock(repo.common_dir, say):
        if gitrepo.branch_tip(repo, made.name) != up.old_tip:  # another run (or git) moved it meanwhile
            raise RepoStateError(
                f"branch {made.name} moved while pwapply was updating it",
                "nothing was changed; run pwapply update again",
            )
        process.commit()  # the commit point: from here on the update completes
        gitrepo.update_ref(repo, f"refs/heads/{made.name}", new_tip, up.old_tip, "pwapply: update, review tags added")
        up.new_tip, up.done = new_tip, True
        record.update(repo.common_dir, moved)
