"""Build the real-mail corpus (tests/realmail/): liburing's series as the io_uring list's
archive holds them, and what liburing merged of each.

    python tools/realmail.py --epoch DIR --liburing DIR [--work DIR] [--until YYYY-MM-DD]

--epoch is a public-inbox v2 epoch of the io_uring list (a git repository, one mail per
commit in a file ``m``: github.com/linux-mailinglist-archives/io-uring.vger.kernel.org.0),
--liburing a clone of liburing (github.com/axboe/liburing).  What it does:

1. a real archive of the epoch: ``public-inbox-init -V2``, the epoch as its ``git/0.git``,
   ``public-inbox-index`` (about 10 minutes; kept in --work and reused), then
   ``public-inbox-httpd`` on loopback;
2. liburing's commits that carry ``Link: https://lore.kernel.org/<list>/<msgid>`` (the mail
   the commit came from, as b4 writes it), up to the epoch's last mail;
3. for each, the whole thread of its mail as the archive serves it (``t.mbox.gz``); commits
   whose mails share a thread and a version are one series (one case);
4. for each case, what upstream merged: each commit's subject, ``git patch-id --stable``,
   review tags (Reviewed-by, Acked-by, Tested-by, Reported-by), and the parent of its
   first commit; and, read from the thread here (not by pwapply's code), which of those
   tags a reply in the thread gave: a mail that is no patch, from the person the tag names,
   with the tag on a line of its own (leading blanks allowed, never quoted);
5. writes ``tests/realmail/liburing.json`` (the cases), ``tests/realmail/threads.tar.xz``
   (each thread's mbox, as served, inflated) and ``tests/realmail/liburing.bundle`` (one
   commit per end-to-end case: its base's tree, no history; the cases' own tests apply on it).

A commit whose mail the archive lacks (the list's first days, a mail sent elsewhere) is
left out, and so is a Link that names no mail of the list.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "realmail"
LIST = "io-uring"
ADDRESS = "io-uring@vger.kernel.org"
TAG_KEYS = ("Reviewed-by", "Acked-by", "Tested-by", "Reported-by")
LINK_RE = re.compile(r"^Link:\s*https?://lore\.kernel\.org/(?:r|all|[\w.-]+)/([^\s/]+@[^\s/]+?)/?\s*$", re.M | re.I)
TAG_RE = re.compile(r"^(" + "|".join(TAG_KEYS) + r"):\s*(.+?)\s*$", re.M | re.I)
E2E = 6  # cases applied end to end on liburing's history


def run(argv: List[str], cwd: Optional[Path] = None, stdin: Optional[bytes] = None, env: Any = None) -> bytes:
    proc = subprocess.run(argv, cwd=cwd, input=stdin, capture_output=True, env=env)
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


# ------------------------------------------------------------------ the archive


def archive(epoch: Path, work: Path) -> Tuple[Dict[str, str], Path]:
    """A public-inbox of the epoch in ``work`` (made once): its environment and dir."""
    inbox = work / LIST
    env = dict(os.environ, PI_CONFIG=str(work / "pi-config"), HOME=str(work / "home"))
    (work / "home").mkdir(parents=True, exist_ok=True)
    if not (work / "indexed").exists():
        if inbox.exists():
            shutil.rmtree(inbox)
        run(
            ["public-inbox-init", "-V2", "-L", "medium", LIST, str(inbox), f"http://127.0.0.1/{LIST}", ADDRESS], env=env
        )
        shutil.rmtree(inbox / "git" / "0.git")
        run(["git", "clone", "-q", "--mirror", str(epoch), str(inbox / "git" / "0.git")])
        for p in list(inbox.glob("msgmap.sqlite3*")) + list(inbox.glob("xap15")):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        print("indexing the archive (about 10 minutes) ...", file=sys.stderr)
        run(["public-inbox-index", "-L", "medium", "--no-fsync", str(inbox)], env=env)
        (work / "indexed").touch()
    return env, inbox


class Httpd:
    """public-inbox-httpd on a loopback port, handed its socket (no polling)."""

    def __init__(self, env: Dict[str, str], log: Path) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        fd = sock.fileno()
        self.log = open(log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["bash", "-c", 'export LISTEN_PID=$$; exec public-inbox-httpd -W0 3<&"$1"', "bash", str(fd)],
            env=dict(env, LISTEN_FDS="1"),
            pass_fds=(fd,),
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/{LIST}"
        sock.close()

    def thread(self, msgid: str) -> Optional[bytes]:
        url = f"{self.url}/{urllib.parse.quote(msgid, safe='@!$&*+=~,;:')}/t.mbox.gz"
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:
                return gzip.decompress(resp.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


# ------------------------------------------------------------------ mail, read plainly


def mails(data: bytes) -> Iterator[email.message.EmailMessage]:
    """The mails of an mboxrd (public-inbox's t.mbox.gz, inflated)."""
    for chunk in re.split(rb"(?m)^From mboxrd@z [^\n]*\n", data):
        if chunk.strip():
            raw = re.sub(rb"(?m)^>(>*From )", rb"\1", chunk)
            yield email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]


def text_of(msg: email.message.EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError):
        return part.get_payload(decode=True).decode("utf-8", "replace")  # type: ignore[union-attr]


def msgid_of(msg: email.message.EmailMessage) -> str:
    return str(msg.get("message-id", "")).strip().strip("<>")


def has_diff(text: str) -> bool:
    return re.search(r"^diff --git a/", text, re.M) is not None


def version_of(subject: str) -> int:
    m = re.search(r"\[[^\]]*\bv(\d+)\b[^\]]*\]", subject, re.I)
    return int(m.group(1)) if m else 1


def given_in_thread(thread: bytes, key: str, value: str) -> bool:
    """Whether a mail of the thread that posts no patch, from the address the tag names,
    has the tag on a line of its own (leading blanks allowed; never quoted)."""
    address = parseaddr(value)[1].lower()
    if not address:
        return False
    line = re.compile(rf"^[ \t]*{re.escape(key)}:[ \t]*(.+?)\s*$", re.M | re.I)
    for msg in mails(thread):
        text = text_of(msg)
        if has_diff(text) and not re.match(r"(?i)\s*re:", str(msg.get("subject", ""))):
            continue  # a patch: its own trailers are the author's
        senders = {a.lower() for _, a in getaddresses([str(msg.get("from", ""))])}
        if address not in senders:
            continue
        if any(parseaddr(m.group(1))[1].lower() == address for m in line.finditer(text)):
            return True
    return False


# ------------------------------------------------------------------ liburing's side


def commits(liburing: Path, until: str) -> List[Dict[str, Any]]:
    """liburing's commits (oldest first) with a lore Link, up to ``until``."""
    log = run(
        ["git", "log", "--reverse", "--no-merges", f"--until={until}", "--format=%H%x00%P%x00%s%x00%B%x01", "HEAD"],
        cwd=liburing,
    ).decode("utf-8", "replace")
    ids = run(["git", "log", "--no-merges", f"--until={until}", "-p", "--format=commit %H", "HEAD"], cwd=liburing)
    patch_ids = {}
    for line in run(["git", "patch-id", "--stable"], cwd=liburing, stdin=ids).decode().splitlines():
        pid, sha = line.split()
        patch_ids[sha] = pid
    out = []
    for record in log.split("\x01"):
        record = record.strip("\n")
        if not record:
            continue
        sha, parents, subject, body = record.split("\x00", 3)
        links = LINK_RE.findall(body)
        if not links:
            continue
        tags = [
            {"key": next(k for k in TAG_KEYS if k.lower() == m.group(1).lower()), "value": m.group(2)}
            for m in TAG_RE.finditer(body)
        ]
        out.append(
            {
                "commit": sha,
                "parent": parents.split()[0] if parents else "",
                "subject": subject,
                "patch_id": patch_ids.get(sha, ""),
                "link": urllib.parse.unquote(links[-1]),
                "tags": tags,
            }
        )
    return out


# ------------------------------------------------------------------ the cases


def build(epoch: Path, liburing: Path, work: Path, until: str) -> None:
    env, _ = archive(epoch, work)
    httpd = Httpd(env, work / "httpd.log")
    threads: Dict[str, bytes] = {}  # thread key -> its mbox
    where: Dict[str, str] = {}  # msgid -> thread key
    cases: Dict[Tuple[str, int], Dict[str, Any]] = {}
    left_out = {"not in the archive": 0}
    try:
        for c in commits(liburing, until):
            msgid = c["link"]
            if msgid not in where:
                data = None
                for attempt in range(3):
                    try:
                        data = httpd.thread(msgid)
                        break
                    except (urllib.error.URLError, ConnectionError):
                        time.sleep(0.5 * (attempt + 1))  # the server starting: its socket queues, but be kind
                if data is None:
                    left_out["not in the archive"] += 1
                    continue
                key = hashlib.sha1(data).hexdigest()[:16]
                threads[key] = data
                for msg in mails(data):
                    where.setdefault(msgid_of(msg), key)
                where.setdefault(msgid, key)
            key = where[msgid]
            linked = next((m for m in mails(threads[key]) if msgid_of(m) == msgid), None)
            version = version_of(str(linked.get("subject", ""))) if linked is not None else 1
            case = cases.setdefault((key, version), {"thread": key, "commits": []})
            case["commits"].append(c)
    finally:
        httpd.close()
    out: List[Dict[str, Any]] = []
    for (key, _), case in cases.items():
        bodies = {msgid_of(m): text_of(m) for m in mails(threads[key])}
        for c in case["commits"]:
            c["given"] = [t for t in c["tags"] if given_in_thread(threads[key], t["key"], t["value"])]
            # Whether the mail its Link names is the patch as merged (no edit by the maintainer).
            c["as_posted"] = bool(c["patch_id"]) and patch_id(bodies.get(c["link"], "")) == c["patch_id"]
        first = case["commits"][0]
        out.append({"name": first["subject"], "base": first["parent"], **case})
    used = {c["thread"] for c in out}
    OUT.mkdir(parents=True, exist_ok=True)
    e2e = pick_e2e(out, threads)
    for c in out:
        c["e2e"] = c in e2e
    bundle(liburing, e2e, work)
    (OUT / "liburing.json").write_text(
        json.dumps({"list": LIST, "until": until, "left_out": left_out, "cases": out}, indent=1) + "\n"
    )
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz", preset=9) as tar:
        for key in sorted(used):
            info = tarfile.TarInfo(f"{key}.mbox")
            info.size = len(threads[key])
            info.mtime = 0
            tar.addfile(info, io.BytesIO(threads[key]))
    (OUT / "threads.tar.xz").write_bytes(buf.getvalue())
    n = sum(len(c["commits"]) for c in out)
    print(f"{len(out)} cases, {n} commits, {len(used)} threads; left out: {left_out}", file=sys.stderr)


def patch_id(text: str) -> str:
    if not has_diff(text):
        return ""
    out = run(
        ["git", "patch-id", "--stable"], stdin=f"commit {'0' * 40}\n\n{text}\n".encode("utf-8", "surrogateescape")
    )
    return out.decode().split()[0] if out.strip() else ""


def pick_e2e(cases: List[Dict[str, Any]], threads: Dict[str, bytes]) -> List[Dict[str, Any]]:
    """A handful of cases for the end-to-end tests: series of two or more patches merged
    as posted (each applies on the base upstream applied it to), with tags given in the
    thread where there are such, spread over the years."""
    multi = [c for c in cases if len(c["commits"]) >= 2 and all(x["as_posted"] for x in c["commits"])]
    tagged = [c for c in multi if any(x["given"] for x in c["commits"])]
    others = [c for c in multi if c not in tagged]

    def spread(pool: List[Dict[str, Any]], n: int) -> List[Dict[str, Any]]:
        return pool[:: max(1, len(pool) // n)][:n] if pool and n > 0 else []

    chosen = spread(tagged, E2E // 2)
    return chosen + spread(others, E2E - len(chosen))


def bundle(liburing: Path, e2e: List[Dict[str, Any]], work: Path) -> None:
    """One commit per end-to-end case, with its base's tree and no history: all git am
    needs (the files its patches change), a fraction of liburing's history.  Made in a
    clone of ``liburing``, which stays as it was."""
    scratch = work / "liburing.git"
    if scratch.exists():
        shutil.rmtree(scratch)
    run(["git", "clone", "-q", "--bare", str(liburing), str(scratch)])
    liburing = scratch
    refs = []
    for i, case in enumerate(e2e):
        tree = run(["git", "rev-parse", f"{case['base']}^{{tree}}"], cwd=liburing).decode().strip()
        env = dict(
            os.environ,
            GIT_AUTHOR_NAME="pwapply corpus",
            GIT_AUTHOR_EMAIL="corpus@example.org",
            GIT_COMMITTER_NAME="pwapply corpus",
            GIT_COMMITTER_EMAIL="corpus@example.org",
            GIT_AUTHOR_DATE="1700000000 +0000",
            GIT_COMMITTER_DATE="1700000000 +0000",
        )
        commit = (
            run(["git", "commit-tree", tree, "-m", f"liburing at {case['base']}"], cwd=liburing, env=env)
            .decode()
            .strip()
        )
        ref = f"refs/heads/case{i}"
        run(["git", "update-ref", ref, commit], cwd=liburing)
        refs.append(ref)
        case["bundle_ref"] = f"case{i}"
    if refs:
        run(["git", "bundle", "create", str(OUT / "liburing.bundle"), *refs], cwd=liburing)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--epoch", type=Path, required=True)
    ap.add_argument("--liburing", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/pwapply-realmail"))
    ap.add_argument("--until", default=None, help="the last day of liburing's history to take (default: the epoch's)")
    a = ap.parse_args()
    until = a.until or run(["git", "log", "-1", "--format=%cs"], cwd=a.epoch).decode().strip()
    a.work.mkdir(parents=True, exist_ok=True)
    build(a.epoch, a.liburing, a.work, until)


if __name__ == "__main__":
    main()
