"""What each command's result looks like: lines on stderr for people, JSON on stdout
for programs (--json).  Typer-free: the pre-push hook's fast path renders with it."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from ..sources.keys import PATCHWORK, Key
from .console import Console

if TYPE_CHECKING:
    from ..apply.checks import Checked as PatchChecked
    from ..apply.options import Result
    from ..branches.accept import Accepted, Mark
    from ..branches.status import BranchStatus
    from ..branches.update import Update
    from ..check.command import Checked
    from ..sources.model import Summary
    from ..listing import Listed, Line
    from ..sources.policy import Versions


def applied(console: Console, result: "Result", as_json: bool) -> None:
    n = len(result.commits)
    if as_json:
        out(
            {
                "branch": result.branch,
                "base": result.base,
                "tip": result.tip,
                "series": _series_id(result.key),
                "source": result.key.json() if result.key is not None else None,
                "version": result.version,
                "name": result.name,
                "commits": [{"id": c[0], "subject": c[1]} for c in result.commits],
                "old_tip": result.old_tip,
                "checked_out": result.checked_out,
                "notes": result.notes,
                "warnings": result.warnings,
                "archive": result.archive,
                "from_archive": result.from_archive,
                "checks": [
                    {
                        "patch": c.number,
                        "subject": c.subject,
                        "status": c.status,
                        "output": c.output,
                        "why": c.why or None,
                    }
                    for c in result.checks
                ],
                "chain": [
                    {
                        "series": _series_id(c.key),
                        "source": c.key.json(),
                        "version": c.version,
                        "name": c.name,
                        "patches": c.patches,
                        "applied": c.applied,
                        "why": c.why or None,
                    }
                    for c in result.series
                ],
            }
        )
    what = result.label
    if n == 0 and result.branch is None and not result.old_tip:
        console.info(f"Nothing to apply: the base already has every patch of {what}; no branch was made")
        for note in result.notes:
            console.info(f"note: {note}")
        return
    console.info(f"Applied {n} patch{'es' if n != 1 else ''} of {what}" + (f": {result.name}" if result.name else ""))
    if result.branch:
        state = "checked out" if result.checked_out else "not checked out"
        console.info(f"  branch: {result.branch} ({state})")
    console.info(f"  base:   {result.base[:12]}")
    if result.old_tip:
        console.info(
            f"  moved from {result.old_tip[:12]} (git branch -f {result.branch} {result.old_tip[:12]} restores it)"
        )
    patch_checks(console, result.checks)
    for note in result.notes:
        console.info(f"note: {note}")
    for warning in result.warnings:
        console.warn(warning)
    target = result.branch or "HEAD"
    console.info(f"next: git log --oneline {result.base[:12]}..{target}   # then build and test")


def patch_checks(console: Console, checked: Sequence["PatchChecked"]) -> None:
    """What the per-patch check said: its findings under each patch, a warning for a
    check that did not run as it should (one for a command that cannot be started)."""
    if not checked:
        return
    found = [c for c in checked if c.status == "findings"]
    clean = sum(1 for c in checked if c.status == "clean")
    console.info(
        f"per-patch check: {len(found)} of {len(checked)} patch{'es' if len(checked) != 1 else ''} "
        f"with findings, {clean} clean"
    )
    for c in found:
        console.info(f"  [{c.number}/{c.total}] {c.subject}")
        for line in c.output:
            console.info(f"      {line}")
    missing = [c for c in checked if c.status == "missing"]
    if missing:
        console.warn(f"the per-patch check did not run: {missing[0].why}")
    for c in checked:
        if c.status in ("failed", "timeout"):
            console.warn(f"the per-patch check of [{c.number}/{c.total}] {c.subject}: {c.why}")


def versions(listing: "Versions", as_json: bool) -> None:
    rows: List[Dict[str, Any]] = []
    c = listing.current
    for s in listing.versions:
        received = s.total if s.received is None else s.received
        rows.append(
            {
                "id": _series_id(s.key),
                "source": s.key.json(),
                "version": s.version,
                "date": s.date,
                "name": s.name,
                "total": s.total,
                "received_total": received,
                "received_all": received >= s.total,
                "states": list(listing.states.get(s.key, ())),
                "current": s.key == c.key,
                "web_url": s.page,
            }
        )
    if as_json:
        out(rows)
        return
    print(f"  {'series':>8}  {'ver':<4} {'date':<10}  {'patches':>7}  {'received':<8}  states")
    for r in rows:
        mark = "*" if r["current"] else " "
        where = "" if r["id"] else f"   {r['web_url']}"  # a series of the list's archive: its page there
        print(
            f"{mark} {r['id'] or '-':>8}  v{r['version']:<3} {str(r['date'])[:10]:<10}  {r['total']:>7}  "
            f"{r['received_total']}/{r['total']:<6}  {summarize_states(r['states'])}   {r['name'] or ''}{where}"
        )


def waiting(console: Console, listed: "Listed", as_json: bool, now: datetime, width: Optional[int]) -> None:
    """`pwapply list`: a line a series on stdout (the name cut to ``width``, when
    given), notes on stderr; or JSON."""
    listing = listed.listing
    if as_json:
        out({"series": [_waiting_json(line) for line in listed.lines], "more": listing.more, "notes": listing.notes})
        return
    for note in listing.notes:
        console.info(f"note: {note}")
    if not listed.lines:
        console.info("nothing waiting" + (" that matches" if listing.notes else ""))
        return
    rows = [_waiting_row(line, now) for line in listed.lines]
    heads = ("SERIES", "VER", "PATCHES", "AGE", "FROM", "REVIEW", "HERE")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]

    def join(cells: Sequence[str], name: str) -> str:
        line = "  ".join(c.ljust(w) for c, w in zip(cells, widths)) + "  " + name
        return line if width is None or len(line) <= width else line[: max(width - 3, 0)].rstrip() + "..."

    print(join(heads, "NAME").rstrip())
    for r in rows:
        print(join(r[:-1], r[-1]))
    if listing.more:
        console.info(f"more are waiting: -n {len(rows) * 2} shows more, -n 0 all")
    first = listed.lines[0].waiting
    console.info(f"apply one with: pwapply {first.ref}")


def _waiting_row(line: "Line", now: datetime) -> Tuple[str, ...]:
    w = line.waiting
    version = f"v{w.version}" + (f" ({w.earlier} earlier)" if w.earlier else "")
    patches = f"{w.received}/{w.total}" if w.total else str(w.received)
    review: List[str] = []
    r = w.readiness
    if r is not None:
        review.append(f"R {r.reviewed}/{r.patches}")
        if r.tested:
            review.append(f"T {r.tested}")
        if r.nacked:
            review.append("NACKED")
    if w.check in ("fail", "warning"):
        review.append(f"checks {w.check}")
    if w.incomplete:
        review.append("incomplete")
    if w.only_in:
        review.append("archive only")
    here = line.here + (f": {line.branch}" if line.branch and line.here == "applied" else "")
    who = w.submitter if len(w.submitter) <= 22 else w.submitter[:21] + "."
    return (w.ref, version, patches, age(w.date, now), who, " ".join(review) or "-", here or "-", w.name)


def _waiting_json(line: "Line") -> Dict[str, Any]:
    w = line.waiting
    r = w.readiness
    return {
        "series": _series_id(w.key),
        "source": w.key.json(),
        "ref": w.ref,
        "name": w.name,
        "version": w.version,
        "earlier": w.earlier,
        "folded": [k.json() for k in w.folded],
        "date": w.date,
        "submitter": w.submitter,
        "sender": w.sender,
        "total": w.total,
        "received": w.received,
        "incomplete": w.incomplete,
        "web_url": w.page,
        "reviewed": r.reviewed if r else None,
        "patches": r.patches if r else None,
        "tested": r.tested if r else None,
        "nacked": list(r.nacked) if r else None,
        "check": w.check or None,
        "states": dict(w.states),
        "only_in": w.only_in or None,
        "here": line.here or None,
        "branch": line.branch or None,
        "msgids": list(w.msgids),
    }


def age(date: str, now: datetime) -> str:
    """How long ago an ISO date was: 45m, 5h, 3d, 2w, 4mo, 1y ("?" when unreadable)."""
    try:
        when = datetime.fromisoformat(date[:19])
    except ValueError:
        return "?"
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    minutes = max(0, int((now - when).total_seconds() // 60))
    for unit, size in (("y", 525600), ("mo", 43200), ("w", 10080), ("d", 1440), ("h", 60)):
        if minutes >= size * (2 if unit in ("w", "mo") else 1):
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def summarize_states(states: Sequence[str]) -> str:
    counts: Dict[str, int] = {}
    for state in states:
        counts[state or "?"] = counts.get(state or "?", 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "-"


def settings(console: Console, rows: Sequence[Tuple[str, str, str]], as_json: bool, has_server: bool) -> None:
    if as_json:
        out({k: {"value": v or None, "source": s} for k, v, s in rows})
        return
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        print(f"{key:<{width}}  {value or '-':<45}  ({source})")
    if not has_server:
        console.info("hint: git config pwapply.server https://patchwork.example.org")


def checked(console: Console, checked: "Checked") -> int:
    """The findings of `pwapply check`; 1 when the push should not go on."""
    report = checked.report
    for f in report.findings:
        if f.severity == "error" or not console.quiet:
            console.say(f.line())
    label = "error" if checked.strict else "warning"
    verdict = "not checked, and pwapply.check.strict refuses the push" if checked.strict else "not checked"
    for why in report.unreachable:
        console.say(f"{label}: could not reach {why} {verdict}")
    if report.no_server:
        n = report.no_server
        console.say(
            f"{label}: {n} commit{'s' if n != 1 else ''} {'name' if n != 1 else 'names'} a patch, "
            f"but no Patchwork server is configured: {verdict}"
        )
        if not checked.failed:
            console.say("hint: git config pwapply.server https://patchwork.example.org")
    if checked.failed:
        console.say("hint: fix the above, or push anyway with git push --no-verify")
    elif report.checked:
        many = "commit" if report.checked == 1 else "commits"
        console.info(f"pwapply: {report.checked} {many} from Patchwork checked")
    elif not checked.pre_push and not report.ours:
        # A hook stays quiet on a push of other commits; asked by hand, say what happened.
        if report.commits:
            n = report.commits
            console.info(f"pwapply: {n} commit{'s' if n != 1 else ''}, none from Patchwork: nothing to check")
        else:
            console.info("pwapply: no commit to check (the range is empty)")
    return 1 if checked.failed else 0


def _series_id(key: Optional[Key]) -> Optional[int]:
    """A series' Patchwork id, for --json (None for a series of another source)."""
    return int(key.what) if key is not None and key.kind == PATCHWORK else None


def _newer(newer: "Optional[Summary]") -> Optional[Dict[str, Any]]:
    """A newer version in JSON: its series id and version; for one of another source than
    Patchwork, no id and its page."""
    if newer is None:
        return None
    sid = _series_id(newer.key)
    return {"series": sid, "version": newer.version, **({} if sid else {"page": newer.page})}


def statuses(console: Console, rows: Sequence["BranchStatus"], as_json: bool) -> None:
    """`pwapply status`: a line a branch, the current one marked."""
    if as_json:
        out(
            [
                {
                    "branch": r.name,
                    "current": r.current,
                    "exists": r.exists,
                    "series": _series_id(r.key),
                    "source": r.key.json(),
                    "version": r.version,
                    "server": r.key.where,
                    "commits": r.commits,
                    "merged": r.merged,
                    "newer": _newer(r.newer),
                    "tags": [{"commit": c, "subject": s, "tag": t.line()} for c, s, t in r.tags],
                    "states": r.states,
                    "failed_checks": r.failed_checks,
                    "asked": r.asked,
                }
                for r in rows
            ]
        )
        return
    if not rows:
        console.info("pwapply made no branch here yet (or they were all deleted: pwapply status --all)")
        return
    width = max(len(r.name) for r in rows)
    for r in rows:
        facts = []
        if not r.exists:
            facts.append("deleted")
        if r.newer:
            facts.append(f"v{r.newer.version} posted ({r.newer.short}): pwapply update --to-latest")
        if r.tags:
            n = len(r.tags)
            facts.append(f"{n} review tag{'s' if n != 1 else ''} to add: pwapply update")
        facts += [f"{n} {state}" for state, n in sorted(r.states.items())]
        if r.failed_checks:
            facts.append(f"CI checks failed on {r.failed_checks}")
        if r.merged:
            facts.append("merged upstream")
        if not facts:
            facts.append("up to date" if r.asked else "not asked")
        many = f"{r.commits} commit{'s' if r.commits != 1 else ''}"
        mark = "*" if r.current else " "
        print(f"{mark} {r.name:<{width}}  {r.label}, {many}: {', '.join(facts)}")
        if console.verbose:
            for commit, subject, tag in r.tags:
                print(f"      + {tag.line()}   ({commit[:12]} {subject})")


def updated(console: Console, up: "Update", dry_run: bool, as_json: bool, late: Optional[int] = None) -> None:
    """`pwapply update`: what was (or would be) added, and what the user should know."""
    if as_json:
        out(
            {
                "branch": up.branch,
                "series": _series_id(up.key),
                "source": up.key.json(),
                "version": up.version,
                "added": [{"commit": c, "subject": s, "tags": [t.line() for t in tags]} for c, s, tags in up.added],
                "old_tip": up.old_tip,
                "new_tip": up.new_tip or None,
                "updated": up.done,
                "newer": _newer(up.newer),
                "published_on": up.published,
            }
        )
    n = sum(len(tags) for _, _, tags in up.added)
    if not up.added:
        console.info(f"{up.branch}: no review tag to add ({up.label})")
    else:
        verb = "would add" if dry_run else "added"
        commits = f"{len(up.added)} commit{'s' if len(up.added) != 1 else ''}"
        console.info(f"{up.branch}: {verb} {n} review tag{'s' if n != 1 else ''} to {commits}")
        for commit, subject, tags in up.added:
            console.info(f"  {commit[:12]} {subject}: " + ", ".join(t.line() for t in tags))
        if up.done:
            old = up.old_tip[:12]
            console.info(f"  moved from {old} to {up.new_tip[:12]} (git branch -f {up.branch} {old} undoes it)")
    if up.published:
        console.warn(
            f"its commits are on {', '.join(up.published)}: "
            + ("updating would rewrite" if dry_run or not up.done else "this rewrote")
            + " published history"
        )
    if up.newer:
        later = up.newer
        console.info(
            f"note: v{later.version} is posted ({later.short}): pwapply update --to-latest, or pwapply {later.ref}"
        )
    if late is not None and up.done:
        console.warn(
            "interrupted after the branch was moved: pwapply finished the update rather than leave it half done"
        )


def accepted(console: Console, result: "Accepted", host: str, dry_run: bool) -> None:
    """`pwapply accept`: what was marked, what was not and why."""
    marks = result.to_mark if dry_run else result.marked
    verb = "would mark" if dry_run else "marked"
    if marks:
        console.info(f"{verb} {len(marks)} patch{'es' if len(marks) != 1 else ''} {result.state} on {host}:")
        for m in marks:
            console.info(f"  {m.commit[:12]} {m.subject} (patch {m.patch_id})")
    elif not result.skipped:
        console.info("no commit names a patch: nothing to mark")
    for commit, subject, why in result.skipped:
        console.warn(f"{commit[:12]} {subject}: {why}")


def accepted_after_push(console: Console, marks: Sequence["Mark"], warnings: Sequence[str], state: str) -> None:
    """`pwapply accept --pending`, from the reference-transaction hook: one line."""
    if marks:
        console.info(f"pwapply: marked {len(marks)} pushed patch{'es' if len(marks) != 1 else ''} {state}")
    for warning in warnings:
        console.warn(warning)


def out(data: Any) -> None:
    """JSON on stdout."""
    print(json.dumps(data, indent=2))
