"""Real mail: liburing's series as the io_uring list's archive holds them (tests/realmail/,
made by tools/realmail.py), against what liburing merged.

For every commit upstream made from the list, pwapply picks the series out of the real
thread by the Message-ID the commit's Link names, as a maintainer would, and:

- the patch upstream merged is among those picked: by ``git patch-id --stable`` of the
  mail's diff, or, where the maintainer edited the patch, by its subject;
- every review tag upstream carries that a reply in the thread gave is collected for it;
- every tag collected is on an unquoted line of a reply, from a valid address.

The figures reached are floors: a change that picks fewer fails.  What no picker can
reach: a Link that names a discussion whose thread holds no patch (5 commits), or the
mail a patch answered rather than the patch (7).
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from typing import Dict, List, Tuple

import pytest

import realmail as rm
from pwapply import mbox, thread, trailers

# Reached on the corpus of 2026-12 (554 commits in 237 threads); a change that picks
# fewer fails.
BY_PATCH_ID = 490
BY_SUBJECT = 52
OUT_OF_REACH = 12


@lru_cache(maxsize=None)
def picks() -> Tuple[List[Tuple[rm.Case, rm.Merged, "thread.ThreadSeries | None", Dict[str, str]]], ...]:
    """Each commit, the series picked by its Link, and the patch-id of each patch picked."""
    work = []
    for case in rm.cases():
        mails = thread.read(rm.threads()[case.thread])
        for merged in case.commits:
            try:
                ts = thread.pick(mails, merged.link, rm.ARCHIVE)
            except Exception:  # noqa: BLE001 -- counted: a thread with no patch for it
                ts = None
            work.append((case, merged, ts))
    bodies = [mbox.parse(p.raw).body for _, _, ts in work if ts is not None for p in ts.patches]
    ids = iter(rm.patch_ids(bodies))
    out = []
    for case, merged, ts in work:
        pid = {p.msgid: next(ids) for p in ts.patches} if ts is not None else {}
        out.append((case, merged, ts, pid))
    return (out,)


def match(merged: rm.Merged, ts: "thread.ThreadSeries", pid: Dict[str, str]) -> Tuple[str, str]:
    """(how, Message-ID) of the patch picked that upstream merged as ``merged``."""
    for p in ts.patches:
        if pid[p.msgid] and pid[p.msgid] == merged.patch_id:
            return "patch-id", p.msgid
    for p in ts.patches:
        if rm.title(p.subject) == rm.title(merged.subject):
            return "subject", p.msgid
    return "", ""


def test_the_corpus_is_what_its_script_made():
    cases = rm.cases()
    assert len(cases) >= 200 and sum(len(c.commits) for c in cases) >= 500
    assert all(c.thread in rm.threads() for c in cases)
    assert sum(len(c.commits) >= 2 for c in cases) >= 60


def test_the_patches_picked_are_those_upstream_merged():
    figures = {"patch-id": 0, "subject": 0, "": 0}
    lost: List[str] = []
    for _case, merged, ts, pid in picks()[0]:
        how = match(merged, ts, pid)[0] if ts is not None else ""
        figures[how] += 1
        if not how:
            lost.append(f"{merged.subject} (Link: {merged.link})")
    report = (
        rm.summary_line({"by patch-id": figures["patch-id"], "by subject": figures["subject"]}) + "\n" + "\n".join(lost)
    )
    assert figures["patch-id"] >= BY_PATCH_ID, report
    assert figures["patch-id"] + figures["subject"] >= BY_PATCH_ID + BY_SUBJECT, report
    assert figures[""] <= OUT_OF_REACH, report


def test_every_tag_a_reply_gave_is_collected_for_its_patch():
    given = kept = 0
    missed = []
    for _case, merged, ts, pid in picks()[0]:
        if ts is None or not merged.given:
            continue
        how, msgid = match(merged, ts, pid)
        got = [*ts.patch_tags.get(msgid, ()), *ts.cover_tags]
        for key, value in merged.given:
            given += 1
            if any(t.key.lower() == key.lower() and rm.address(t.value) == rm.address(value) for t in got):
                kept += 1
            else:
                missed.append(f"{key}: {value} on {merged.subject}")
    assert given >= 31
    assert kept == given, "\n".join(missed)


def test_no_tag_from_a_quoted_line_and_none_malformed_ever():
    """Every tag collected stands on an unquoted line of a mail of its thread that is no
    patch, with a valid address."""
    checked = 0
    for case, _merged, ts, _pid in picks()[0]:
        if ts is None:
            continue
        said = [
            m.body for m in thread.read(rm.threads()[case.thread]) if not thread.is_patch(m) and not thread.is_cover(m)
        ]
        for tag in [t for tags in ts.patch_tags.values() for t in tags] + list(ts.cover_tags):
            checked += 1
            assert trailers.has_address(tag.value), tag
            line = re.compile(rf"^[ \t]*{re.escape(tag.key)}[ \t]*:[ \t]*{re.escape(tag.value)}\s*$", re.M | re.I)
            assert any(line.search(body) for body in said), f"{tag.line()} in {case.name}"
    assert checked >= 40


@pytest.mark.parametrize("case", [c for c in rm.cases() if c.e2e], ids=lambda c: c.name[:40])
def test_a_real_series_applies_end_to_end_on_its_base(case, inbox, tmp_path, cli):
    """Through a real public-inbox holding the thread, on liburing's tree at the series'
    base (tests/realmail/liburing.bundle: each case's base tree, no history): the
    commits are those upstream merged (by patch-id, or by subject where the maintainer
    edited the patch), each with the tags the thread gave it."""
    work = tmp_path / "liburing"
    work.mkdir()
    for argv in (
        ["init", "-q"],
        ["fetch", "-q", str(rm.CORPUS / "liburing.bundle"), f"refs/heads/{case.bundle_ref}:refs/heads/base"],
        ["checkout", "-q", "base"],
    ):
        subprocess.run(["git", *argv], cwd=work, check=True)
    inbox.add(rm.threads()[case.thread])
    inbox.serve()
    result = cli(case.msgid, "--archive", inbox.url, cwd=work)
    assert result.exit_code == 0, result.output
    log = subprocess.run(
        ["git", "log", "--reverse", "-p", "--format=commit %H%n%n%B", "base..HEAD"],
        cwd=work,
        capture_output=True,
        text=True,
    ).stdout
    made = re.split(r"(?m)^(?=commit [0-9a-f]{40}$)", log)[1:]
    ids = rm.patch_ids(made)
    subjects = [rm.title(text.split("\n")[2]) for text in made]
    picked = {p.msgid for p in thread.pick(thread.read(rm.threads()[case.thread]), case.msgid, inbox.url).patches}
    expected = [m for m in case.commits if m.link in picked]
    assert len(made) == len(picked) and expected, result.stderr
    for merged in expected:
        assert merged.patch_id in ids or rm.title(merged.subject) in subjects, merged.subject
        at = ids.index(merged.patch_id) if merged.patch_id in ids else subjects.index(rm.title(merged.subject))
        for key, value in merged.given:
            assert re.search(rf"(?m)^{re.escape(key)}: .*<?{re.escape(rm.address(value))}>?$", made[at]), (key, value)
