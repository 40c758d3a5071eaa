"""Write harvested records into the record store, one page per transaction with its checkpoint.

A page's records are upserted by (member, OAI identifier) with SQLAlchemy Core
(``INSERT ... ON CONFLICT DO UPDATE``, executemany) on SQLite and PostgreSQL alike, and the
run's checkpoint (token, cursor, newest datestamp, counters) is updated in the same
transaction: a killed harvest resumes exactly after the last page that committed. Records
whose datestamp, status and payload did not change are counted as unchanged and not written.
"""

from __future__ import annotations

import dataclasses
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import zstandard
from sqlalchemy import JSON, bindparam, func, null, select, update
from sqlalchemy.engine import Connection

from federation.db import Database
from federation.models import HarvestRun, Record, utcnow
from harvesters.bibrecord import BibRecord, Holding, Name

RECORDS = Record.__table__
RUNS = HarvestRun.__table__
_IN_CHUNK = 500  # identifiers per IN (...) list: far below every database's parameter limit
_UPSERT_COLUMNS = (
    "member_code",
    "oai_identifier",
    "datestamp",
    "status",
    "metadata_prefix",
    "reject_reason",
    "raw",
    "normalised",
    "run_id",
    "harvested_at",
)
MAX_REASON, MAX_ERROR, MAX_TOKEN, MAX_IDENTIFIER = 1000, 2000, 2000, 500


# -- the stored form of a record -----------------------------------------------------------------


def compress(payload: bytes) -> bytes:
    """Compress a raw payload for storage: one zstd frame at level -1 (about 3x smaller).

    The compressor is made once per thread: a zlib stream (zlib-ng, until session 6) set up
    and zeroed ~300 KB of tables for every record, ~9 µs of a ~2.4 KB record; zstd reuses its
    context and takes ~4-5 µs for the same ratio, and decompresses twice as fast.
    """
    try:
        compressor = _codecs.compressor
    except AttributeError:
        compressor = _codecs.compressor = zstandard.ZstdCompressor(level=-1)
    return compressor.compress(payload)


def decompress(stored: bytes) -> bytes:
    """Return the raw payload kept by :func:`compress` (or by zlib, in stores made before)."""
    if stored[:4] != _ZSTD_MAGIC:
        return zlib.decompress(stored)
    try:
        decompressor = _codecs.decompressor
    except AttributeError:
        decompressor = _codecs.decompressor = zstandard.ZstdDecompressor()
    return decompressor.decompress(stored)


# A zstd frame's magic number; no zlib stream starts so (its first two bytes would fail the
# zlib header's check: 0x28B5 is not a multiple of 31).
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_codecs = threading.local()  # zstd contexts must not be shared between threads
CorruptPayload = (zlib.error, zstandard.ZstdError)


_BIB_FIELDS = tuple(f.name for f in dataclasses.fields(BibRecord) if f.name not in ("raw",))
_HOLDING_FIELDS = tuple(f.name for f in dataclasses.fields(Holding))


def bib_to_json(record: BibRecord) -> dict[str, Any]:
    """Return a BibRecord as JSON-able data without empty values (the ``normalised`` column)."""
    # Hand-written rather than dataclasses.asdict: this runs once per harvested record.
    out: dict[str, Any] = {}
    for name in _BIB_FIELDS:
        value = getattr(record, name)
        if not value and value != 0:
            continue
        if name == "names":
            value = [{"name": n.name, "role": n.role, "kind": n.kind} for n in value]
        elif name == "holdings":
            value = [{f: getattr(h, f) for f in _HOLDING_FIELDS} for h in value]
        out[name] = value
    return out


def bib_from_json(data: dict[str, Any]) -> BibRecord:
    """Rebuild a BibRecord from :func:`bib_to_json` data (tuples come back as tuples)."""
    values = dict(data)
    values["names"] = [Name(**n) for n in values.get("names", ())]
    values["holdings"] = [Holding(**h) for h in values.get("holdings", ())]
    for name in ("classifications", "series", "system_numbers", "national_bib_numbers"):
        values[name] = [tuple(pair) for pair in values.get(name, ())]
    return BibRecord(**values)


@dataclass(slots=True)
class StoredRecord:
    """One record as it will be written: what the harvest loop makes of an OAI record."""

    oai_identifier: str
    datestamp: str
    status: str  # active | deleted | rejected
    metadata_prefix: str
    raw: bytes | None = None  # compressed payload; None for tombstones
    normalised: dict | bytes | None = None  # bytes: already serialised as JSON
    reject_reason: str | None = None


@dataclass
class PageCounts:
    """What one page changed in the store."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0

    def add(self, other: PageCounts) -> None:
        """Add another page's counts to these."""
        for name in ("new", "updated", "unchanged", "deleted", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Checkpoint:
    """Where the run stands after a page: what a killed harvest resumes from."""

    resumption_token: str | None
    cursor: int
    last_datestamp: str | None
    set_spec: str | None = None
    response_date: str | None = None  # kept only from the run's first page
    illegal_chars: int = 0  # found on this page
    retries: int = 0  # made for this page
    errors: list[str] = field(default_factory=list)


# -- pages ---------------------------------------------------------------------------------------


def save_page(
    db: Database, run_id: int, member_code: str, records: list[StoredRecord], checkpoint: Checkpoint
) -> PageCounts:
    """Upsert a page's records and move the run's checkpoint, in one transaction."""
    records = _last_of_each(records)
    with db.engine.begin() as conn:
        changed, counts = _classify(conn, member_code, records)
        if changed:
            _upsert(conn, member_code, changed, run_id)
        conn.execute(_checkpoint_statement(run_id, counts, checkpoint))
    return counts


def _upsert(conn: Connection, member_code: str, records: list[StoredRecord], run_id: int) -> None:
    """Write the changed records of a page with one executemany."""
    now = utcnow()
    if conn.dialect.name != "sqlite":
        rows = [_row(member_code, r, run_id, now) for r in records]
        conn.execute(_upsert_statement(conn.dialect.name), rows)
        return
    # SQLite: the compiled statement straight to the driver, values already in their stored
    # form (orjson text, the DateTime column's own string), skipping per-row bind processing.
    sql, stamp = _sqlite_upsert(conn.dialect)
    # Without a bind processor sqlite3's adapter writes datetime.isoformat(" ") for each row;
    # the same text, made once per page.
    now = stamp(now) if stamp is not None else now.isoformat(" ")
    dumps = orjson.dumps
    conn.exec_driver_sql(
        sql,
        [
            (
                member_code,
                r.oai_identifier,
                r.datestamp,
                r.status,
                r.metadata_prefix,
                cut(r.reject_reason, MAX_REASON),
                r.raw,
                _json_text(r.normalised, dumps),
                run_id,
                now,
            )
            for r in records
        ],
    )


def _last_of_each(records: list[StoredRecord]) -> list[StoredRecord]:
    """Drop repeats of an identifier within a page (some servers send them); the last wins."""
    by_id = {r.oai_identifier: r for r in records}
    return records if len(by_id) == len(records) else list(by_id.values())


def _classify(conn: Connection, member_code: str, records: list[StoredRecord]):
    """Split a page into records to write and counts, reading what the store already holds."""
    existing = _existing(conn, member_code, [r.oai_identifier for r in records])
    same = [
        r.oai_identifier
        for r in records
        if existing.get(r.oai_identifier) == (r.datestamp, r.status) and r.raw is not None
    ]
    stored_raw = _stored_raw(conn, member_code, same) if same else {}
    counts, changed = PageCounts(), []
    for r in records:
        before = existing.get(r.oai_identifier)
        if before == (r.datestamp, r.status) and stored_raw.get(r.oai_identifier) == r.raw:
            counts.unchanged += 1
            continue
        changed.append(r)
        if r.status == "deleted":
            counts.deleted += 1
        elif r.status == "rejected":
            counts.rejected += 1
        elif before is None:
            counts.new += 1
        else:
            counts.updated += 1
    return changed, counts


def _existing(conn: Connection, member_code: str, identifiers: list[str]) -> dict:
    found: dict[str, tuple[str, str]] = {}
    sqlite = conn.dialect.name == "sqlite"
    for start in range(0, len(identifiers), _IN_CHUNK):
        chunk = identifiers[start : start + _IN_CHUNK]
        if sqlite:  # plain SQL: SQLAlchemy renders a 500-item IN list at every call
            rows = conn.exec_driver_sql(_sqlite_existing(len(chunk)), (member_code, *chunk))
        else:
            rows = conn.execute(
                select(RECORDS.c.oai_identifier, RECORDS.c.datestamp, RECORDS.c.status).where(
                    RECORDS.c.member_code == member_code, RECORDS.c.oai_identifier.in_(chunk)
                )
            )
        found.update((i, (d, s)) for i, d, s in rows)
    return found


def _sqlite_existing(size: int) -> str:
    key = f"sqlite-existing-{size}"
    if key not in _statements:
        c = RECORDS.c  # names from the table; every value is a bound parameter
        columns = f"{c.oai_identifier.name}, {c.datestamp.name}, {c.status.name}"
        where = f"{c.member_code.name} = ? AND {c.oai_identifier.name} IN ({', '.join('?' * size)})"
        _statements[key] = f"SELECT {columns} FROM {RECORDS.name} WHERE {where}"  # noqa: S608
    return _statements[key]


def _stored_raw(conn: Connection, member_code: str, identifiers: list[str]) -> dict:
    found: dict[str, bytes | None] = {}
    for start in range(0, len(identifiers), _IN_CHUNK):
        chunk = identifiers[start : start + _IN_CHUNK]
        query = select(RECORDS.c.oai_identifier, RECORDS.c.raw).where(
            RECORDS.c.member_code == member_code, RECORDS.c.oai_identifier.in_(chunk)
        )
        found.update((i, bytes(raw) if raw is not None else None) for i, raw in conn.execute(query))
    return found


def _row(member_code: str, r: StoredRecord, run_id: int, now: datetime) -> dict[str, Any]:
    return {
        "p_member_code": member_code,
        "p_oai_identifier": r.oai_identifier,
        "p_datestamp": r.datestamp,
        "p_status": r.status,
        "p_metadata_prefix": r.metadata_prefix,
        "p_reject_reason": cut(r.reject_reason, MAX_REASON),
        "p_raw": r.raw,
        "p_normalised": orjson.loads(r.normalised)
        if isinstance(r.normalised, bytes)
        else r.normalised,
        "p_run_id": run_id,
        "p_harvested_at": now,
    }


_statements: dict[str, Any] = {}


def _upsert_statement(dialect: str):
    """Build (once per dialect) INSERT ... ON CONFLICT (member, identifier) DO UPDATE."""
    if dialect not in _statements:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            raise NotImplementedError(f"the record store does not support {dialect}")
        values = {c: bindparam(f"p_{c}", type_=RECORDS.c[c].type) for c in _UPSERT_COLUMNS}
        # A tombstone's normalised record is SQL NULL, not the JSON text 'null'.
        values["normalised"] = bindparam("p_normalised", type_=JSON(none_as_null=True))
        stmt = insert(RECORDS).values(values)
        keep = {c: stmt.excluded[c] for c in _UPSERT_COLUMNS[2:]}
        _statements[dialect] = stmt.on_conflict_do_update(
            index_elements=["member_code", "oai_identifier"], set_=keep
        )
    return _statements[dialect]


def _json_text(value: dict | bytes | None, dumps) -> str | None:
    """Return the ``normalised`` column's text (a worker process sends it serialised)."""
    if value is None:
        return None
    return (value if isinstance(value, bytes) else dumps(value)).decode()


def _sqlite_upsert(dialect) -> tuple[str, Any]:
    """Return the SQLite upsert's SQL with positional parameters in _UPSERT_COLUMNS order."""
    if "sqlite-sql" not in _statements:
        compiled = _upsert_statement("sqlite").compile(dialect=dialect)
        expected = tuple(f"p_{c}" for c in _UPSERT_COLUMNS)
        if tuple(compiled.positiontup or ()) != expected:  # the rows are built in this order
            raise RuntimeError(f"unexpected upsert parameters {compiled.positiontup}")
        stamp = RECORDS.c.harvested_at.type.bind_processor(dialect)
        _statements["sqlite-sql"] = (compiled.string, stamp)
    return _statements["sqlite-sql"]


def _checkpoint_statement(run_id: int, counts: PageCounts, cp: Checkpoint):
    token = (
        cp.resumption_token
        if cp.resumption_token and len(cp.resumption_token) <= MAX_TOKEN
        else None
    )
    values: dict[str, Any] = {
        "pages": RUNS.c.pages + 1,
        "new": RUNS.c.new + counts.new,
        "updated": RUNS.c.updated + counts.updated,
        "deleted": RUNS.c.deleted + counts.deleted,
        "rejected": RUNS.c.rejected + counts.rejected,
        "illegal_chars": RUNS.c.illegal_chars + cp.illegal_chars,
        "retries": RUNS.c.retries + cp.retries,
        "resumption_token": token,
        "cursor": cp.cursor,
        "checkpoint_at": utcnow(),
        "last_datestamp": cp.last_datestamp,
        "set_spec": cp.set_spec,
    }
    if cp.response_date:
        values["response_date"] = func.coalesce(RUNS.c.response_date, cp.response_date)
    if cp.errors:
        values["error"] = cut("; ".join(cp.errors), MAX_ERROR)
    return RUNS.update().where(RUNS.c.id == run_id).values(values)


def cut(text: str | None, limit: int) -> str | None:
    """Return text shortened to ``limit`` characters (columns have a length)."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


# -- deletions found by reconciliation, and reparsing ----------------------------------------------


def mark_deleted(
    db: Database, member_code: str, identifiers: list[str], run_id: int, datestamp: str
) -> int:
    """Turn the member's records with these identifiers into tombstones; return how many."""
    done = 0
    with db.engine.begin() as conn:
        for start in range(0, len(identifiers), _IN_CHUNK):
            chunk = identifiers[start : start + _IN_CHUNK]
            result = conn.execute(
                update(RECORDS)
                .where(
                    RECORDS.c.member_code == member_code,
                    RECORDS.c.oai_identifier.in_(chunk),
                    RECORDS.c.status != "deleted",
                )
                .values(
                    status="deleted",
                    normalised=null(),
                    raw=None,
                    reject_reason=None,
                    datestamp=datestamp,
                    run_id=run_id,
                    harvested_at=utcnow(),
                )
            )
            done += result.rowcount
    return done


def live_identifiers(db: Database, member_code: str) -> Iterator[str]:
    """Yield the identifiers of the member's records that are not tombstones (streamed)."""
    query = select(RECORDS.c.oai_identifier).where(
        RECORDS.c.member_code == member_code, RECORDS.c.status != "deleted"
    )
    with db.engine.connect() as conn:
        yield from (
            conn.execution_options(stream_results=True, yield_per=5000).execute(query).scalars()
        )
