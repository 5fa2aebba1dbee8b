"""`pwapply status`: the branches pwapply made here, and what changed since on the server
(a newer version, review tags the commits lack, patch states, failed checks) and
upstream (merged).

The branches come from the record (record.py); the repository is read in a few git
processes; the servers are asked each series once, all series at once (facts.py),
within --timeout.  A server that cannot be asked leaves the local facts and a warning.
"""

from __future__ import annotations

import functools
import time
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Tuple, Union

from .. import process, record
from ..check.rules import links, missing_tags
from ..git import repo as gitrepo

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ..git.repo import Repo
    from ..patchwork.client import PatchworkClient
    from ..patchwork.models import SeriesFacts
    from ..trailers import Trailer


@dataclass
class BranchStatus:
    name: str
    current: bool
    exists: bool
    series: int  # the series asked for
    version: int
    server: str
    commits: int
    merged: Optional[bool] = None  # all its commits are upstream (None: no upstream known)
    newer: Optional[Tuple[int, int]] = None  # (series id, version) of a newer version
    tags: List[Tuple[str, str, "Trailer"]] = field(default_factory=list)  # (commit, subject, tag) that arrived
    states: Dict[str, int] = field(default_factory=dict)  # state -> patches in it, "new" left out
    failed_checks: int = 0
    asked: bool = False  # the server was asked


def status(
    repo: "Repo",
    client_for: Callable[[str], "PatchworkClient"],
    *,
    every: bool = False,
    offline: bool = False,
    timeout: float = 10.0,
    server: Optional[str] = None,
) -> Tuple[List[BranchStatus], List[str]]:
    """The status of each branch pwapply made (deleted ones too with ``every``; those
    applied from ``server`` only, when given), and the warnings to give (servers that
    could not be asked).  The servers are asked first, and git read while they answer."""
    made = record.load(repo.common_dir).branches
    heads = gitrepo.heads(repo)
    shown = {
        name: b
        for name, b in made.items()
        if (name in heads or every) and (server is None or b.server.rstrip("/") == server.rstrip("/"))
    }
    by_server: Dict[str, List[int]] = {}
    for b in shown.values():
        by_server.setdefault(b.server.rstrip("/"), []).extend(b.series)
    deadline = time.monotonic() + timeout  # --timeout counts from the first request
    asking = {} if offline else _ask_all(client_for, by_server)
    fallback = gitrepo.default_upstream(repo) if any(not heads[n].upstream for n in shown if n in heads) else ""
    out: List[BranchStatus] = []
    messages: Dict[str, List[gitrepo.Commit]] = {}
    for name, b in shown.items():
        head = heads.get(name)
        st = BranchStatus(name, name == repo.branch, head is not None, b.series[-1], b.version, b.server, 0)
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
    asked = _answers(asking, deadline, timeout)
    for server, got in asked.items():
        if isinstance(got, BaseException):
            why = getattr(got, "message", None) or str(got) or "no answer"
            warnings.append(f"could not ask {server.split('://', 1)[-1]} ({why}): what is shown is what git knows")
    for st in out:
        facts = asked.get(st.server.rstrip("/"))
        if isinstance(facts, dict):
            _fill(st, made[st.name], facts, messages.get(st.name, []))
    return out, warnings


Answer = Union[Dict[int, "SeriesFacts"], BaseException]


def _ask_all(
    client_for: Callable[[str], "PatchworkClient"], by_server: Dict[str, List[int]]
) -> Dict[str, "Future[Answer]"]:
    """Each server's facts of its series, asked now, all servers at once."""
    from ..facts import gather

    def one(server: str, ids: List[int]) -> Answer:
        try:
            with client_for(server) as client:
                return gather(client, ids)
        except Exception as exc:  # noqa: BLE001 -- any failure means: could not ask
            return exc

    from ..steps import step

    step("ask the servers")
    return {s: process.in_thread(functools.partial(one, s, ids), "pwapply-status") for s, ids in by_server.items()}


def _answers(asking: Dict[str, "Future[Answer]"], deadline: float, timeout: float) -> Dict[str, Answer]:
    """What each server answered by ``deadline`` (git was read meanwhile)."""
    results: Dict[str, Answer] = {}
    for server, future in asking.items():
        try:
            results[server] = process.result(future, max(0.0, deadline - time.monotonic()), what="status")
        except FutureTimeout:
            results[server] = TimeoutError(f"no answer within {timeout:g} s")
    return results


def _fill(st: BranchStatus, b: record.Branch, facts: Dict[int, "SeriesFacts"], commits: List[gitrepo.Commit]) -> None:
    st.asked = True
    root = facts.get(b.series[-1])
    if root is not None and root.newer is not None:
        st.newer = (root.newer.id, root.newer.version)
    by_msgid = {m: f for f in facts.values() for m in f.patches or f.tags}
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
