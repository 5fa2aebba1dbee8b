"""A real public-inbox archive for the tests: an inbox made with public-inbox-init -V2,
fed mail by public-inbox-mda, served by public-inbox-httpd on a loopback port.

The listening socket is made here and handed to public-inbox-httpd (systemd's socket
activation, which public-inbox's daemons honour): a request made the moment the server
starts waits in the socket's queue, so nothing polls for the server to come up.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path
from typing import IO, Dict, List, Optional

TOOLS = ("public-inbox-init", "public-inbox-mda", "public-inbox-index", "public-inbox-httpd")
MISSING = [t for t in TOOLS if shutil.which(t) is None]
WHY_SKIPPED = (
    f"public-inbox is not installed ({', '.join(MISSING)} missing): apt-get install public-inbox "
    "(.ci/run installs it; CI never skips these tests)"
)


class PublicInbox:
    """One inbox (``name``), served at ``url`` once ``serve()`` ran: ``<url>/<msgid>/...``."""

    def __init__(self, root: Path, name: str = "qemu-devel") -> None:
        self.root = root
        self.name = name
        self.address = f"{name}@lists.example.org"
        self.dir = root / name
        self.env: Dict[str, str] = dict(os.environ, PI_CONFIG=str(root / "pi-config"), HOME=str(root / "home"))
        (root / "home").mkdir(parents=True, exist_ok=True)
        self._proc: Optional["subprocess.Popen[bytes]"] = None
        self._log: Optional[IO[bytes]] = None
        self.base = ""  # http://127.0.0.1:PORT, once serving
        self._run("public-inbox-init", "-V2", name, str(self.dir), f"http://127.0.0.1/{name}", self.address)
        self._run("git", "config", "-f", self.env["PI_CONFIG"], "publicinboxmda.spamcheck", "none")

    @property
    def url(self) -> str:
        """The inbox's base URL, as pwapply.archive takes it."""
        assert self.base, "serve() first"
        return f"{self.base}/{self.name}"

    def _run(self, *argv: str, stdin: Optional[bytes] = None, **env: str) -> None:
        proc = subprocess.run(argv, input=stdin, env=dict(self.env, **env), capture_output=True)
        assert proc.returncode == 0, f"{argv[0]} failed: {proc.stderr.decode(errors='replace')}"

    def add(self, *mboxes: bytes) -> List[str]:
        """Deliver each mail of each mbox (as git format-patch writes them, or single
        mails) to the inbox, in order; their Message-IDs."""
        from pwapply import mbox

        ids = []
        for data in mboxes:
            for raw in mbox.split(data):
                if raw.startswith(b"From mboxrd@"):  # an archive's mbox: '>From ' lines unquoted once
                    raw = re.sub(rb"(?m)^>(>*From )", rb"\1", raw)
                if raw.startswith(b"From "):  # the mbox's From_ line is not part of the mail
                    raw = raw.split(b"\n", 1)[1]
                self._run("public-inbox-mda", "--no-precheck", stdin=raw, ORIGINAL_RECIPIENT=self.address)
                ids.append(mbox.parse(raw).msgid)
        return ids

    def load(self, *mboxes: bytes) -> int:
        """Put many mails into the inbox at once: one commit per mail in its first epoch,
        as public-inbox itself writes them (a file ``m``), by git fast-import; the index
        is made by serve().  What add() does a mail at a time (a process each), in one
        process for all; the number of mails."""
        from pwapply import mbox

        stream: List[bytes] = []
        n = 0
        for data in mboxes:
            for raw in mbox.split(data):
                if raw.startswith(b"From mboxrd@"):
                    raw = re.sub(rb"(?m)^>(>*From )", rb"\1", raw)
                if raw.startswith(b"From "):
                    raw = raw.split(b"\n", 1)[1]
                n += 1
                message = b"mail %d" % n
                stream.append(
                    b"commit refs/heads/master\n"
                    b"committer public-inbox <public-inbox@example.org> %d +0000\n"
                    % (1500000000 + n)
                    + b"data %d\n%s\n" % (len(message), message)
                    + b"M 100644 inline m\ndata %d\n%s\n" % (len(raw), raw)
                )
        epoch = self.dir / "git" / "0.git"
        proc = subprocess.run(
            ["git", "fast-import", "--quiet"], cwd=epoch, input=b"".join(stream), env=self.env, capture_output=True
        )
        assert proc.returncode == 0, f"git fast-import failed: {proc.stderr.decode(errors='replace')}"
        return n

    def serve(self) -> "PublicInbox":
        self._run("public-inbox-index", str(self.dir))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        sock.setblocking(False)
        fd = sock.fileno()
        self._log = open(self.root / "httpd.log", "wb")  # noqa: SIM115 -- closed by close()
        self._proc = subprocess.Popen(
            ["bash", "-c", 'export LISTEN_PID=$$; exec public-inbox-httpd -W0 3<&"$1"', "bash", str(fd)],
            env=dict(self.env, LISTEN_FDS="1"),
            pass_fds=(fd,),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,
        )
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        sock.close()
        return self

    def close(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
