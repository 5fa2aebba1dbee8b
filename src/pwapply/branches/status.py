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
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, Union

from .. import process, record, threads
from ..check.rules import links, missing_tags
from ..git import repo as gitrepo

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ..archive.client import ArchiveClient
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
    newer_page: str = ""  # a series from the list's archive: the newer version's page there

    @property
    def label(self) -> str:
        """``series 500889 v2``, or ``v2 from the archive`` for a series taken from there."""
        return f"series {self.series} v{self.version}" if self.series else f"v{self.version} from the archive"


def status(
    repo: "Repo",
    client_for: Callable[[str], "PatchworkClient"],
    *,
    every: bool = False,
    offline: bool = False,
    timeout: float = 10.0,
    server: Optional[str] = None,
    archive_for: "Optional[Callable[[str], ArchiveClient]]" = None,
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
    jobs: Dict[str, Callable[[], Dict[Any, "SeriesFacts"]]] = {}
    by_server: Dict[str, List[int]] = {}
    by_archive: Dict[str, List[Tuple["record.ArchiveSeries", int]]] = {}
    for b in shown.values():
        if b.archive is not None:  # made from the list's archive: its thread and its sender's later mail
            by_archive.setdefault(b.server.rstrip("/"), []).append((b.archive, b.version))
        else:
            by_server.setdefault(b.server.rstrip("/"), []).extend(b.series)
    for s, ids in by_server.items():
        jobs[s] = functools.partial(_patchwork_facts, client_for, s, ids)
    if archive_for is not None:
        for s, wanted in by_archive.items():
            jobs[s] = functools.partial(_archive_facts, archive_for, s, wanted)
    deadline = time.monotonic() + timeout  # --timeout counts from the first request
    asking = {} if offline else _ask_all(jobs)
    fallback = gitrepo.default_upstream(repo) if any(not heads[n].upstream for n in shown if n in heads) else ""
    out: List[BranchStatus] = []
    messages: Dict[str, List[gitrepo.Commit]] = {}
    for name, b in shown.items():
        head = heads.get(name)
        sid = b.series[-1] if b.series else 0
        st = BranchStatus(name, name == repo.branch, head is not None, sid, b.version, b.server, 0)
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
        b = made[st.name]
        if isinstance(facts, dict):
            root = facts.get(b.archive.root if b.archive is not None else b.series[-1])
            _fill(st, root, list(facts.values()), messages.get(st.name, []))
    return out, warnings


Answer = Union[Dict[Any, "SeriesFacts"], BaseException]


def _patchwork_facts(
    client_for: Callable[[str], "PatchworkClient"], server: str, ids: List[int]
) -> Dict[Any, "SeriesFacts"]:
    from ..facts import gather

    with client_for(server) as client:
        return dict(gather(client, ids))


def _archive_facts(
    archive_for: "Callable[[str], ArchiveClient]", archive: str, wanted: List[Tuple["record.ArchiveSeries", int]]
) -> Dict[Any, "SeriesFacts"]:
    from ..archive.facts import gather

    with archive_for(archive) as client:
        return dict(gather(client, wanted))


def _ask_all(jobs: Dict[str, Callable[[], Dict[Any, "SeriesFacts"]]]) -> Dict[str, "Future[Answer]"]:
    """Each server's (or archive's) facts of its series, asked now, all at once."""

    def one(job: Callable[[], Dict[Any, "SeriesFacts"]]) -> Answer:
        try:
            return job()
        except Exception as exc:  # noqa: BLE001 -- any failure means: could not ask
            return exc

    from ..steps import step

    step("ask the servers")
    return {s: threads.in_thread(functools.partial(one, job), "pwapply-status") for s, job in jobs.items()}


def _answers(asking: Dict[str, "Future[Answer]"], deadline: float, timeout: float) -> Dict[str, Answer]:
    """What each server answered by ``deadline`` (git was read meanwhile)."""
    results: Dict[str, Answer] = {}
    for server, future in asking.items():
        try:
            results[server] = process.result(future, max(0.0, deadline - time.monotonic()), what="status")
        except FutureTimeout:
            results[server] = TimeoutError(f"no answer within {timeout:g} s")
    return results


def _fill(
    st: BranchStatus, root: "Optional[SeriesFacts]", facts: List["SeriesFacts"], commits: List[gitrepo.Commit]
) -> None:
    st.asked = True
    if root is not None and root.newer is not None:
        st.newer = (root.newer.id, root.newer.version)
        st.newer_page = "" if root.newer.id else root.newer.web_url
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
