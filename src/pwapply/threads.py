"""Threads pwapply starts: daemon threads only, so that none can hold the exit
(concurrent.futures' ThreadPoolExecutor joins its workers when the interpreter exits,
whatever ``shutdown(wait=False)`` said: a worker stuck in a request, or on an import
lock, would hold it).  Wait for their futures with process.result(), which a signal
always ends.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, Optional, Tuple, TypeVar

T = TypeVar("T")


def in_thread(fn: Callable[[], T], name: str) -> "Future[T]":
    """Run ``fn`` in a daemon thread; its future (nobody waits for a thread whose result
    is not wanted any more: an interrupted run exits without it)."""
    fut: "Future[T]" = Future()

    def body() -> None:
        if not fut.set_running_or_notify_cancel():
            return
        try:
            fut.set_result(fn())
        except BaseException as exc:  # noqa: B036 -- handed to whoever waits
            fut.set_exception(exc)

    threading.Thread(target=body, name=name, daemon=True).start()
    return fut


class Pool:
    """Up to ``workers`` daemon threads that run what is submitted, started as needed
    (ThreadPoolExecutor's interface, as far as pwapply uses it).  ``shutdown()`` never
    waits: a request still running is one nobody will read."""

    def __init__(self, workers: int, name: str) -> None:
        self._workers = workers
        self._name = name
        self._queue: "queue.SimpleQueue[Optional[Tuple[Future[Any], Callable[..., Any], Tuple[Any, ...]]]]" = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0  # threads waiting for work, not yet promised any
        self._closed = False

    def submit(self, fn: Callable[..., T], *args: Any) -> "Future[T]":
        fut: "Future[T]" = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            self._queue.put((fut, fn, args))
            if self._idle:
                self._idle -= 1
            elif self._threads < self._workers:
                self._threads += 1
                threading.Thread(target=self._work, name=f"{self._name}-{self._threads}", daemon=True).start()
        return fut

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fut, fn, args = item
            if not fut.set_running_or_notify_cancel():
                with self._lock:
                    self._idle += 1
                continue
            value: Any = None
            error: Optional[BaseException] = None
            try:
                value = fn(*args)
            except BaseException as exc:  # noqa: B036 -- handed to whoever waits
                error = exc
            with self._lock:  # idle before the result is out: what is submitted next finds this thread
                self._idle += 1
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(value)
            del value, error

    def shutdown(self) -> None:
        """Cancel what has not started, and let the threads go when they are done."""
        with self._lock:
            self._closed = True
            threads = self._threads
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in range(threads):
            self._queue.put(None)

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
