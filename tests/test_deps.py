"""Series based on other series: Based-on: (QEMU) and Depends-on: (Patchwork) lines and
the server's dependencies field are followed, and the whole chain is applied on one
branch, bases first, each commit with its own Link and review tags."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import pytest

from conftest import Repo, msgids
from pwapply import deps
from pwapply.resolve import MSGID, SERIES

LINE_A = ("src/file1.c", "line 3 of file 1\n", "line 3 of file 1, by A\n", "file1: A")
LINE_B = ("src/file1.c", "line 3 of file 1, by A\n", "line 3 of file 1, by A and B\n", "file1: B")
LINE_C = ("src/file1.c", "line 3 of file 1, by A and B\n", "line 3 of file 1, by A, B and C\n", "file1: C")
LINE_D = ("src/file2.c", "line 5 of file 2\n", "line 5 of file 2, by D\n", "file2: D")


def cover(mbox: bytes) -> str:
    return msgids(mbox)[0]


def make(
    repo: Repo,
    edits,
    name: str,
    *,
    base: Optional[str] = None,
    blurb: str = "",
    version: int = 1,
    has_cover: bool = True,
) -> Tuple[bytes, str]:
    return repo.series_at(
        edits,
        cover_subject=f"Series {name}",
        blurb=blurb or f"This is series {name}.",
        base=base,
        version=version,
        cover=has_cover,
        tag=f".{name.lower()}{version}",
    )


def subjects(repo: Repo, rev: str = "HEAD") -> List[str]:
    return repo.git("log", "--reverse", "--format=%s", f"{repo.base}..{rev}").splitlines()


def links(repo: Repo, rev: str = "HEAD") -> List[str]:
    out = repo.git("log", "--reverse", "--format=%(trailers:key=Link,valueonly)", f"{repo.base}..{rev}")
    return [line for line in out.splitlines() if line]


@pytest.fixture
def ab(repo, pw):
    """Series A, and series B on top of it whose cover letter says so."""
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    b_mbox, b_tip = make(repo, [LINE_B], "B", base=a_tip, blurb=f"Fixes more.\n\nBased-on: <{cover(a_mbox)}>\n")
    a = pw.add_series("qemu-devel", a_mbox, date="2026-04-20T10:00:00")
    b = pw.add_series("qemu-devel", b_mbox, date="2026-04-21T10:00:00")
    return a, b, a_mbox, b_mbox, b_tip


# ------------------------------------------------------------------ the lines (pure)


def test_based_on_lines_with_and_without_brackets_and_what_follows():
    text = (
        "This goes on top of two series.\n\n"
        "Based-on: <20260421202110.306051-1-peterx@redhat.com>\n"
        "based-on: 20260423070231.52211-1-philmd@linaro.org ([PATCH] docs: fix)\n"
        "> Based-on: <quoted@example.org>\n"
        " Based-on: <indented@example.org>\n"
        "+Based-on: <in-a-diff@example.org>\n"
        "Based-on: master\n"
    )
    found = deps.find(text, "the cover letter of series 9", "https://pw.example.org")
    assert [(p.ref.kind, p.ref.value) for p in found.prereqs] == [
        (MSGID, "20260421202110.306051-1-peterx@redhat.com"),
        (MSGID, "20260423070231.52211-1-philmd@linaro.org"),
    ]
    assert found.prereqs[1].line == "based-on: 20260423070231.52211-1-philmd@linaro.org ([PATCH] docs: fix)"
    assert found.prereqs[0].where == "the cover letter of series 9"
    assert [(line, why) for line, _, why in found.ignored] == [
        ("Based-on: master", "it names no Message-ID or Patchwork URL")
    ]


def test_depends_on_urls_of_this_server_and_of_others():
    text = (
        "Depends-on: https://pw.example.org/project/qemu-devel/list/?series=17\n"
        "Depends-on: https://pw.example.org/project/qemu-devel/patch/1-a@x/\n"
        "Depends-on: https://pw.example.org/api/1.3/covers/5/\n"
        "Depends-on: https://lore.kernel.org/qemu-devel/2-b@x/\n"
        "Depends-on: https://elsewhere.example.org/project/q/list/?series=3\n"
    )
    found = deps.find(text, "patch 1/1 of series 18", "https://pw.example.org")
    assert [(p.ref.kind, p.ref.value) for p in found.prereqs] == [
        (SERIES, "17"),
        (MSGID, "1-a@x"),
        ("cover-id", "5"),
        (MSGID, "2-b@x"),
    ]
    assert [why for _, _, why in found.ignored] == ["it names another server (elsewhere.example.org)"]


def test_the_order_puts_each_series_once_after_all_it_needs():
    needs: Dict[int, Sequence[int]] = {4: [2, 3], 2: [1], 3: [1], 1: []}  # a diamond
    assert deps.order(4, needs, {}) == [1, 2, 3, 4]
    with pytest.raises(deps.CycleError, match=r"loop: 1 v1 \(A\) -> 2 v1 \(B\) -> 1 v1 \(A\)"):
        deps.order(1, {1: [2], 2: [1]}, {1: "1 v1 (A)", 2: "2 v1 (B)"})


# ------------------------------------------------------------------ applying a chain


def test_based_on_in_the_cover_letter_applies_the_base_first(repo, pw, cli, ab):
    a, b, a_mbox, b_mbox, _ = ab
    pw.add_cover_reply(a, "Tested-by: Tess Ter <tess@example.org>")
    pw.add_cover_reply(b, "Reviewed-by: Rita Viewer <rita@example.org>")
    result = cli(str(b), "--server", pw.url, "--json", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert repo.git("symbolic-ref", "--short", "HEAD").strip() == "pw/series-b-v1"  # named after what was asked
    assert subjects(repo) == ["file1: A", "file1: B"]
    # Each commit keeps its own Link and its own series' review tags.
    assert links(repo) == [
        f"{pw.url}/project/qemu-devel/patch/{msgids(a_mbox)[1]}/",
        f"{pw.url}/project/qemu-devel/patch/{msgids(b_mbox)[1]}/",
    ]
    a_msg, b_msg = (repo.git("log", "-1", "--format=%B", rev) for rev in ("HEAD~1", "HEAD"))
    assert "Tested-by: Tess Ter" in a_msg and "Reviewed-by: Rita" not in a_msg
    assert "Reviewed-by: Rita Viewer" in b_msg and "Tested-by" not in b_msg
    assert "2 series: 1 v1 (1 patch) -> 2 v1 (1 patch)" in result.stderr
    chain = json.loads(result.stdout)["chain"]
    assert [(c["series"], c["applied"]) for c in chain] == [(a, True), (b, True)]


def test_two_based_on_lines_without_brackets(repo, pw, cli):
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    d_mbox, _ = make(repo, [LINE_D], "D")
    b_mbox, _ = make(repo, [LINE_B], "B", base=a_tip, blurb=f"Based-on: {cover(a_mbox)}\nBased-on: {cover(d_mbox)}\n")
    pw.add_series("qemu-devel", a_mbox)
    pw.add_series("qemu-devel", d_mbox)
    b = pw.add_series("qemu-devel", b_mbox)
    result = cli(str(b), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file1: A", "file2: D", "file1: B"]


def test_depends_on_below_the_dashes_of_a_single_patch(repo, pw, cli):
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    b_mbox, _ = make(repo, [LINE_B], "B", base=a_tip, has_cover=False)
    b_mbox = re.sub(rb"\n---\n", f"\n---\nDepends-on: <{cover(a_mbox)}>\n".encode(), b_mbox, count=1)
    pw.add_series("qemu-devel", a_mbox)
    b = pw.add_series("qemu-devel", b_mbox)
    result = cli(str(b), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file1: A", "file1: B"]
    assert "Depends-on" not in repo.git("log", "-1", "--format=%B")  # below ---: not part of the commit


def test_a_patchwork_url_names_the_base(repo, pw, cli):
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    a = pw.add_series("qemu-devel", a_mbox)
    b_mbox, _ = make(
        repo, [LINE_B], "B", base=a_tip, blurb=f"Depends-on: {pw.url}/project/qemu-devel/list/?series={a}\n"
    )
    b = pw.add_series("qemu-devel", b_mbox)
    result = cli(str(b), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file1: A", "file1: B"]
    assert not any("msgid=" in p for p in pw.paths())  # a series URL needs no look-up


def test_a_chain_of_three(repo, pw, cli):
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    b_mbox, b_tip = make(repo, [LINE_B], "B", base=a_tip, blurb=f"Based-on: <{cover(a_mbox)}>")
    c_mbox, _ = make(repo, [LINE_C, LINE_D], "C", base=b_tip, blurb=f"Based-on: <{cover(b_mbox)}>")
    a = pw.add_series("qemu-devel", a_mbox)
    b = pw.add_series("qemu-devel", b_mbox)
    c = pw.add_series("qemu-devel", c_mbox)
    pw.reset()
    result = cli(str(c), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file1: A", "file1: B", "file1: C", "file2: D"]
    assert f"3 series: {a} v1 (1 patch) -> {b} v1 (1 patch) -> {c} v1 (2 patches)" in result.stderr
    # Each series is fetched once: its JSON, mbox, cover letter and replies; a level's
    # look-ups ask cover letters and patches at once; each base's newer versions once.
    assert pw.count("/mbox/") == 3 and pw.count("/api/series/") == 3
    assert pw.count("msgid=") == 4 and pw.count("/comments/") == 3
    assert pw.count("/api/1.2/series/?") == 2


def test_a_diamond_applies_the_shared_base_once(repo, pw, cli):
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    b_mbox, b_tip = make(repo, [LINE_B], "B", base=a_tip, blurb=f"Based-on: <{cover(a_mbox)}>")
    c_mbox, c_tip = make(repo, [LINE_C], "C", base=b_tip, blurb=f"Based-on: <{cover(a_mbox)}>")
    d_mbox, _ = make(repo, [LINE_D], "D", base=c_tip, blurb=f"Based-on: <{cover(b_mbox)}>\nBased-on: <{cover(c_mbox)}>")
    for mbox in (a_mbox, b_mbox, c_mbox):
        pw.add_series("qemu-devel", mbox)
    d = pw.add_series("qemu-devel", d_mbox)
    pw.reset()
    result = cli(str(d), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file1: A", "file1: B", "file1: C", "file2: D"]
    assert pw.count("/mbox/") == 4  # A once


def test_a_loop_is_refused(repo, pw, cli):
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    b_mbox, _ = make(repo, [LINE_B], "B", base=a_tip, blurb=f"Based-on: <{cover(a_mbox)}>")
    a_mbox = a_mbox.replace(b"This is series A.", f"Based-on: <{cover(b_mbox)}>".encode())
    a = pw.add_series("qemu-devel", a_mbox)
    b = pw.add_series("qemu-devel", b_mbox)
    before = repo.state()
    result = cli(str(b), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 2, result.output
    assert f"loop: {b} v1 (Series B) -> {a} v1 (Series A) -> {b} v1 (Series B)" in result.stderr
    assert "--no-deps" in result.stderr
    assert repo.state() == before


def test_an_unknown_message_id_exits_3_and_no_deps_applies_the_series_alone(repo, pw, cli):
    d_mbox, _ = make(repo, [LINE_D], "D", blurb="Based-on: <never-posted@example.org>")
    d = pw.add_series("qemu-devel", d_mbox)
    before = repo.state()
    result = cli(str(d), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 3, result.output
    assert (
        f"error: Based-on: <never-posted@example.org> (the cover letter of series {d}) names a mail 127.0.0.1"
        " does not know" in result.stderr
    )
    assert "--no-deps" in result.stderr
    assert repo.state() == before
    pw.reset()
    result = cli(str(d), "--server", pw.url, "--no-deps", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file2: D"]
    assert pw.count("msgid=") == 0 and pw.count() == 3  # no cover letter text, no look-up


def test_a_base_already_applied_is_found_by_its_trailers(repo, pw, cli, ab):
    a, b, *_ = ab
    assert cli(str(a), "--server", pw.url, "-q", cwd=repo.path).exit_code == 0  # on pw/series-a-v1 now
    result = cli(str(b), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file1: A", "file1: B"]  # A once: the one already there
    assert f"series {a} v1 (Series A): already in the base (by their Message-IDs), not applied again" in result.stderr
    assert f"2 series: {a} v1 (1 patch in the base) -> {b} v1 (1 patch)" in result.stderr


def test_a_base_already_merged_without_trailers_is_found_by_patch_id(repo, pw, cli):
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    b_mbox, _ = make(repo, [LINE_B], "B", base=a_tip, blurb=f"Based-on: <{cover(a_mbox)}>")
    pw.add_series("qemu-devel", a_mbox)
    b = pw.add_series("qemu-devel", b_mbox)
    repo.git("cherry-pick", "-x", a_tip)  # merged upstream by another tool: no Link, another commit id
    result = cli(str(b), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file1: A", "file1: B"]
    assert "already in the base (by their content)" in result.stderr


def test_a_base_only_partly_there_is_refused(repo, pw, cli):
    a_mbox, a_tip = make(repo, [LINE_A, LINE_D], "A")
    b_mbox, _ = make(repo, [LINE_B], "B", base=a_tip, blurb=f"Based-on: <{cover(a_mbox)}>")
    pw.add_series("qemu-devel", a_mbox)
    b = pw.add_series("qemu-devel", b_mbox)
    repo.git("cherry-pick", f"{a_tip}~1")  # only A's first patch
    before = repo.state()
    result = cli(str(b), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 5, result.output
    assert "is only partly in the base: 1 of its 2 patches" in result.stderr
    assert repo.state() == before


def test_a_superseded_base_is_applied_as_named_with_a_warning(repo, pw, cli):
    me = ("A U Thor", "author@example.org")
    a1_mbox, a1_tip = make(repo, [LINE_A], "A")
    a2_mbox, _ = make(repo, [LINE_A], "A", version=2)
    b_mbox, _ = make(repo, [LINE_B], "B", base=a1_tip, blurb=f"Based-on: <{cover(a1_mbox)}>")
    a1 = pw.add_series("qemu-devel", a1_mbox, date="2026-04-20T10:00:00", submitter=me)
    a2 = pw.add_series("qemu-devel", a2_mbox, date="2026-04-25T10:00:00", submitter=me)
    b = pw.add_series("qemu-devel", b_mbox, date="2026-04-21T10:00:00", submitter=me)
    result = cli(str(b), "--server", pw.url, "-q", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert links(repo)[0] == f"{pw.url}/project/qemu-devel/patch/{msgids(a1_mbox)[1]}/"  # v1, as named
    assert f"warning: series {a1} v1 (Series A), a prerequisite, has a newer version: v2 (series {a2})" in (
        result.stderr
    )
    # And the pre-push check says so of its commit, like of any commit.
    result = cli("check", f"{repo.base}..HEAD", cwd=repo.path)
    assert result.exit_code == 1
    assert f"error: series {a1} v1, 1 commit: superseded by v2 (series {a2})" in result.stderr


def test_a_conflict_in_the_middle_of_the_chain_names_the_series(repo, pw, cli):
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    b_mbox, b_tip = make(repo, [LINE_B], "B", base=a_tip, blurb=f"Based-on: <{cover(a_mbox)}>")
    other = ("src/file1.c", "line 3 of file 1, by A\n", "line 3 of file 1, by someone else\n", "file1: Other")
    _, other_tip = make(repo, [other], "O", base=a_tip)
    c_mbox, _ = make(repo, [LINE_C], "C", base=b_tip, blurb=f"Based-on: <{cover(b_mbox)}>")
    # B as posted does not apply on A: it was made on another change.
    b_bad, _ = make(
        repo, [("src/file1.c", "line 3 of file 1, by someone else\n", "x\n", "file1: B")], "B", base=other_tip
    )
    b_bad = b_bad.replace(b"This is series B.", f"Based-on: <{cover(a_mbox)}>".encode())
    b_bad = re.sub(rb"cover\.(\d+)\.v1\.b1\.git", rb"cover.\1.v1.b1.git", b_bad)
    pw.add_series("qemu-devel", a_mbox)
    b = pw.add_series("qemu-devel", b_bad.replace(cover(b_bad).encode(), cover(b_mbox).encode()))
    c = pw.add_series("qemu-devel", c_mbox)
    before = repo.state()
    result = cli(str(c), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 1, result.output
    assert f"error: series {b} v1: patch 1/1 did not apply: file1: B (conflicts in src/file1.c)" in result.stderr
    assert repo.state() == before


def test_no_deps_applies_the_series_alone(repo, pw, cli, ab):
    a, b, *_ = ab
    pw.reset()
    result = cli(str(b), "--server", pw.url, "--no-deps", cwd=repo.path)
    assert result.exit_code == 1  # B needs A
    assert "patch 1/1 did not apply" in result.stderr and "series" not in result.stderr.split("\n")[0]
    assert pw.count(f"/series/{a}/") == 0


def test_patches_picks_from_the_series_asked_for_only(repo, pw, cli):
    a_mbox, a_tip = make(repo, [LINE_A, LINE_D], "A")
    b_mbox, _ = make(
        repo,
        [LINE_B, ("src/file3.c", "line 7 of file 3\n", "line 7 of file 3, by B\n", "file3: B")],
        "B",
        base=a_tip,
        blurb=f"Based-on: <{cover(a_mbox)}>",
    )
    pw.add_series("qemu-devel", a_mbox)
    b = pw.add_series("qemu-devel", b_mbox)
    result = cli(str(b), "--server", pw.url, "--patches", "2", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file1: A", "file2: D", "file3: B"]


def test_base_is_where_the_first_base_goes(repo, pw, cli, ab):
    a, b, *_ = ab
    repo.write("NEWS", "news\n")
    elsewhere = repo.commit("Unrelated")
    repo.git("checkout", "-q", "-b", "other", repo.base)
    result = cli(str(b), "--server", pw.url, "--base", elsewhere, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert repo.git("log", "--format=%s", f"{elsewhere}..HEAD").splitlines() == ["file1: B", "file1: A"]


def test_diff_compares_only_the_series_own_patches(repo, pw, cli):
    me = ("A U Thor", "author@example.org")
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    based = f"Based-on: <{cover(a_mbox)}>"
    b1_mbox, _ = make(repo, [LINE_B], "B", base=a_tip, blurb=based)
    b2 = ("src/file1.c", "line 3 of file 1, by A\n", "line 3 of file 1, by A and B, v2\n", "file1: B")
    b2_mbox, _ = make(repo, [b2], "B", base=a_tip, blurb=based, version=2)
    pw.add_series("qemu-devel", a_mbox, submitter=me)
    pw.add_series("qemu-devel", b1_mbox, date="2026-04-21T10:00:00", submitter=me)
    v2 = pw.add_series("qemu-devel", b2_mbox, date="2026-04-28T10:00:00", submitter=me)
    proc = subprocess.run(
        [sys.executable, "-m", "pwapply", "diff", str(v2), "--server", pw.url, "--no-pager"],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )  # (git range-diff writes to the terminal's stdout: a process of its own to read it)
    assert proc.returncode == 0, proc.stderr
    pairs = [line for line in proc.stdout.splitlines() if re.match(r"^\S+:\s+\S+ [!=<>] ", line)]
    assert len(pairs) == 1 and "file1: B" in pairs[0] and " ! " in pairs[0], proc.stdout  # A is no part of it
    assert "after 1 series it is based on" in proc.stderr


def test_a_local_mbox_names_its_bases(repo, pw, cli, tmp_path, ab):
    a, b, a_mbox, b_mbox, _ = ab
    path = tmp_path / "b.mbox"
    path.write_bytes(b_mbox)
    result = cli(str(path), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file1: A", "file1: B"]


def test_a_local_mbox_without_a_server_tells_its_bases_were_not_applied(repo, cli, tmp_path):
    a_mbox, _ = make(repo, [LINE_A], "A")
    d_mbox, _ = make(repo, [LINE_D], "D", blurb=f"Based-on: <{cover(a_mbox)}>")
    path = tmp_path / "d.mbox"
    path.write_bytes(d_mbox)
    result = cli(str(path), cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file2: D"]
    assert f"the mbox names what it is based on (Based-on: <{cover(a_mbox)}>), which was not applied" in result.stderr


def test_the_servers_dependencies_field_is_followed_once(repo, pw, cli):
    """Patchwork 3.3 lists what a patch's Depends-on: names (API 1.4, projects that show
    them); with the line also read by pwapply, the base is still fetched once."""
    pw.add_project("qemu-devel", show_dependencies=True)
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    b_mbox, _ = make(repo, [LINE_B], "B", base=a_tip, has_cover=False)
    b_mbox = re.sub(rb"\n---\n", f"\n---\nDepends-on: <{cover(a_mbox)}>\n".encode(), b_mbox, count=1)
    a = pw.add_series("qemu-devel", a_mbox)
    b = pw.add_series("qemu-devel", b_mbox)
    assert pw.dependencies(b) == [a]
    pw.reset()
    result = cli(str(b), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert subjects(repo) == ["file1: A", "file1: B"]
    assert pw.count("/mbox/") == 2


def test_the_dependencies_field_only_in_api_1_4():
    from pwapply.testing import FakePatchwork

    with FakePatchwork(versions=("1.2", "1.3")) as old, FakePatchwork() as new:
        for server in (old, new):
            server.add_project("q", show_dependencies=True)
            sid = server.add_series("q", b"From x Mon Sep 17 00:00:00 2001\nSubject: [PATCH] x\n\ndiff --git a/a b/a\n")
        import urllib.request

        def fetch(server, path):
            with urllib.request.urlopen(server.url + path) as resp:  # noqa: S310 -- loopback
                return json.loads(resp.read())

        assert "dependencies" not in fetch(old, f"/api/series/{sid}/")
        assert fetch(new, f"/api/series/{sid}/")["dependencies"] == []
        assert "dependencies" not in fetch(new, f"/api/1.3/series/{sid}/")


def test_resolve_hands_the_rest_of_a_chain_to_git_am(repo, pw, cli):
    """--resolve on a chain: the bases that applied are on the branch with their own
    trailers; git am stops in the work tree at the series' conflicting patch."""
    a_mbox, a_tip = make(repo, [LINE_A], "A")
    other = ("src/file1.c", "line 3 of file 1, by A\n", "line 3 of file 1, by someone else\n", "file1: Other")
    _, other_tip = make(repo, [other], "O", base=a_tip)
    b_mbox, _ = make(
        repo,
        [("src/file1.c", "line 3 of file 1, by someone else\n", "x\n", "file1: B")],
        "B",
        base=other_tip,
        blurb=f"Based-on: <{cover(a_mbox)}>",
    )
    a = pw.add_series("qemu-devel", a_mbox)
    b = pw.add_series("qemu-devel", b_mbox)
    result = cli(str(b), "--server", pw.url, "--resolve", cwd=repo.path)
    assert result.exit_code == 1, result.output
    assert f"error: series {b} v1: patch 1/1 did not apply" in result.stderr
    assert "git am stopped on branch pw/series-b-v1" in result.stderr
    assert subjects(repo) == ["file1: A"]
    assert links(repo) == [f"{pw.url}/project/qemu-devel/patch/{msgids(a_mbox)[1]}/"]
    assert (repo.path / ".git" / "rebase-apply").is_dir()
    assert pw.count(f"/series/{a}/mbox/") == 1
