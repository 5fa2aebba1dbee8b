"""`pwapply status`: the branches pwapply made here, and what changed since on the server
(a newer version, review tags the commits lack, patch states, failed checks) and
upstream (merged).

The branches come from the record (record.py); the repository is read in a few git
processes; the servers are asked each series once, all series at once (facts.py),
within --timeout.  A server that cannot be asked leaves the local facts and a warning.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .. import record
from ..check.rules import links, missing_tags
from ..git import repo as gitrepo
from ..git.repo import Repo
from ..sources.model import Facts, Key, Summary
from ..sources.policy import Answer, Sources
from ..trailers import Trailer


@dataclass
class BranchStatus:
    name: str
    current: bool
    exists: bool
    key: Key  # the series asked for
    label: str  # "series 500889 v2", "v2 from the archive"
    version: int
    commits: int
    merged: Optional[bool] = None  # all its commits are upstream (None: no upstream known)
    newer: Optional[Summary] = None  # a newer version
    tags: List[Tuple[str, str, Trailer]] = field(default_factory=list)  # (commit, subject, tag) that arrived
    states: Dict[str, int] = field(default_factory=dict)  # state -> patches in it, "new" left out
    failed_checks: int = 0
    asked: bool = False  # its source was asked


def status(
    repo: Repo,
    sources: Sources,
    *,
    every: bool = False,
    offline: bool = False,
    timeout: float = 10.0,
    server: Optional[str] = None,
) -> Tuple[List[BranchStatus], List[str]]:
    """The status of each branch pwapply made (deleted ones too with ``every``; those
    applied from ``server`` only, when given), and the warnings to give (sources that
    could not be asked).  The sources are asked first, and git read while they answer."""
    made = record.load(repo.common_dir).branches
    heads = gitrepo.heads(repo)
    shown = {
        name: b
        for name, b in made.items()
        if (name in heads or every) and (server is None or b.where.rstrip("/") == server.rstrip("/"))
    }
    deadline = time.monotonic() + timeout  # --timeout counts from the first request
    asking = {} if offline else sources.facts([b.series for b in shown.values()])
    fallback = gitrepo.default_upstream(repo) if any(not heads[n].upstream for n in shown if n in heads) else ""
    out: List[BranchStatus] = []
    messages: Dict[str, List[gitrepo.Commit]] = {}
    for name, b in shown.items():
        head = heads.get(name)
        st = BranchStatus(name, name == repo.branch, head is not None, b.key, b.label, b.version, 0)
        if head is not None:
            commits = gitrepo.commits_for_check(repo, [f"{b.base}..{head.tip}"])
            messages[name] = commits
            st.commits = len(commits)
            upstream = head.upstream or fallback
            if upstream and commits:
                have, total = gitrepo.in_upstream(repo, upstream, head.tip, b.base)
                st.merged = have == total
        out.append(st)
    warnings: List[str] = []
    if offline or not out:
        return out, warnings
    asked: Dict[Tuple[str, str], Answer] = Sources.answers(asking, deadline, timeout)
    for source, got in asked.items():
        if isinstance(got, BaseException):
            why = getattr(got, "message", None) or str(got) or "no answer"
            warnings.append(f"could not ask {source[1].split('://', 1)[-1]} ({why}): what is shown is what git knows")
    for st in out:
        facts = asked.get(st.key.source)
        if isinstance(facts, dict):
            _fill(st, facts.get(st.key), list(facts.values()), messages.get(st.name, []))
    return out, warnings


def _fill(st: BranchStatus, root: Optional[Facts], facts: List[Facts], commits: List[gitrepo.Commit]) -> None:
    st.asked = True
    if root is not None and root.newer is not None:
        st.newer = root.newer
    by_msgid = {m: f for f in facts for m in f.patches or f.tags}
    for commit in commits:
        for _, msgid in links(commit.message):
            f = by_msgid.get(msgid)
            if f is None:
                continue
            st.tags += [(commit.id, commit.subject, t) for t in missing_tags(commit.message, f.tags.get(msgid, []))]
            state = f.patches.get(msgid)
            if state is not None:
                if state.state and state.state != "new":
                    st.states[state.state] = st.states.get(state.state, 0) + 1
                if state.check == "fail":
                    st.failed_checks += 1
