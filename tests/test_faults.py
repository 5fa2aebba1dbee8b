"""Faulty servers and interruptions: each ends with the documented exit code and a
one-line error, and the repository as it was (same refs, index, work tree; no am
session, scratch worktree, temporary file or branch left behind)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time

import pytest

from conftest import EDITS, msgids, start_pwapply
from test_errors import check


@pytest.fixture
def sid(repo, pw):
    return pw.add_series("qemu-devel", repo.series(EDITS, version=2))


# ---------------------------------------------------------------- handlers for pw.fault


def hang_up_midway(handler, headers, partial):
    """Send a 200 with these headers and the start of a body, then hang up."""
    handler.send_response(200)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(partial)
    handler.wfile.flush()
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)
    return True


def short_body(handler):
    """Promise 4000 bytes, send 100, hang up."""
    headers = {"Content-Type": "application/json", "Content-Length": "4000"}
    return hang_up_midway(handler, headers, b'{"id": 1, "name": "' + b"x" * 81)


def cut_chunked(handler):
    """A chunked body that stops in the middle of a chunk."""
    headers = {"Content-Type": "text/plain", "Transfer-Encoding": "chunked"}
    return hang_up_midway(handler, headers, b"400\r\nFrom nobody Mon Sep 17 00:00:00 2001\n")


def trickle(handler):
    """Answer at once, then one byte every 0.1 s for a minute: never a read timeout."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "600")
    handler.end_headers()
    handler.wfile.flush()
    for _ in range(600):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(0.1)
    return True


def redirect_to(location, status=301):
    def handler(h):
        h.send_response(status)
        h.send_header("Location", location(h.path) if callable(location) else location)
        h.send_header("Content-Length", "0")
        h.end_headers()
        return True

    return handler


# ---------------------------------------------------------------- faulty servers


def test_dns_failure_exits_4(repo, cli, mocker):
    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    mocker.patch("socket.getaddrinfo", no_such_name)
    before = repo.state()
    result = cli("1", "--server", "https://patchwork.example.invalid", cwd=repo.path)
    check(result, 4, "cannot find the server patchwork.example.invalid")
    assert "DNS" in result.stderr
    assert repo.state() == before


@pytest.mark.parametrize("path", [r"^/api/series/\d+/$", r"^/series/\d+/mbox/$"])
def test_body_shorter_than_its_content_length_exits_4(repo, pw, cli, sid, path):
    pw.fault(path, handler=short_body)
    before = repo.state()
    check(cli(str(sid), "--server", pw.url, cwd=repo.path), 4, "connection to 127.0.0.1 broke")
    assert repo.state() == before


def test_connection_closed_mid_body_exits_4(repo, pw, cli, sid):
    pw.fault(r"^/series/\d+/mbox/$", handler=cut_chunked)
    before = repo.state()
    check(cli(str(sid), "--server", pw.url, cwd=repo.path), 4, "connection to 127.0.0.1 broke")
    assert repo.state() == before


def test_timeout_bounds_the_whole_download_not_each_read(repo, pw, cli, sid):
    # A byte every 0.1 s never trips a 1 s read timeout; the body would take a minute.
    pw.fault(r"^/api/series/\d+/$", handler=trickle)
    before = repo.state()
    result = cli(str(sid), "--server", pw.url, "--timeout", "1", cwd=repo.path)
    check(result, 4, "did not finish sending series")
    assert "--timeout" in result.stderr
    assert repo.state() == before


def test_timeout_bounds_all_requests_together(repo, pw, cli):
    # A Message-ID costs sequential requests; each one 0.6 s is within a per-request
    # timeout of 1 s, not within 1 s for them all.
    mbox = repo.series(EDITS, version=2)
    pw.add_series("qemu-devel", mbox)
    pw.delay = 0.6
    before = repo.state()
    result = cli(msgids(mbox)[2], "--server", pw.url, "--project", "qemu-devel", "--timeout", "1", cwd=repo.path)
    check(result, 4, "did not answer within 1 s")
    assert repo.state() == before


def test_server_that_never_answers_exits_4(repo, cli):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts (the kernel does) and never says a word
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        before = repo.state()
        check(cli("1", "--server", url, "--timeout", "0.5", cwd=repo.path), 4, "did not answer within 0.5 s")
        assert repo.state() == before
    finally:
        listener.close()


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(repo, pw, cli, sid, mocker, status):
    sleeps = mocker.patch("pwapply.net.transport.time.sleep")
    pw.fault(r"^/api/series/", status=status, times=1, headers={"Retry-After": "2"})
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert [c.args[0] for c in sleeps.call_args_list] == [2.0]


def test_retry_after_is_bounded(repo, pw, cli, sid, mocker):
    sleeps = mocker.patch("pwapply.net.transport.time.sleep")
    pw.fault(r"^/api/series/", status=503, times=1, headers={"Retry-After": "3600"})
    assert cli(str(sid), "--server", pw.url, cwd=repo.path).exit_code == 0
    assert [c.args[0] for c in sleeps.call_args_list] == [10.0]


def test_relative_redirect_is_followed(repo, pw, cli, sid):
    pw.fault(r"^/api/series/\d+/$", handler=redirect_to(lambda path: path + "?moved=1", 308), times=1)
    result = cli(str(sid), "--server", pw.url, "-q", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert f"/api/series/{sid}/?moved=1" in pw.paths()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_redirect_to_another_port_of_the_same_host_is_another_server(repo, pw, cli, tls_pw, scheme):
    """http://127.0.0.1:P answers 302 to 127.0.0.1:Q: another origin (as for browsers and
    requests' should_strip_auth), refused like another host; Q never hears of the token."""
    secure, ca_file = tls_pw
    from pwapply.testing import FakePatchwork

    with FakePatchwork() as other:
        target = secure if scheme == "https" else other
        sid = target.add_series("qemu-devel", repo.series(EDITS, version=2))
        pw.fault(".", handler=redirect_to(lambda path: target.url + path, 302))
        before = repo.state()
        result = cli(
            str(sid), "--server", pw.url, "--ca-bundle", str(ca_file), cwd=repo.path, env={"PWAPPLY_TOKEN": "t0k"}
        )
        check(result, 4, f"redirected series {sid} to another server ({target.url}")
        assert target.count() == 0 and other.count() == 0 and secure.count() == 0
        assert "t0k" not in result.stdout + result.stderr
        assert repo.state() == before


@pytest.mark.parametrize(
    "old,new,followed",
    [
        ("http://pw.example.org/api/", "https://pw.example.org/api/", True),  # the move to https
        ("http://pw.example.org:80/api/", "https://pw.example.org:443/api/", True),
        ("https://pw.example.org/a", "https://PW.example.org:443/b", True),
        ("http://127.0.0.1:8000/a", "http://127.0.0.1:8000/b", True),
        ("http://127.0.0.1:8000/a", "http://127.0.0.1:8001/a", False),  # another port: another server
        ("http://127.0.0.1:8000/a", "https://127.0.0.1:8443/a", False),
        ("http://pw.example.org/a", "https://pw.example.org:8443/a", False),
        ("https://pw.example.org/a", "https://pw.example.org:8443/a", False),
        ("https://pw.example.org/a", "https://evil.example.org/a", False),
        ("https://pw.example.org/a", "ftp://pw.example.org/a", False),
    ],
)
def test_which_redirects_stay_with_the_server(old, new, followed):
    from urllib.parse import urlsplit

    from pwapply.net.transport import follows

    assert follows(urlsplit(old), urlsplit(new)) is followed


def test_redirect_to_another_host_is_refused_and_gets_no_token(repo, pw, cli, sid):
    from pwapply.testing import FakePatchwork

    with FakePatchwork(host="127.0.0.2") as elsewhere:
        pw.fault(".", handler=redirect_to(lambda path: elsewhere.url + path, 302))
        before = repo.state()
        result = cli(str(sid), "--server", pw.url, cwd=repo.path, env={"PWAPPLY_TOKEN": "t0k"})
        check(result, 4, f"redirected series {sid} to another server (http://127.0.0.2")
        assert "--server http://127.0.0.2" in result.stderr
        assert elsewhere.count() == 0
        assert "t0k" not in result.stdout + result.stderr
        assert repo.state() == before


def test_https_server_certificate_is_checked_by_the_preloaded_context(repo, cli, tls_pw, monkeypatch):
    """The TLS context made while git checks the repository is httpx's default one: it
    refuses an unknown CA, and trusts what SSL_CERT_FILE names, as httpx itself does."""
    secure, ca_file = tls_pw
    sid = secure.add_series("qemu-devel", repo.series(EDITS, version=2))
    before = repo.state()
    check(cli(str(sid), "--server", secure.url, cwd=repo.path), 4, "TLS certificate of 127.0.0.1 is not trusted")
    assert repo.state() == before
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    result = cli(str(sid), "--server", secure.url, "-q", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert secure.count(f"/series/{sid}/mbox/") == 1


def test_redirect_from_https_to_http_is_refused(repo, cli, tls_pw, pw):
    secure, ca_file = tls_pw
    secure.fault(".", handler=redirect_to(lambda path: secure.url.replace("https:", "http:") + path))
    result = cli("1", "--server", secure.url, "--ca-bundle", str(ca_file), cwd=repo.path)
    check(result, 4, "from https to plain http")


def test_redirect_loop_exits_4(repo, pw, cli, sid):
    pw.fault(".", handler=redirect_to(lambda path: path))
    check(cli(str(sid), "--server", pw.url, cwd=repo.path), 4, "too many redirects")
    assert pw.count() <= 2 * 6  # the series and its mbox, each 1 + 5 redirects


# ---------------------------------------------------------------- interruptions


HOOK = """#!/bin/sh
# Stands in for a slow step of git am: says it is running, then waits to be released.
touch "{marker}"
while [ ! -e "{release}" ]; do sleep 0.05; done
"""


def wait_for(cond, what):
    deadline = time.monotonic() + 20
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what}")
        time.sleep(0.02)


def interrupt(proc, how):
    if how == "ctrl-c":  # a terminal's Ctrl-C reaches the whole foreground group
        os.killpg(proc.pid, signal.SIGINT)
    elif how == "hang-up":  # the terminal closed: SIGHUP to the whole group
        os.killpg(proc.pid, signal.SIGHUP)
    else:  # kill(1), a service manager: pwapply alone
        os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    return proc.returncode, err


def test_signals_held_until_the_block_ends():
    from pwapply.process import hold

    reached = []
    with pytest.raises(KeyboardInterrupt):
        with hold():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            reached.append("end of block")
    assert reached == ["end of block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


FSMONITOR = """#!/bin/sh
# A slow file-system monitor: holds up the git command that asks it (git status).
echo "$PPID" >> "{pids}"
touch "{marker}"
while [ ! -e "{release}" ]; do sleep 0.05; done
exit 1
"""


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_tree_check_leaves_nothing(repo, pw, sid, how, tmp_path):
    """Interrupted while git status looks at the work tree (and the scratch is being
    made beside it): exit 130, no request, no git process left running."""
    marker, release, pids = tmp_path / "status-running", tmp_path / "release", tmp_path / "pids"
    hook = tmp_path / "fsmonitor"
    hook.write_text(FSMONITOR.format(pids=pids, marker=marker, release=release))
    hook.chmod(0o755)
    repo.git("config", "core.fsmonitor", str(hook))
    release.touch()  # the snapshot's own git status must not wait
    before = repo.state()
    for path in (release, marker, pids):
        path.unlink()
    try:
        proc = start_pwapply(repo, str(sid), "--server", pw.url)
        wait_for(marker.exists, "git status running")
        code, err = interrupt(proc, how)
        # A hook whose git was already gone names its new parent, init: not ours.
        waiting = [int(p) for p in pids.read_text().split() if int(p) > 1]
    finally:
        release.touch()
    assert code == 130, err
    assert "Traceback" not in err
    assert pw.count() == 0
    for pid in waiting:  # the git commands that asked the monitor are gone (or zombies)
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        assert state == "Z", f"git process {pid} still runs"
    assert repo.state() == before


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "hang-up"])
def test_interrupted_download_leaves_nothing(repo, pw, sid, how):
    # The answer would come after a minute: pwapply must not wait for it (communicate's
    # 20 s timeout would fail the test).
    pw.fault(r"^/series/\d+/mbox/$", status=200, delay=60.0, times=1)
    before = repo.state()
    proc = start_pwapply(repo, str(sid), "--server", pw.url)
    wait_for(lambda: pw.count("/mbox/") > 0, "the mbox request")
    code, err = interrupt(proc, how)
    assert code == 130, err
    assert "Traceback" not in err
    assert repo.state() == before


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "hang-up"])
def test_interrupted_git_am_leaves_nothing(repo, pw, sid, how, tmp_path):
    marker, release = tmp_path / "am-running", tmp_path / "release"
    hook = repo.path / ".git" / "hooks" / "applypatch-msg"
    hook.write_text(HOOK.format(marker=marker, release=release))
    hook.chmod(0o755)
    before = repo.state()
    try:
        proc = start_pwapply(repo, str(sid), "--server", pw.url)
        wait_for(marker.exists, "git am running")
        code, err = interrupt(proc, how)
    finally:
        release.touch()  # lets a hook that outlived its git am finish
    assert code == 130, err
    assert "Traceback" not in err
    assert repo.state() == before


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_trailer_rewrite_leaves_nothing(repo, pw, cli, sid, how, mocker):
    from pwapply import trailers

    real_add = trailers.add
    calls = []

    def add(message, new):
        calls.append(message)
        if len(calls) == 2:  # the rewrite is half done: one commit has its trailers
            if how == "ctrl-c":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGTERM)
        return real_add(message, new)

    mocker.patch("pwapply.trailers.add", add)
    before = repo.state()
    previous = signal.getsignal(signal.SIGTERM)
    try:
        result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.exit_code == 130, result.output
    assert len(calls) == 2
    assert repo.state() == before


# ---------------------------------------------------------------- hostile server values


def test_long_dashed_series_name_makes_a_safe_branch(repo, pw, cli):
    sid = pw.add_series("qemu-devel", repo.series(EDITS[:1]), name="-" + "--x.." * 2000 + ".lock")
    result = cli(str(sid), "--server", pw.url, "-q", cwd=repo.path)
    assert result.exit_code == 0, result.output
    branch = repo.git("symbolic-ref", "--short", "HEAD").strip()
    assert not branch.startswith("-") and ".." not in branch and len(branch) < 100
    assert repo.git("check-ref-format", "--branch", branch).strip() == branch


@pytest.mark.parametrize(
    "msgid,linked",
    [
        ("-..--x@example.org", True),  # odd but valid: linked, on one line
        ("evil\x1b[31m\x07..\x00-id@example.org", False),  # not a Message-ID: no Link
        ("a" * 10000 + "@example.org", False),  # longer than any real one: no Link
    ],
)
def test_odd_message_ids_cannot_add_lines_to_the_commit(repo, pw, cli, msgid, linked):
    mbox = repo.series(EDITS[:1], cover=False)
    mbox = re.sub(rb"^Message-ID: <[^>]+>", f"Message-ID: <{msgid}>".encode(), mbox, flags=re.M | re.I)
    sid = pw.add_series("qemu-devel", mbox)
    result = cli(str(sid), "--server", pw.url, cwd=repo.path)
    assert result.exit_code == 0, result.output
    msg = repo.git("log", "-1", "--format=%B")
    assert msg.splitlines()[:3] == ["file1: Fix line 3", "", "Signed-off-by: A U Thor <author@example.org>"]
    link = [line for line in msg.splitlines() if line.startswith("Link: ")]
    assert len(msg.strip().splitlines()) == 3 + len(link)
    assert not any(ord(c) < 32 for c in msg.replace("\n", ""))
    if linked:
        assert len(link) == 1 and link[0].endswith(f"/{msgid}/")
    else:
        assert link == [] and "no Link trailer" in result.stderr


def test_every_network_command_trusts_the_ca_bundle_it_is_given(repo, cli, tls_pw):
    """--ca-bundle is one option of every command that asks a server (it once reached
    only apply): without it the private CA is refused, with it versions, diff and check
    go through."""
    secure, ca_file = tls_pw
    me = ("A U Thor", "author@example.org")
    v1 = secure.add_series("qemu-devel", repo.series(EDITS, version=1), date="2026-04-21T10:00:00", submitter=me)
    v2 = secure.add_series("qemu-devel", repo.series(EDITS[:2], version=2), date="2026-04-28T10:00:00", submitter=me)
    url = ["--server", secure.url]
    check(cli("versions", str(v2), *url, cwd=repo.path), 4, "TLS certificate of 127.0.0.1 is not trusted")
    result = cli("versions", str(v2), *url, "--ca-bundle", str(ca_file), "--json", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in json.loads(result.stdout)] == [v1, v2]
    result = cli("diff", str(v2), *url, "--ca-bundle", str(ca_file), "--no-pager", cwd=repo.path)
    assert result.exit_code == 0, result.output
    assert cli(str(v1), *url, "--ca-bundle", str(ca_file), "-q", cwd=repo.path).exit_code == 0
    repo.git("config", "pwapply.server", secure.url)
    result = cli("check", "HEAD~3..HEAD", cwd=repo.path)
    assert "is not trusted" in result.stderr and "3 commits not checked" in result.stderr
    result = cli("check", "HEAD~3..HEAD", "--ca-bundle", str(ca_file), cwd=repo.path)
    assert result.exit_code == 1 and "superseded by v2" in result.stderr, result.stderr


@pytest.mark.parametrize("server", ["pw", "tls_pw"])
def test_the_fake_server_settles_once_its_clients_are_gone(request, server):
    """FakePatchwork.settle, on which the interrupt tests count: once it returns, a
    stalled request whose client hung up is in ``hangups``; a client still connected keeps
    it from returning (it fails at its bound, never returns early)."""
    pw = request.getfixturevalue(server)
    pw = pw[0] if isinstance(pw, tuple) else pw  # tls_pw: (server, CA file)
    pw.fault(r"^/api/stalled/", status=200, stall=60.0)
    host, port = pw.url.split("://")[1].split(":")
    with socket.create_connection((host, int(port))) as raw:
        conn = raw
        if server == "tls_pw":
            import ssl

            ctx = ssl.create_default_context()
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            conn = ctx.wrap_socket(raw)
        conn.sendall(b"GET /api/stalled/ HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(AssertionError, match="still handles"):
            pw.settle(bound=0.3)
        conn.close()
    pw.settle()
    assert pw.hangups == ["/api/stalled/"]
