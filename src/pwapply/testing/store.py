"""The fake Patchwork's data, and how Patchwork renders it: projects, series, patches,
cover letters and their replies, states and checks; the JSON shaped like the recorded
responses of a real server, and series mboxes with reply tags put before the ``---``
line, as Patchwork serves them."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Dict, List, Optional, Tuple

from .. import mbox as mboxmod
from .. import naming

VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")
STATES = (
    "new",
    "under-review",
    "accepted",
    "rejected",
    "rfc",
    "not-applicable",
    "changes-requested",
    "awaiting-upstream",
    "superseded",
    "deferred",
)
_TAG_RE = re.compile(r"^(Tested|Reviewed|Acked|Signed-off|Nacked|Reported)-by:.*$", re.M | re.I)
_DEPENDS_RE = re.compile(r"^Depends-on:\s*(\S+)", re.M | re.I)


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
class Mail:
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
    commit_ref: Optional[str] = None
    archived: bool = False
    delegate: Optional[int] = None  # a user's id


class Store:
    """What the fake server knows.  Feed it mail made by ``git format-patch``."""

    def __init__(self) -> None:
        self.projects: Dict[str, Dict[str, Any]] = {}
        self.series: Dict[int, Dict[str, Any]] = {}
        self.mails: Dict[Tuple[str, int], Mail] = {}
        self._ids = {"series": 0, "patch": 0, "cover": 0, "person": 0, "comment": 0}
        self._people: Dict[str, int] = {}
        self.users: Dict[int, Tuple[str, str]] = {}  # id -> (username, email): the people who log in
        self.token_users: Dict[str, int] = {}  # API token -> its user's id

    # ------------------------------------------------------------------ data

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def person(self, name: str, email: str) -> Dict[str, Any]:
        pid = self._people.setdefault(email, len(self._people) + 1)
        return {"id": pid, "url": f"{self._base()}/api/people/{pid}/", "name": name, "email": email}

    def _base(self) -> str:
        """The URL the server answers on (the server fills it in)."""
        return "http://127.0.0.1"

    def add_project(
        self,
        link_name: str,
        name: Optional[str] = None,
        list_id: Optional[str] = None,
        *,
        show_dependencies: bool = False,
        archive: str = "",
    ) -> None:
        """``show_dependencies``: the project's series list what they depend on (API 1.4,
        Patchwork 3.3; off by default there too).  ``archive``: its list_archive_url
        (empty, as on patchwork.ozlabs.org, unless a maintainer set it)."""
        if link_name in self.projects:
            self.projects[link_name]["show_dependencies"] = show_dependencies or self.projects[link_name].get(
                "show_dependencies", False
            )
            self.projects[link_name]["archive"] = archive or self.projects[link_name].get("archive", "")
            return
        pid = len(self.projects) + 1
        self.projects[link_name] = {
            "id": pid,
            "link_name": link_name,
            "name": name or link_name,
            "list_id": list_id or f"{link_name}.example.org",
            "list_email": f"{link_name}@example.org",
            "show_dependencies": show_dependencies,
            "archive": archive,
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

    def _ingest(self, mail: mboxmod.Mail, kind: str, sid: int, project: str) -> Mail:
        mid = self._next(kind)
        body = mail.body.replace("\r\n", "\n")
        m = re.search(r"^---\s*$", body, re.M) if kind == "patch" else None
        content, diff = (body[: m.start()], body[m.start() :]) if m else (body, "")
        name, email = parseaddr(mail.headers.get("from", ""))
        headers = []
        for key in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References"):
            if key.lower() in mail.headers:
                headers.append((key, mail.headers[key.lower()]))
        obj = Mail(
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

    def add_user(self, username: str, email: str, token: Optional[str] = None) -> int:
        """A user (a maintainer, a delegate); with ``token``, the token is theirs."""
        uid = len(self.users) + 1
        self.users[uid] = (username, email)
        if token is not None:
            self.token_users[token] = uid
        return uid

    def user_json(self, uid: int, api: str) -> Dict[str, Any]:
        username, email = self.users[uid]
        return {
            "id": uid,
            "url": f"{self._base()}/api/{api}users/{uid}/",
            "username": username,
            "first_name": "",
            "last_name": "",
            "email": email,
        }

    def delegate(self, patch_id: int, uid: Optional[int]) -> None:
        self.mails[("patch", patch_id)].delegate = uid

    def archive(self, patch_id: int) -> None:
        self.mails[("patch", patch_id)].archived = True

    def set_check(self, patch_id: int, check: str) -> None:
        """The combined CI check of a patch: pending, success, warning or fail."""
        self.mails[("patch", patch_id)].check = check

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
            "list_archive_url": p.get("archive", ""),
            "list_archive_url_format": "",
            "commit_url_format": "",
        }

    def web_url(self, mail: Mail) -> str:
        return f"{self._base()}/project/{mail.project}/{mail.kind}/{mail.msgid}/"

    def mail_summary(self, mail: Mail, api: str) -> Dict[str, Any]:
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

    def series_json(self, sid: int, api: str, version: str = VERSIONS[-1]) -> Dict[str, Any]:
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
            }
        )
        if version == "1.4" and self.projects[s["project"]].get("show_dependencies"):
            data["dependencies"] = [f"{self._base()}/api/{api}series/{d}/" for d in self.dependencies(sid)]
            data["dependents"] = [
                f"{self._base()}/api/{api}series/{o}/" for o in self.series if sid in self.dependencies(o)
            ]
        return data

    def dependencies(self, sid: int) -> List[int]:
        """What Patchwork 3.3 reads as a series' dependencies: the series that each
        ``Depends-on:`` line of its cover letter or patches names (a Message-ID, or a
        series or patch URL), one level; never ``Based-on:``."""
        s = self.series[sid]
        mails = ([self.mails[("cover", s["cover"])]] if s["cover"] else []) + [
            self.mails[("patch", p)] for p in s["patches"]
        ]
        found: List[int] = []
        for mail in mails:
            for m in _DEPENDS_RE.finditer(mail.content + mail.diff):
                value = m.group(1)
                target = None
                by_series = re.search(r"series=(\d+)|/series/(\d+)/", value)
                if by_series:
                    target = int(by_series.group(1) or by_series.group(2))
                else:
                    msgid = re.sub(r"^.*/(?:patch|cover)/([^/]+)/?$", r"\1", value).strip("<>")
                    target = next((o.series_id for o in self.mails.values() if o.msgid == msgid), None)
                if target is not None and target != sid and target in self.series and target not in found:
                    found.append(target)
        return found

    def mail_json(self, mail: Mail, api: str) -> Dict[str, Any]:
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
                    "commit_ref": mail.commit_ref,
                    "pull_url": None,
                    "state": mail.state,
                    "archived": mail.archived,
                    "hash": None,
                    "delegate": self.user_json(mail.delegate, api) if mail.delegate else None,
                    "check": mail.check,
                    "checks": f"{self._base()}/api/{api}patches/{mail.id}/checks/",
                    "tags": {},
                    "related": [],
                }
            )
        return data

    def comments_json(self, mail: Mail, api: str) -> List[Dict[str, Any]]:
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

    def render_mbox(self, mail: Mail) -> str:
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


def _series_position(mail: Mail) -> Tuple[int, int]:
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
