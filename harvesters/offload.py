"""Normalise big pages in a worker process, so the harvest uses a second core.

The metadata parsers are pure Python and hold the GIL, so threads cannot run them beside the
fetching, XML parsing and database writes. A page with many records is instead serialised
record by record (in the prefetch thread, as the stored payload needs anyway) and handed to
one spawned worker process, which parses each record again, normalises it and compresses its
payload, exactly as :func:`harvesters.harvest.to_records` does in process. Small pages (the
demo, most tests) stay in process: starting a worker costs more than it saves there.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType

from lxml import etree

from harvesters.pages import Header, Item, Page, hardened_parser

POOL_MIN_RECORDS = 100  # records with metadata a page needs before it goes to the worker
Parsed = Callable[[], tuple[list, list[str]]]  # waits for, then returns, (records, errors)
# (identifier, datestamp, deleted, sets, serialised metadata or None) for each item of a page
_Wire = tuple[str, str, bool, tuple[str, ...], bytes | None]


class RecordPool:
    """Turn pages into records to store: big pages in a worker process, small ones here."""

    def __init__(self, record_format: str, prefix: str, member_code: str, holdings=None) -> None:
        self._args = (record_format, prefix, member_code, holdings)
        self._executor: ProcessPoolExecutor | None = None

    def prepare(self, pages: Iterator[Page]) -> Iterator[tuple[Page, Future | None]]:
        """Yield each page with its worker job (None: parse in process); run in prefetch."""
        from harvesters.harvest import stored_payload

        for page in pages:
            wire = _wire(page) if _worth_a_worker(page) else None
            if wire is None:
                for item in page.items:
                    if item.metadata is not None:
                        item.raw = stored_payload(item.metadata)
                yield page, None
            else:
                yield page, self._pool().submit(parse_wire, *self._args, wire)

    def records(self, page: Page, job: Future | None) -> Parsed:
        """Return a call giving the page's (records, errors), in process when no job runs."""
        from harvesters.harvest import to_records

        if job is None:
            done = to_records(page.items, *self._args)
            return lambda: done

        def wait() -> tuple[list, list[str]]:
            result = job.result()
            # A record that does not parse on its own (an entity from the page's DTD): the
            # worker gave up on the page, so it is parsed here from the page's own tree.
            return result if result is not None else to_records(page.items, *self._args)

        return wait

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=int(__import__('os').environ.get('HW', '1')),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_ignore_interrupts,
            )
        return self._executor

    def __enter__(self) -> RecordPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _worth_a_worker(page: Page) -> bool:
    return sum(1 for item in page.items if item.metadata is not None) >= POOL_MIN_RECORDS


def _wire(page: Page) -> list[_Wire]:
    """Serialise a page's items for the worker (the stored payload, not yet compressed)."""
    out = []
    for item in page.items:
        h, element = item.header, item.metadata
        xml = None
        if element is not None:
            xml = etree.tostring(element, encoding="utf-8", with_tail=False)
        out.append((h.identifier, h.datestamp, h.deleted, h.sets, xml))
    return out


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group; the harvest process stops the worker itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def parse_wire(
    record_format: str, prefix: str, member_code: str, holdings, wire: list[_Wire]
) -> tuple[list, list[str]] | None:
    """Parse one page's serialised items into (records, errors); None if one does not parse."""
    from harvesters.harvest import to_records
    from harvesters.store import compress

    parser = hardened_parser()
    items = []
    for identifier, datestamp, deleted, sets, xml in wire:
        element = raw = None
        if xml is not None:
            try:
                element = etree.fromstring(xml, parser)
            except etree.XMLSyntaxError:
                return None
            raw = compress(xml)
        items.append(Item(Header(identifier, datestamp, deleted, sets), element, raw))
    return to_records(items, record_format, prefix, member_code, holdings)
