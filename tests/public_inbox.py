"""A real public-inbox archive for the tests: an inbox made with public-inbox-init -V2,
fed mail by public-inbox-mda, served by public-inbox-httpd on a loopback port.

The listening socket is made here and handed to public-inbox-httpd (systemd's socket
activation, which public-inbox's daemons honour): a request made the moment the server
starts waits in the socket's queue, so nothing polls for the server to come up.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Dict, List, Optional

TOOLS = ("public-inbox-init", "public-inbox-mda", "public-inbox-index", "public-inbox-httpd")
MISSING = [t for t in TOOLS if shutil.which(t) is None]
WHY_SKIPPED = (
    f"public-inbox is not installed ({', '.join(MISSING)} missing): apt-get install public-inbox "
    "(.ci/run installs it; CI never skips these tests)"
)


_EMPTY: Dict[str, Path] = {}
_TMP = tempfile.gettempdir()  # at import: not the TMPDIR of the test that first needs it


def _empty(name: str, address: str) -> Path:
    """An empty inbox ``name`` as public-inbox-init -V2 makes it, made once a process."""
    if name not in _EMPTY:
        root = Path(tempfile.mkdtemp(prefix="pwapply-empty-inbox-", dir=_TMP))
        atexit.register(shutil.rmtree, root, True)
        env = dict(os.environ, PI_CONFIG=str(root / "pi-config"), HOME=str(root))
        argv = ["public-inbox-init", "-V2", name, str(root / name), f"http://127.0.0.1/{name}", address]
        proc = subprocess.run(argv, env=env, capture_output=True)
        assert proc.returncode == 0, f"public-inbox-init failed: {proc.stderr.decode(errors='replace')}"
        _EMPTY[name] = root / name
    return _EMPTY[name]


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
        self._count = 0  # mails put in
        # public-inbox-init costs a quarter of a second of Perl: made once a process, an
        # empty inbox (relocatable: nothing in it names its own path) is copied.
        shutil.copytree(_empty(name, self.address), self.dir, symlinks=True)
        with open(self.env["PI_CONFIG"], "a") as config:
            config.write(
                f'[publicinbox "{name}"]\n\taddress = {self.address}\n\turl = http://127.0.0.1/{name}\n'
                f"\tinboxdir = {self.dir}\n[publicinboxmda]\n\tspamcheck = none\n"
            )

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
        mails) to the inbox, in order; their Message-IDs.  As public-inbox-mda would, one
        commit a mail, but all of them by one git fast-import (and, once the inbox is
        served, one public-inbox-index): an mda process a mail made the archive's tests
        slow."""
        from pwapply import mbox

        ids = [mbox.parse(raw).msgid for raw in self._mails(mboxes)]
        self.load(*mboxes)
        if self.base:  # served: index what came
            self._run("public-inbox-index", str(self.dir))
        return ids

    def _mails(self, mboxes: "tuple[bytes, ...]") -> List[bytes]:
        """Each mail of ``mboxes`` as delivered: an archive's '>From ' lines unquoted once,
        the mbox's From_ line left out."""
        from pwapply import mbox

        out = []
        for data in mboxes:
            for raw in mbox.split(data):
                if raw.startswith(b"From mboxrd@"):
                    raw = re.sub(rb"(?m)^>(>*From )", rb"\1", raw)
                if raw.startswith(b"From "):
                    raw = raw.split(b"\n", 1)[1]
                out.append(raw)
        return out

    def load(self, *mboxes: bytes) -> int:
        """Put many mails into the inbox at once: one commit per mail in its first epoch,
        as public-inbox itself writes them (a file ``m``), by git fast-import; the index
        is made by serve() (or add(), once served); the number of mails."""
        stream: List[bytes] = []
        epoch = self.dir / "git" / "0.git"
        tip = subprocess.run(
            ["git", "rev-parse", "-q", "--verify", "refs/heads/master"], cwd=epoch, env=self.env, capture_output=True
        ).stdout.strip()
        for raw in self._mails(mboxes):
            self._count += 1
            message = b"mail %d" % self._count
            stream.append(
                b"commit refs/heads/master\n"
                b"committer public-inbox <public-inbox@example.org> %d +0000\n"
                % (1500000000 + self._count)
                + b"data %d\n%s\n" % (len(message), message)
                + (b"from %s\n" % tip if tip and len(stream) == 0 else b"")
                + b"M 100644 inline m\ndata %d\n%s\n" % (len(raw), raw)
            )
        proc = subprocess.run(
            ["git", "fast-import", "--quiet"], cwd=epoch, input=b"".join(stream), env=self.env, capture_output=True
        )
        assert proc.returncode == 0, f"git fast-import failed: {proc.stderr.decode(errors='replace')}"
        return len(stream)

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
