"""The early fetch: a series' requests sent before the command line is parsed.

One interpreter spends a run's first 0.07 s loading the pipeline and 0.085 s more
loading httpx and httpcore, and, one thread at a time, sends no request before both.
For the everyday call (``pwapply SERIES`` as cli/apply_line.py reads it, not an mbox,
without -v), main() forks at once (Linux): the child reads the settings as the command
will, loads httpx and fetches the series (JSON and mbox, then the cover letter's
replies and text) on another core, while the parent loads the rest and checks the
repository, and loads no httpx at all when the child serves it.

The child sends back, through a pipe, the key it fetched for (what was named, the
project, who asks which server how: ``Transport.identity``) and then what it got, an
error included.  The parent takes it only when its own key is the same; else it ends
the child and asks the server itself, as it would have without one.  An error the
child met is raised in the parent, as if the parent had met it.

The child never writes to the terminal, takes no lock and touches no file; a signal
to the process group ends it (default handlers), and the parent ends it whenever it
stops wanting it (a different key, an error, Ctrl-C, exit).
"""

from __future__ import annotations

import os
import sys

# Only os and sys before the fork: each module loaded here delays the child's start
# (typing, pickle, threading and futures cost 30 ms together), and the parent's too.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from concurrent.futures import Future
    from typing import Any, Callable, Dict, Mapping, NoReturn, Optional, Tuple

    from ..resolve import SeriesRef
    from .client import Fetched, PatchworkClient


OFF = "PWAPPLY_EARLY_FETCH"  # =0: never (to compare the two ways, or to rule it out)


class Gone(Exception):
    """The child ended before it sent this."""


class Early:
    """The parent's end of the child: its pid, the pipe, and (once the parent listens)
    what the child sent, as futures a reader thread fills: the key, the series, its
    cover letter's replies and its text."""

    def __init__(self, pid: int, fd: int) -> None:
        import threading

        self.pid = pid
        self._fd = fd
        self._ended = False
        self._lock = threading.Lock()
        self.taken = False
        self.got: "Dict[str, Future[Any]]" = {}

    def listen(self) -> None:
        import threading
        from concurrent.futures import Future

        self.got = {k: Future() for k in ("key", "fetched", "comments", "text")}
        threading.Thread(target=self._read, name="pwapply-early", daemon=True).start()

    def _read(self) -> None:
        import pickle

        with os.fdopen(self._fd, "rb") as pipe:
            while True:
                head = pipe.read(4)
                body = pipe.read(int.from_bytes(head, "big")) if len(head) == 4 else b""
                try:
                    what, ok, value = pickle.loads(body)
                except Exception:  # noqa: BLE001 -- the pipe closed, or a torn message: the child is gone
                    break
                if ok:
                    self.got[what].set_result(value)
                else:
                    self.got[what].set_exception(value)
        for fut in self.got.values():
            if not fut.done():
                fut.set_exception(Gone())
        self.end()

    def end(self) -> None:
        """End the child if it still runs, and reap it: once, from any thread or at
        exit; whoever calls it returns once the child is gone."""
        import signal

        with self._lock:
            if self._ended:
                return
            self._ended = True
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            if not self.got:  # never listened: the pipe is ours to close
                os.close(self._fd)


_early: Optional[Early] = None


def start(
    named: str,
    *,
    no_deps: bool,
    flags: Mapping[str, Optional[str]],
    timeout: float,
    ca_bundle: Optional[str],
    max_mbox: int,
) -> None:
    """Fork the child that fetches ``named`` as an apply with these options would (see
    the module's doc).  Linux only: elsewhere, and where fork fails, nothing happens."""
    global _early
    if sys.platform != "linux" or os.environ.get(OFF) == "0":
        return
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return
    if pid == 0:
        os.close(r)
        _in_child(w, lambda: _child(named, no_deps, dict(flags), timeout, ca_bundle, max_mbox, w))
    os.close(w)
    _early = Early(pid, r)


def stop() -> None:
    """End the child, if there is one (at exit: os._exit runs no atexit handler)."""
    if _early is not None:
        _early.end()


def running() -> bool:
    """Whether a child is fetching (the parent then has no need to load httpx early)."""
    return _early is not None


def _in_child(w: int, work: Callable[[], None]) -> NoReturn:
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a signal ends it, silently
        signal.signal(sig, signal.SIG_DFL)
    code = 0
    try:
        for name in ("PWAPPLY_TEST_SIGNAL", "PWAPPLY_TEST_STEPS"):  # the tests' steps are the parent's
            os.environ.pop(name, None)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # never a word to the terminal, nor a read from it
            os.dup2(null, fd)
        from .. import process

        # The work runs in a thread: there, waits for answers block until they come,
        # where a main thread without guard() would wait in slices.
        process.in_thread(work, "pwapply-early").result()
    except BaseException:  # noqa: BLE001 -- the parent sees the pipe close
        code = 1
    os._exit(code)


def _child(
    named: str,
    no_deps: bool,
    flags: Dict[str, Optional[str]],
    timeout: float,
    ca_bundle: Optional[str],
    max_mbox: int,
    w: int,
) -> None:
    """The child's work: the settings, the key, the fetch, each thing sent as it comes."""
    out = os.fdopen(w, "wb")

    def send(what: str, ok: bool, value: Any) -> None:
        import pickle

        body = pickle.dumps((what, ok, value), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(len(body).to_bytes(4, "big") + body)
        out.flush()

    from ..config import load
    from ..errors import PwapplyError
    from ..git.run import Git
    from ..resolve import resolve
    from .client import Connection
    from .locate import locate

    ref = resolve(named, is_file=os.path.isfile)
    if ref.offline:
        return
    # Where the repository is matters not for what is fetched: no rev-parse, and no
    # .b4-config (what it sets is not in the key).  The parent checks the repository.
    settings = load(Git(), None, flags=flags, env=os.environ, url_server=ref.server, url_project=ref.project)
    if not settings.server:
        return
    conn = Connection(
        timeout=timeout, ca_bundle=ca_bundle, max_mbox=max_mbox, token=settings.token, token_server=settings.server
    )
    with conn.client(settings.server) as client:
        send("key", True, key(ref, settings.project, client, not no_deps))
        try:
            series_id, known_cover = locate(client, ref, settings.project)
            got = client.fetch(series_id, known_cover=known_cover, cover_text=not no_deps)
        except PwapplyError as exc:
            send("fetched", False, exc)
            return
        send("fetched", True, (series_id, got.series, got.mbox))
        # The cover letter's replies and its text, each sent as soon as it is in (the
        # parent may wait for either first).
        from concurrent.futures import as_completed

        later: "Dict[Future[Any], str]" = {}
        if got.pending_comments is not None:
            later[got.pending_comments] = "comments"
        if got.pending_cover is not None:
            later[got.pending_cover] = "text"
        for fut in as_completed(later):
            failed = fut.exception()
            if failed is None:
                send(later[fut], True, fut.result())
            elif isinstance(failed, PwapplyError):  # anything else: the parent asks itself
                send(later[fut], False, failed)


def key(ref: "SeriesRef", project: Optional[str], client: "PatchworkClient", cover_text: bool) -> Tuple[Any, ...]:
    """What a fetch depends on: the same key, the same requests and answers."""
    return (ref, project, client.identity(), cover_text)


def take(
    ref: "SeriesRef", project: Optional[str], client: "PatchworkClient", cover_text: bool
) -> "Optional[Tuple[int, Fetched]]":
    """(series id, what was fetched) when the child fetched it for this very key; None
    (and the child ended) when there is no child or it fetched something else."""
    e = _early
    if e is None or e.taken:
        return None
    e.taken = True
    from .. import process
    from .client import Fetched

    e.listen()
    try:
        theirs = process.result(e.got["key"], what="early fetch")
        if theirs != key(ref, project, client, cover_text):
            e.end()
            return None
        series_id, series, mbox = process.result(e.got["fetched"], what="series")
    except Gone:
        e.end()
        return None
    except BaseException:
        e.end()
        raise
    cover = series.cover.id if series.cover is not None else None
    comments = _or_ask(e.got["comments"], client, client.cover_comments, cover) if cover else None
    text = _or_ask(e.got["text"], client, client.cover_content, cover) if cover and cover_text else None
    return series_id, Fetched(series=series, mbox=mbox, pending_comments=comments, pending_cover=text)


def _or_ask(fut: "Future[Any]", client: "PatchworkClient", ask: Callable[[int], Any], cover: int) -> "Future[Any]":
    """``fut``'s answer, or, if the child went before it sent it, the parent's own."""
    from concurrent.futures import Future

    out: "Future[Any]" = Future()

    def done(f: "Future[Any]") -> None:
        exc = f.exception()
        if isinstance(exc, Gone):
            again = client.submit(ask, cover)
            again.add_done_callback(lambda g: _copy(g, out))
        else:
            _copy(f, out)

    fut.add_done_callback(done)
    return out


def _copy(src: "Future[Any]", dst: "Future[Any]") -> None:
    exc = src.exception()
    if exc is not None:
        dst.set_exception(exc)
    else:
        dst.set_result(src.result())
