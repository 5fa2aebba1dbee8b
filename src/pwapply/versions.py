"""The versions of a series, and `pwapply diff`: one version against another.

Patchwork stores each version as a series of its own; nothing links v1 to v2 but the
project, the submitter, the name and the dates.  We list the submitter's series in the
project around that date (one paginated request) and keep those whose name is the same
once version prefixes are gone, or, when the cover letter was renamed, at least half of
whose patch subjects are the same.

`diff` applies each version in a scratch worktree (or takes the branch pwapply already
made for it), strips the trailers added after posting, and shows `git range-diff`.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

from . import git, mbox, naming, process, trailers
from .apply import (
    UI,
    Options,
    am_args,
    apply_in,
    base_commit,
    branch_for,
    describe_failure,
    locate,
    open_client,
)
from .config import Settings
from .errors import InputError, NotFoundError
from .resolve import SeriesRef, resolve

if TYPE_CHECKING:
    from .patchwork import PatchworkClient, Series

WINDOW_DAYS = 730  # how far back to look for earlier versions
REVIEW_KEYS = {"reviewed-by", "acked-by", "tested-by", "nacked-by"}
LINK_KEYS = {"link", "message-id"}


# ------------------------------------------------------------------ matching (pure)


def normalize_name(name: Optional[str]) -> str:
    """``[v2,0/6] Foo: Bar`` / ``[PATCH v3 1/3] foo: bar`` -> ``foo: bar``."""
    text = naming.strip_subject_prefixes(name or "")
    return " ".join(text.lower().split())


def subjects(series: "Series") -> Set[str]:
    return {n for n in (normalize_name(p.name) for p in series.patches) if n}


def same_series(a: "Series", b: "Series") -> bool:
    """Two series are versions of one another when their names agree once version
    prefixes and case are gone, or when at least half of their patch subjects do."""
    na, nb = normalize_name(a.name), normalize_name(b.name)
    if na and na == nb:
        return True
    sa, sb = subjects(a), subjects(b)
    if not sa or not sb:
        return False
    return 2 * len(sa & sb) >= max(len(sa), len(sb))


def order_key(s: "Series") -> Tuple[int, str, int]:
    return (s.version, s.date, s.id)


def closest_earlier(versions: Sequence["Series"], current: "Series") -> Optional["Series"]:
    earlier = [s for s in versions if s.id != current.id and order_key(s) < order_key(current)]
    return max(earlier, key=order_key) if earlier else None


def _since(date: str) -> Optional[str]:
    try:
        when = datetime.fromisoformat(date[:19])
    except ValueError:
        return None
    return (when - timedelta(days=WINDOW_DAYS)).strftime("%Y-%m-%dT%H:%M:%S")


# ------------------------------------------------------------------ finding


def find(client: "PatchworkClient", current: "Series") -> List["Series"]:
    """Every version of ``current`` on the server, oldest first (``current`` included)."""
    if not current.project:
        return [current]
    q = None
    if current.submitter_id is None:  # no submitter to filter on: narrow by name instead
        q = normalize_name(current.name)[:100] or None
    candidates = client.series_list(
        project=current.project, submitter=current.submitter_id, since=_since(current.date), q=q
    )
    found: Dict[int, "Series"] = {current.id: current}
    for s in candidates:
        if s.id in found:
            continue
        if current.submitter_id is None and s.submitter_email.lower() != current.submitter_email.lower():
            continue
        if same_series(current, s):
            found[s.id] = s
    return sorted(found.values(), key=order_key)


@dataclass(frozen=True)
class Listing:
    current: "Series"
    versions: Tuple["Series", ...]
    states: Dict[int, Tuple[str, ...]]


def list_versions(ref: SeriesRef, settings: Settings, timeout: float, ui: UI) -> Listing:
    from .patchwork import request_pool

    _need_server(ref)
    with open_client(settings, timeout=timeout, ui=ui) as client:
        sid, _ = locate(client, ref, settings.project)
        current = client.series(sid)
        versions = find(client, current)
        with request_pool() as pool:
            asked = [(s.id, pool.submit(client.patch_states, s.id)) for s in versions]
            states = {sid: tuple(p.state for p in process.result(f, what="states")) for sid, f in asked}
    return Listing(current=current, versions=tuple(versions), states=states)


def summarize_states(states: Sequence[str]) -> str:
    counts: Dict[str, int] = {}
    for state in states:
        counts[state or "?"] = counts.get(state or "?", 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "-"


def _need_server(ref: SeriesRef) -> None:
    if ref.offline:
        raise InputError(
            "versions of a series are found on a Patchwork server, not in an mbox",
            "give a series id, Message-ID or Patchwork URL",
        )


# ------------------------------------------------------------------ diff


@dataclass
class DiffOptions:
    against: Optional[str] = None
    base: Optional[str] = None
    trailers: bool = False
    interdiff: bool = False
    pager: bool = True
    refresh: bool = False
    passthrough: Sequence[str] = ()
    timeout: float = 30.0


@dataclass
class Side:
    series: "Series"
    base: str
    tip: str
    origin: str  # "branch pw/..." or "applied on <base>"
    count: int = 0
    notes: List[str] = field(default_factory=list)


def diff(ref: SeriesRef, settings: Settings, repo: git.Repo, opts: DiffOptions, ui: UI) -> int:
    """Show how ``ref``'s series changed since another version; git's exit code."""
    _need_server(ref)
    fallback_base = base_commit(repo, opts.base)
    with open_client(settings, timeout=opts.timeout, ui=ui) as client:
        sid, _ = locate(client, ref, settings.project)
        current = client.series(sid)
        versions = find(client, current)
        other = _against(client, opts.against, versions, current, settings)
        pair = [other, current]
        branches = [_branch_side(repo, settings, s) for s in pair]
        need = [s for s, b in zip(pair, branches) if b is None]
        fetched = _fetch_sides(client, settings, need, opts.refresh) if need else {}
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
                data, cover_text = fetched[s.id]
                sides.append(_apply_side(repo, stack, s, data, cover_text, fallback_base, ui))
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
        return git.show(repo, ["diff", *opts.passthrough, old.tip, new.tip], pager=opts.pager)
    return git.show(
        repo,
        ["range-diff", *opts.passthrough, f"{old.base}..{old.tip}", f"{new.base}..{new.tip}"],
        pager=opts.pager,
    )


def _against(
    client: "PatchworkClient",
    against: Optional[str],
    versions: Sequence["Series"],
    current: "Series",
    settings: Settings,
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
    sid, _ = locate(client, resolve(against), settings.project)
    if sid == current.id:
        raise InputError("--against names the same series", "name another version of it")
    return client.series(sid)


def _branch_side(repo: git.Repo, settings: Settings, series: "Series") -> Optional[Side]:
    """The commits of a branch pwapply made for this version, when it exists."""
    name = branch_for(settings, series)
    tip = git.branch_tip(repo, name)
    if tip is None:
        return None
    ids = {p.msgid for p in series.patches if p.msgid}
    count, base = 0, ""
    for _commit, parent, message in git.log_messages(repo, tip, len(series.patches) + 1):
        if not any(i in message for i in ids):
            break
        count, base = count + 1, parent
    if count == 0 or not base:
        return None
    return Side(series, base, tip, f"branch {name}", count)


def _fetch_sides(
    client: "PatchworkClient", settings: Settings, need: Sequence["Series"], refresh: bool
) -> Dict[int, Tuple[bytes, str]]:
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

    from .patchwork import request_pool

    with request_pool() as pool:
        asked = [(s.id, pool.submit(one, s)) for s in need]
        return {sid: process.result(f, what="mbox") for sid, f in asked}


def _apply_side(
    repo: git.Repo,
    stack: ExitStack,
    series: "Series",
    data: bytes,
    cover_text: str,
    fallback: str,
    ui: UI,
) -> Side:
    parsed = mbox.read(data, reorder=False)
    if not parsed.patches:
        raise InputError(f"v{series.version} (series {series.id}) has no patch to apply", "compare other versions")
    base, origin = fallback, ""
    for text in [cover_text] + [p.raw.decode("utf-8", "replace") for p in parsed.patches]:
        wanted = mbox.base_commit(text)
        if wanted:
            found = git.rev_parse(repo, wanted)
            if found:
                base, origin = found, " (its base-commit)"
            break
    with process.hold():  # made and on the stack, or not made at all
        # Without the repository's hooks: nothing lands here, so neither a hook that polices
        # what lands (applypatch-msg, pre-applypatch) nor one that announces it has a say.
        scratch = stack.enter_context(git.Scratch(repo, base, hooks=False))
    ui.progress(f"applying v{series.version} (series {series.id})")
    outcome = apply_in(scratch, parsed.patches, am_args(Options(), parsed.patches), ui)
    if not outcome.ok:
        failure = describe_failure(scratch, outcome, parsed.patches)
        raise failure.error(
            f"nothing was left behind; give --base REF where v{series.version} applies",
            label=f"v{series.version} (series {series.id}) on {base[:12]}{origin}: ",
        )
    tip = scratch.head()
    return Side(series, base, tip, f"applied on {base[:12]}{origin}", len(parsed.patches))


def _strip_side(repo: git.Repo, side: Side) -> Side:
    """The same commits without the trailers added after posting (Link or Message-ID to
    one of the series' patches, review tags), so that gaining a Reviewed-by is no change."""
    ids = {p.msgid for p in side.series.patches if p.msgid}

    def drop(t: trailers.Trailer) -> bool:
        key = t.key.lower()
        if key in REVIEW_KEYS:
            return True
        return key in LINK_KEYS and any(i in t.value for i in ids)

    def edit(_: int, message: str) -> str:
        return trailers.strip(message, drop)

    tip, _ = git.rewrite_messages(repo, side.base, side.tip, edit)
    return Side(side.series, side.base, tip, side.origin, side.count, side.notes)
