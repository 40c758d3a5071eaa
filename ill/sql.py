"""Statements built with SQLAlchemy Core, compiled once, run on the session's own connection.

The ILL broker's hot path (``ill.store``) runs the same few statements thousands of times: each
is compiled once per dialect and shape, and executed on the DBAPI connection of the session's
transaction with SQLAlchemy's own type processors for parameters and results, skipping the
per-execution work of the ORM and of Core (cache keys, execution contexts, result objects).
On PostgreSQL (psycopg 3) statements that do not wait for each other's results travel in one
pipeline: one round trip.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


class _Compiled:
    """One statement compiled for one dialect: its SQL text, bind names and type processors."""

    __slots__ = ("sql", "names", "processors", "positional", "selected", "results", "defaults")

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        # A SELECT (or RETURNING) converts what the driver hands back as SQLAlchemy would;
        # the converters are made at the first run, from the driver's column types.
        selected = getattr(statement, "selected_columns", None)
        if selected is None and getattr(statement, "_returning", None):
            selected = statement._returning
        self.selected = list(selected or ())
        self.results: list | None = None
        self.sql = compiled.string
        self.positional = dialect.positional
        self.names = list(compiled.positiontup or ()) if self.positional else list(compiled.binds)
        self.processors = {}
        # Values written into the statement itself (``outcome == "asked"``).
        self.defaults = {n: b.value for n, b in compiled.binds.items() if b.value is not None}
        for name in self.names:
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor

    def params(self, values: dict[str, Any]) -> Any:
        if self.defaults:
            values = {**self.defaults, **values}
        procs = self.processors
        if self.positional:
            return [
                procs[n](values[n]) if n in procs else values[n] for n in self.names
            ]  # fmt: skip
        return {n: procs[n](values[n]) if n in procs else values[n] for n in self.names}


_CACHE: dict[tuple[str, Any], _Compiled] = {}


def _compiled(dialect: Any, key: Any, build) -> _Compiled:
    found = _CACHE.get((dialect.name, key))
    if found is None:
        found = _CACHE[(dialect.name, key)] = _Compiled(build(), dialect)
    return found


def _connection(session: Session) -> Any:
    """Return the session's connection (asked of the session once per transaction)."""
    transaction = session.get_transaction()
    held = session.info.get("ill_connection")
    if transaction is not None and held is not None and held[0] is transaction:
        return held[1]
    connection = session.connection()
    session.info["ill_connection"] = (session.get_transaction(), connection)
    return connection


def fetch(session: Session, key: Any, build, params: dict[str, Any]) -> list[tuple]:
    """Run a SELECT (built by ``build``, compiled once per dialect); return its converted rows."""
    return fetch_many(session, [(key, build, params)])[0]


def fetch_many(session: Session, reads: Sequence[tuple[Any, Any, dict]]) -> list[list[tuple]]:
    """Run independent SELECTs; return each one's converted rows.

    On PostgreSQL they travel in one pipeline, with the transaction's BEGIN if it is the first.
    """
    conn = _connection(session)
    dialect = conn.dialect
    driver = conn.connection.driver_connection
    prepared = [(_compiled(dialect, key, build), params) for key, build, params in reads]
    cursors = []
    try:
        if dialect.driver == "psycopg" and (
            len(prepared) > 1 or not driver.info.transaction_status
        ):
            with driver.pipeline():  # IDLE (0): the BEGIN goes along
                for compiled, params in prepared:
                    cursors.append(driver.cursor())
                    cursors[-1].execute(compiled.sql, compiled.params(params))
        else:
            for compiled, params in prepared:
                cursors.append(driver.cursor())
                cursors[-1].execute(compiled.sql, compiled.params(params))
        return [
            _rows(c, compiled, dialect) for c, (compiled, _p) in zip(cursors, prepared, strict=True)
        ]
    except dialect.dbapi.Error as exc:  # report it as SQLAlchemy would (IntegrityError...)
        sql = "; ".join(c.sql for c, _params in prepared)
        raise DBAPIError.instance(sql, None, exc, dialect.dbapi.Error) from exc
    finally:
        for cursor in cursors:
            cursor.close()


def _rows(cursor: Any, compiled: _Compiled, dialect: Any) -> list[tuple]:
    rows = cursor.fetchall()
    procs = compiled.results
    if procs is None:
        procs = compiled.results = [
            c.type.dialect_impl(dialect).result_processor(dialect, d[1])
            for c, d in zip(compiled.selected, cursor.description, strict=True)
        ]
    if not any(procs):
        return [tuple(r) for r in rows]
    return [
        tuple(p(v) if p is not None else v for p, v in zip(procs, row, strict=True)) for row in rows
    ]


def run(session: Session, steps: Sequence[tuple[Any, Any, list[dict]]]) -> int:
    """Execute ``steps`` on the session's connection in order; return the first one's row count.

    PostgreSQL (psycopg 3) gets them in one pipeline; SQLite runs them one by one.
    """
    conn = _connection(session)
    dialect = conn.dialect
    driver = conn.connection.driver_connection
    prepared = [(_compiled(dialect, key, build), rows) for key, build, rows in steps]
    try:
        if dialect.driver == "psycopg":
            return _run_pipelined(driver, prepared)
        return _run_each(driver, prepared)
    except dialect.dbapi.Error as exc:  # report it as SQLAlchemy would (IntegrityError...)
        raise DBAPIError.instance(
            "; ".join(c.sql for c, _rows in prepared), None, exc, dialect.dbapi.Error
        ) from exc


def _run_each(driver: Any, prepared: Iterable[tuple[_Compiled, list[dict]]]) -> int:
    counts = []
    cursor = driver.cursor()
    try:
        for compiled, rows in prepared:
            _send(cursor, compiled, rows)
            counts.append(cursor.rowcount)
    finally:
        cursor.close()
    return counts[0]


def _run_pipelined(driver: Any, prepared: list[tuple[_Compiled, list[dict]]]) -> int:
    first, rest = driver.cursor(), driver.cursor()  # only the first one's row count is read
    try:
        with driver.pipeline():
            for i, (compiled, rows) in enumerate(prepared):
                _send(rest if i else first, compiled, rows)
        return first.rowcount
    finally:
        first.close()
        rest.close()


def _send(cursor: Any, compiled: _Compiled, rows: list[dict]) -> None:
    if len(rows) == 1:
        cursor.execute(compiled.sql, compiled.params(rows[0]))
    else:
        cursor.executemany(compiled.sql, [compiled.params(r) for r in rows])
