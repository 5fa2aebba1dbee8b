"""A Patchwork-shaped HTTP server on loopback, for tests, benchmarks and `pwapply demo`.

It speaks real HTTP and answers the way Patchwork 3.x does (its data and rendering are
store.py's; here: routing, Link pagination, HTML 404 pages for unknown URLs, ``?msgid=``
ignored on API 1.0/1.1, faults to order, and a log of every request)::

    with FakePatchwork() as pw:
        sid = pw.add_series("qemu-devel", mbox_bytes)
        pw.add_cover_reply(sid, "Tested-by: A <a@example.org>")
        ... pwapply --server {pw.url} {sid} ...
        assert pw.count("/series/") == 1
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Set, Tuple
from urllib.parse import parse_qs, quote, urlsplit

from .. import naming
from .store import STATES, VERSIONS, Fault, Store

HTML_404 = (
    b'<!DOCTYPE html>\n<html lang="en"><head><title>Not Found</title></head><body><h1>Not Found</h1>'
    b"<p>The requested resource was not found on this server.</p></body></html>\n"
)


class FakePatchwork(Store):
    def __init__(self, host: str = "127.0.0.1", versions: Tuple[str, ...] = VERSIONS, ssl_context: Any = None) -> None:
        """``ssl_context``: an ``ssl.SSLContext`` with the server's certificate, to serve https."""
        super().__init__()
        self.host = host
        self.ssl_context = ssl_context
        self.versions = versions
        self.delay = 0.0  # added to every request, to model a distant server
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []
        self.hangups: List[str] = []  # paths of stalled requests whose client hung up first
        self._hung_up = threading.Condition()
        self._handling: Dict[Any, int] = {}  # client address -> 1 while its connection is handled
        self._handled: Set[Any] = set()  # client addresses whose connection was handled
        self._idle = threading.Condition()
        self.faults: List[Fault] = []
        self.tokens: Dict[str, bool] = {}  # API token -> whether its user maintains the projects
        self.changes: List[Tuple[int, str, Optional[str]]] = []  # (patch id, state, commit_ref) set by PATCH
        self.errors: List[str] = []  # tracebacks of requests the server failed to answer (a bug of ours)
        self.stopped = False
        self._lock = threading.Lock()
        self._httpd: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._wake: Tuple[int, int] = (-1, -1)

    def _base(self) -> str:
        return self.url if self._httpd else super()._base()

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() first"
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> "FakePatchwork":
        server = self

        class Handler(_Handler):
            pw = server

        self._httpd = _Server((self.host, 0), Handler)
        self._httpd.pw = self
        self.stopped = False
        if self.ssl_context is not None:
            self._httpd.socket = self.ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self._httpd.daemon_threads = True
        self._wake = os.pipe()
        self._thread = threading.Thread(target=self._serve, args=(self._httpd, self._wake[0]), name="fake-patchwork")
        self._thread.daemon = True
        self._thread.start()
        return self

    @staticmethod
    def _serve(httpd: "ThreadingHTTPServer", wake: int) -> None:
        """socketserver's serve_forever polls for a shutdown every 0.5 s, and every
        test's teardown waited for it: this loop also watches a pipe that stop() writes
        to, so that it ends at once."""
        import selectors

        with selectors.DefaultSelector() as sel:
            sel.register(httpd, selectors.EVENT_READ)
            sel.register(wake, selectors.EVENT_READ)
            while True:
                for key, _ in sel.select():
                    if key.fileobj == wake:
                        return
                    httpd._handle_request_noblock()  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.stopped = True  # what a handler still running meets from now on is no one's concern
        if self._httpd is not None:
            os.write(self._wake[1], b"x")
            if self._thread is not None:
                self._thread.join()
            self._httpd.server_close()
            for fd in self._wake:
                os.close(fd)
            self._httpd = None

    def __enter__(self) -> "FakePatchwork":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fault(self, pattern: str, status: int = 500, body: bytes = b"", **kw: Any) -> Fault:
        f = Fault(pattern=pattern, status=status, body=body, **kw)
        self.faults.append(f)
        return f

    def count(self, fragment: str = "") -> int:
        return sum(1 for _, path, _ in self.requests if fragment in path)

    def paths(self) -> List[str]:
        return [path for _, path, _ in self.requests]

    def reset(self) -> None:
        self.requests.clear()

    def settle(self, bound: float = 30.0) -> None:
        """Wait until every connection a client opened before this call was handled to
        its end (at most ``bound`` seconds: a safety net).  The server accepts in the
        order clients connected, so once a connection of our own is accepted, every
        earlier one is being handled or was; then all of them must end.  After a client
        process exited, what the server saw of it is then all it will ever see."""
        import socket
        import ssl

        assert self._httpd is not None, "start() first"
        with socket.create_connection((self.host, self._httpd.server_address[1]), timeout=bound) as raw:
            conn: Any = raw
            if self.ssl_context is not None:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                conn = ctx.wrap_socket(raw)
            mine = conn.getsockname()
            conn.close()
        with self._idle:
            done = self._idle.wait_for(lambda: mine in self._handled and not self._handling, bound)
        assert done, f"the fake server still handles {sorted(self._handling)} after {bound} s"

    def wait_for_hangup(self, fragment: str, bound: float = 30.0) -> bool:
        """Whether the client of a stalled request whose path has ``fragment`` hung up
        (waits for it, at most ``bound`` seconds: a safety net, not a measurement)."""
        with self._hung_up:
            return self._hung_up.wait_for(lambda: any(fragment in p for p in self.hangups), bound)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    pw: FakePatchwork

    def process_request(self, request: Any, client_address: Any) -> None:
        # In the serving thread, as the connection is accepted: FakePatchwork.settle
        # counts on it being on the books before the next connection is accepted.
        with self.pw._idle:
            self.pw._handling[client_address] = 1
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.pw._idle:
                self.pw._handling.pop(client_address, None)
                self.pw._handled.add(client_address)
                self.pw._idle.notify_all()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up early (a size cap, a timeout, Ctrl-C, a redirect it
        # refuses while a second request is still being answered) is what the fault
        # tests do on purpose: not worth a traceback on the test's stderr.  Over TLS the
        # hang-up is an SSLEOFError, not a ConnectionError.  Nor is what a handler still
        # running meets once the server was stopped.  Anything else is a bug of the
        # fake server: kept in ``errors`` (the tests' fixture fails on it), and printed.
        import ssl
        import sys
        import traceback

        if self.pw.stopped or isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLEOFError)):
            return
        with self.pw._lock:
            self.pw.errors.append(traceback.format_exc())
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    pw: FakePatchwork
    body: bytes = b""  # the request's body (PATCH), read before anything answers
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stalls

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(
        self, status: int, body: bytes, ctype: str = "application/json", headers: Optional[Dict[str, str]] = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept, Cookie")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, data: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> None:
        self._send(status, json.dumps(data).encode("utf-8"), headers=headers)

    def _not_found_json(self, what: str) -> None:
        self._json({"detail": f"No {what} matches the given query."}, status=404)

    def _html_404(self) -> None:
        self._send(404, HTML_404, ctype="text/html; charset=utf-8")

    def do_GET(self) -> None:  # noqa: N802
        try:
            self._get()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); nothing to tell it

    def do_PATCH(self) -> None:  # noqa: N802
        try:
            self._get(method="PATCH")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _get(self, method: str = "GET") -> None:
        pw = self.pw
        # The body is read before anything answers (a fault too): left unread on a
        # kept-alive connection, it would be taken for the next request on it.
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        with pw._lock:
            pw.requests.append((method, self.path, {k.lower(): v for k, v in self.headers.items()}))
        if pw.delay:
            time.sleep(pw.delay)
        for f in list(pw.faults):
            if re.search(f.pattern, self.path):
                if f.times is not None:
                    if f.times <= 0:
                        continue
                    f.times -= 1
                if f.delay:
                    time.sleep(f.delay)
                if f.stall and self._client_gone(f.stall):
                    with pw._hung_up:
                        pw.hangups.append(self.path)
                        pw._hung_up.notify_all()
                    return
                if f.handler is not None:
                    if f.handler(self):
                        return
                    continue
                self._send(
                    f.status,
                    f.body,
                    ctype=f.headers.get("Content-Type", "text/html"),
                    headers={k: v for k, v in f.headers.items() if k != "Content-Type"},
                )
                return
        self._route()

    def _client_gone(self, seconds: float) -> bool:
        """Wait until the client closes the connection (True), at most ``seconds``."""
        import select
        import socket

        ready, _, _ = select.select([self.connection], [], [], seconds)
        if not ready:
            return False
        try:
            return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
        except (OSError, ValueError):
            return True

    def _route(self) -> None:
        if self.command == "PATCH":
            return self._patch()
        pw = self.pw
        parts = urlsplit(self.path)
        multi = parse_qs(parts.query)
        query = {k: v[0] for k, v in multi.items()}
        segs = [s for s in parts.path.split("/") if s]
        if not parts.path.endswith("/"):
            self._send(
                301,
                b"",
                ctype="text/html",
                headers={"Location": parts.path + "/" + (f"?{parts.query}" if parts.query else "")},
            )
            return
        if segs[:1] == ["series"] and len(segs) == 3 and segs[2] == "mbox" and segs[1].isdigit():
            sid = int(segs[1])
            if sid not in pw.series:
                return self._html_404()
            name = pw.series[sid]["name"] or "series"
            return self._send(
                200,
                pw.series_mbox(sid),
                ctype="text/plain",
                headers={"Content-Disposition": f"attachment; filename={naming.slugify(name)}.patch"},
            )
        if segs[:1] != ["api"]:
            return self._html_404()
        segs = segs[1:]
        api = ""
        version = pw.versions[-1]  # unversioned: the server's latest
        if segs and re.match(r"^\d+\.\d+$", segs[0]):
            if segs[0] not in pw.versions:
                return self._html_404()
            version = segs[0]
            api = segs[0] + "/"
            segs = segs[1:]
        if not segs:
            return self._json(
                {
                    k: f"{pw._base()}/api/{api}{k}/"
                    for k in ("covers", "events", "patches", "people", "projects", "series", "users", "bundles")
                }
            )
        kind = segs[0]
        if kind == "series" and len(segs) == 1:
            return self._page(self._series_list(query, api, version), query, parts.path)
        if kind == "series" and len(segs) == 2:
            if not segs[1].isdigit():
                return self._html_404()
            sid = int(segs[1])
            if sid not in pw.series:
                return self._not_found_json("Series")
            return self._json(pw.series_json(sid, api, version))
        if kind in ("patches", "covers"):
            mk = "patch" if kind == "patches" else "cover"
            if len(segs) == 1:
                items = [m for (k, _), m in sorted(pw.mails.items()) if k == mk]
                if "project" in query:
                    if query["project"] not in pw.projects:
                        return self._json({"project": ["Select a valid choice."]}, status=400)
                    items = [m for m in items if m.project == query["project"]]
                if "series" in multi:  # several ids: any of them, as Patchwork's filter takes them
                    items = [m for m in items if str(m.series_id) in multi["series"]]
                if "msgid" in query and version not in ("1.0", "1.1"):
                    want = query["msgid"].strip("<>")
                    items = [m for m in items if m.msgid == want]
                items = self._filtered(items, multi)
                return self._page(items, query, parts.path, render=lambda m: pw.mail_json(m, api))
            if not segs[1].isdigit():
                return self._html_404()
            mail = pw.mails.get((mk, int(segs[1])))
            if mail is None:
                return self._not_found_json("Patch" if mk == "patch" else "Cover")
            if len(segs) == 2:
                return self._json(pw.mail_json(mail, api))
            if len(segs) == 3 and segs[2] == "comments":
                return self._page(pw.comments_json(mail, api), query, parts.path)
        if kind == "users":
            return self._users(segs, query, api, version, parts.path)
        return self._html_404()

    def _filtered(self, items: List[Any], multi: Dict[str, List[str]]) -> List[Any]:
        """/api/patches/'s and /api/covers/'s filters, as Patchwork applies them (a value
        it cannot read, as an unknown submitter, matches nothing: Patchwork answers an
        empty list; a cover letter has no state, no delegate)."""
        pw = self.pw
        one = {k: v[-1] for k, v in multi.items()}
        if "state" in multi:
            items = [m for m in items if m.state in multi["state"]]
        if "archived" in one:
            items = [m for m in items if m.archived == (one["archived"].lower() == "true")]
        if "since" in one:
            items = [m for m in items if m.date >= one["since"]]
        if "before" in one:
            items = [m for m in items if m.date < one["before"]]
        if "submitter" in one:
            who = one["submitter"].lower()
            items = [m for m in items if who in (str(pw.person(*m.submitter)["id"]), m.submitter[1].lower())]
        if "delegate" in one:
            who = one["delegate"].lower()
            ids = {uid for uid, (name, _) in pw.users.items() if who in (str(uid), name.lower())}
            items = [m for m in items if m.delegate in ids]
        if "q" in one:
            items = [m for m in items if one["q"].lower() in m.name.lower()]
        if one.get("order", "").lstrip("-") == "date":
            items = sorted(items, key=lambda m: (m.date, m.id), reverse=one["order"].startswith("-"))
        return items

    def _users(self, segs: List[str], query: Dict[str, str], api: str, version: str, path: str) -> None:
        """/api/users/ and /api/users/N/: for a user with a token only; a user's own
        detail shows its settings (API 1.2 and later), as Patchwork's does."""
        pw = self.pw
        auth = self.headers.get("Authorization", "")
        token = auth[len("Token ") :] if auth.startswith("Token ") else None
        if token is None:
            return self._json({"detail": "Authentication credentials were not provided."}, status=403)
        if token not in pw.tokens and token not in pw.token_users:
            return self._json({"detail": "Invalid token."}, status=401)
        if len(segs) == 1:
            q = query.get("q", "").lower()
            found = [u for u, (name, email) in sorted(pw.users.items()) if q in name.lower() or q in email.lower()]
            return self._page([pw.user_json(u, api) for u in found], query, path)
        if not segs[1].isdigit() or int(segs[1]) not in pw.users:
            return self._not_found_json("User")
        data = pw.user_json(int(segs[1]), api)
        if pw.token_users.get(token) == int(segs[1]) and version not in ("1.0", "1.1"):
            data["settings"] = {"send_email": False, "items_per_page": 100, "show_ids": False}
        return self._json(data)

    def _patch(self) -> None:
        """PATCH /api/[v/]patches/N/: a state change, as Patchwork answers it."""
        pw = self.pw
        body = self.body
        m = re.match(r"^/api/(?:(\d+\.\d+)/)?patches/(\d+)/$", urlsplit(self.path).path)
        mail = pw.mails.get(("patch", int(m.group(2)))) if m else None
        if m is None or mail is None:
            return self._json({"detail": "Not found."}, status=404)
        api = f"{m.group(1)}/" if m.group(1) else ""
        auth = self.headers.get("Authorization", "")
        token = auth[len("Token ") :] if auth.startswith("Token ") else None
        if token is None:
            return self._json({"detail": "Authentication credentials were not provided."}, status=403)
        if token not in pw.tokens:
            return self._json({"detail": "Invalid token."}, status=401)
        if not pw.tokens[token]:
            return self._json({"detail": "You do not have permission to perform this action."}, status=403)
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return self._json({"detail": "JSON parse error"}, status=400)
        state = data.get("state", mail.state)
        if state not in STATES:
            expected = ", ".join(STATES)
            return self._json({"state": [f"Invalid state {state}. Expected one of: {expected}."]}, status=400)
        mail.state = state
        if "commit_ref" in data:
            mail.commit_ref = data["commit_ref"]
        with pw._lock:
            pw.changes.append((mail.id, state, data.get("commit_ref")))
        return self._json(pw.mail_json(mail, api))

    def _series_list(self, query: Dict[str, str], api: str, version: str) -> List[Dict[str, Any]]:
        pw = self.pw
        out = []
        for sid, s in pw.series.items():
            if "project" in query and s["project"] != query["project"]:
                continue
            if "submitter" in query:
                who = pw.person(*s["submitter"])
                if query["submitter"] not in (str(who["id"]), who["email"]):
                    continue
            if "q" in query and query["q"].lower() not in (s["name"] or "").lower():
                continue
            if "since" in query and s["date"] < query["since"]:
                continue
            if "before" in query and s["date"] >= query["before"]:
                continue
            out.append(pw.series_json(sid, api, version))
        order = query.get("order", "id")
        key = order.lstrip("-")
        return sorted(out, key=lambda d: (d.get(key) or "", d["id"]), reverse=order.startswith("-"))

    def _page(self, items: List[Any], query: Dict[str, str], path: str, render: Any = None) -> None:
        """One page of ``items`` (each made JSON by ``render``, when given: only the page's
        are), with Patchwork's Link header."""
        per_page = max(1, min(int(query.get("per_page", "30") or 30), 250))
        page = max(1, int(query.get("page", "1") or 1))
        pages = max(1, (len(items) + per_page - 1) // per_page)
        if page > pages:
            return self._json({"detail": "Invalid page."}, status=404)
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(n: int) -> str:
            q = dict(query)
            q["page"] = str(n)
            return f"{self.pw._base()}{path}?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in sorted(q.items()))

        links = [f'<{link(1)}>; rel="first"']
        if page < pages:
            links.insert(0, f'<{link(page + 1)}>; rel="next"')
        if page > 1:
            links.insert(0, f'<{link(page - 1)}>; rel="prev"')
        links.append(f'<{link(pages)}>; rel="last"')
        self._json([render(i) for i in chunk] if render else chunk, headers={"Link": ", ".join(links)})
