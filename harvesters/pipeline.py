"""Two threads around the harvest loop: pages fetched ahead, pages stored behind.

The loop's own thread parses metadata (Python, holding the GIL). Fetching, lxml parsing and
serialising, zlib and the database driver spend most of their time outside the GIL, so running
them in a fetching thread ahead and a storing thread behind keeps both cores busy. Order is
kept: pages come out of ``prefetch`` in list order and ``Behind`` runs its calls one at a
time in the order given, so checkpoints are committed in page order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()


def prefetch(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield ``items``, producing the next ones in a thread while the caller handles this one."""
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(buffer, (item, None), stop):
                    return
            _put(buffer, (_DONE, None), stop)
        except BaseException as exc:  # handed to the consumer, who raises it
            _put(buffer, (None, exc), stop)

    worker = threading.Thread(target=produce, name="oai-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = buffer.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def _put(buffer: queue.Queue, item: tuple, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            buffer.put(item, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False


class Behind:
    """Run calls in one background thread, in order, at most one waiting; errors come back.

    A call that raises stops the calls after it; the error is raised by the next ``submit``
    or by leaving the ``with`` block, which first waits for the calls already submitted (and
    raises the call's error even over an error of the block itself).
    """

    def __init__(self, name: str = "oai-store") -> None:
        self._calls: queue.Queue = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, call: Callable[..., Any], *args: Any) -> None:
        """Queue ``call(*args)``; wait while one call is already waiting."""
        self._raise()
        self._calls.put((call, args))

    def _work(self) -> None:
        while True:
            job = self._calls.get()
            if job is None:
                return
            if self._error is not None:
                continue  # a call failed: later ones must not run (checkpoints stay in order)
            call, args = job
            try:
                call(*args)
            except BaseException as exc:  # raised again in the submitting thread
                self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def __enter__(self) -> Behind:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._calls.put(None)
        self._thread.join()
        if self._error is not None and self._error is not exc:
            # A page that failed to commit outranks what the loop was doing meanwhile.
            raise self._error from exc
