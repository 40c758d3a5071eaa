"""Read and write the dedup tables (SQLAlchemy Core through the caller's session).

Everything here runs inside the caller's transaction; nothing commits. Lists of ids go to the
database in chunks so no statement exceeds a dialect's parameter limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from sqlalchemy import Text, cast, delete, insert, or_, select
from sqlalchemy.orm import Session

from federation.models import (
    Cluster as ClusterRow,
)
from federation.models import (
    ClusterRecord,
    DedupBlock,
    DedupKey,
    DedupOverride,
    Record,
    WorkLink,
)
from harvesters.bibrecord import BibRecord
from harvesters.store import bib_from_json
from search.dedup.documents import StoredRow

CHUNK = 500
STREAM_ROWS = 5000  # rows fetched at a time when a rebuild reads a whole table
RECORDS = Record.__table__
CLUSTERS = ClusterRow.__table__
MEMBERS = ClusterRecord.__table__
WORKS = WorkLink.__table__
KEYS = DedupKey.__table__
OVERRIDES = DedupOverride.__table__
BLOCKS = DedupBlock.__table__


def chunks(values: Iterable, size: int = CHUNK) -> Iterator[list]:
    """Yield lists of at most ``size`` values."""
    batch: list = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- reading ---------------------------------------------------------------------------------


def live_records(session: Session, ids: Iterable[int]) -> dict[int, BibRecord]:
    """Return the active records among ``ids`` as BibRecords (member set from the row)."""
    out: dict[int, BibRecord] = {}
    for batch in chunks(sorted(set(ids))):
        query = _live_query().where(RECORDS.c.id.in_(batch))
        out.update(_bib_rows(session.execute(query)))
    return out


def stream_live_records(session: Session) -> Iterator[tuple[int, BibRecord]]:
    """Yield every active record of the store, reading the table in one streamed query."""
    query = _live_query().execution_options(yield_per=STREAM_ROWS)
    yield from _bib_rows(session.execute(query))


def live_record_rows(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, dict]]:
    """Return record id -> (member code, normalised JSON) for the active records among ``ids``."""
    out: dict[int, tuple[str, dict]] = {}
    for batch in chunks(sorted(set(ids))):
        query = _live_query().where(RECORDS.c.id.in_(batch))
        for rid, member, text in session.execute(query):
            data = orjson.loads(text) if text else None
            if data:
                out[rid] = (member, data)
    return out


def stream_clustered_records(session: Session) -> Iterator[tuple[str, list[StoredRow]]]:
    """Yield (cluster id, its active records) for every cluster, in cluster id order.

    Records come as (record id, member code, normalised JSON), smallest id first, from one
    streamed query over memberships joined to records (no list of ids travels): what a full
    index rebuild reads. A cluster whose records are all deleted is left out.
    """
    query = (
        select(MEMBERS.c.cluster_id, RECORDS.c.id, RECORDS.c.member_code,
               cast(RECORDS.c.normalised, Text))
        .join(RECORDS, RECORDS.c.id == MEMBERS.c.record_id)
        .where(RECORDS.c.status == "active")
        .order_by(MEMBERS.c.cluster_id, MEMBERS.c.record_id)
        .execution_options(yield_per=STREAM_ROWS)
    )  # fmt: skip
    loads = orjson.loads
    current, rows = None, []
    for cid, rid, member, text in session.execute(query):
        if cid != current:
            if rows:
                yield current, rows
            current, rows = cid, []
        data = loads(text) if text else None
        if data:
            rows.append((rid, member, data))
    if rows:
        yield current, rows


def _live_query():
    # The JSON travels as text and orjson parses it: several times faster than the
    # dialect's json.loads, and the rebuild reads every record of the store.
    normalised = cast(RECORDS.c.normalised, Text)
    return select(RECORDS.c.id, RECORDS.c.member_code, normalised).where(
        RECORDS.c.status == "active"
    )


def _bib_rows(rows) -> Iterator[tuple[int, BibRecord]]:
    for rid, member, text in rows:
        data = orjson.loads(text) if text else None
        if data:
            record = bib_from_json(data)
            record.member = member
            yield rid, record


def all_record_ids(session: Session) -> list[int]:
    """Return the ids of every record that is or was clustered."""
    live = session.execute(select(RECORDS.c.id).where(RECORDS.c.status == "active")).scalars()
    held = session.execute(select(MEMBERS.c.record_id)).scalars()
    return sorted(set(live) | set(held))


def unclustered_record_ids(session: Session) -> list[int]:
    """Return the ids of the active records that are in no cluster."""
    clustered = select(MEMBERS.c.record_id).where(MEMBERS.c.record_id == RECORDS.c.id).exists()
    query = select(RECORDS.c.id).where(RECORDS.c.status == "active", ~clustered)
    return list(session.execute(query).scalars())


def all_work_ids(session: Session) -> dict[str, str]:
    """Return cluster id -> work id for every cluster linked into a work."""
    query = select(WORKS.c.cluster_id, WORKS.c.work_id).execution_options(yield_per=STREAM_ROWS)
    return {cid: work for cid, work in session.execute(query) if work}


def all_clusters_of(session: Session) -> dict[int, str]:
    """Return record id -> cluster id for every clustered record."""
    query = select(MEMBERS.c.record_id, MEMBERS.c.cluster_id).execution_options(
        yield_per=STREAM_ROWS
    )
    return {key: value for key, value in session.execute(query)}


def all_created_at(session: Session) -> dict[str, Any]:
    """Return cluster id -> when it was first created, for every cluster."""
    query = select(CLUSTERS.c.id, CLUSTERS.c.created_at).execution_options(yield_per=STREAM_ROWS)
    return {key: value for key, value in session.execute(query)}


def all_overrides(session: Session) -> list[dict[str, Any]]:
    """Return every staff override, oldest first."""
    query = select(OVERRIDES).order_by(OVERRIDES.c.id)
    return [dict(row._mapping) for row in session.execute(query)]


def stored_keys(session: Session, ids: Iterable[int]) -> dict[int, list[str]]:
    """Return the keys stored for each record."""
    out: dict[int, list[str]] = {}
    for batch in chunks(sorted(set(ids))):
        query = select(KEYS.c.record_id, KEYS.c.key).where(KEYS.c.record_id.in_(batch))
        for rid, key in session.execute(query):
            out.setdefault(rid, []).append(key)
    return out


def records_with_keys(session: Session, keys: Iterable[str]) -> dict[int, list[str]]:
    """Return record id -> which of ``keys`` it has."""
    out: dict[int, list[str]] = {}
    for batch in chunks(sorted(set(keys))):
        query = select(KEYS.c.record_id, KEYS.c.key).where(KEYS.c.key.in_(batch))
        for rid, key in session.execute(query):
            out.setdefault(rid, []).append(key)
    return out


def clusters_of(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Return record id -> cluster id for the records that are clustered."""
    out: dict[int, str] = {}
    for batch in chunks(sorted(set(ids))):
        query = select(MEMBERS.c.record_id, MEMBERS.c.cluster_id).where(
            MEMBERS.c.record_id.in_(batch)
        )
        out.update((a, b) for a, b in session.execute(query))
    return out


def members_of(session: Session, cluster_ids: Iterable[str]) -> dict[str, list[int]]:
    """Return cluster id -> its record ids (smallest first)."""
    out: dict[str, list[int]] = {}
    for batch in chunks(sorted(set(cluster_ids))):
        query = (
            select(MEMBERS.c.cluster_id, MEMBERS.c.record_id)
            .where(MEMBERS.c.cluster_id.in_(batch))
            .order_by(MEMBERS.c.record_id)
        )
        for cid, rid in session.execute(query):
            out.setdefault(cid, []).append(rid)
    return out


def existing_cluster_ids(session: Session, ids: Iterable[str]) -> set[str]:
    """Return which of ``ids`` name a cluster in the table."""
    found: set[str] = set()
    for batch in chunks(sorted(set(ids))):
        found.update(
            session.execute(select(CLUSTERS.c.id).where(CLUSTERS.c.id.in_(batch))).scalars()
        )
    return found


def overrides_touching(session: Session, ids: Iterable[int]) -> list[dict[str, Any]]:
    """Return the staff overrides naming any of ``ids``, oldest first."""
    rows: dict[int, dict[str, Any]] = {}
    for batch in chunks(sorted(set(ids))):
        query = select(OVERRIDES).where(
            or_(OVERRIDES.c.record_a.in_(batch), OVERRIDES.c.record_b.in_(batch))
        )
        rows.update((row.id, dict(row._mapping)) for row in session.execute(query))
    return [rows[i] for i in sorted(rows)]


def staff_blocklist(session: Session) -> set[str]:
    """Return the identifier keys staff said are no evidence."""
    query = select(BLOCKS.c.key).where(BLOCKS.c.source == "staff")
    return set(session.execute(query).scalars())


def blocked(session: Session, keys: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """Return key -> (source, reason) for the blocked ones among ``keys``."""
    out: dict[str, tuple[str, str | None]] = {}
    for batch in chunks(sorted(set(keys))):
        query = select(BLOCKS.c.key, BLOCKS.c.source, BLOCKS.c.reason).where(
            BLOCKS.c.key.in_(batch)
        )
        out.update((key, (source, reason)) for key, source, reason in session.execute(query))
    return out


def work_links(session: Session, cluster_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Return cluster id -> its work link row, for the clusters that have one."""
    out: dict[str, dict[str, Any]] = {}
    for batch in chunks(sorted(set(cluster_ids))):
        query = select(WORKS).where(WORKS.c.cluster_id.in_(batch))
        out.update((row.cluster_id, dict(row._mapping)) for row in session.execute(query))
    return out


# -- writing ---------------------------------------------------------------------------------


def delete_in(session: Session, table, column, values: Iterable) -> None:
    """Delete the rows of ``table`` whose ``column`` is one of ``values``."""
    for batch in chunks(sorted(set(values))):
        session.execute(delete(table).where(table.c[column].in_(batch)))


def insert_rows(session: Session, table, rows: list[dict[str, Any]]) -> None:
    """Insert rows in batches (executemany)."""
    for batch in chunks(rows, 2000):
        session.execute(insert(table), batch)


def insert_plain_rows(
    session: Session, table, rows: list[dict[str, Any]], json_columns: tuple[str, ...] = ()
) -> None:
    """Insert rows of integers, text and JSON values (no dates), as ``insert_rows`` does.

    On SQLite the rows go to the driver's executemany directly, ``json_columns`` serialised
    by orjson: SQLAlchemy's per-row parameter processing costs more than SQLite's insert,
    and a rebuild writes a few rows per record. Other databases take ``insert_rows``.
    """
    if not rows:
        return
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        insert_rows(session, table, rows)
        return
    session.flush()  # the driver's cursor does not flush pending ORM objects
    columns = list(rows[0])
    quote = bind.dialect.identifier_preparer.quote
    # Names come from our own table definition; every value is bound.
    names, marks = ", ".join(quote(c) for c in columns), ", ".join("?" * len(columns))
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
    if json_columns:
        at = [columns.index(c) for c in json_columns]
        values = []
        for row in rows:
            value = [row[c] for c in columns]
            for i in at:
                value[i] = orjson.dumps(value[i]).decode()
            values.append(value)
    else:
        values = [[row[c] for c in columns] for row in rows]
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(sql, values)
    finally:
        cursor.close()


def clusters_in_works(session: Session, work_ids: Iterable[str]) -> set[str]:
    """Return the ids of the clusters linked into any of these works."""
    found: set[str] = set()
    for batch in chunks(sorted(set(work_ids))):
        query = select(WORKS.c.cluster_id).where(WORKS.c.work_id.in_(batch))
        found.update(session.execute(query).scalars())
    return found
