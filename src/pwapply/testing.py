"""A Patchwork-shaped HTTP server on loopback, for tests, benchmarks and `pwapply demo`.

It speaks real HTTP and answers the way Patchwork 3.x does (JSON shaped like the
recorded responses of a real server, series mboxes regenerated with reply tags put
before the ``---`` line, Link pagination, HTML 404 pages for unknown URLs, ``?msgid=``
ignored on API 1.0/1.1).  Feed it mail made by ``git format-patch``::

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
from dataclasses import dataclass, field
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, quote, urlsplit

from . import mbox as mboxmod
from . import naming

HTML_404 = (
    b'<!DOCTYPE html>\n<html lang="en"><head><title>Not Found</title></head><body><h1>Not Found</h1>'
    b"<p>The requested resource was not found on this server.</p></body></html>\n"
)
VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")
_TAG_RE = re.compile(r"^(Tested|Reviewed|Acked|Signed-off|Nacked|Reported)-by:.*$", re.M | re.I)


@dataclass
class Fault:
    """Answer requests whose path matches ``pattern`` with this instead (``times``
    requests, or all when None)."""

    pattern: str
    status: int = 500
    body: bytes = b""
    headers: Dict[str, str] = field(default_factory=dict)
    times: Optional[int] = None
    delay: float = 0.0
    handler: Optional[Callable[[BaseHTTPRequestHandler], bool]] = None
    stall: float = 0.0  # say nothing until the client hangs up (noted in hangups), at most this long


@dataclass
class _Mail:
    id: int
    kind: str  # patch | cover
    msgid: str
    name: str
    date: str
    submitter: Tuple[str, str]
    headers: List[Tuple[str, str]]
    content: str  # message before ---
    diff: str  # from --- on (patches)
    series_id: int
    project: str
    replies: List[Tuple[str, str, str]] = field(default_factory=list)  # (name, email, body)
    state: str = "new"
    check: str = "pending"


class FakePatchwork:
    def __init__(self, host: str = "127.0.0.1", versions: Tuple[str, ...] = VERSIONS, ssl_context: Any = None) -> None:
        """``ssl_context``: an ``ssl.SSLContext`` with the server's certificate, to serve https."""
        self.host = host
        self.ssl_context = ssl_context
        self.versions = versions
        self.delay = 0.0  # added to every request, to model a distant server
        self.projects: Dict[str, Dict[str, Any]] = {}
        self.series: Dict[int, Dict[str, Any]] = {}
        self.mails: Dict[Tuple[str, int], _Mail] = {}
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []
        self.hangups: List[str] = []  # paths of stalled requests whose client hung up first
        self._hung_up = threading.Condition()
        self.faults: List[Fault] = []
        self._ids = {"series": 0, "patch": 0, "cover": 0, "person": 0, "comment": 0}
        self._people: Dict[str, int] = {}
        self._lock = threading.Lock()
        self._httpd: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._wake: Tuple[int, int] = (-1, -1)

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

    # ------------------------------------------------------------------ data

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def person(self, name: str, email: str) -> Dict[str, Any]:
        pid = self._people.setdefault(email, len(self._people) + 1)
        return {"id": pid, "url": f"{self._base()}/api/people/{pid}/", "name": name, "email": email}

    def _base(self) -> str:
        return self.url if self._httpd else "http://127.0.0.1"

    def add_project(self, link_name: str, name: Optional[str] = None, list_id: Optional[str] = None) -> None:
        if link_name in self.projects:
            return
        pid = len(self.projects) + 1
        self.projects[link_name] = {
            "id": pid,
            "link_name": link_name,
            "name": name or link_name,
            "list_id": list_id or f"{link_name}.example.org",
            "list_email": f"{link_name}@example.org",
        }

    def add_series(
        self,
        project: str,
        mbox: bytes,
        *,
        name: Optional[str] = "",
        version: Optional[int] = None,
        total: Optional[int] = None,
        date: str = "2026-04-28T19:03:47",
        submitter: Optional[Tuple[str, str]] = None,
    ) -> int:
        """Ingest mail as Patchwork's parsemail would: a cover letter (0/N) and patches.
        ``name=None`` gives a series without a name, as Patchwork sometimes has."""
        self.add_project(project)
        sid = self._next("series")
        mails = [mboxmod.parse(raw) for raw in mboxmod.split(mbox)]
        cover = next((m for m in mails if mboxmod.is_cover(m)), None)
        patches = [m for m in mails if m is not cover]
        first_subject = (cover or patches[0]).subject if (cover or patches) else ""
        ver = version or naming.version_from_subject(first_subject) or 1
        counted = naming.number_from_subject(first_subject)
        series_total = total or (counted[1] if counted else len(patches))
        if name == "":
            # Patchwork names a series after its cover letter, else after its first patch.
            name = naming.strip_subject_prefixes(cover.subject) if cover else (patches[0].subject if patches else None)
            if name and not cover:
                name = _pw_name(name)
        cover_obj = self._ingest(cover, "cover", sid, project) if cover else None
        patch_objs = [self._ingest(m, "patch", sid, project) for m in patches]
        if submitter is None:
            submitter = (cover_obj or patch_objs[0]).submitter if (cover_obj or patch_objs) else ("", "")
        for obj in [cover_obj, *patch_objs]:
            if obj is not None:
                obj.submitter = submitter
                obj.date = date
        self.series[sid] = {
            "id": sid,
            "project": project,
            "name": name,
            "date": date,
            "version": ver,
            "total": series_total,
            "submitter": submitter,
            "cover": cover_obj.id if cover_obj else None,
            "patches": [p.id for p in sorted(patch_objs, key=_series_position)],
        }
        return sid

    def _ingest(self, mail: mboxmod.Mail, kind: str, sid: int, project: str) -> _Mail:
        mid = self._next(kind)
        body = mail.body.replace("\r\n", "\n")
        m = re.search(r"^---\s*$", body, re.M) if kind == "patch" else None
        content, diff = (body[: m.start()], body[m.start() :]) if m else (body, "")
        name, email = parseaddr(mail.headers.get("from", ""))
        headers = []
        for key in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References"):
            if key.lower() in mail.headers:
                headers.append((key, mail.headers[key.lower()]))
        obj = _Mail(
            id=mid,
            kind=kind,
            msgid=mail.msgid,
            name=_pw_name(mail.subject),
            date="2026-04-28T19:03:48",
            submitter=(name, email),
            headers=headers,
            content=content,
            diff=diff,
            series_id=sid,
            project=project,
        )
        self.mails[(kind, mid)] = obj
        return obj

    def patch_ids(self, sid: int) -> List[int]:
        return list(self.series[sid]["patches"])

    def cover_id(self, sid: int) -> Optional[int]:
        cid = self.series[sid]["cover"]
        return int(cid) if cid is not None else None

    def add_cover_reply(self, sid: int, body: str, author: Tuple[str, str] = ("Rev Iewer", "rev@example.org")) -> None:
        cid = self.series[sid]["cover"]
        assert cid is not None, "this series has no cover letter"
        self.mails[("cover", cid)].replies.append((author[0], author[1], body))

    def add_patch_reply(
        self, patch_id: int, body: str, author: Tuple[str, str] = ("Rev Iewer", "rev@example.org")
    ) -> None:
        self.mails[("patch", patch_id)].replies.append((author[0], author[1], body))

    def set_state(self, patch_id: int, state: str) -> None:
        self.mails[("patch", patch_id)].state = state

    def set_check(self, patch_id: int, check: str) -> None:
        """The combined CI check of a patch: pending, success, warning or fail."""
        self.mails[("patch", patch_id)].check = check

    def fault(self, pattern: str, status: int = 500, body: bytes = b"", **kw: Any) -> Fault:
        f = Fault(pattern=pattern, status=status, body=body, **kw)
        self.faults.append(f)
        return f

    # ------------------------------------------------------------------ request log

    def count(self, fragment: str = "") -> int:
        return sum(1 for _, path, _ in self.requests if fragment in path)

    def paths(self) -> List[str]:
        return [path for _, path, _ in self.requests]

    def reset(self) -> None:
        self.requests.clear()

    def wait_for_hangup(self, fragment: str, bound: float = 30.0) -> bool:
        """Whether the client of a stalled request whose path has ``fragment`` hung up
        (waits for it, at most ``bound`` seconds: a safety net, not a measurement)."""
        with self._hung_up:
            return self._hung_up.wait_for(lambda: any(fragment in p for p in self.hangups), bound)

    # ------------------------------------------------------------------ rendering

    def project_json(self, link_name: str, api: str) -> Dict[str, Any]:
        p = self.projects[link_name]
        return {
            "id": p["id"],
            "url": f"{self._base()}/api/{api}projects/{p['id']}/",
            "name": p["name"],
            "link_name": link_name,
            "list_id": p["list_id"],
            "list_email": p["list_email"],
            "web_url": "",
            "scm_url": "",
            "webscm_url": "",
            "list_archive_url": "",
            "list_archive_url_format": "",
            "commit_url_format": "",
        }

    def web_url(self, mail: _Mail) -> str:
        return f"{self._base()}/project/{mail.project}/{mail.kind}/{mail.msgid}/"

    def mail_summary(self, mail: _Mail, api: str) -> Dict[str, Any]:
        kind = "patches" if mail.kind == "patch" else "covers"
        return {
            "id": mail.id,
            "url": f"{self._base()}/api/{api}{kind}/{mail.id}/",
            "web_url": self.web_url(mail),
            "msgid": f"<{mail.msgid}>",
            "list_archive_url": None,
            "date": mail.date,
            "name": mail.name,
            "mbox": f"{self._base()}/project/{mail.project}/{mail.kind}/{mail.msgid}/mbox/",
        }

    def series_summary(self, sid: int, api: str) -> Dict[str, Any]:
        s = self.series[sid]
        return {
            "id": sid,
            "url": f"{self._base()}/api/{api}series/{sid}/",
            "web_url": f"{self._base()}/project/{s['project']}/list/?series={sid}",
            "date": s["date"],
            "name": s["name"],
            "version": s["version"],
            "mbox": f"{self._base()}/series/{sid}/mbox/",
        }

    def series_json(self, sid: int, api: str) -> Dict[str, Any]:
        s = self.series[sid]
        cover = self.mails[("cover", s["cover"])] if s["cover"] else None
        data = self.series_summary(sid, api)
        received = len(s["patches"])
        data.update(
            {
                "project": self.project_json(s["project"], api),
                "submitter": self.person(*s["submitter"]),
                "total": s["total"],
                "received_total": received,
                "received_all": received >= s["total"],
                "cover_letter": self.mail_summary(cover, api) if cover else None,
                "patches": [self.mail_summary(self.mails[("patch", p)], api) for p in s["patches"]],
                "dependencies": [],
                "dependents": [],
            }
        )
        return data

    def mail_json(self, mail: _Mail, api: str) -> Dict[str, Any]:
        data = self.mail_summary(mail, api)
        data.update(
            {
                "project": self.project_json(mail.project, api),
                "submitter": self.person(*mail.submitter),
                "series": [self.series_summary(mail.series_id, api)],
                "comments": f"{self._base()}/api/{api}{_plural(mail.kind)}/{mail.id}/comments/",
            }
        )
        if mail.kind == "cover":
            data["content"] = mail.content
        if mail.kind == "patch":
            data.update(
                {
                    "commit_ref": None,
                    "pull_url": None,
                    "state": mail.state,
                    "archived": False,
                    "hash": None,
                    "delegate": None,
                    "check": mail.check,
                    "checks": f"{self._base()}/api/{api}patches/{mail.id}/checks/",
                    "tags": {},
                    "related": [],
                }
            )
        return data

    def comments_json(self, mail: _Mail, api: str) -> List[Dict[str, Any]]:
        out = []
        for i, (name, email, body) in enumerate(mail.replies, start=1):
            out.append(
                {
                    "id": i,
                    "web_url": f"{self._base()}/comment/{i}/",
                    "msgid": f"<reply-{mail.id}-{i}@example.org>",
                    "list_archive_url": None,
                    "date": "2026-04-30T07:47:55",
                    "subject": f"Re: {mail.name}",
                    "submitter": self.person(name, email),
                    "content": body,
                    "headers": {},
                    "addressed": None,
                }
            )
        return out

    def render_mbox(self, mail: _Mail) -> str:
        """One mail as Patchwork serves it: reply tags added after the message's own
        trailers, before the ---."""
        tags = []
        for _, _, body in mail.replies:
            for m in _TAG_RE.finditer(body):
                tags.append(m.group(0).strip())
        content = mail.content.rstrip("\n") + "\n"
        if tags:
            content += "\n".join(tags) + "\n"
        utf8 = not (content + mail.diff).isascii()
        lines = [
            f"From patchwork {time.strftime('%a %b %d %H:%M:%S %Y', time.gmtime(0))}",
            'Content-Type: text/plain; charset="utf-8"',
            "MIME-Version: 1.0",
            f"Content-Transfer-Encoding: {'8bit' if utf8 else '7bit'}",
            f"X-Patchwork-Submitter: {mail.submitter[0]} <{mail.submitter[1]}>",
            f"X-Patchwork-Id: {mail.id}",
        ]
        for key, value in mail.headers:
            if key == "Message-ID":
                value = f"<{mail.msgid}>"
            elif not value.isascii():
                value = _encode_header(key, value)
            lines.append(f"{key}: {value}")
        return "\n".join(lines) + "\n\n" + content + mail.diff.rstrip("\n") + "\n\n"

    def series_mbox(self, sid: int) -> bytes:
        s = self.series[sid]
        return "".join(self.render_mbox(self.mails[("patch", p)]) for p in s["patches"]).encode("utf-8")


def _series_position(mail: _Mail) -> Tuple[int, int]:
    """Patchwork lists (and serves) a series' patches by their n/m number, whatever
    order the list delivered them in; ids are given in arrival order."""
    counted = naming.number_from_subject(mail.name)  # Patchwork's name keeps the n/m
    return (counted[0] if counted else mail.id, mail.id)


def _plural(kind: str) -> str:
    return "patches" if kind == "patch" else "covers"


def _encode_header(key: str, value: str) -> str:
    from email.header import Header

    if key in ("From", "To", "Cc"):
        name, addr = parseaddr(value)
        return f"{Header(name, 'utf-8').encode()} <{addr}>" if addr else Header(value, "utf-8").encode()
    return Header(value, "utf-8").encode()


def _pw_name(subject: str) -> str:
    """Patchwork's patch names: ``[PATCH v2 1/6] x`` -> ``[v2,1/6] x``."""
    m = re.match(r"^\s*\[([^\]]*)\]\s*(.*)$", subject)
    if not m:
        return subject
    words = [w for w in re.split(r"[\s,]+", m.group(1)) if w and w.upper() != "PATCH"]
    return (f"[{','.join(words)}] " if words else "") + m.group(2)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up early (a size cap, a timeout, Ctrl-C, a redirect it
        # refuses while a second request is still being answered) is what the fault
        # tests do on purpose: not worth a traceback on the test's stderr.  Over TLS the
        # hang-up is an SSLEOFError, not a ConnectionError.
        import ssl
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLEOFError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    pw: FakePatchwork
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

    def _get(self) -> None:
        pw = self.pw
        with pw._lock:
            pw.requests.append(("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
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
        pw = self.pw
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
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
        version = VERSIONS[-1]
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
            return self._page(self._series_list(query, api), query, parts.path)
        if kind == "series" and len(segs) == 2:
            if not segs[1].isdigit():
                return self._html_404()
            sid = int(segs[1])
            if sid not in pw.series:
                return self._not_found_json("Series")
            return self._json(pw.series_json(sid, api))
        if kind in ("patches", "covers"):
            mk = "patch" if kind == "patches" else "cover"
            if len(segs) == 1:
                items = [m for (k, _), m in sorted(pw.mails.items()) if k == mk]
                if "project" in query:
                    if query["project"] not in pw.projects:
                        return self._json({"project": ["Select a valid choice."]}, status=400)
                    items = [m for m in items if m.project == query["project"]]
                if "series" in query:
                    items = [m for m in items if str(m.series_id) == query["series"]]
                if "msgid" in query and version not in ("1.0", "1.1"):
                    want = query["msgid"].strip("<>")
                    items = [m for m in items if m.msgid == want]
                return self._page([pw.mail_json(m, api) for m in items], query, parts.path)
            if not segs[1].isdigit():
                return self._html_404()
            mail = pw.mails.get((mk, int(segs[1])))
            if mail is None:
                return self._not_found_json("Patch" if mk == "patch" else "Cover")
            if len(segs) == 2:
                return self._json(pw.mail_json(mail, api))
            if len(segs) == 3 and segs[2] == "comments":
                return self._page(pw.comments_json(mail, api), query, parts.path)
        return self._html_404()

    def _series_list(self, query: Dict[str, str], api: str) -> List[Dict[str, Any]]:
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
            out.append(pw.series_json(sid, api))
        order = query.get("order", "id")
        key = order.lstrip("-")
        return sorted(out, key=lambda d: (d.get(key) or "", d["id"]), reverse=order.startswith("-"))

    def _page(self, items: List[Any], query: Dict[str, str], path: str) -> None:
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
        self._json(chunk, headers={"Link": ", ".join(links)})
