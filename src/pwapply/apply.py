"""The apply pipeline: resolve -> fetch -> pick -> apply in a scratch worktree -> add
trailers -> move the branch -> check it out.

The user's branch, index and work tree are touched only at the very end, when every patch
has applied; until then the series lives in a sparse scratch worktree that is removed
whatever happens (error, Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from . import git, naming, process
from .config import Settings
from .errors import ApplyError, ConfigError, InputError, PwapplyError, RepoStateError
from .resolve import COVER_ID, MBOX, MSGID, PATCH_ID, SERIES, STDIN, SeriesRef, is_msgid

if TYPE_CHECKING:
    from . import mbox, trailers
    from .patchwork import PatchworkClient, Series

Echo = Callable[[str], None]

# Where a Link points when nothing better is known (b4's default, lore's msgid redirector).
FALLBACK_LINK = "https://lore.kernel.org/r/%s"


@dataclass
class Options:
    base: Optional[str] = None
    branch: Optional[str] = None
    no_branch: bool = False
    force: bool = False
    checkout: bool = True
    three_way: bool = True
    signoff: bool = False
    patches: Optional[str] = None
    am_args: Sequence[str] = ()
    link: bool = True
    allow_incomplete: bool = False
    resolve: bool = False
    timeout: float = 30.0
    max_mbox: Optional[int] = None
    ca_bundle: Optional[str] = None


@dataclass
class UI:
    """How the pipeline talks: ``progress`` for per-step lines (TTY only), ``info`` for
    what the user must see, ``debug`` for -v."""

    progress: Echo = lambda _: None
    info: Echo = lambda _: None
    debug: Optional[Echo] = None


@dataclass(frozen=True)
class Source:
    """A series ready to apply, wherever it came from."""

    patches: Tuple[mbox.Patch, ...]
    name: Optional[str]
    version: int
    series_id: Optional[int]
    project: str
    submitter: str
    cover_tags_later: Callable[[], Tuple[trailers.Trailer, ...]]  # may still be on its way from the server
    patch_tags: Dict[str, Tuple[trailers.Trailer, ...]]  # msgid -> tags from replies (local mbox)
    web_urls: Dict[str, str]  # msgid -> Patchwork web URL
    incomplete: Optional[str] = None  # why the series is incomplete, if it is
    notes: Tuple[str, ...] = ()  # things the user should know, not errors


@dataclass
class Result:
    branch: Optional[str]
    base: str
    tip: str
    commits: List[Tuple[str, str]]
    series_id: Optional[int]
    version: int
    name: str
    old_tip: Optional[str] = None
    checked_out: bool = False
    notes: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)  # told even with -q: something did not go as asked


# ------------------------------------------------------------------------ pipeline


def run(
    ref: SeriesRef,
    settings: Settings,
    repo: git.Repo,
    opts: Options,
    ui: UI,
    *,
    read_stdin: Callable[[], bytes] = lambda: b"",
) -> Result:
    check_options(opts)
    tls = None
    if ref.kind not in (MBOX, STDIN):
        tls = _preload_http(https=(settings.server or "").startswith("https://") and not opts.ca_bundle)
    with ExitStack() as stack:  # the scratch worktree and the server connection live until the end
        base, scratch, named_tip = preflight(repo, opts, stack)
        return _pipeline(ref, settings, repo, opts, ui, read_stdin, base, named_tip, scratch, stack, tls)


def _pipeline(
    ref: SeriesRef,
    settings: Settings,
    repo: git.Repo,
    opts: Options,
    ui: UI,
    read_stdin: Callable[[], bytes],
    base: str,
    named_tip: Optional[str],
    scratch: git.Scratch,
    stack: ExitStack,
    tls: Optional[Callable[[], Any]],
) -> Result:
    source = fetch(ref, settings, opts, ui, read_stdin, stack, tls)
    if source.incomplete and not opts.allow_incomplete:
        raise InputError(source.incomplete, "apply what there is with --allow-incomplete")
    patches = pick(source.patches, opts.patches)
    branch: Optional[str] = None
    old_tip = named_tip
    if opts.branch and not opts.no_branch:
        branch = opts.branch
    elif not opts.no_branch:
        branch = default_branch(settings, source)
        old_tip = check_branch(repo, branch, opts.force)
    trailers_for = trailer_plan(source, settings, opts, repo)
    from . import trailers

    def edit(i: int, message: str) -> str:
        if i > len(patches):  # git am made more commits than patches (an am option of the user's)
            return message
        return trailers.add(message, trailers_for(patches[i - 1]))

    failure = None
    try:
        outcome = apply_in(scratch, patches, am_args(opts, patches), ui)
        if outcome.ok:
            tip = scratch.head()
        else:
            failure = describe_failure(scratch, outcome, patches)
    finally:
        scratch.close()  # before the hand-over's own git am, and before the branch is made
    if failure is not None:
        if not opts.resolve:
            raise failure.error(
                (
                    "your repository is as it was; the hook ran in pwapply's temporary worktree, which "
                    "holds only the top-level files and those the series changes (-v shows all it printed); "
                    "--resolve runs git am, and the hook, in your work tree"
                )
                if failure.hook
                else "your repository is as it was; try another --base, or --resolve to fix it up by hand"
            )
        # Raises where git am stops in the work tree; returns if it applied the rest there.
        result = hand_over(repo, settings, base, failure, patches, edit, trailers_for, branch, old_tip, source, opts)
    else:
        new_tip, commits = git.rewrite_messages(repo, base, tip, edit, signing(settings, opts))
        process.commit()  # the commit point: from here on the run completes, whatever signal comes
        result = finish(repo, base, new_tip, commits, branch, old_tip, source, opts)
        remember(repo, settings, source, patches, commits)
    result.notes.extend(source.notes)
    unlinked = [str(p.index) for p in patches if not is_msgid(p.msgid)]
    if opts.link and unlinked:
        result.notes.append(f"patch(es) {', '.join(unlinked)} carry no Message-ID, so they got no Link trailer")
    return result


def _preload_http(https: bool) -> Callable[[], Any]:
    """Load the HTTP client (and make an https server's TLS context) in a thread while
    the preflight's git commands run (the main thread only waits on them).  Returns what
    waits for that thread and gives the context (None if there is none).  An import
    that fails here fails again, and is reported, where the client is made."""

    def load() -> Any:
        from .patchwork import preload

        return preload(https)

    loading = process.in_thread(load, "pwapply-preload")

    def tls() -> Any:
        try:
            return process.result(loading, what="preload")
        except Exception:  # noqa: BLE001 -- reported by the real import
            return None

    return tls


def check_options(opts: Options) -> None:
    if opts.no_branch and (opts.branch or opts.force):
        raise InputError(
            "--no-branch cannot be combined with --branch or --force",
            "--no-branch applies on top of the current branch",
        )
    if opts.no_branch and opts.base:
        raise InputError(
            "--no-branch cannot be combined with --base", "--no-branch applies on top of the current branch"
        )
    if opts.resolve and not opts.checkout:
        raise InputError(
            "--resolve needs the branch checked out; drop --no-checkout",
            "--resolve leaves the am session in your work tree",
        )


def preflight(repo: git.Repo, opts: Options, stack: ExitStack) -> Tuple[str, git.Scratch, Optional[str]]:
    """Refuse early (before any network) what would fail later.  Returns the base
    commit, the scratch worktree on it (its index is read while `git status` looks at
    the work tree and while the series downloads: it needs nothing else), and the tip of
    the branch named with --branch (kept: the final update-ref still refuses if it moved
    meanwhile), checked while git status runs too."""
    busy = git.operation_in_progress(repo)
    if busy:
        raise RepoStateError(f"{busy[0]} is in progress in this repository", f"finish it first: {busy[1]}")
    with process.hold():  # on the stack before a Ctrl-C can leave it running
        status = git.status_later(repo)
        if status is not None:
            stack.callback(status.stop)
    try:
        base = base_commit(repo, opts.base)
        with process.hold():  # made and on the stack, or not made at all
            scratch = stack.enter_context(git.Scratch(repo, base))
        named_tip = check_branch(repo, opts.branch, opts.force) if opts.branch and not opts.no_branch else None
    except PwapplyError:
        _refuse_dirty(git.dirty_tracked(status))  # a dirty tree is told first, as if checked first
        raise
    _refuse_dirty(git.dirty_tracked(status))
    return base, scratch, named_tip


def _refuse_dirty(dirty: Sequence[str]) -> None:
    if dirty:
        shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
        raise RepoStateError(
            f"tracked files have changes: {shown}", "commit or stash them first (git stash), then run pwapply again"
        )


def base_commit(repo: git.Repo, base: Optional[str]) -> str:
    """The commit ``--base`` names, or HEAD's."""
    if base:
        found = git.rev_parse(repo, base)
        if found is None:
            raise InputError(
                f"--base {base!r} is not a commit in this repository",
                "give a branch, tag or commit id (git fetch first if it is upstream)",
            )
        return found
    if repo.head is None:
        raise RepoStateError("HEAD has no commit yet", "commit something first, or give --base REF")
    return repo.head


def check_branch(repo: git.Repo, name: str, force: bool) -> Optional[str]:
    """Validate a branch name by git's rules; return its current tip (with --force)."""
    reason = naming.check_ref_format(name)
    if reason or not git.check_branch_name(repo, name):
        raise InputError(
            f"{name!r} is not a valid branch name" + (f" ({reason})" if reason else ""),
            "choose another with --branch NAME",
        )
    tip = git.branch_tip(repo, name)
    if tip is None:
        return None
    if not force:
        raise RepoStateError(
            f"branch {name} already exists", "use --force to move it (its old tip is printed), or --branch NAME"
        )
    if repo.head_ref == f"refs/heads/{name}":
        raise RepoStateError(
            f"branch {name} is checked out; --force will not move it under you",
            "switch to another branch first, or use --no-branch",
        )
    elsewhere = git.worktree_with_branch(repo, name)  # as git branch -f, which refuses too
    if elsewhere is not None:
        raise RepoStateError(
            f"branch {name} is checked out in another work tree, at {elsewhere}; --force will not move it under it",
            "check out another branch there first, or use --branch NAME",
        )
    return tip


def default_branch(settings: Settings, source: Source) -> str:
    first = source.patches[0].subject if source.patches else None
    return _branch_name(
        settings, source.series_id, source.version, source.name, first, source.project, source.submitter
    )


def branch_for(settings: Settings, series: "Series") -> str:
    """The branch `pwapply SERIES` makes for this series by default."""
    first = series.patches[0].name if series.patches else None
    return _branch_name(settings, series.id, series.version, series.name, first, series.project, series.submitter_name)


def _branch_name(
    settings: Settings,
    series_id: Optional[int],
    version: int,
    name: Optional[str],
    first: Optional[str],
    project: str,
    submitter: str,
) -> str:
    fields = {
        "id": series_id if series_id is not None else "",
        "version": version,
        "slug": naming.series_slug(name, first, series_id),
        "project": project,
        "submitter": submitter,
    }
    try:
        return naming.branch_name(settings.branch_format, fields)
    except ValueError as exc:
        raise ConfigError(
            f"bad branch format {settings.branch_format!r}: {exc}",
            f"fields: {', '.join('{' + f + '}' for f in naming.FIELDS)}",
        ) from None


# ------------------------------------------------------------------------ fetching


def open_client(
    settings: Settings,
    *,
    timeout: float,
    ui: UI,
    max_mbox: Optional[int] = None,
    ca_bundle: Optional[str] = None,
    tls: Optional[Callable[[], Any]] = None,
) -> "PatchworkClient":
    from .patchwork import DEFAULT_MAX_MBOX, PatchworkClient

    server = settings.require_server()
    ui.progress(f"Fetching from {server} ...")
    return PatchworkClient(
        server,
        token=settings.token,
        timeout=timeout,
        log=ui.debug,
        max_mbox=max_mbox or DEFAULT_MAX_MBOX,
        ca_bundle=ca_bundle,
        tls=tls,
    )


def locate(client: "PatchworkClient", ref: SeriesRef, project: Optional[str]) -> Tuple[int, Optional[int]]:
    """(series id, cover letter id when already known) for what the user named."""
    if ref.kind == SERIES:
        return int(ref.value), None
    if ref.kind == PATCH_ID:
        return client.series_of_patch(int(ref.value)), None
    if ref.kind == COVER_ID:
        return client.series_of_patch(int(ref.value), cover=True), int(ref.value)
    if ref.kind == MSGID:
        cover_first = ref.cover_hint if ref.cover_hint is not None else _looks_like_cover(ref.value)
        return client.series_of_msgid(ref.value, project, cover_first)
    raise InputError(f"{ref.value} is not on a Patchwork server", "give a series id, Message-ID or URL")


def fetch(
    ref: SeriesRef,
    settings: Settings,
    opts: Options,
    ui: UI,
    read_stdin: Callable[[], bytes],
    stack: ExitStack,
    tls: Optional[Callable[[], Any]] = None,
) -> Source:
    """The series to apply.  The client stays open on ``stack`` until the pipeline ends:
    the cover letter's replies arrive while git am runs."""
    if ref.kind in (MBOX, STDIN):
        return from_mbox(_read_local(ref, read_stdin), settings)
    client = stack.enter_context(
        open_client(settings, timeout=opts.timeout, ui=ui, max_mbox=opts.max_mbox, ca_bundle=opts.ca_bundle, tls=tls)
    )
    series_id, known_cover = locate(client, ref, settings.project)
    got = client.fetch(series_id, known_cover=known_cover, meanwhile=_load_parsers)
    from .cache import MboxCache

    MboxCache().put(client.server, series_id, got.mbox)  # for pwapply diff later
    return from_server(got, settings)


def _load_parsers() -> None:
    """Import what reads and edits the series while its requests are in flight (the
    process has nothing else to do then) rather than before them, where the imports
    would share the one interpreter with loading httpx and delay the first request."""
    from . import cache, mbox, trailers  # noqa: F401


def _looks_like_cover(msgid: str) -> bool:
    """Guess whether a Message-ID is a cover letter's, to ask the likelier endpoint first
    and save a request: git format-patch names covers ``cover.*``; git send-email numbers
    a thread's mails -1-, -2-, ... (with a cover letter, -1- is it); b4 numbers it -0-."""
    import re

    return msgid.startswith("cover.") or re.search(r"[.-][01]-", msgid) is not None


def _read_local(ref: SeriesRef, read_stdin: Callable[[], bytes]) -> bytes:
    if ref.kind == STDIN:
        data = read_stdin()
        if not data.strip():
            raise InputError("nothing on stdin", "pipe an mbox in: pwapply - < series.mbox")
        return data
    path = os.path.expanduser(ref.value)
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise InputError(
            f"no such file: {ref.value}", "give the path of an mbox, a series id or a Message-ID"
        ) from None
    except IsADirectoryError:
        raise InputError(f"{ref.value} is a directory, not an mbox", "give the path of an mbox file") from None
    except OSError as exc:
        raise InputError(f"cannot read {ref.value}: {exc.strerror}", "check the file's permissions") from None


def _https_like(url: str, server: Optional[str]) -> str:
    """ozlabs hands out http:// web URLs; use the server's own scheme for the same host."""
    if server and url.startswith("http://") and server.startswith("https://"):
        host = server.split("://", 1)[1].split("/", 1)[0]
        if url[len("http://") :].split("/", 1)[0] == host:
            return "https://" + url[len("http://") :]
    return url


def from_server(got: "object", settings: Settings) -> Source:
    from . import mbox, trailers
    from .patchwork import Fetched

    assert isinstance(got, Fetched)
    s = got.series
    parsed = mbox.read(got.mbox, reorder=False)  # the server's order is the series order
    if not parsed.patches:
        raise InputError(
            f"series {s.id} has no patch that git am could apply (a pull request, or only a cover letter?)",
            "look at the series on the web: " + (_https_like(s.web_url, settings.server) or f"series {s.id}"),
        )

    def cover_tags() -> Tuple[trailers.Trailer, ...]:
        tags: List[trailers.Trailer] = []
        for body in got.cover_comments():
            tags += [t for t in trailers.tags_from_reply(body) if not any(t.same_as(o) for o in tags)]
        return tuple(tags)

    incomplete = None
    if not s.received_all:
        incomplete = f"series {s.id} is incomplete: {s.received_total} of {s.total} patches reached the server"
    notes = []
    if len(parsed.patches) != len(s.patches):
        notes.append(
            f"the server lists {len(s.patches)} patches in series {s.id} but its mbox has "
            f"{len(parsed.patches)} with a diff; only those were applied"
        )
    return Source(
        patches=parsed.patches,
        name=s.name,
        version=s.version,
        series_id=s.id,
        project=s.project,
        submitter=s.submitter_name,
        cover_tags_later=cover_tags,
        patch_tags={},
        web_urls={p.msgid: _https_like(p.web_url, settings.server) for p in s.patches if p.web_url},
        incomplete=incomplete,
        notes=tuple(notes),
    )


def from_mbox(data: bytes, settings: Settings) -> Source:
    from . import mbox, trailers

    parsed = mbox.read(data)
    if not parsed.patches:
        raise InputError(
            "the mbox holds no patch", "give an mbox made by git format-patch or downloaded from Patchwork"
        )
    cover = parsed.cover
    cover_tags: List[trailers.Trailer] = []
    patch_tags: Dict[str, List[trailers.Trailer]] = {}
    patch_ids = {p.msgid for p in parsed.patches}
    for mail in parsed.others:  # replies carried in the mbox give their tags
        tags = trailers.tags_from_reply(mail.body)
        if cover is not None and mail.in_reply_to == cover.msgid:
            cover_tags.extend(t for t in tags if not any(t.same_as(o) for o in cover_tags))
        elif mail.in_reply_to in patch_ids:
            have = patch_tags.setdefault(mail.in_reply_to, [])
            have.extend(t for t in tags if not any(t.same_as(o) for o in have))
    first = parsed.patches[0].subject
    version = naming.version_from_subject(cover.subject if cover else first) or 1
    name = naming.strip_subject_prefixes(cover.subject) if cover else None
    numbers = [p.number for p in parsed.patches]
    total = naming.number_from_subject(first)
    incomplete = None
    if total and all(n is not None for n in numbers) and len(set(numbers)) < total[1]:
        missing = sorted(set(range(1, total[1] + 1)) - {n for n in numbers if n is not None})
        incomplete = f"the mbox is missing patch(es) {', '.join(map(str, missing[:10]))} of {total[1]}"
    submitter = ""
    if cover is not None:
        submitter = cover.headers.get("from", "").split("<")[0].strip().strip('"')
    return Source(
        patches=parsed.patches,
        name=name,
        version=version,
        series_id=None,
        project=settings.project or "",
        submitter=submitter,
        cover_tags_later=lambda: tuple(cover_tags),
        patch_tags={k: tuple(v) for k, v in patch_tags.items()},
        web_urls={},
        incomplete=incomplete,
    )


def pick(patches: Sequence[mbox.Patch], spec: Optional[str]) -> List[mbox.Patch]:
    from . import mbox

    if not spec:
        return list(patches)
    return [patches[i - 1] for i in mbox.parse_range(spec, len(patches))]


# ------------------------------------------------------------------------ trailers


def trailer_plan(
    source: Source,
    settings: Settings,
    opts: Options,
    repo: git.Repo,
) -> Callable[[mbox.Patch], List[trailers.Trailer]]:
    """What each patch gets added, in DESIGN.md's order: tags from replies (to the
    patch, for a local mbox; to the cover letter), the Link trailer, the committer's
    sign-off.  trailers.add() then skips what the commit already has."""
    from . import trailers

    template = None if not opts.link else settings.get("linkFormat")
    project = source.project or settings.project or ""
    signoff = trailers.make_trailer("Signed-off-by", git.identity(repo)) if opts.signoff else None

    def link_for(patch: mbox.Patch) -> Optional[trailers.Trailer]:
        if not opts.link or not is_msgid(patch.msgid):
            return None
        url = source.web_urls.get(patch.msgid, "")
        if not url and settings.server and project:
            url = f"{settings.server}/project/{project}/patch/{patch.msgid}/"
        try:
            if template:
                return trailers.link_trailer(template, msgid=patch.msgid, url=url, project=project)
            if url:
                return trailers.make_trailer("Link", url)
            return trailers.link_trailer(FALLBACK_LINK, msgid=patch.msgid, url=url, project=project)
        except ValueError as exc:
            raise ConfigError(str(exc), "fields: {msgid} {url} {project}; %s is the Message-ID") from None

    cached: List[Tuple[trailers.Trailer, ...]] = []

    def cover_tags() -> Tuple[trailers.Trailer, ...]:
        if not cached:  # asked for only once the patches have applied: the reply may still be coming
            cached.append(source.cover_tags_later())
        return cached[0]

    def plan(patch: mbox.Patch) -> List[trailers.Trailer]:
        new: List[trailers.Trailer] = list(source.patch_tags.get(patch.msgid, ()))
        new.extend(cover_tags())
        link = link_for(patch)
        if link:
            new.append(link)
        if signoff:
            new.append(signoff)
        return new

    return plan


# ------------------------------------------------------------------------ applying


def signing(settings: Settings, opts: Options) -> Optional[str]:
    """The key git am would sign the commits with: "" for git's default key, None for
    no signature.  As git am decides: -S[KEY] / --gpg-sign[=KEY] / --no-gpg-sign among
    the options for it, else commit.gpgSign."""
    value = settings.gitconfig.get("commit.gpgsign", "false").strip().lower()
    sign: Optional[str] = "" if value in ("true", "yes", "on") or (value.isdigit() and int(value) != 0) else None
    for arg in opts.am_args:
        if arg in ("-S", "--gpg-sign"):
            sign = ""
        elif arg.startswith("-S"):
            sign = arg[2:]
        elif arg.startswith("--gpg-sign="):
            sign = arg.split("=", 1)[1]
        elif arg == "--no-gpg-sign":
            sign = None
    return sign


def am_args(opts: Options, patches: Sequence[mbox.Patch] = ()) -> List[str]:
    args = ["-3"] if opts.three_way else ["--no-3way"]
    if patches and not any(p.prefixed for p in patches) and not any(a.startswith("-p") for a in opts.am_args):
        args.append("-p0")  # diffs made with diff.noprefix: no a/ b/ to strip
    return args + list(opts.am_args)


@contextmanager
def _mbox_file(patches: Sequence[mbox.Patch]) -> Iterator[str]:
    """A temporary mbox of these patches, for git am; removed at the end of the block.
    Made and on the books under process.hold(): a signal in between would leave it."""
    from . import mbox

    path = None
    try:
        with process.hold():
            fd, path = tempfile.mkstemp(prefix="pwapply-", suffix=".mbox")
            with os.fdopen(fd, "wb") as fh:
                fh.write(mbox.join(patches))
        yield path
    finally:
        if path is not None:
            os.unlink(path)


def apply_in(scratch: git.Scratch, patches: Sequence[mbox.Patch], args: Sequence[str], ui: UI) -> git.AmResult:
    """git am in the scratch worktree, with a progress line per patch."""
    total = len(patches)
    with _mbox_file(patches) as path:
        return git.am(scratch, path, args, lambda n, subject: ui.progress(f"[{n}/{total}] {subject}"))


@dataclass
class Failure:
    number: int  # 1-based among the patches given to git am
    patch: mbox.Patch
    total: int
    files: List[str]
    done_tip: str  # the commit of the patches that did apply
    output: str
    hook: Optional[str] = None  # the git am hook that refused the patch, if one did
    hook_said: str = ""

    def error(self, hint: str, label: str = "") -> ApplyError:
        if self.hook:
            from .trailers import clean_value

            said = clean_value(self.hook_said)
            said = said if len(said) <= 160 else said[:157] + "..."
            what = f"{label}your {self.hook} hook refused patch {self.number}/{self.total}: {self.patch.title}" + (
                f" (it said: {said})" if said else ""
            )
        else:
            shown = ", ".join(self.files[:5]) + (f" and {len(self.files) - 5} more" if len(self.files) > 5 else "")
            what = f"{label}patch {self.number}/{self.total} did not apply: {self.patch.title}" + (
                f" (conflicts in {shown})" if shown else ""
            )
        return ApplyError(
            what,
            hint,
            number=self.number,
            subject=self.patch.title,
            files=self.files,
            details=self.output,
        )


def describe_failure(scratch: git.Scratch, outcome: git.AmResult, patches: Sequence[mbox.Patch]) -> Failure:
    """Which patch failed and on which files; a ConfigError when no patch was at fault
    (git cannot name the committer), since no --base or --resolve would help."""
    problem = git.identity_problem(outcome.output)
    if problem:
        raise ConfigError(
            f"git am cannot commit: git does not know who you are ({problem})",
            'set it: git config --global user.name "Your Name"; git config --global user.email you@example.org',
        )
    n = min(max(outcome.failed_at or 1, 1), len(patches))
    files = [] if outcome.hook else scratch.conflicted() or git.failing_files(outcome.output)
    return Failure(
        n, patches[n - 1], len(patches), files, scratch.head(), outcome.output, outcome.hook, outcome.hook_said
    )


def hand_over(
    repo: git.Repo,
    settings: Settings,
    base: str,
    failure: Failure,
    patches: Sequence[mbox.Patch],
    edit: Callable[[int, str], str],
    trailers_for: Callable[[mbox.Patch], List[trailers.Trailer]],
    branch: Optional[str],
    old_tip: Optional[str],
    source: Source,
    opts: Options,
) -> Result:
    """--resolve: put the patches that applied on the branch, check it out, and run
    `git am` on the rest in the user's work tree, where it stops at the failing patch.
    (It may not: a hook that refused a patch in the temporary worktree, which holds only
    the files the series changes, can accept it in the whole tree.)"""
    from . import mbox

    tip, commits = git.rewrite_messages(repo, base, failure.done_tip, edit, signing(settings, opts))
    process.commit()  # the commit point: the hand-over completes, whatever signal comes
    result = finish(repo, base, tip, commits, branch, old_tip, source, opts)
    rest = []
    for p in patches[failure.number - 1 :]:
        raw = mbox.add_trailers_to_mail(p.raw, trailers_for(p))
        rest.append(replace(p, raw=raw if raw is not None else p.raw))
    with _mbox_file(rest) as path:
        outcome = git.am(repo, path, am_args(opts, patches))
    if outcome.ok:
        commits = [*commits, *git.commits_between(repo, tip, "HEAD")]
        remember(repo, settings, source, patches, commits)
        result.tip = commits[-1].id if commits else tip
        result.commits = [(c.id, c.subject) for c in commits]
        result.notes.append(
            f"patches {failure.number}-{len(patches)} were applied by git am in your work tree, "
            f"after {_refusal(failure)} in pwapply's temporary worktree"
        )
        return result
    remember(repo, settings, source, patches, commits)
    n = failure.number - 1 + min(max(outcome.failed_at or 1, 1), len(rest))
    if n != failure.number or outcome.hook != failure.hook:  # git am stopped elsewhere, or for another reason
        files = [] if outcome.hook else git.failing_files(outcome.output)
        failure = Failure(n, patches[n - 1], len(patches), files, "", outcome.output, outcome.hook, outcome.hook_said)
    where = f"on branch {branch}" if branch else "on your branch"
    todo = "do what the hook asks" if failure.hook else "fix the files, git add them"
    raise failure.error(
        f"git am stopped {where}: {todo}, then git am --continue "
        "(git am --skip drops this patch, git am --abort gives up)"
    )


def _refusal(failure: Failure) -> str:
    return (
        f"the {failure.hook} hook refused patch {failure.number}" if failure.hook else f"patch {failure.number} failed"
    )


def remember(
    repo: git.Repo,
    settings: Settings,
    source: Source,
    patches: Sequence[mbox.Patch],
    commits: Sequence[git.Rewritten],
) -> None:
    """Note which series each applied Message-ID belongs to, and which commit came from
    which patch, for `pwapply check` (see record.py)."""
    from . import record

    applied = []
    if source.series_id is not None and settings.server:
        applied = [
            record.Applied(p.msgid, source.series_id, settings.server, source.project, source.version)
            for p in patches
            if is_msgid(p.msgid)
        ]
    made = [(c.author, c.subject, p.msgid) for c, p in zip(commits, patches) if is_msgid(p.msgid)]
    record.add(repo.common_dir, applied, made)


def finish(
    repo: git.Repo,
    base: str,
    tip: str,
    commits: Sequence[git.Rewritten],
    branch: Optional[str],
    old_tip: Optional[str],
    source: Source,
    opts: Options,
) -> Result:
    what = f"pwapply: series {source.series_id} v{source.version}" if source.series_id else "pwapply: mbox"
    checked_out = False
    warnings: List[str] = []
    if branch is None:
        git.fast_forward_worktree(repo, base, tip, what)
        checked_out = True
    else:
        ref = f"refs/heads/{branch}"
        git.update_ref(repo, ref, tip, old_tip or git.zero_id(repo), what)
        if opts.checkout:
            try:
                hook_said = git.checkout(repo, branch)  # None, or the failed post-checkout hook's line
            except git.GitError as exc:
                if old_tip:
                    git.update_ref(repo, ref, old_tip, tip, "pwapply: restore")
                else:
                    git.delete_ref(repo, ref, tip)
                detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()
                named = [line.strip() for line in detail if line.startswith("\t")]  # the files in the way
                shown = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
                raise RepoStateError(
                    f"cannot check out {branch}: {detail[0] if detail else 'git checkout failed'}"
                    + (f" {shown}" if shown else ""),
                    "move them out of the way, or use --no-checkout"
                    if named
                    else "nothing was changed; --no-checkout makes the branch without checking it out",
                ) from None
            checked_out = True
            if hook_said is not None:  # checked out: the branch stays, and the user hears of the hook
                warnings.append(
                    "the branch is checked out, but your post-checkout hook failed after it"
                    + (f" (it said: {hook_said})" if hook_said else "")
                    + ": what it does after a checkout may not be done"
                )
    return Result(
        branch=branch,
        base=base,
        tip=tip,
        commits=[(c.id, c.subject) for c in commits],
        series_id=source.series_id,
        version=source.version,
        name=source.name or "",
        old_tip=old_tip,
        checked_out=checked_out,
        warnings=warnings,
    )
