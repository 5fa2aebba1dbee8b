"""The Patchwork package on its own: JSON into typed values (models.py), the one client
factory and where the token goes (client.py), the transport's small rules
(transport.py).  The requests themselves are tested end to end against the fake server
(test_apply_flow, test_faults) and the recorded real one (test_contract)."""

from __future__ import annotations

import pytest

from pwapply.errors import NetworkError, NotFoundError
from pwapply.net.transport import _retry_after, is_loopback
from pwapply.sources.connection import Connection
from pwapply.sources.patchwork import models
from pwapply.sources.patchwork.client import PatchworkClient, _next_link

SERIES = {
    "id": 7,
    "name": "Fix things",
    "version": 2,
    "total": 2,
    "received_total": 2,
    "received_all": True,
    "project": {"link_name": "qemu-devel"},
    "submitter": {"id": 8, "name": "A U Thor", "email": "a@example.org"},
    "web_url": "https://pw.example.org/project/qemu-devel/list/?series=7",
    "date": "2026-04-28T19:03:47",
    "cover_letter": {"id": 3, "msgid": "<cover.1@x>", "name": "[v2,0/2] Fix things", "web_url": "w"},
    "patches": [
        {"id": 11, "msgid": "<p1@x>", "name": "[v2,1/2] a", "web_url": "u1"},
        {"id": 12, "msgid": "<p2@x>", "name": "[v2,2/2] b", "web_url": "u2"},
    ],
}


def test_series_json_becomes_a_series_with_one_kind_of_mail_ref():
    s = models.series(SERIES)
    assert (s.id, s.name, s.version, s.project, s.submitter_id) == (7, "Fix things", 2, "qemu-devel", 8)
    assert s.cover == models.MailRef(3, "cover.1@x", "[v2,0/2] Fix things", "w")
    assert [p.msgid for p in s.patches] == ["p1@x", "p2@x"]
    assert all(isinstance(p, models.MailRef) for p in s.patches)


def test_odd_series_json_is_read_with_defaults_or_refused():
    s = models.series({"id": 1, "name": None, "patches": [], "cover_letter": None, "submitter": {"id": True}})
    assert (s.name, s.version, s.total, s.cover, s.submitter_id) == (None, 1, 0, None, None)
    with pytest.raises(NetworkError, match="not shaped like Patchwork's"):
        models.series({"name": "no id"})
    with pytest.raises(NetworkError):
        models.series(["a", "list"])


def test_patch_state_and_first_series():
    state = models.patch_state({"id": 5, "msgid": "<m@x>", "state": "accepted", "check": "fail", "web_url": 3})
    assert state == models.PatchState(5, "m@x", "accepted", "fail", "")
    assert models.first_series({"series": [{"id": 9}, {"id": 10}]}, "patch 1") == 9
    with pytest.raises(NotFoundError, match="patch 1 belongs to no series"):
        models.first_series({"series": []}, "patch 1")


def test_the_token_goes_only_to_the_configured_server():
    conn = Connection(token="t0k", token_server="https://pw.example.org")
    mine = conn.client("https://pw.example.org/")
    other = conn.client("https://elsewhere.example.org")
    try:
        assert mine.sends_token and mine._http.headers.get("authorization") == "Token t0k"
        assert not other.sends_token and "authorization" not in other._http.headers
    finally:
        mine.close()
        other.close()


def test_the_connection_gives_every_client_its_timeout_and_limits():
    with Connection(timeout=7.5, max_mbox=1024).client("http://127.0.0.1:9") as client:
        assert (client.timeout, client.max_size, client.api) == (7.5, 1024, "http://127.0.0.1:9/api/1.2")


def test_token_is_not_sent_over_plain_http_to_another_host():
    client = PatchworkClient("http://patchwork.example.org", token="t0k")
    assert not client.sends_token
    assert "authorization" not in {k.lower() for k in client._http.headers}
    assert PatchworkClient("https://patchwork.example.org", token="t0k").sends_token
    assert PatchworkClient("http://127.0.0.1:8000", token="t0k").sends_token  # this machine


@pytest.mark.parametrize(
    "host,loopback",
    [("localhost", True), ("a.localhost", True), ("127.0.0.2", True), ("[::1]", True), ("example.org", False)],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_pagination_and_retry_rules():
    header = '<https://x/api/series/?page=2>; rel="next", <https://x/api/series/?page=9>; rel="last"'
    assert _next_link(header) == "https://x/api/series/?page=2"
    assert _next_link('<https://x/?page=1>; rel="prev"') is None
    assert _retry_after("3", 1) == 3.0
    assert _retry_after("3600", 1) == 10.0  # bounded
    assert [_retry_after(None, n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
