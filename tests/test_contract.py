"""Contract tests: the client against responses recorded from a real Patchwork 3.3
server (../shared/fixtures/patchwork-real), replayed byte for byte on loopback.  Skipped
where ../shared is absent; those files are reference data and stay out of the project."""

from __future__ import annotations

import json
import socketserver
import threading
from typing import Dict, Iterator, Tuple
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from conftest import REAL, SHARED

from pwapply import mbox, patchwork, trailers
from pwapply.errors import NetworkError, NotFoundError

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/fixtures/patchwork-real is absent")


def _key(path: str) -> Tuple[str, Tuple[Tuple[str, str], ...]]:
    parts = urlsplit(path)
    # per_page only sizes the pages of lists that fit in one here.
    query = [(k, unquote(v)) for k, v in parse_qsl(parts.query) if k != "per_page"]
    return unquote(parts.path), tuple(sorted(query))


def recordings() -> Dict[Tuple[str, tuple], bytes]:
    table: Dict[Tuple[str, tuple], bytes] = {}
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
        self.seen: list = []
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

    def response(self, path: str) -> bytes:
        key = _key(path)
        raw = self.table.get(key)
        if raw is None and key[0].startswith("/api/1.2/"):
            raw = self.table.get(("/api/" + key[0][len("/api/1.2/") :], key[1]))
        if raw is None:
            raw = (REAL / "responses" / "err-api-9.9-series-1.http").read_bytes()
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = [h for h in head.split(b"\r\n") if not h.lower().startswith((b"connection", b"content-length"))]
        lines += [b"Content-Length: %d" % len(body), b"Connection: close"]
        return b"\r\n".join(lines) + b"\r\n\r\n" + body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def replay() -> Iterator[Replay]:
    r = Replay()
    yield r
    r.close()


@pytest.fixture
def client(replay: Replay) -> Iterator[patchwork.PatchworkClient]:
    with patchwork.PatchworkClient(replay.url) as c:
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


def test_fetch_series_17_costs_three_requests(client, replay):
    got = client.fetch(17)
    comments = got.cover_comments()  # asked for as soon as the series named its cover
    assert len(replay.seen) == 3
    parsed = mbox.read(got.mbox, reorder=False)
    assert [p.number for p in parsed.patches] == [1, 2, 3, 4, 5, 6]
    assert [p.msgid for p in parsed.patches] == [p.msgid for p in got.series.patches]
    assert all(p.paths for p in parsed.patches)
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
        s = patchwork._series(json.loads(body(f.stem)))
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
    s = patchwork._series(json.loads(text[text.index("{") :]))
    assert (s.id, s.version, s.total, len(s.patches)) == (500889, 2, 16, 16)
    assert s.cover is not None and s.cover.msgid == "20260421202110.306051-1-peterx@redhat.com"
    from pwapply.apply import _https_like

    url = _https_like(s.patches[0].web_url, "https://patchwork.ozlabs.org")
    assert url == "https://patchwork.ozlabs.org/project/qemu-devel/patch/20260421202110.306051-2-peterx@redhat.com/"


def test_html_404_for_api_is_a_server_error(replay):
    with patchwork.PatchworkClient(replay.url) as c:
        c.api = c.server + "/api/9.9"
        with pytest.raises(NetworkError):
            c.series(1)
