"""What each command's result looks like: lines on stderr for people, JSON on stdout
for programs (--json).  Typer-free: the pre-push hook's fast path renders with it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Sequence, Tuple

from .console import Console

if TYPE_CHECKING:
    from ..apply.options import Result
    from ..check.command import Checked
    from ..versions import Listing


def applied(console: Console, result: "Result", as_json: bool) -> None:
    n = len(result.commits)
    if as_json:
        out(
            {
                "branch": result.branch,
                "base": result.base,
                "tip": result.tip,
                "series": result.series_id,
                "version": result.version,
                "name": result.name,
                "commits": [{"id": c[0], "subject": c[1]} for c in result.commits],
                "old_tip": result.old_tip,
                "checked_out": result.checked_out,
                "notes": result.notes,
                "warnings": result.warnings,
                "chain": [
                    {
                        "series": c.series_id,
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
    what = f"series {result.series_id} v{result.version}" if result.series_id else "the mbox"
    console.info(f"Applied {n} patch{'es' if n != 1 else ''} of {what}" + (f": {result.name}" if result.name else ""))
    if result.branch:
        state = "checked out" if result.checked_out else "not checked out"
        console.info(f"  branch: {result.branch} ({state})")
    console.info(f"  base:   {result.base[:12]}")
    if result.old_tip:
        console.info(
            f"  moved from {result.old_tip[:12]} (git branch -f {result.branch} {result.old_tip[:12]} restores it)"
        )
    for note in result.notes:
        console.info(f"note: {note}")
    for warning in result.warnings:
        console.warn(warning)
    target = result.branch or "HEAD"
    console.info(f"next: git log --oneline {result.base[:12]}..{target}   # then build and test")


def versions(listing: "Listing", as_json: bool) -> None:
    from ..versions import summarize_states

    rows: List[Dict[str, Any]] = []
    for s in listing.versions:
        rows.append(
            {
                "id": s.id,
                "version": s.version,
                "date": s.date,
                "name": s.name,
                "total": s.total,
                "received_total": s.received_total,
                "received_all": s.received_all,
                "states": list(listing.states.get(s.id, ())),
                "current": s.id == listing.current.id,
                "web_url": s.web_url,
            }
        )
    if as_json:
        out(rows)
        return
    print(f"  {'series':>8}  {'ver':<4} {'date':<10}  {'patches':>7}  {'received':<8}  states")
    for r in rows:
        mark = "*" if r["current"] else " "
        print(
            f"{mark} {r['id']:>8}  v{r['version']:<3} {str(r['date'])[:10]:<10}  {r['total']:>7}  "
            f"{r['received_total']}/{r['total']:<6}  {summarize_states(r['states'])}   {r['name'] or ''}"
        )


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
    for why in report.unreachable:
        verdict = "refusing the push (pwapply.check.strict)" if checked.strict else "the push goes on"
        console.say(f"warning: could not check against {why}; {verdict}")
    if checked.failed:
        console.say("hint: fix the above, or push anyway with git push --no-verify")
    elif report.checked:
        console.info(f"pwapply: {report.checked} commit(s) from Patchwork checked")
    return 1 if checked.failed else 0


def out(data: Any) -> None:
    """JSON on stdout."""
    import json

    print(json.dumps(data, indent=2))
