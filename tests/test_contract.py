"""Contract tests: the client against responses recorded from a real Patchwork 3.3
server (../shared/fixtures/patchwork-real), replayed byte for byte on loopback.  Skipped
where ../shared is absent; those files are reference data and stay out of the project."""

from __future__ import annotations

import json
import re
import socketserver
import threading
from typing import Dict, Iterator, List, Tuple
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from conftest import REAL, SHARED

from pwapply import mbox, trailers
from pwapply.sources.patchwork import models
from pwapply.sources.patchwork.client import PatchworkClient
from pwapply.errors import NetworkError, NotFoundError

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/fixtures/patchwork-real is absent")


def _key(path: str) -> Tuple[str, Tuple[Tuple[str, str], ...]]:
    parts = urlsplit(path)
    # per_page only sizes the pages of lists that fit in one here.
    query = [(k, unquote(v)) for k, v in parse_qsl(parts.query) if k != "per_page"]
    return unquote(parts.path), tuple(sorted(query))


Key = Tuple[str, Tuple[Tuple[str, str], ...]]


def recordings() -> Dict[Key, bytes]:
    table: Dict[Key, bytes] = {}
    for line in (REAL / "requests.tsv").read_text().splitlines():
        name, method, path = line.split("\t")[:3]
        if method == "GET" and "(token)" not in line:
            table.setdefault(_key(path), (REAL / "responses" / f"{name}.http").read_bytes())
    return table


class Replay:
    """Serves the recorded response for a request's path; /api/1.2/x falls back to the
    recording of /api/x (the same data in the latest shape, a superset of 1.2's)."""

    def __init__(self) -> None:
        self.table = recordings()
        self.seen: List[str] = []
        replay = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                request = self.rfile.readline().decode()
                while self.rfile.readline().strip():
                    pass
                path = request.split(" ")[1]
                replay.seen.append(path)
                self.wfile.write(replay.response(path))

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def has(self, path: str) -> bool:
        return _key(path) in self.table

    def response(self, path: str) -> bytes:
        key = _key(path)
        raw = self.table.get(key)
        if raw is None and key[0].startswith("/api/1.2/"):
            raw = self.table.get(("/api/" + key[0][len("/api/1.2/") :], key[1]))
        if raw is None and key[0].endswith("/comments/"):
            # Not recorded: Patchwork's answer for a mail nobody replied to.
            raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[]"
        if raw is None:
            raw = (REAL / "responses" / "err-api-9.9-series-1.http").read_bytes()
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = [h for h in head.split(b"\r\n") if not h.lower().startswith((b"connection", b"content-length"))]
        lines += [b"Content-Length: %d" % len(body), b"Connection: close"]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def served() -> Iterator[Replay]:
    """One replaying server for the module: it holds no state but what each test saw, and
    socketserver's shutdown waits up to half a second for its poll."""
    r = Replay()
    yield r
    r.close()


@pytest.fixture
def replay(served: Replay) -> Replay:
    served.seen.clear()
    return served


@pytest.fixture
def client(replay: Replay) -> Iterator[PatchworkClient]:
    with PatchworkClient(replay.url) as c:
        yield c


def body(name: str) -> bytes:
    return (REAL / "responses" / f"{name}.http").read_bytes().split(b"\r\n\r\n", 1)[1]


def test_series_json_of_the_real_server(client):
    s = client.series(17)
    assert (s.name, s.version, s.total, s.received_all, s.project) == (
        "migration/vfio: Fix a few issues on API misuse",
        2,
        6,
        True,
        "qemu-devel",
    )
    assert s.cover is not None and s.cover.id == 5 and s.cover.msgid == "20260428190347.1180412-1-peterx@redhat.com"
    assert [p.id for p in s.patches] == [25, 26, 27, 28, 29, 30]
    assert s.patches[0].web_url.endswith("/project/qemu-devel/patch/20260428190347.1180412-2-peterx@redhat.com/")


def test_fetch_series_17_costs_four_requests_in_two_round_trips(client, replay):
    got = client.fetch(17)
    comments = got.cover_comments()  # asked for as soon as the series named its cover
    assert "Based-on" not in got.cover_text()  # the cover letter's text, asked for beside its replies
    assert sorted(replay.seen) == sorted(
        ["/api/series/17/", "/series/17/mbox/", "/api/1.2/covers/5/comments/?per_page=100", "/api/1.2/covers/5/"]
    )
    alone = client.fetch(17, cover_text=False)  # --no-deps: three, as before
    assert alone.cover_comments() == comments and alone.cover_text() == ""
    assert len(replay.seen) == 4 + 3
    parsed = mbox.read(got.mbox, reorder=False)
    assert [p.number for p in parsed.patches] == [1, 2, 3, 4, 5, 6]
    assert [p.msgid for p in parsed.patches] == [p.msgid for p in got.series.patches]
    tags = [t for c in comments for t in trailers.tags_from_reply(c)]
    assert tags == [trailers.Trailer("Tested-by", "Cédric Le Goater <clg@redhat.com>")]
    # Reply tags are already in the patches: 6/6 carries the Acked-by.
    assert "Acked-by: Cédric Le Goater <clg@redhat.com>" in parsed.patches[5].raw.decode()


def test_incomplete_series(client):
    s = client.series(16)
    assert (s.received_all, s.received_total, s.total) == (False, 2, 3)


def test_null_series_name(client):
    assert client.series(6).name is None


def test_msgid_lookup_of_a_patch_and_of_a_cover(client):
    assert client.series_of_msgid("20260428190347.1180412-3-peterx@redhat.com", "qemu-devel", False) == (17, None)
    assert client.series_of_msgid("20260428190347.1180412-1-peterx@redhat.com", None, True) == (17, 5)


def test_unknown_series_is_not_found(client):
    with pytest.raises(NotFoundError):
        client.series(999999)


def test_api_1_1_ignores_the_msgid_filter():
    items = json.loads(body("api-1.1-patches-by-msgid-IGNORED"))
    assert len(items) > 1  # what an old server does; series_of_msgid refuses to trust it
    assert sum(1 for i in items if i["msgid"] == "<20260428190347.1180412-3-peterx@redhat.com>") <= 1


def test_every_recorded_series_parses():
    for f in sorted((REAL / "responses").glob("api-series-[0-9]*.http")):
        if not f.read_bytes().startswith(b"HTTP/1.1 200"):
            continue
        s = models.series(json.loads(body(f.stem)))
        assert s.id > 0 and s.version >= 1


def test_every_recorded_series_mbox_reads():
    for f in sorted((REAL / "responses").glob("web-series-*-mbox.http")):
        if "no-slash" in f.name:
            continue
        parsed = mbox.read(body(f.stem), reorder=False)
        if f.name == "web-series-8-mbox.http":  # a pull request: no diff
            assert parsed.patches == ()
        else:
            assert parsed.patches, f.name


def test_production_ozlabs_series():
    path = SHARED / "fixtures" / "ozlabs-series-500889.txt"
    text = path.read_text()
    s = models.series(json.loads(text[text.index("{") :]))
    assert (s.id, s.version, s.total, len(s.patches)) == (500889, 2, 16, 16)
    assert s.cover is not None and s.cover.msgid == "20260421202110.306051-1-peterx@redhat.com"
    from pwapply.sources.patchwork.series import https_like

    url = https_like(s.patches[0].web_url, "https://patchwork.ozlabs.org")
    assert url == "https://patchwork.ozlabs.org/project/qemu-devel/patch/20260421202110.306051-2-peterx@redhat.com/"


def test_html_404_for_api_is_a_server_error(replay):
    with PatchworkClient(replay.url) as c:
        c.api = c.server + "/api/9.9"
        with pytest.raises(NetworkError):
            c.cover_content(5)


# ---------------------------------------------------------------- recorded odd mail, applied


def _preimage(repo_path, mbox_bytes: bytes) -> None:
    """Files on which the recorded patches apply: made from each file's first diff as
    git itself reads it (git mailinfo decodes the mail), its hunks' old lines placed at
    their line numbers.  A mode-only change gets a file of the old mode."""
    import re
    import subprocess
    import tempfile

    from conftest import git

    seen = set()
    with tempfile.TemporaryDirectory() as tmp:
        for n, raw in enumerate(mbox.split(mbox_bytes)):
            msg, patch = f"{tmp}/msg{n}", f"{tmp}/patch{n}"
            # (named charsets: mailinfo stops at unknown-8bit, and only the diff matters here)
            fixed = mbox.known_charsets(raw)
            subprocess.run(["git", "mailinfo", msg, patch], input=fixed, capture_output=True, check=True)
            text = open(patch, encoding="utf-8", errors="surrogateescape").read()
            for section in re.split(r"^(?=diff --git )", text, flags=re.M)[1:]:
                m = re.match(r"diff --git (?:a/)?(\S+) ", section)
                if not m or m.group(1) in seen or "\nnew file mode" in section:
                    continue
                seen.add(m.group(1))
                lines, cursor = [], 1
                body = section.splitlines(keepends=True)
                for i, head in enumerate(body):
                    h = re.match(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@", head)
                    if not h:
                        continue
                    start, old_left = int(h.group(1)), int(h.group(2) or 1)
                    new_left = int(h.group(3) or 1)
                    while cursor < start:
                        lines.append(f"filler line {cursor}\n")
                        cursor += 1
                    kind = ""
                    for line in body[i + 1 :]:
                        if line.startswith("\\"):  # no newline at the end of the line before
                            if kind in (" ", "-"):
                                lines[-1] = lines[-1].rstrip("\n")
                            continue
                        if old_left <= 0 and new_left <= 0:
                            break
                        kind = line[:1] if line.strip("\r\n") else " "  # a mailer ate the space
                        if kind in " -":
                            lines.append(line[1:] if line.strip("\r\n") else line)
                            old_left -= 1
                            cursor += 1
                        if kind in " +":
                            new_left -= 1
                path = repo_path / m.group(1)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("".join(lines) or "placeholder\n", encoding="utf-8", errors="surrogateescape")
                old_mode = re.search(r"^old mode 100(\d+)", section, re.M)
                if old_mode:
                    path.chmod(int(old_mode.group(1), 8))
    git(repo_path, "add", "-A")
    git(repo_path, "commit", "-q", "--allow-empty", "-m", "Preimage of the recorded series")


@pytest.mark.parametrize(
    "sid,what,applies,plain_args",
    [
        (1, "a cover letter and two patches", True, []),
        (9, 'charset="none" in a multipart body', True, []),
        (11, "multipart/alternative: the HTML part is dropped", True, []),
        (12, "a mode change only", True, []),
        (15, "QEMU single patch, UTF-8 name", True, []),
        (19, "patches delivered out of order", True, []),
        # Made with diff.noprefix: plain git am needs -p0, which pwapply gives it.
        (13, "a GIT binary patch without a/ b/ prefixes", True, ["-p0"]),
        # Later patches change lines of a file the preimage has only as filler (made
        # from the file's first diff), so git am stops there: both must refuse.
        (3, "no cover letter; a later patch on lines the preimage lacks", False, []),
        (17, "QEMU v2 of 6; a later patch on lines the preimage lacks", False, []),
    ],
)
def test_recorded_series_applies_as_plain_git_am(replay, cli, tmp_path, sid, what, applies, plain_args):
    """The recorded mbox, served by the replay, applied by pwapply and by plain
    `git am -3` on the same preimage: same tree, authors and subjects, or both refuse
    (pwapply in one line, the repository as it was)."""
    import subprocess

    from conftest import Repo, git

    served = body(f"web-series-{sid}-mbox")
    repo = Repo(tmp_path / "repo")
    _preimage(repo.path, served)
    plain = tmp_path / "plain"
    git(tmp_path, "clone", "-q", str(repo.path), str(plain))
    (tmp_path / "served.mbox").write_bytes(served)
    am = subprocess.run(["git", "am", "-3", *plain_args, str(tmp_path / "served.mbox")], cwd=plain, capture_output=True)
    count = len(mbox.split(served))

    def outcome(path, rev):
        tree = git(path, "rev-parse", f"{rev}^{{tree}}").strip()
        return tree, git(path, "log", f"-{count}", "--reverse", "--format=%an <%ae>|%s", rev).splitlines()

    before = repo.state()
    # The recordings were made before pwapply read cover letters for Based-on: lines;
    # where a series' cover letter was not recorded, the series is applied alone.
    cover = re.search(rb'"cover_letter":\{"id":(\d+)', replay.response(f"/api/series/{sid}/"))
    alone = ["--no-deps"] if cover and not replay.has(f"/api/covers/{int(cover.group(1))}/") else []
    result = cli(str(sid), "--server", replay.url, "-b", "recorded", "-q", *alone, cwd=repo.path)
    assert (am.returncode == 0) == applies, am.stderr
    if am.returncode == 0:
        assert result.exit_code == 0, (what, result.output)
        assert outcome(repo.path, "recorded") == outcome(plain, "HEAD"), what
    else:
        assert result.exit_code != 0, (what, am.stderr)
        assert result.stderr.startswith("error: ") and "\nhint: " in result.stderr, result.stderr
        assert repo.state() == before


def test_recorded_unknown_8bit_header_words_are_read_as_utf8(replay, cli, tmp_path):
    """Patchwork served series 10's raw 8-bit From and Subject as =?unknown-8bit?...?=
    words: plain git am stops ("cannot convert from unknown-8bit to UTF-8"); pwapply
    reads their bytes for what they are."""
    import subprocess

    from conftest import Repo, git

    served = body("web-series-10-mbox")
    repo = Repo(tmp_path / "repo")
    _preimage(repo.path, served)
    (tmp_path / "served.mbox").write_bytes(served)
    plain = subprocess.run(["git", "am", "-3", str(tmp_path / "served.mbox")], cwd=repo.path, capture_output=True)
    assert plain.returncode != 0 and b"unknown-8bit" in plain.stderr
    git(repo.path, "am", "--abort")
    result = cli("10", "--server", replay.url, "-b", "recorded", "-q", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert repo.git("log", "-1", "--format=%an <%ae>|%s", "recorded").strip() == (
        "Rafa\u0142 Mi\u0142ecki <zajec5@gmail.com>|MAINTAINERS: Update entry for BCM5301X ARM to include "
        "Rafa\u0142 Mi\u0142ecki"
    )


def test_recorded_pull_request_is_refused(replay, cli, tmp_path):
    from conftest import Repo

    repo = Repo(tmp_path / "repo")
    before = repo.state()
    result = cli("8", "--server", replay.url, cwd=repo.path)
    assert result.exit_code == 2 and "a pull request" in result.stderr, result.output
    assert repo.state() == before


def test_recorded_incomplete_series_without_a_name(replay, cli, tmp_path):
    from conftest import Repo

    repo = Repo(tmp_path / "repo")
    _preimage(repo.path, body("web-series-6-mbox"))
    result = cli("6", "--server", replay.url, cwd=repo.path)
    assert result.exit_code == 2 and "incomplete" in result.stderr, result.output
    result = cli("6", "--server", replay.url, "--allow-incomplete", "-q", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert repo.git("branch", "--list", "--format=%(refname:short)", "pw/*").split() == [
        "pw/test-convert-to-markdown-v2"
    ]


# ---------------------------------------------------------------- dependencies (series 18)

V2_COVER = "20260428190347.1180412-1-peterx@redhat.com"


def test_the_dependencies_field_of_api_1_4_and_its_absence_before():
    assert models.series(json.loads(body("api-series-18"))).dependencies == (17,)
    assert models.series(json.loads(body("api-1.3-series-18"))).dependencies == ()
    assert models.series(json.loads(body("api-series-17"))).dependencies == ()


def test_the_depends_on_line_below_the_dashes_of_the_recorded_patch():
    from pwapply import deps

    (patch,) = mbox.read(body("web-series-18-mbox")).patches
    found = deps.find(patch.raw.decode(), "patch 1/1 of series 18", "http://127.0.0.1:8000")
    assert [(p.ref.kind, p.ref.value, p.line) for p in found.prereqs] == [
        ("msgid", V2_COVER, f"Depends-on: <{V2_COVER}>")
    ]
    message = patch.raw.decode().split("\n---\n", 1)[0]
    assert "Depends-on" not in message  # below the dashes: no part of the commit


def test_the_chain_of_series_18_on_the_recorded_server(client, replay):
    from pwapply import deps
    from pwapply.sources.patchwork.chain import follow
    from pwapply.sources.patchwork.series import from_server, prerequisites
    from pwapply.ui import UI

    got = client.fetch(18)
    found = prerequisites(got, client.server, got.cover_text())
    # The line names the v2 cover letter; the server names series 17 itself.
    assert [p.ref.value for p in found.prereqs] == [V2_COVER, "17"]
    root = from_server(got, client.server)
    nodes, _, _ = follow(client, root, found, None, UI())
    order = deps.order(root.key, {n.series.key: n.needs for n in nodes}, {})
    assert [k.what for k in order] == ["17", "18"]
    base = next(n for n in nodes if n.series.key.what == "17")
    assert base.named is not None and base.named.line == f"Depends-on: <{V2_COVER}>"
    assert replay.seen.count("/series/17/mbox/") == 1  # named twice, fetched once


def test_the_fake_server_reads_dependencies_as_the_real_one_did():
    """Fed the mails the real server was fed, the fake lists the same dependencies in
    the same place, in API 1.4 only."""
    from pwapply.testing import FakePatchwork

    qemu = REAL / "mbox" / "qemu"
    real = json.loads(body("api-series-18"))
    with FakePatchwork() as pw:
        pw.add_project("qemu-devel", show_dependencies=True)
        v2 = pw.add_series("qemu-devel", (qemu / "qemu-v2-series.mbox").read_bytes())
        dep = pw.add_series("qemu-devel", (qemu / "qemu-dependent-patch.mbox").read_bytes())
        fake = pw.series_json(dep, "", "1.4")
        assert [u.rsplit("/", 2)[-2] for u in fake["dependencies"]] == [str(v2)]
        assert [u.rsplit("/", 2)[-2] for u in real["dependencies"]] == ["17"]
        assert {k for k in real if k.startswith("depend")} == {k for k in fake if k.startswith("depend")}
        assert "dependencies" not in pw.series_json(dep, "1.3/", "1.3")
