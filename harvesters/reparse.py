"""Re-run the metadata parsers over stored raw payloads: better parsers without re-harvesting."""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree
from sqlalchemy import JSON, bindparam, func, select, update

from federation.db import Database
from harvesters.harvest import holdings_config, parsed_record
from harvesters.locks import member_lock
from harvesters.pages import hardened_parser
from harvesters.store import RECORDS, StoredRecord, decompress

log = logging.getLogger(__name__)

ReparseProgress = Callable[[int, int], None]  # (records done, records in all)


@dataclass
class ReparseSummary:
    """What a reparse changed."""

    records: int = 0  # payloads parsed again
    changed: int = 0  # rows whose normalised record, status or reason changed
    active: int = 0
    rejected: int = 0
    deleted: int = 0  # MARC leader/05 'd'
    skipped: int = 0  # stored in a format no parser reads


def reparse(
    db: Database,
    members: Iterable,
    *,
    batch_size: int = 500,
    progress: ReparseProgress | None = None,
) -> ReparseSummary:
    """Parse every stored payload of these members again; update what changed, in batches.

    Each member is locked while it is reparsed (a harvest of it would race the updates).
    Raise HarvestLocked when a member is being harvested.
    """
    members = list(members)
    total = _count(db, [m.code for m in members])
    summary, done = ReparseSummary(), 0
    for member in members:
        with member_lock(db, member.code):
            for batch in _batches(db, member.code, batch_size):
                _reparse_batch(db, member, batch, summary)
                done += len(batch)
                if progress is not None:
                    progress(done, total)
    return summary


def _count(db: Database, codes: list[str]) -> int:
    query = select(func.count()).where(RECORDS.c.member_code.in_(codes), RECORDS.c.raw.is_not(None))
    with db.engine.connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def _batches(db: Database, member_code: str, size: int):
    """Yield rows with a payload, by id, one batch at a time (keyset: no growing OFFSET)."""
    columns = (
        RECORDS.c.id,
        RECORDS.c.oai_identifier,
        RECORDS.c.datestamp,
        RECORDS.c.metadata_prefix,
        RECORDS.c.raw,
        RECORDS.c.status,
        RECORDS.c.normalised,
        RECORDS.c.reject_reason,
    )
    last = 0
    while True:
        query = (
            select(*columns)
            .where(
                RECORDS.c.member_code == member_code,
                RECORDS.c.raw.is_not(None),
                RECORDS.c.id > last,
            )
            .order_by(RECORDS.c.id)
            .limit(size)
        )
        with db.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        last = rows[-1].id
        yield rows


def _reparse_batch(db: Database, member, rows, summary: ReparseSummary) -> None:
    changes = []
    for row in rows:
        fmt = _format_for(row.metadata_prefix, member)
        if fmt is None:
            summary.skipped += 1
            continue
        new = _parse_stored(row, fmt, member.code, holdings_config(member))
        summary.records += 1
        setattr(summary, new.status, getattr(summary, new.status) + 1)
        if (new.status, new.reject_reason) != (row.status, row.reject_reason) or not _same_json(
            new.normalised, row.normalised
        ):
            changes.append(
                {
                    "b_id": row.id,
                    "b_status": new.status,
                    "b_normalised": new.normalised,
                    "b_reason": new.reject_reason,
                }
            )
    if changes:
        statement = (
            update(RECORDS)
            .where(RECORDS.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                reject_reason=bindparam("b_reason"),
                normalised=bindparam("b_normalised", type_=JSON(none_as_null=True)),
            )
        )
        with db.engine.begin() as conn:
            conn.execute(statement, changes)
        summary.changed += len(changes)


def _format_for(prefix: str, member) -> str | None:
    """Return the parser format for a stored prefix: the member's own, or a known one."""
    from harvesters.parsers import FORMATS

    if prefix == member.oai.metadata_prefix:
        return member.oai.record_format
    return prefix if prefix.lower() in FORMATS else None


def _parse_stored(row, fmt: str, member_code: str, holdings=None):
    raw = bytes(row.raw)
    try:
        element = etree.fromstring(decompress(raw), hardened_parser())
    except (etree.XMLSyntaxError, ValueError, zlib.error) as exc:
        return StoredRecord(
            row.oai_identifier,
            row.datestamp,
            "rejected",
            row.metadata_prefix,
            raw,
            None,
            f"the stored payload cannot be read: {exc}",
        )
    return parsed_record(
        row.oai_identifier,
        row.datestamp,
        row.metadata_prefix,
        raw,
        element,
        fmt,
        member_code,
        holdings,
    )


def _same_json(new: Any, old: Any) -> bool:
    # Stored JSON has lists where the fresh record has tuples; compare the serialised forms.
    return json.dumps(new, sort_keys=True) == json.dumps(old, sort_keys=True)
