"""What the OAI-PMH engine needs from a data source, and an in-memory source for demo and tests."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from web.oai.dates import SECONDS, to_utc

Key = tuple[datetime, str]


@dataclass(frozen=True)
class MetadataFormat:
    """A metadata format the repository can disseminate."""

    prefix: str
    schema: str
    namespace: str


@dataclass(frozen=True)
class SetSpec:
    """A set for selective harvesting; ``a:b`` is a child of ``a``."""

    spec: str
    name: str


@runtime_checkable
class Record(Protocol):
    """One item's record: header fields plus its metadata in each format."""

    identifier: str
    datestamp: datetime
    deleted: bool
    sets: tuple[str, ...]

    def metadata(self, prefix: str) -> bytes | None:
        """Return the serialized metadata root element (UTF-8, no declaration), or None."""


class Repository(Protocol):
    """The data source behind an OAI-PMH endpoint."""

    name: str
    base_url: str
    admin_emails: tuple[str, ...]
    granularity: str
    deleted_record: str

    def earliest_datestamp(self) -> datetime:
        """Return the lower bound of all datestamps."""

    def metadata_formats(self, identifier: str | None = None) -> list[MetadataFormat]:
        """Return the formats of the repository, or of one item."""

    def sets(self) -> list[SetSpec]:
        """Return the set hierarchy (empty when the repository has none)."""

    def get(self, identifier: str) -> Record | None:
        """Return the record with ``identifier``, deleted ones included."""

    def list(
        self,
        prefix: str,
        from_: datetime | None,
        until: datetime | None,
        set_spec: str | None,
        after: Key | None,
        limit: int,
    ) -> list[Record]:
        """Return up to ``limit`` records ordered by (datestamp, identifier), after ``after``."""

    def count(
        self, prefix: str, from_: datetime | None, until: datetime | None, set_spec: str | None
    ) -> int:
        """Return how many records ``list`` would return in all."""


@dataclass(frozen=True)
class MemoryRecord:
    """A record held in memory: metadata bytes per prefix."""

    identifier: str
    datestamp: datetime
    payloads: Mapping[str, bytes] = field(default_factory=dict, hash=False, compare=False)
    deleted: bool = False
    sets: tuple[str, ...] = ()

    def metadata(self, prefix: str) -> bytes | None:
        """Return the metadata in ``prefix`` (None for deleted records and missing formats)."""
        return None if self.deleted else self.payloads.get(prefix)


def in_set(record: Record, set_spec: str) -> bool:
    """Return whether ``record`` belongs to ``set_spec`` or to one of its child sets."""
    child_prefix = set_spec + ":"
    return any(s == set_spec or s.startswith(child_prefix) for s in record.sets)


def record_key(record: Record) -> Key:
    """Return the record's position in harvesting order."""
    return (to_utc(record.datestamp), record.identifier)


class MemoryRepository:
    """A thread-safe in-memory Repository over records (used by the demo and the tests)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        records: Iterable[Record],
        formats: Sequence[MetadataFormat],
        sets: Sequence[SetSpec] = (),
        admin_emails: tuple[str, ...] = ("admin@example.org",),
        granularity: str = SECONDS,
        deleted_record: str = "persistent",
        earliest: datetime | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url  # may be set after the server picked its port
        self.admin_emails = tuple(admin_emails)
        self.granularity = granularity
        self.deleted_record = deleted_record
        self._formats = tuple(formats)
        self._sets = tuple(sets)
        self._earliest = earliest
        self._lock = threading.Lock()
        self._by_id: dict[str, Record] = {}
        self._keys: list[Key] = []
        for record in records:
            self.put(record)

    def put(self, record: Record) -> None:
        """Add ``record`` or replace the one with the same identifier (e.g. a deletion)."""
        key = record_key(record)
        with self._lock:
            old = self._by_id.get(record.identifier)
            if old is not None:
                del self._keys[bisect.bisect_left(self._keys, record_key(old))]
            self._by_id[record.identifier] = record
            bisect.insort(self._keys, key)

    def earliest_datestamp(self) -> datetime:
        """Return the configured earliest datestamp, else the oldest record's."""
        if self._earliest is not None:
            return to_utc(self._earliest)
        with self._lock:
            if self._keys:
                return self._keys[0][0]
        return datetime.now(UTC).replace(microsecond=0)

    def metadata_formats(self, identifier: str | None = None) -> list[MetadataFormat]:
        """Return all formats, or those the item can be disseminated in ([] if unknown)."""
        if identifier is None:
            return list(self._formats)
        record = self.get(identifier)
        if record is None:
            return []
        return [f for f in self._formats if self._offers(record, f.prefix)]

    def sets(self) -> list[SetSpec]:
        """Return the configured sets."""
        return list(self._sets)

    def get(self, identifier: str) -> Record | None:
        """Return the record with ``identifier`` or None."""
        with self._lock:
            return self._by_id.get(identifier)

    def list(
        self,
        prefix: str,
        from_: datetime | None,
        until: datetime | None,
        set_spec: str | None,
        after: Key | None,
        limit: int,
    ) -> list[Record]:
        """Return up to ``limit`` matching records after the key ``after``, oldest first."""
        return self._collect(prefix, from_, until, set_spec, after, limit)

    def count(
        self, prefix: str, from_: datetime | None, until: datetime | None, set_spec: str | None
    ) -> int:
        """Return how many records match."""
        return len(self._collect(prefix, from_, until, set_spec, None, None))

    def _offers(self, record: Record, prefix: str) -> bool:
        # A deleted record is listed in every format: harvesters must learn of the deletion.
        return record.deleted or record.metadata(prefix) is not None

    def _collect(
        self,
        prefix: str,
        from_: datetime | None,
        until: datetime | None,
        set_spec: str | None,
        after: Key | None,
        limit: int | None,
    ) -> list[Record]:
        found: list[Record] = []
        last = to_utc(until) if until is not None else None
        with self._lock:
            start = 0
            if from_ is not None:
                start = bisect.bisect_left(self._keys, (to_utc(from_), ""))
            if after is not None:
                start = max(start, bisect.bisect_right(self._keys, (to_utc(after[0]), after[1])))
            for index in range(start, len(self._keys)):
                datestamp, identifier = self._keys[index]
                if last is not None and datestamp > last:
                    break
                record = self._by_id[identifier]
                if set_spec is not None and not in_set(record, set_spec):
                    continue
                if self._offers(record, prefix):
                    found.append(record)
                    if limit is not None and len(found) >= limit:
                        break
        return found
