"""Usage events from the reader pages, buffered in memory and written in batches.

A search or record view must not wait for a database write, so each worker process keeps the
events in a list and writes them with :func:`federation.usage.record_usage` in one transaction
when ``max_events`` are waiting, when the oldest has waited ``max_age_s`` seconds (a background
thread looks every second), and at interpreter exit.

What can be lost: events still in memory when the worker dies without a normal exit (SIGKILL,
out-of-memory kill, power loss): at most ``max_events`` events or ``max_age_s`` seconds of
them per worker. A batch the database refuses is logged with its size and dropped rather than
retried forever. Events carry library and district codes only, never anything about the reader.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from typing import Any

from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from federation.db import Database
from federation.models import utcnow
from federation.usage import KINDS, record_usage

log = logging.getLogger("federation.web.usage")

MAX_EVENTS = 200
MAX_AGE_S = 5.0


class UsageBuffer:
    """Collect usage events and write them to the database in batches."""

    def __init__(self, db: Database, max_events: int = MAX_EVENTS, max_age_s: float = MAX_AGE_S):
        self.db = db
        self.max_events = max_events
        self.max_age_s = max_age_s
        self._events: list[dict[str, Any]] = []
        self._oldest = 0.0
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pid = os.getpid()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, kind: str, **fields: Any) -> None:
        """Queue one event (see federation.usage.record_usage for the fields)."""
        if kind not in KINDS:
            raise ValueError(f"unknown usage event kind {kind!r}")
        self._after_fork()
        with self._lock:
            if not self._events:
                self._oldest = time.monotonic()
            self._events.append({"kind": kind, "occurred_at": utcnow(), **fields})
            full = len(self._events) >= self.max_events
        self._start_timer()
        if full:
            self.flush()

    def pending(self) -> int:
        """Return how many events wait to be written."""
        with self._lock:
            return len(self._events)

    def flush(self) -> int:
        """Write every waiting event in one transaction; return how many were written."""
        with self._flush_lock:  # one batch at a time, so batches keep their order
            with self._lock:
                events, self._events = self._events, []
            if not events:
                return 0
            try:
                with self.db.session() as session:
                    for event in events:
                        record_usage(session, **event)
            except SQLAlchemyError as exc:
                log.warning("%d usage events were not recorded (database refused): %s",
                            len(events), exc)  # fmt: skip
                return 0
            return len(events)

    def close(self) -> None:
        """Stop the timer thread and write what is left."""
        self._stop.set()
        self.flush()

    def _due(self) -> bool:
        with self._lock:
            return bool(self._events) and time.monotonic() - self._oldest >= self.max_age_s

    def _start_timer(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="usage-flush", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(min(1.0, self.max_age_s)):
            if self._due():
                self.flush()

    def _after_fork(self) -> None:
        # A forked worker inherits the parent's list and a dead timer thread: start afresh, so
        # no event is written twice.
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._events, self._thread = [], None
            self._lock, self._flush_lock = threading.Lock(), threading.Lock()


def init_app(app: Flask) -> UsageBuffer:
    """Give the app its usage buffer, written out at exit."""
    buffer = UsageBuffer(app.extensions["federation.db"])
    app.extensions["federation.usage"] = buffer
    atexit.register(buffer.close)
    return buffer


def usage_buffer() -> UsageBuffer:
    """Return the current app's usage buffer."""
    return current_app.extensions["federation.usage"]
