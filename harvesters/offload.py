"""Normalise the pages of a long list in worker processes, one per core.

The metadata parsers are Python and hold the GIL, so threads alone leave the second core half
idle. For a long list (at least MIN_RECORDS records), pages go to worker processes: each is
sent a page's body exactly as the server sent it (one bytes object, cheap to pass), runs the
same ``parse_page`` and ``to_records`` on it, and sends the rows back with the normalised
record already serialised as JSON. A page goes to the least busy worker; when every worker
holds IN_FLIGHT pages the fetching thread waits for an answer. This process is then left with
fetching and storing only (no GIL contention with the parsers): on two cores, two workers
beat one worker plus normalising here (benchmarks/README.md, session 6).
Pages come deferred (only scanned for their token, ``scan.py``), so a page sent away is
parsed once, by a worker. A page a worker finds malformed is asked for again here, like any
malformed page.

Pages come out in list order (checkpoints stay in order). A worker that dies or fails is not
fatal: its pages are normalised here and the rest of the list does without workers. Each
worker talks over two pipes and reads them in its own thread; it exits when the list is done
or when the harvester's end of the pipe closes (the harvester was killed). With no worker to
be had (every core already has one: several long lists at once), pages are normalised here.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection

import orjson

from harvesters.errors import MalformedResponse
from harvesters.pages import Page, parse_page
from harvesters.store import StoredRecord

log = logging.getLogger(__name__)

MIN_RECORDS = 20_000  # shorter lists do not repay the worker's start-up (~1 s of imports)
MIN_PAGE_ITEMS = 50  # small pages cost more to ship than to normalise here
IN_FLIGHT = 2  # pages the worker holds at most; more are normalised in this process

Parsed = tuple[list[StoredRecord], list[str]]
Row = tuple[str, str, str, str, bytes | None, bytes | None, str | None]
Job = tuple[bytes, str | None, str, str, str, tuple | None]
Answer = tuple[list[Row], list[str], int, int]  # rows, errors, records on the page, illegal chars
_GONE = object()  # the worker stopped answering
# One worker per core, whatever number of members are harvested at once.
WORKERS = max(1, os.cpu_count() or 2)
_workers = threading.BoundedSemaphore(WORKERS)


def normalise_page(
    content: bytes, verb: str | None, record_format: str, prefix: str, member: str, holdings
) -> Answer:
    """Parse a page's body and its records (in the worker); return plain rows and errors."""
    from harvesters.harvest import to_records

    page = parse_page(content, "", verb)
    records, errors = to_records(page.items, record_format, prefix, member, holdings)
    dumps = orjson.dumps
    rows = [
        (
            r.oai_identifier,
            r.datestamp,
            r.status,
            r.metadata_prefix,
            r.raw,
            None if r.normalised is None else dumps(r.normalised),
            r.reject_reason,
        )
        for r in records
    ]
    return rows, errors, len(page.items), page.illegal_chars


class Offload:
    """Route a list's pages to the worker or to ``local``; hand back results in page order."""

    def __init__(
        self,
        state,
        local: Callable[[Page], Parsed],
        complete: Callable[..., Page] | None = None,
        enabled: bool = True,
    ) -> None:
        self.state = state
        self.local = local
        # parses a deferred page here (``OAIClient.complete``); fresh=True off the fetching thread
        self.complete = complete or _parse_here
        self.enabled = enabled
        self.seen = 0  # records of this list so far
        self.pages = self.sent = 0  # pages of this list, and how many went to the worker
        self._workers: list[_Worker] = []
        self._room = threading.Condition()
        self._no_more = False  # no further worker can be started for this list

    def route(self, pages: Iterator[Page]) -> Iterator[tuple[Page, _Worker | None]]:
        """Send pages to the workers as they arrive, parse the others (in the fetching thread)."""
        for page in pages:
            worker = self._send(page) if self._wanted(page) else None
            if worker is not None:
                yield page, worker
            else:
                yield self.complete(page), None

    def ordered(
        self, routed: Iterator[tuple[Page, _Worker | None]]
    ) -> Iterator[tuple[Page, Parsed]]:
        """Normalise local pages now, collect the workers' answers, yield all in list order."""
        pending: deque[tuple[Page, object]] = deque()
        try:
            try:
                for page, worker in routed:
                    pending.append((page, worker if worker is not None else self.local(page)))
                    while pending and (self._ready(pending[0]) or len(pending) > IN_FLIGHT + 1):
                        yield self._resolve(*pending.popleft())
            except Exception:
                while pending:  # what came before the failure is still stored
                    yield self._resolve(*pending.popleft())
                raise
            while pending:
                yield self._resolve(*pending.popleft())
        finally:
            self._stop()
        if self.sent:
            log.info(
                "%s: %d of %d pages normalised by the worker process(es) (%d)",
                self.state.member_code,
                self.sent,
                self.pages,
                len(self._workers),
            )

    def _wanted(self, page: Page) -> bool:
        self.pages += 1
        self.seen += page.item_count
        if not self.enabled or page.item_count < MIN_PAGE_ITEMS or not page.content:
            return False
        expected = page.token.complete_list_size if page.token is not None else None
        return max(self.seen, expected or 0) >= MIN_RECORDS

    def _send(self, page: Page) -> _Worker | None:
        worker = self._place()
        if worker is None:
            return None  # no worker here: this page is normalised here
        state = self.state
        job = (page.content, page.verb, state.record_format, state.prefix, state.member_code,
               state.holdings)  # fmt: skip
        try:
            worker.send(job)
        except Exception as exc:  # it died: carry on without workers
            worker.answered()
            self._give_up(exc)
            return None
        self.sent += 1
        _drop_tree(page)
        return worker

    def _place(self) -> _Worker | None:
        """Take a place in the least busy worker, starting one if all are busy; wait if full."""
        with self._room:
            while self.enabled:
                live = [w for w in self._workers if w.alive]
                free = [w for w in live if w.outstanding < IN_FLIGHT]
                if free:
                    worker = min(free, key=lambda w: w.outstanding)
                    worker.outstanding += 1
                    return worker
                if not self._no_more and len(self._workers) < WORKERS:
                    try:
                        self._workers.append(_Worker.start(self._room))
                    except NoSpareCore as exc:
                        self._no_more = True
                        if not self._workers:
                            self._give_up(exc)
                    except Exception as exc:  # no worker here: carry on without one
                        self._give_up(exc)
                    continue
                if not live:
                    break  # the workers died: the main thread says so when it meets their pages
                self._room.wait(1.0)  # every worker holds IN_FLIGHT pages: wait for an answer
        return None

    def _ready(self, entry: tuple[Page, object]) -> bool:
        outcome = entry[1]
        return not isinstance(outcome, _Worker) or outcome.ready()

    def _resolve(self, page: Page, outcome) -> tuple[Page, Parsed]:
        if not isinstance(outcome, _Worker):
            return page, outcome
        answer = outcome.receive() if self.enabled else _GONE
        if isinstance(answer, tuple):
            rows, errors, count, illegal = answer
            records = [StoredRecord(i, d, s, p, raw, norm, why)
                       for i, d, s, p, raw, norm, why in rows]  # fmt: skip
            if page.deferred:
                page.counted = count
                page.illegal_chars = illegal
            return page, (records, errors)
        if not isinstance(answer, MalformedResponse):
            self._give_up(answer if isinstance(answer, BaseException) else None)
        full = self._parse_again(page)  # this process does it (the page as asked again, if so)
        return full, self.local(full)

    def _parse_again(self, page: Page) -> Page:
        """Parse here a page sent to the worker (its tree, if it had one, was dropped)."""
        if page.deferred:
            return self.complete(page, fresh=True)  # a malformed one is asked for again
        return parse_page(page.content, "", page.verb)

    def _give_up(self, exc: BaseException | None) -> None:
        if isinstance(exc, NoSpareCore):
            log.debug("%s: %s; normalising in this process", self.state.member_code, exc)
        elif self.enabled:
            reason = f"{type(exc).__name__}: {exc}" if exc is not None else "it stopped answering"
            log.warning(
                "%s: normalising in this process only (worker process failed: %s)",
                self.state.member_code,
                reason,
            )
        with self._room:
            self.enabled = False
            self._room.notify_all()

    def _stop(self) -> None:
        with self._room:
            self.enabled = False  # the fetching thread may still be routing: no new worker
            self._room.notify_all()
        for worker in self._workers:
            worker.stop()


def _parse_here(page: Page, fresh: bool = False) -> Page:
    """Parse a deferred page without a client to ask again (malformed pages raise)."""
    if not page.deferred:
        return page
    full = parse_page(page.content, "", page.verb)
    full.retries, full.request = page.retries, page.request
    return full


class NoSpareCore(RuntimeError):
    """Every spare core already runs a worker (several long lists harvested at once)."""


def _drop_tree(page: Page) -> None:
    """Let the parsed tree of a page sent to the worker go: only its headers are used here."""
    for item in page.items:
        item.metadata = None
    page.root = None


class _Worker:
    """One worker process: jobs go down one pipe, answers come back up another, in order."""

    def __init__(
        self, process, jobs: Connection, answers: Connection, room: threading.Condition
    ) -> None:
        self.process = process
        self.jobs = jobs
        self.answers: queue.Queue = queue.Queue()
        self.outstanding = 0  # pages sent and not answered yet
        self.alive = True
        self._room = room
        self._reader = threading.Thread(
            target=_read_answers, args=(answers, self), name="offload-answers", daemon=True
        )
        self._reader.start()

    def answered(self) -> None:
        """Free the place of a page the worker answered (or never will)."""
        with self._room:
            self.outstanding = max(0, self.outstanding - 1)
            self._room.notify_all()

    @classmethod
    def start(cls, room: threading.Condition) -> _Worker:
        """Start a worker process, or raise NoSpareCore when every spare core has one."""
        if not _workers.acquire(blocking=False):
            raise NoSpareCore("every spare core already has a worker")
        try:
            context = multiprocessing.get_context("spawn")  # fork is unsafe with threads
            job_out, job_in = context.Pipe(duplex=False)
            answer_out, answer_in = context.Pipe(duplex=False)
            process = context.Process(
                target=_serve, args=(job_out, answer_in), name="harvest-normaliser", daemon=True
            )
            process.start()
        except BaseException:
            _workers.release()
            raise
        job_out.close()  # the worker's ends: holding them here would hide its death
        answer_in.close()
        return cls(process, job_in, answer_out, room)

    def send(self, job: Job) -> None:
        """Hand the worker a page (its reading thread takes it at once)."""
        self.jobs.send(job)

    def ready(self) -> bool:
        """Tell whether the oldest answer (or the news that the worker is gone) has come."""
        return not self.answers.empty()

    def receive(self):
        """Return the oldest answer: (rows, errors), an exception, or _GONE."""
        answer = self.answers.get()
        if answer is _GONE:
            self.answers.put(_GONE)  # every later page learns it too
        return answer

    def stop(self) -> None:
        """Tell the worker to finish, wait for it (its CPU time is then counted), free its core."""
        try:
            self.jobs.send(None)
            self.jobs.close()
        except OSError:
            pass  # already gone
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        _workers.release()


def _read_answers(answers: Connection, worker: _Worker) -> None:
    while True:
        try:
            answer = answers.recv()
        except (EOFError, OSError):
            worker.answers.put(_GONE)
            with worker._room:
                worker.alive = False  # nothing more goes to it
                worker._room.notify_all()
            return
        worker.answers.put(answer)
        worker.answered()


def _serve(jobs: Connection, answers: Connection) -> None:
    """Worker process: normalise pages until told to stop or the harvester's end closes."""
    waiting: queue.Queue = queue.Queue()

    def take_jobs() -> None:  # read at once, so the harvester never waits to hand one over
        while True:
            try:
                job = jobs.recv()
            except (EOFError, OSError):
                job = None
            waiting.put(job)
            if job is None:
                return

    threading.Thread(target=take_jobs, name="offload-jobs", daemon=True).start()
    # Automatic collection runs every 700 allocations, and a page makes hundreds of thousands
    # (lxml proxies, tuples, strings) that reference counting frees anyway: ~6-10 % of the
    # worker's CPU. The parsers make no reference cycles of their own; whatever a page leaves
    # is collected once the page is answered.
    gc.freeze()  # the imports' objects are never garbage
    gc.disable()
    while (job := waiting.get()) is not None:
        try:
            answer = normalise_page(*job)
        except MalformedResponse as exc:  # handed back: the harvester asks for the page again
            answer = exc
        except Exception as exc:  # handed back: the harvester normalises that page itself
            answer = RuntimeError(f"{type(exc).__name__}: {exc}")
        answers.send(answer)
        del answer
        gc.collect(1)
