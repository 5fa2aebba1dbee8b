"""`pwapply accept [REVRANGE]`: mark the patches of pushed commits accepted on their
server, with the commit each went in as (``commit_ref``).

Acceptance follows the push, never precedes it: a commit no remote-tracking branch has
is not marked (unless --force).  The token goes only to the configured server: a commit
whose Link names another host (a contributor wrote it, or pasted it) is reported and
skipped.  ``--pending`` marks what a push recorded (pwapply hooks install --accept),
once the pushed commits are seen on a remote-tracking branch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .. import process, record
from ..check.rules import links
from ..errors import ConfigError, InputError, NetworkError, PwapplyError
from ..frozen import frozen
from ..git import repo as gitrepo
from ..git.repo import Commit, Repo
from ..resolve import host_of
from ..sources.model import PATCHWORK
from ..sources.patchwork.client import PatchworkClient


@frozen
class Mark:
    commit: str
    subject: str
    msgid: str
    patch_id: int = 0


@dataclass
class Accepted:
    state: str
    marked: List[Mark] = field(default_factory=list)
    to_mark: List[Mark] = field(default_factory=list)  # --dry-run: what would be marked
    skipped: List[Tuple[str, str, str]] = field(default_factory=list)  # (commit, subject, why)
    failure: Optional[PwapplyError] = None  # the first refusal, after all the others were tried


def commits_to_accept(repo: Repo, revs: Sequence[str]) -> List[Commit]:
    """The commits of ``revs``; without any, those pwapply applied on the current branch."""
    if revs:
        return gitrepo.commits_for_check(repo, list(revs), given=True)
    made = record.load(repo.common_dir).branches.get(repo.branch or "")
    if made is None:
        raise InputError(
            "the current branch was not made by pwapply: which commits?",
            "name them: pwapply accept origin/master~5..origin/master",
        )
    return gitrepo.commits_for_check(repo, [f"{made.base}..HEAD"])


def accept(
    repo: Repo,
    client: PatchworkClient,
    commits: Sequence[Commit],
    *,
    state: str = "accepted",
    force: bool = False,
    dry_run: bool = False,
) -> Accepted:
    """Mark the patches of ``commits`` (those on a remote-tracking branch, unless
    ``force``) ``state`` on ``client``'s server, all at once."""
    out = Accepted(state)
    server = client.server
    wanted: List[Mark] = []
    for c in commits:
        for host, msgid in links(c.message):
            if host is not None and host_of(host) != host_of(server):
                out.skipped.append(
                    (c.id, c.subject, f"its Link names {host_of(host)}, not {host_of(server)}: not marked")
                )
                continue
            wanted.append(Mark(c.id, c.subject, msgid))
            break
    if not force:
        unpushed = set(gitrepo.not_pushed(repo, [m.commit for m in wanted]))
        for m in [m for m in wanted if m.commit in unpushed]:
            out.skipped.append((m.commit, m.subject, "no remote-tracking branch has it yet: push first (or --force)"))
        wanted = [m for m in wanted if m.commit not in unpushed]
    if not wanted:
        return out
    if not client.sends_token and not dry_run:
        raise ConfigError(
            f"marking patches {state} on {host_of(server)} needs the token of one of its maintainers",
            "git config pwapply.token <token>, PWAPPLY_TOKEN, or a git credential helper's password for "
            f"{server}; --dry-run lists what would be marked",
        )
    ids = _patch_ids(repo, client, [m.msgid for m in wanted])
    for m in wanted:
        if m.msgid not in ids:
            out.skipped.append((m.commit, m.subject, f"<{m.msgid}> is no patch on {host_of(server)}"))
    wanted = [Mark(m.commit, m.subject, m.msgid, ids[m.msgid]) for m in wanted if m.msgid in ids]
    if dry_run:
        out.to_mark = wanted
        return out
    asked = [(m, client.submit(client.set_state, m.patch_id, state, m.commit)) for m in wanted]
    for m, future in asked:
        try:
            process.result(future, what="state change")
            out.marked.append(m)
        except PwapplyError as exc:
            if out.failure is None:
                out.failure = type(exc)(f"patch {m.patch_id} ({m.subject}): {exc.message}", exc.hint)
    return out


def _patch_ids(repo: Repo, client: PatchworkClient, msgids: Sequence[str]) -> Dict[str, int]:
    """msgid -> patch id on the server: from each series' patch list (one request a
    series, its id from the record or one look-up)."""
    known = record.load(repo.common_dir)
    series: Dict[int, None] = {}
    unknown = []
    for msgid in msgids:
        applied = known.lookup(msgid)
        if applied is not None and applied.key.source == (PATCHWORK, client.server.rstrip("/")):
            series[int(applied.key.what)] = None
        else:
            unknown.append(msgid)
    found: Dict[str, int] = {}
    for msgid in unknown:
        hit = process.result(client.submit(client.find_mail, "patches", msgid, None), what="look-up")
        if hit is not None:
            series[hit.series_id] = None
    asked = [client.submit(client.series, sid) for sid in series]
    for future in asked:
        s = process.result(future, what="series")
        found.update({p.msgid: p.id for p in s.patches})
    return found


def accept_remotes(repo: Repo, configured: Optional[str]) -> List[str]:
    """The remotes a push to marks patches accepted: git config pwapply.acceptRemotes
    (names, space or comma separated), else the remote of the current branch's upstream,
    else origin.  A personal fork is never one by accident."""

    if configured and configured.strip():
        return [r for r in re.split(r"[\s,]+", configured) if r]
    return [gitrepo.upstream_remote(repo) or "origin"]


def pending(
    repo: Repo, client_for: "Dict[str, PatchworkClient]", state: str, remotes: Optional[Sequence[str]] = None
) -> Tuple[List[Mark], List[str]]:
    """Mark what pushes recorded, for the commits a remote-tracking branch of ``remotes``
    (accept_remotes) now has; what is not there yet stays recorded, and so does what
    failed (told as warnings)."""
    rec = record.load(repo.common_dir)
    waiting = [p for p in rec.pending.values() if gitrepo.exists(repo, p.commit)]
    unpushed = set(gitrepo.not_pushed(repo, [p.commit for p in waiting], remotes))
    pushed = [p for p in waiting if p.commit not in unpushed]
    marked: List[Mark] = []
    warnings: List[str] = []
    done: List[str] = [p.commit for p in rec.pending.values() if p not in waiting]  # commits gone
    for server in sorted({p.server for p in pushed}):
        client = client_for.get(server)
        mine = [p for p in pushed if p.server == server]
        if client is None:
            warnings.append(f"no token for {host_of(server)}: {len(mine)} patch(es) stay to be marked")
            continue
        commits = gitrepo.commits_for_check(repo, ["--no-walk", *[p.commit for p in mine]])
        try:
            result = accept(repo, client, commits, state=state)
        except (NetworkError, ConfigError) as exc:
            warnings.append(f"{exc.message}: the patches stay to be marked")
            continue
        marked += result.marked
        done += [m.commit for m in result.marked]
        done += [c for c, _, why in result.skipped if "Link names" in why or "is no patch" in why]
        if result.failure is not None:
            warnings.append(result.failure.message)
    if done:

        def forget(r: record.Record) -> None:
            for commit in done:
                r.pending.pop(commit, None)

        record.update(repo.common_dir, forget)
    return marked, warnings
