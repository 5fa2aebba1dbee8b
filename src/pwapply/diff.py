"""`pwapply diff`: one version of a series against another.

Each version is applied in a scratch worktree (or taken from the branch pwapply already
made for it), the trailers added after posting are stripped, and `git range-diff` (or
`git diff` of the two tips) shows the rest.  Nothing of the user's is touched.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

from . import mbox, process, trailers
from .apply.am import Run, am_options, apply_in, apply_runs, describe_failure
from .apply.branch import base_commit, branch_name
from .apply.options import Plan
from .errors import InputError, NotFoundError
from .git import repo as gitrepo
from .git.repo import Repo
from .git.rewrite import rewrite_messages
from .git.scratch import Scratch
from .resolve import MSGID, SeriesRef, resolve
from .ui import UI
from .versions import closest_earlier, find, need_server, order_key

if TYPE_CHECKING:
    from .patchwork.client import Connection, PatchworkClient
    from .patchwork.models import Series


@dataclass
class DiffOptions:
    against: Optional[str] = None
    base: Optional[str] = None
    trailers: bool = False
    interdiff: bool = False
    pager: bool = True
    refresh: bool = False
    passthrough: Sequence[str] = ()
    no_deps: bool = False  # compare the versions alone, without what they are based on


@dataclass
class Side:
    series: "Series"
    base: str
    tip: str
    origin: str  # "branch pw/..." or "applied on <base>"
    count: int = 0
    notes: List[str] = field(default_factory=list)


def diff(ref: SeriesRef, plan: Plan, repo: Repo, opts: DiffOptions, conn: "Connection", ui: UI) -> int:
    """Show how ``ref``'s series changed since another version; git's exit code."""
    from .config import require_server
    from .patchwork.locate import locate

    need_server(ref)
    if plan.archive and ref.kind == MSGID and not plan.server:
        return _in_archive(ref.value, plan.archive, repo, opts, conn, ui)
    server = require_server(plan.server)
    fallback_base = base_commit(repo, opts.base)
    ui.progress(f"Fetching from {server} ...")
    with conn.client(server) as client:
        try:
            sid, _ = locate(client, ref, plan.project)
        except NotFoundError:
            if not (plan.archive and ref.kind == MSGID):
                raise
            return _in_archive(ref.value, plan.archive, repo, opts, conn, ui)
        current = client.series(sid)
        versions = find(client, current)
        other = _against(client, opts.against, versions, current, plan.project)
        pair = [other, current]
        branches = [_branch_side(repo, plan.branch_format, s) for s in pair]
        need = [s for s, b in zip(pair, branches) if b is None]
        fetched = _fetch_sides(client, need, opts.refresh) if need else {}
        # Where each version to apply goes, and what it is based on: its bases are applied
        # first, so that the comparison is of the series' own patches.
        placed = {s.id: _side_base(repo, s, *fetched[s.id], fallback_base) for s in need}
        bases = {
            s.id: [] if opts.no_deps else _bases(client, s, *fetched[s.id], plan, repo, placed[s.id][0], ui)
            for s in need
        }
    ui.info(
        f"comparing v{other.version} (series {other.id}, {len(other.patches)} patches) "
        f"with v{current.version} (series {current.id}, {len(current.patches)} patches)"
    )
    sides: List[Side] = []
    with ExitStack() as stack:
        for s, b in zip(pair, branches):
            if b is not None:
                sides.append(b)
            else:
                base, origin = placed[s.id]
                sides.append(_apply_side(repo, stack, s, fetched[s.id][0], bases[s.id], base, origin, ui))
    return _compare(repo, sides, opts, ui)


def _compare(repo: Repo, sides: List[Side], opts: DiffOptions, ui: UI) -> int:
    """range-diff (or, with --interdiff, diff) of the two sides applied."""
    if not opts.trailers:
        sides = [_strip_side(repo, side) for side in sides]
    for side in sides:
        ui.info(f"  v{side.series.version}: {side.origin}")
    old, new = sides
    if opts.interdiff:
        if old.base != new.base:
            raise InputError(
                "--interdiff needs both versions on the same base "
                f"(v{old.series.version} is on {old.base[:12]}, v{new.series.version} on {new.base[:12]})",
                "give --base REF to apply both on one base, or drop --interdiff",
            )
        return repo.git.show(["diff", *opts.passthrough, old.tip, new.tip], pager=opts.pager)
    return repo.git.show(
        ["range-diff", *opts.passthrough, f"{old.base}..{old.tip}", f"{new.base}..{new.tip}"], pager=opts.pager
    )


def _in_archive(msgid: str, archive: str, repo: Repo, opts: DiffOptions, conn: "Connection", ui: UI) -> int:
    """diff of a series the list's archive has (Patchwork does not): its versions from
    the archive (archive/facts.listing), each version's patches from its thread, applied
    in scratch worktrees on --base (or its base-commit) alone."""
    from .archive.facts import listing
    from .thread import pick, read

    fallback_base = base_commit(repo, opts.base)
    ui.progress(f"Asking the archive ({archive}) ...")
    with conn.archive(archive) as client:
        current, versions = listing(client, msgid)
        other = _against_in(versions, current, opts.against)
        data: Dict[str, bytes] = {}
        for s in (other, current):
            root = resolve(s.web_url).value  # its page: <archive>/<msgid>/
            got = client.thread(root)
            if got is None:
                raise NotFoundError(f"<{root}> is no longer in the archive ({archive})", "try again later")
            ts = pick(read(got), root, archive)
            data[s.web_url] = b"".join(p.raw if p.raw.endswith(b"\n") else p.raw + b"\n" for p in ts.patches)
    ui.info(f"comparing v{other.version} with v{current.version} of {current.name} (from {archive})")
    made = {s.web_url: _archive_branch_side(repo, s) for s in (other, current)}
    if opts.base is None:  # the other version goes where a branch of one was made
        fallback_base = next((m.base for m in made.values() if m is not None), fallback_base)
    sides: List[Side] = []
    with ExitStack() as stack:
        for s in (other, current):
            side = made[s.web_url]
            if side is None:
                base, origin = _side_base(repo, s, data[s.web_url], "", fallback_base)
                side = _apply_side(repo, stack, s, data[s.web_url], [], base, origin, ui)
            sides.append(side)
    return _compare(repo, sides, opts, ui)


def _archive_branch_side(repo: Repo, series: "Series") -> Optional[Side]:
    """The branch pwapply made from the archive for this version, when it still exists
    and still starts where it was made."""
    from . import record
    from .archive.client import page

    for name, b in record.load(repo.common_dir).branches.items():
        if b.archive is None or page(b.server, b.archive.root) != series.web_url or b.version != series.version:
            continue
        tip = gitrepo.branch_tip(repo, name)
        if tip is not None and gitrepo.is_ancestor(repo, b.base, tip):
            count = len(gitrepo.commits_between(repo, b.base, tip))
            return Side(series, b.base, tip, f"branch {name}", count)
    return None


def _against_in(versions: Sequence["Series"], current: "Series", against: Optional[str]) -> "Series":
    """The archive's version to compare with: --against vN, else the closest earlier."""
    if against is not None:
        m = re.fullmatch(r"[vV](\d+)", against.strip())
        if not m:
            raise InputError(
                f"--against {against}: a series of the archive is compared with another version by number",
                "give --against vN (pwapply versions lists them)",
            )
        wanted = [s for s in versions if s.version == int(m.group(1)) and s.web_url != current.web_url]
        if not wanted:
            have = ", ".join(f"v{s.version}" for s in versions) or "none"
            raise NotFoundError(
                f"no v{m.group(1)} of {current.name!r} in the archive (versions: {have})", "pick one of them"
            )
        return wanted[-1]
    earlier = [s for s in versions if s.version < current.version]
    if not earlier:
        raise NotFoundError(
            f"found no earlier version of {current.name!r} (v{current.version}) in the archive",
            "name the one to compare with: --against vN",
        )
    return earlier[-1]


def _against(
    client: "PatchworkClient",
    against: Optional[str],
    versions: Sequence["Series"],
    current: "Series",
    project: Optional[str],
) -> "Series":
    if against is None:
        other = closest_earlier(versions, current)
        if other is None:
            raise NotFoundError(
                f"found no earlier version of series {current.id} (v{current.version}) on the server",
                "name the one to compare with: --against SERIES or --against vN",
            )
        return other
    m = re.fullmatch(r"[vV](\d+)", against.strip())
    if m:
        wanted = [s for s in versions if s.version == int(m.group(1)) and s.id != current.id]
        if not wanted:
            have = ", ".join(f"v{s.version} ({s.id})" for s in versions) or "none"
            raise NotFoundError(
                f"no v{m.group(1)} of series {current.id} found (versions: {have})",
                "give the other version's series id or URL with --against",
            )
        return max(wanted, key=order_key)
    from .patchwork.locate import locate

    sid, _ = locate(client, resolve(against), project)
    if sid == current.id:
        raise InputError("--against names the same series", "name another version of it")
    return client.series(sid)


def _branch_side(repo: Repo, branch_format: str, series: "Series") -> Optional[Side]:
    """The commits of a branch pwapply made for this version, when it exists."""
    name = branch_name(
        branch_format,
        series_id=series.id,
        version=series.version,
        name=series.name,
        first_subject=series.patches[0].name if series.patches else None,
        project=series.project,
        submitter=series.submitter_name,
    )
    tip = gitrepo.branch_tip(repo, name)
    if tip is None:
        return None
    ids = {p.msgid for p in series.patches if p.msgid}
    count, base = 0, ""
    for commit in gitrepo.log_messages(repo, tip, len(series.patches) + 1):
        if not any(i in commit.message for i in ids):
            break
        count, base = count + 1, commit.parent
    if count == 0 or not base:
        return None
    return Side(series, base, tip, f"branch {name}", count)


def _fetch_sides(client: "PatchworkClient", need: Sequence["Series"], refresh: bool) -> Dict[int, Tuple[bytes, str]]:
    """Each series' mbox (from the cache unless --refresh) and its cover letter's text
    (for base-commit), fetched concurrently."""
    from .cache import MboxCache

    cache = MboxCache()
    server = client.server

    def one(s: "Series") -> Tuple[bytes, str]:
        data = None if refresh else cache.get(server, s.id)
        if data is None:
            data = client.series_mbox(s.id)
            cache.put(server, s.id, data)
        cover_text = client.cover_content(s.cover.id) if s.cover is not None else ""
        return data, cover_text

    from .patchwork.client import request_pool

    with request_pool() as pool:
        asked = [(s.id, pool.submit(one, s)) for s in need]
        return {sid: process.result(f, what="mbox") for sid, f in asked}


def _side_base(repo: Repo, series: "Series", data: bytes, cover_text: str, fallback: str) -> Tuple[str, str]:
    """Where a version is applied: its base-commit when the repository has it, else
    ``fallback``; and how that is told."""
    for text in [cover_text] + [p.raw.decode("utf-8", "replace") for p in mbox.read(data, reorder=False).patches]:
        wanted = mbox.base_commit(text)
        if wanted:
            found = gitrepo.rev_parse(repo, wanted)
            if found:
                return found, " (its base-commit)"
            break
    return fallback, ""


def _bases(
    client: "PatchworkClient",
    series: "Series",
    data: bytes,
    cover_text: str,
    plan: Plan,
    repo: Repo,
    base: str,
    ui: UI,
) -> List[Run]:
    """The series a version is based on (Based-on:, Depends-on:, the server's
    dependencies), in the order they apply, without those its base already has."""
    from .apply import chain as chains
    from .apply.source import from_server
    from .patchwork.client import Fetched

    got = Fetched(series, data, None)
    found = chains.prerequisites(got, client.server, cover_text)
    if not found.prereqs:
        return []
    chain = chains.build(client, got, found, plan.project, client.server, repo, base, ui, newer=False)
    runs = []
    for node in chain.bases:
        if node.series.id not in chain.skipped and node.got is not None:
            source = from_server(node.got, client.server)
            runs.append(Run(source, source.patches, f"series {node.series.id} v{node.series.version}"))
    return runs


def _apply_side(
    repo: Repo,
    stack: ExitStack,
    series: "Series",
    data: bytes,
    bases: Sequence[Run],
    base: str,
    origin: str,
    ui: UI,
) -> Side:
    parsed = mbox.read(data, reorder=False)
    if not parsed.patches:
        raise InputError(f"v{series.version} ({_which(series)}) has no patch to apply", "compare other versions")
    with process.hold():  # made and on the stack, or not made at all
        # Without the repository's hooks: nothing lands here, so neither a hook that polices
        # what lands (applypatch-msg, pre-applypatch) nor one that announces it has a say.
        scratch = stack.enter_context(Scratch(repo, base, hooks=False))
    ui.progress(f"applying v{series.version} ({_which(series)})")
    label = f"v{series.version} ({_which(series)}) on {base[:12]}{origin}: "
    attempt = apply_runs(scratch, bases, True, (), ui)
    if attempt.failure is not None:
        raise attempt.failure.error(
            "nothing was left behind; give --base REF where it applies, or --no-deps",
            label=f"{label}{bases[attempt.failed or 0].label}: ",
        )
    own = attempt.tip
    outcome = apply_in(scratch, parsed.patches, am_options(True, (), parsed.patches), ui)
    if not outcome.ok:
        failure = describe_failure(scratch, outcome, parsed.patches)
        raise failure.error(f"nothing was left behind; give --base REF where v{series.version} applies", label=label)
    tip = scratch.head()
    on = f" after {len(bases)} series it is based on" if bases else ""
    return Side(series, own, tip, f"applied on {base[:12]}{origin}{on}", len(parsed.patches))


def _which(series: "Series") -> str:
    """``series 500889``, or a series of the list's archive: its page there."""
    return f"series {series.id}" if series.id else series.web_url


def _strip_side(repo: Repo, side: Side) -> Side:
    """The same commits without the trailers added after posting (Link or Message-ID to
    one of the series' patches, review tags), so that gaining a Reviewed-by is no change."""
    ids = {p.msgid for p in side.series.patches if p.msgid} if side.series.patches else None  # archive: all
    tip = _strip(repo, side.base, side.tip, ids)
    return Side(side.series, side.base, tip, side.origin, side.count, side.notes)


def _strip(repo: Repo, base: str, tip: str, ids: Optional[Set[str]]) -> str:
    """base..tip rewritten without review tags and Link/Message-ID trailers (those naming
    one of ``ids``; all of them when None)."""

    def drop(t: trailers.Trailer) -> bool:
        key = t.key.lower()
        if key in trailers.REVIEW_KEYS:
            return True
        return key in trailers.LINK_KEYS and (ids is None or any(i in t.value for i in ids))

    def edit(_: int, message: str) -> str:
        return trailers.strip(message, drop)

    new_tip, _ = rewrite_messages(repo, base, tip, edit)
    return new_tip


def summary(repo: Repo, old: Tuple[str, str], new: Tuple[str, str]) -> int:
    """One line a commit: how the commits of two applied branches, each (base, tip),
    pair up and which changed (`git range-diff --no-patch`), the trailers added after
    posting left out."""
    a, b = (_strip(repo, base, tip, None) for base, tip in (old, new))
    return repo.git.show(["range-diff", "--no-patch", f"{old[0]}..{a}", f"{new[0]}..{b}"], pager=False)
