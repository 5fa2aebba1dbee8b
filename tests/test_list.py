"""pwapply list: what waits for review, from the loopback Patchwork-shaped server (and a
real public-inbox archive), in real repositories."""

from __future__ import annotations

import json
import os
import socket
from urllib.parse import quote
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

import pytest

from conftest import EDITS
from pwapply.cli.render import age

ME = ("A U Thor", "author@example.org")
OTHER = ("Other Person", "other@example.org")
TOKEN = "0123456789abcdef0123456789abcdef01234567"
V2_EDITS = [*EDITS, ("src/file3.c", "line 1 of file 3\n", "line 1 of file 3, new in v2\n", "file3: New in v2")]
FIXES = [("src/file4.c", "line 5 of file 4\n", "line 5 of file 4, fixed\n", "file4: Fix line 5")]
DOCS = [("docs/index.rst", "Welcome.\n", "Welcome, reader.\n", "docs: Greet the reader")]


def listed(cli, repo, pw, *args: str, env: Optional[Dict[str, str]] = None) -> Tuple[Any, List[Dict[str, Any]]]:
    r = cli("list", "--server", pw.url, "--project", "qemu-devel", "--json", *args, cwd=repo.path, env=env or {})
    data = json.loads(r.stdout) if r.exit_code == 0 else {"series": []}
    return r, data["series"]


@pytest.fixture
def waiting(repo, pw):
    """v1 and v2 of one series (both waiting), a single patch of someone else's, an
    incomplete series, and a series already accepted."""
    ids = {}
    ids["v1"] = pw.add_series("qemu-devel", repo.series(EDITS, version=1), date="2026-11-20T10:00:00", submitter=ME)
    ids["v2"] = pw.add_series("qemu-devel", repo.series(V2_EDITS, version=2), date="2026-11-27T10:00:00", submitter=ME)
    ids["fix"] = pw.add_series(
        "qemu-devel", repo.series(FIXES, cover=False), date="2026-11-25T09:00:00", submitter=OTHER
    )
    ids["docs"] = pw.add_series(
        "qemu-devel", repo.series(DOCS, cover=False, tag="docs"), date="2026-11-10T09:00:00", submitter=OTHER
    )
    for p in pw.patch_ids(ids["docs"]):
        pw.set_state(p, "accepted")
    return ids


def test_the_newest_version_of_each_series_waiting_newest_first(cli, repo, pw, waiting):
    r, series = listed(cli, repo, pw)
    assert r.exit_code == 0, r.stderr
    assert [(s["series"], s["version"]) for s in series] == [(waiting["v2"], 2), (waiting["fix"], 1)]
    v2 = series[0]
    assert v2["earlier"] == 1 and [k["what"] for k in v2["folded"]] == [str(waiting["v1"])]
    assert (v2["received"], v2["total"], v2["incomplete"]) == (4, 4, False)
    assert v2["submitter"] == "A U Thor" and v2["ref"] == str(waiting["v2"])


def test_requests_grow_with_the_series_shown_not_with_their_patches(cli, repo, pw, waiting):
    """One page of the patches waiting and, beside it, of the newest cover letters; then,
    for the series shown, each one's mbox and the replies to its cover letter."""
    pw.reset()
    r, series = listed(cli, repo, pw)
    assert r.exit_code == 0, r.stderr
    assert pw.count("/api/1.2/patches/?") == 1
    assert pw.count("/covers/?") == 1
    assert pw.count("/mbox/") == len(series) == 2
    assert pw.count("/comments/") == 1  # v2's cover letter; the single patch has none
    assert len(pw.paths()) == 1 + 1 + len(series) + 1
    assert pw.count("/api/1.2/series/") == 0


def test_cover_letters_older_than_the_newest_hundred(cli, repo, pw, waiting):
    """A series waiting whose cover letter is older than the newest 100: its cover
    letter is asked for (one request for all such series), and its replies counted."""
    pw.add_cover_reply(waiting["v2"], "Reviewed-by: Rev Iewer <rev@example.org>")
    docs = repo.series(DOCS, tag="c0")  # a hundred posts of it, told apart by their Message-IDs
    for i in range(100):
        sid = pw.add_series(
            "qemu-devel",
            docs.replace(b".v1c0.git.", b".v1c%d.git." % i),
            date=f"2026-11-28T{i // 60:02d}:{i % 60:02d}:00",
        )
        for p in pw.patch_ids(sid):
            pw.set_state(p, "accepted")
    pw.reset()
    r, series = listed(cli, repo, pw)
    assert [s["series"] for s in series] == [waiting["v2"], waiting["fix"]]
    assert series[0]["reviewed"] == 4
    assert pw.count("/covers/?") == 2 and pw.count(f"series={waiting['v2']}") == 1


def test_readiness_from_the_replies(cli, repo, pw, waiting):
    v2 = waiting["v2"]
    patches = pw.patch_ids(v2)
    pw.add_patch_reply(patches[0], "Looks good.\n\nReviewed-by: Rev Iewer <rev@example.org>\n")
    pw.add_patch_reply(patches[1], "Acked-by: Ack Er <ack@example.org>\n")
    pw.add_cover_reply(v2, "Tested-by: Tess Ter <tess@example.org>\n")
    pw.add_patch_reply(patches[3], "NACK.\n\nNacked-by: No Body <no@example.org>\n")
    pw.set_check(patches[2], "fail")
    r, series = listed(cli, repo, pw)
    s = series[0]
    assert (s["reviewed"], s["patches"], s["tested"]) == (2, 4, 4)
    assert s["nacked"] == ["No Body"]
    assert s["check"] == "fail"
    human = cli("list", "--server", pw.url, "--project", "qemu-devel", cwd=repo.path)
    line = next(line for line in human.stdout.splitlines() if line.startswith(str(v2)))
    assert "R 2/4" in line and "T 4" in line and "NACKED" in line and "checks fail" in line
    assert "v2 (1 earlier)" in line and "4/4" in line


def test_an_incomplete_series_says_so(cli, repo, pw):
    from pwapply import mbox as m

    posted = b"".join(raw for raw in m.split(repo.series(EDITS)) if " 2/3]" not in m.parse(raw).subject)
    sid = pw.add_series("qemu-devel", posted, date="2026-11-27T10:00:00", submitter=ME)
    r, series = listed(cli, repo, pw)
    assert (series[0]["series"], series[0]["received"], series[0]["total"]) == (sid, 2, 3)
    assert series[0]["incomplete"] is True
    human = cli("list", "--server", pw.url, "--project", "qemu-devel", cwd=repo.path)
    assert "2/3" in human.stdout and "incomplete" in human.stdout


def test_what_this_repository_has(cli, repo, pw, waiting):
    """A branch made from the version listed: applied.  From an earlier one: that
    version applied, the newer one out; pwapply update --to-latest is the next step."""
    r = cli("apply", "--server", pw.url, str(waiting["v1"]), cwd=repo.path)
    assert r.exit_code == 0, r.stderr
    r, series = listed(cli, repo, pw)
    assert (series[0]["here"], series[0]["branch"]) == ("v1 applied, v2 out", "pw/improve-the-files-v1")
    repo.git("checkout", "-q", "-")
    r = cli("apply", "--server", pw.url, str(waiting["fix"]), cwd=repo.path)
    assert r.exit_code == 0, r.stderr
    r, series = listed(cli, repo, pw)
    assert series[1]["here"] == "applied" and series[1]["branch"].startswith("pw/file4-fix-line-5")
    human = cli("list", "--server", pw.url, "--project", "qemu-devel", cwd=repo.path)
    assert "v1 applied, v2 out" in human.stdout
    # A branch deleted since is not there any more.
    repo.git("checkout", "-q", "--detach")
    repo.git("branch", "-q", "-D", series[1]["branch"])
    r, series = listed(cli, repo, pw)
    assert series[1]["here"] is None


def test_merged_where_patchwork_says_accepted(cli, repo, pw, waiting):
    r, series = listed(cli, repo, pw, "--state", "accepted")
    assert [(s["series"], s["here"]) for s in series] == [(waiting["docs"], "merged")]


def test_filters(cli, repo, pw, waiting):
    def ids(*args: str) -> List[int]:
        r, series = listed(cli, repo, pw, *args)
        assert r.exit_code == 0, r.stderr
        return [s["series"] for s in series]

    assert ids("--all") == [waiting["v2"], waiting["fix"], waiting["docs"]]
    assert ids("--state", "accepted", "--state", "new") == [waiting["v2"], waiting["fix"], waiting["docs"]]
    assert ids("--since", "2026-11-26") == [waiting["v2"]]
    assert ids("--submitter", OTHER[1]) == [waiting["fix"]]
    assert ids("--search", "FILE4") == [waiting["fix"]]
    assert ids("-n", "1") == [waiting["v2"]]
    assert ids("--submitter", "nobody@example.org") == []
    # Archived patches wait no more.
    for p in pw.patch_ids(waiting["fix"]):
        pw.archive(p)
    assert ids() == [waiting["v2"]]


def test_n_fetches_pages_only_until_enough_series(cli, repo, pw):
    """Many series waiting, 100 patches a page: -n 2 reads one page, not them all."""
    edits = [("src/file1.c", "line 1 of file 1\n", "changed\n", "Change 0")]
    edits.append(("src/file1.c", "line 21 of file 1\n", "changed too\n", "Change 0 too"))
    first = repo.series(edits, cover=False, tag="n0")
    for i in range(60):  # sixty series of two patches: as many subjects and Message-IDs
        one = first.replace(b"Change 0", b"Change %d" % i).replace(b".v1n0.git.", b".v1n%d.git." % i)
        pw.add_series("qemu-devel", one, date=f"2026-11-{1 + i // 3:02d}T{i % 3:02d}:00:00", submitter=OTHER)
    pw.reset()
    r, series = listed(cli, repo, pw, "-n", "2")
    assert r.exit_code == 0, r.stderr
    assert len(series) == 2 and pw.count("/patches/?") == 1
    pw.reset()
    r, series = listed(cli, repo, pw, "-n", "0")
    assert len(series) == 60 and pw.count("/patches/?") == 2


def test_mine_is_what_is_delegated_to_the_tokens_user(cli, repo, pw, waiting):
    me = pw.add_user("athor", ME[1], token=TOKEN)
    other = pw.add_user("other", OTHER[1])
    pw.delegate(pw.patch_ids(waiting["v2"])[0], me)
    pw.delegate(pw.patch_ids(waiting["fix"])[0], other)
    env = {"PWAPPLY_TOKEN": TOKEN}
    repo.git("config", "user.email", ME[1])
    r, series = listed(cli, repo, pw, "--mine", env=env)
    assert r.exit_code == 0, r.stderr
    assert [s["series"] for s in series] == [waiting["v2"]]
    # A username configured: no look-up.
    repo.git("config", "pwapply.user", "other")
    pw.reset()
    r, series = listed(cli, repo, pw, "--mine", env=env)
    assert [s["series"] for s in series] == [waiting["fix"]] and pw.count("/users/") == 0


def test_mine_without_a_token_is_refused(cli, repo, pw, waiting):
    before = repo.state()
    r = cli("list", "--server", pw.url, "--project", "qemu-devel", "--mine", cwd=repo.path)
    assert r.exit_code == 2
    assert "error: --mine needs a token" in r.stderr and "hint: git config pwapply.token" in r.stderr
    assert r.stdout == "" and repo.state() == before


def test_mine_when_nothing_says_who_the_user_is(cli, repo, pw, waiting):
    pw.add_user("athor", ME[1], token=TOKEN)
    pw.reset()
    r = cli(
        "list", "--server", pw.url, "--project", "qemu-devel", "--mine", cwd=repo.path, env={"PWAPPLY_TOKEN": TOKEN}
    )
    assert r.exit_code == 2 and r.stdout == ""
    assert "error: --mine: which user of 127.0.0.1 are you?" in r.stderr
    assert "hint: git config pwapply.user USERNAME (or user.email)" in r.stderr
    assert pw.requests == []  # refused before any request


def test_a_server_without_a_project_is_refused(cli, repo, pw, waiting):
    pw.reset()
    r = cli("list", "--server", pw.url, cwd=repo.path)
    assert r.exit_code == 2 and r.stdout == ""
    assert "error: which project of 127.0.0.1? listing what waits needs one" in r.stderr
    assert "hint: pwapply list --project NAME, or git config pwapply.project NAME" in r.stderr
    assert pw.requests == []


def test_mine_when_the_address_is_not_the_tokens_user(cli, repo, pw, waiting):
    pw.add_user("athor", ME[1])
    pw.add_user("someone", "someone@example.org", token=TOKEN)
    repo.git("config", "user.email", ME[1])
    r = cli(
        "list", "--server", pw.url, "--project", "qemu-devel", "--mine", cwd=repo.path, env={"PWAPPLY_TOKEN": TOKEN}
    )
    assert r.exit_code == 2
    assert "is the token's" in r.stderr and "git config pwapply.user" in r.stderr


def test_a_server_that_cannot_be_reached(cli, repo, pw, waiting):
    url = pw.url
    pw.stop()
    before = repo.state()
    r = cli("list", "--server", url, "--project", "qemu-devel", "--timeout", "5", cwd=repo.path)
    assert r.exit_code == 4
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0].startswith("error: ") and "127.0.0.1" in lines[0]
    assert [line for line in lines if not line.startswith(("error:", "hint:"))] == []
    assert repo.state() == before


def test_a_server_error_on_the_listing(cli, repo, pw, waiting, mocker):
    mocker.patch("pwapply.net.transport.time.sleep")  # the retries' backoff: 1.5 s for nothing
    pw.fault(r"/patches/\?", status=502, times=None)
    r = cli("list", "--server", pw.url, "--project", "qemu-devel", cwd=repo.path)
    assert r.exit_code == 4 and r.stdout == "" and "error:" in r.stderr


def test_bad_filters_are_refused_before_any_request(cli, repo, pw):
    pw.reset()
    for args, what in [
        (("--since", "yesterday-ish"), "--since 'yesterday-ish': not a date"),
        (("-n", "-3"), "not a number of series"),
        (("--all", "--state", "new"), "--all and --state"),
    ]:
        r = cli("list", "--server", pw.url, "--project", "qemu-devel", *args, cwd=repo.path)
        assert r.exit_code == 2, (args, r.stderr)
        assert what in r.stderr and "hint:" in r.stderr
    assert pw.paths() == []


def test_no_project_no_archive(cli, repo, pw):
    r = cli("list", "--server", pw.url, cwd=repo.path)
    assert r.exit_code == 2 and "which project" in r.stderr
    r = cli("list", cwd=repo.path)
    assert r.exit_code == 2 and "no Patchwork server and no list archive" in r.stderr


def test_nothing_waiting(cli, repo, pw):
    pw.add_project("qemu-devel")
    r = cli("list", "--server", pw.url, "--project", "qemu-devel", cwd=repo.path)
    assert r.exit_code == 0 and r.stdout == "" and "nothing waiting" in r.stderr


def test_the_line_gives_what_to_type(cli, repo, pw, waiting):
    r = cli("list", "--server", pw.url, "--project", "qemu-devel", cwd=repo.path)
    header, first, *_ = r.stdout.splitlines()
    assert header.split()[:2] == ["SERIES", "VER"]
    assert first.split()[0] == str(waiting["v2"])
    assert f"pwapply {waiting['v2']}" in r.stderr


def test_names_are_cut_to_the_terminal(cli, repo, pw, waiting):
    r = cli("list", "--server", pw.url, "--project", "qemu-devel", cwd=repo.path, env={"COLUMNS": "60"})
    assert all(len(line) <= 60 for line in r.stdout.splitlines())
    assert r.stdout.splitlines()[1].endswith("...")


@pytest.mark.parametrize(
    "minutes, shown",
    [
        (0, "0m"),
        (59, "59m"),
        (60, "1h"),
        (60 * 47, "1d"),
        (60 * 24 * 13, "13d"),
        (60 * 24 * 15, "2w"),
        (60 * 24 * 400, "1y"),
    ],
)
def test_age(minutes, shown):
    now = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
    assert age((now - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S"), now) == shown
    assert age("not a date", now) == "?"


# ------------------------------------------------------------------ the list's archive


def post(repo, mp, edits, when: str, **kw: Any) -> bytes:
    """A series as posted at ``when`` (its mails' Date)."""
    mp.setenv("GIT_AUTHOR_DATE", when)
    mp.setenv("GIT_COMMITTER_DATE", when)
    mbox: bytes = repo.series(edits, **kw)
    return mbox


def reply(to: str, subject: str, body: str, msgid: str, who: str = "Rev Iewer <rev@example.org>") -> bytes:
    return (
        f"From: {who}\nTo: qemu-devel@lists.example.org\nSubject: Re: {subject}\n"
        f"Date: Sun, 19 Nov 2023 10:00:00 +0000\nMessage-ID: <{msgid}>\nIn-Reply-To: <{to}>\nReferences: <{to}>\n\n"
        f"{body}\n"
    ).encode()


def subjects(mbox: bytes) -> List[Tuple[str, str]]:
    from pwapply import mbox as m

    return [(p.msgid, p.subject) for p in (m.parse(raw) for raw in m.split(mbox))]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """The list's archive, one for the tests of this module (they only read it): v1 and
    v2 of a series (each its own thread), reviewed; a single patch; a series with its
    patch 2/3 lost; a series posted a month before the others."""
    from conftest import IDENT, Repo
    from public_inbox import MISSING, WHY_SKIPPED, PublicInbox

    if MISSING:
        if os.environ.get("CI"):
            pytest.fail(WHY_SKIPPED)
        pytest.skip(WHY_SKIPPED)
    root = tmp_path_factory.mktemp("list-archive")
    mp = pytest.MonkeyPatch()
    (root / "home").mkdir()
    (root / "home" / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")
    for name in [n for n in os.environ if n.startswith(("PWAPPLY_", "GIT_"))]:
        mp.delenv(name)
    mp.setenv("HOME", str(root / "home"))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for key, value in IDENT.items():
        mp.setenv(key, value)
    inbox = None
    try:
        repo = Repo(root / "work")
        v1 = post(repo, mp, EDITS, "1699900000 +0000", tag="a")
        v2 = post(repo, mp, V2_EDITS, "1700100000 +0000", version=2, tag="a")
        fix = post(repo, mp, FIXES, "1700200000 +0000", cover=False)
        lost = post(repo, mp, DOCS + EDITS[:2], "1700300000 +0000", cover_subject="Lost one", tag="l")
        old = post(repo, mp, DOCS, "1697000000 +0000", cover=False, tag="old")
        (cover2, cover2_subject), (p1, p1_subject), (p2, p2_subject), *_ = subjects(v2)
        keep = [raw for raw, (_, subject) in zip(_split(lost), subjects(lost)) if " 2/3]" not in subject]
        inbox = PublicInbox(root / "archive")
        inbox.add(
            old,
            v1,
            v2,
            fix,
            b"".join(keep),
            reply(p1, p1_subject, "Reviewed-by: Rev Iewer <rev@example.org>", "r1@example.org"),
            reply(cover2, cover2_subject, "Tested-by: Tess Ter <tess@example.org>", "r2@example.org"),
            reply(p2, p2_subject, "Nacked-by: No Body <no@example.org>", "r3@example.org"),
        )
        inbox.serve()
        mails = {"v1": v1, "v2": v2, "fix": fix}
        ids = {
            "v1": subjects(v1)[0][0],
            "v2": cover2,
            "fix": subjects(fix)[0][0],
            "lost": subjects(lost)[0][0],
            "old": subjects(old)[0][0],
        }
        yield repo, inbox, ids, mails
    finally:
        if inbox is not None:
            inbox.close()
        mp.undo()


@pytest.fixture
def posted(archive, monkeypatch):
    """The module's archive, seen from 2023-11-20 (the default window counts from it)."""
    from pwapply.sources.archive import waiting as archive_waiting

    monkeypatch.setattr(archive_waiting, "today", lambda: datetime(2023, 11, 20, tzinfo=timezone.utc).date())
    repo, inbox, ids, mails = archive
    return {**ids, "repo": repo, "inbox": inbox, "mails": mails}


def _split(mbox: bytes) -> List[bytes]:
    from pwapply import mbox as m

    return m.split(mbox)


def archive_list(cli, posted, *args: str, server: str = "") -> Tuple[Any, List[Dict[str, Any]]]:
    where = ("--server", server, "--project", "qemu-devel") if server else ()
    r = cli("list", *where, "--archive", posted["inbox"].url, "--json", *args, cwd=posted["repo"].path)
    return r, json.loads(r.stdout)["series"] if r.exit_code == 0 else []


def test_an_archive_only_project(cli, posted):
    """No Patchwork: the archive's series of the last two weeks, versions folded, tags
    from the replies, no checks."""
    r, series = archive_list(cli, posted)
    assert r.exit_code == 0, r.stderr
    assert [s["ref"] for s in series] == [posted["lost"], posted["fix"], posted["v2"]]
    lost, fix, v2 = series
    assert (lost["received"], lost["total"], lost["incomplete"]) == (2, 3, True)
    assert (v2["version"], v2["earlier"], v2["folded"][0]["what"]) == (2, 1, posted["v1"])
    assert (v2["reviewed"], v2["patches"], v2["tested"], v2["nacked"]) == (1, 4, 4, ["No Body"])
    assert v2["series"] is None and v2["source"]["kind"] == "archive" and v2["check"] is None
    inbox = posted["inbox"]
    assert v2["web_url"] == f"{inbox.url}/{posted['v2']}/"
    human = cli("list", "--archive", inbox.url, cwd=posted["repo"].path)
    assert human.exit_code == 0, human.stderr
    assert human.stdout.splitlines()[1].split()[0] == posted["lost"]
    assert f"apply one with: pwapply {posted['lost']}" in human.stderr


def test_the_archive_window(cli, posted):
    r, series = archive_list(cli, posted, "--since", "2023-10-01")
    assert posted["old"] in [s["ref"] for s in series]
    r, series = archive_list(cli, posted, "--submitter", "author@example.org", "--search", "greet")
    assert r.exit_code == 0, r.stderr
    assert [s["ref"] for s in series] == []  # the docs series is older than the window
    r, series = archive_list(cli, posted, "--search", "file4")
    assert [s["ref"] for s in series] == [posted["fix"]]


def test_what_an_archive_has_not(cli, posted):
    for args in (("--mine",), ("--state", "accepted"), ("--all",)):
        r = cli("list", "--archive", posted["inbox"].url, *args, cwd=posted["repo"].path)
        assert r.exit_code == 2, (args, r.stderr)
        assert "the list's archive has no" in r.stderr and "hint:" in r.stderr and r.stdout == ""


def test_both_sources_at_once(cli, pw, posted):
    """Patchwork has v2 waiting and the single patch accepted; the archive has more.  One
    list: v2 once (Patchwork's), the single patch not at all (accepted there), the
    series Patchwork never saw marked as the archive's."""
    sid = pw.add_series("qemu-devel", posted["mails"]["v2"], date="2023-11-16T02:00:00", submitter=ME)
    fix = pw.add_series("qemu-devel", posted["mails"]["fix"], date="2023-11-17T06:00:00", submitter=ME)
    for p in pw.patch_ids(fix):
        pw.set_state(p, "accepted")
    pw.reset()
    r, series = archive_list(cli, posted, server=pw.url)
    assert r.exit_code == 0, r.stderr
    assert [(s["ref"], s["only_in"]) for s in series] == [(posted["lost"], "the archive"), (str(sid), None)]
    # The archive's series that would be shown were asked of Patchwork, one request each.
    asked = [q for q in pw.paths() if "msgid=" in q]
    assert len(asked) == 2 and any(quote(posted["fix"], safe="") in q for q in asked)
    human = cli(
        "list", "--server", pw.url, "--project", "qemu-devel", "--archive", posted["inbox"].url, cwd=posted["repo"].path
    )
    assert "archive only" in human.stdout


def test_both_sources_the_archive_down(cli, repo, pw, waiting):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/qemu-devel"
    r = cli("list", "--server", pw.url, "--project", "qemu-devel", "--archive", url, "--timeout", "5", cwd=repo.path)
    assert r.exit_code == 0, r.stderr
    assert str(waiting["v2"]) in r.stdout
    assert "could not ask the archive" in r.stderr
    r = cli("list", "--archive", url, "--timeout", "5", cwd=repo.path)
    assert r.exit_code == 4 and "the archive" in r.stderr and r.stdout == ""


def test_outside_a_repository(cli, tmp_path, pw, waiting):
    """No repository: the list, without what a repository would have."""
    (tmp_path / "elsewhere").mkdir()
    r = cli("list", "--server", pw.url, "--project", "qemu-devel", "--json", cwd=tmp_path / "elsewhere")
    assert r.exit_code == 0, r.stderr
    assert [s["here"] for s in json.loads(r.stdout)["series"]] == [None, None]


def test_a_state_the_server_does_not_have_is_said(cli, repo, pw, waiting):
    """A mistyped state finds nothing: the note says which states Patchwork has (a
    server may have more, so it is asked, never refused)."""
    r = cli("list", "--server", pw.url, "--project", "qemu-devel", "--state", "acepted", cwd=repo.path)
    assert r.exit_code == 0, r.stderr
    assert "no series in state acepted: Patchwork's own states are new, under-review, accepted" in r.stderr
    assert "nothing waiting that matches" in r.stderr
    r = cli("list", "--server", pw.url, "--project", "qemu-devel", "--state", "new", cwd=repo.path)
    assert "Patchwork's own states" not in r.stderr
