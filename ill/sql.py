"""Statements built with SQLAlchemy Core, compiled once, run on the session's own connection.

The ILL broker's hot path (``ill.store``) runs the same few statements thousands of times: each
is compiled once per dialect and shape, and executed on the DBAPI connection of the session's
transaction with SQLAlchemy's own type processors for parameters and results, skipping the
per-execution work of the ORM and of Core (cache keys, execution contexts, result objects).
On PostgreSQL (psycopg 3) statements that do not wait for each other's results travel in one
pipeline: one round trip. The pipeline is driven through libpq directly (:func:`_pg_exchange`):
psycopg's cursors flush the socket and poll for results after every statement and keep
per-statement bookkeeping (prepared-statement counts, result sets) that the broker's few
short statements do not need; this way a batch is sent with one flush and read once.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session


class _Compiled:
    """One statement compiled for one dialect: its SQL text, bind names and type processors."""

    __slots__ = (
        "sql",
        "names",
        "processors",
        "positional",
        "selected",
        "results",
        "defaults",
        "pg_sql",
        "pg_names",
    )

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
        self.pg_sql, self.pg_names = b"", []
        if dialect.driver == "psycopg":  # libpq wants $1, $2...; SQLAlchemy wrote %(name)s
            self.pg_sql, self.pg_names = _numbered(self.sql)

    def pg_params(self, values: dict[str, Any]) -> list[Any]:
        """Return the values of the ``$n`` parameters, converted by SQLAlchemy's processors."""
        return self._converted(values, self.pg_names)

    def params(self, values: dict[str, Any]) -> Any:
        if self.positional:
            return self._converted(values, self.names)
        return dict(zip(self.names, self._converted(values, self.names), strict=True))

    def _converted(self, values: dict[str, Any], names: list[str]) -> list[Any]:
        if self.defaults:
            values = {**self.defaults, **values}
        procs = self.processors
        return [procs[n](values[n]) if n in procs else values[n] for n in names]


_PYFORMAT = re.compile(r"%%|%\((\w+)\)s")


def _numbered(sql: str) -> tuple[bytes, list[str]]:
    """Turn SQLAlchemy's ``%(name)s`` placeholders into libpq's ``$n`` (``%%`` into ``%``)."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _PYFORMAT.sub(number, sql).encode("utf-8"), names


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
        if dialect.driver == "psycopg":  # one round trip, with the BEGIN if it is the first
            results = _pg_exchange(driver, [(c, [p]) for c, p in prepared])
            return [
                _pg_rows(driver, r[0], compiled, dialect)
                for r, (compiled, _p) in zip(results, prepared, strict=True)
            ]
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


_PSYCOPG: tuple = ()


def _psycopg() -> tuple:
    """Return the parts of psycopg used here (imported once; SQLite installs lack it)."""
    global _PSYCOPG
    if not _PSYCOPG:
        from psycopg import errors, pq
        from psycopg.adapt import PyFormat, Transformer
        from psycopg.generators import fetch_many, send

        _PSYCOPG = (errors, pq, PyFormat, Transformer, fetch_many, send)
    return _PSYCOPG


def _pg_rows(driver: Any, result: Any, compiled: _Compiled, dialect: Any) -> list[tuple]:
    transformer = _psycopg()[3](driver)
    transformer.set_pgresult(result)
    rows = transformer.load_rows(0, result.ntuples, tuple)
    procs = compiled.results
    if procs is None:
        procs = compiled.results = [
            c.type.dialect_impl(dialect).result_processor(dialect, result.ftype(i))
            for i, c in enumerate(compiled.selected)
        ]
    if not any(procs):
        return rows
    return [
        tuple(p(v) if p is not None else v for p, v in zip(procs, row, strict=True)) for row in rows
    ]


def _pg_exchange(driver: Any, batch: Sequence[tuple[_Compiled, list[dict]]]) -> list[list]:
    """Send the statements (one per row of values) in one libpq pipeline; return each
    statement's results, in order.

    The transaction's BEGIN goes first when none is open (psycopg's own, with the
    connection's isolation settings). Each statement is prepared on the connection the first
    time it is sent (:func:`_prepared_names`), in the same pipeline. An error makes the server
    skip the statements after it (a COMMIT among them is not run) and is raised as psycopg
    would raise it; the connection is then in a failed transaction, to be rolled back as after
    any failed statement.
    """
    errors, pq, PyFormat, Transformer, fetch_many, send = _psycopg()
    pgconn = driver.pgconn
    transformer = Transformer(driver)
    names = _prepared_names(driver)
    sends: list[tuple] = []  # (send function, arguments)
    if not driver.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
        sends.append((pgconn.send_query_params, (driver._get_tx_start_command(), None)))
    answers = []  # positions in ``sends`` of the statements' own results
    new_names = []
    for compiled, rows in batch:
        sql = compiled.pg_sql
        name = names.get(sql)
        if name is None:
            name = f"ill_{next(_NAME_NUMBERS)}".encode("ascii")
            sends.append((pgconn.send_prepare, (name, sql)))
            names[sql] = name
            new_names.append(sql)
        formats = [PyFormat.TEXT] * len(compiled.pg_names)  # parsed as the prepared types say
        for row in rows:
            values = compiled.pg_params(row)
            params = transformer.dump_sequence(values, formats) if values else None
            answers.append(len(sends))
            sends.append((pgconn.send_query_prepared, (name, params)))
    results: list[list] = []
    with driver.lock:
        pgconn.enter_pipeline_mode()
        try:
            for function, arguments in sends:
                function(*arguments)
            pgconn.pipeline_sync()
            driver.wait(send(pgconn))
            for _ in range(len(sends) + 1):  # each command's results, then the sync's
                results.append(driver.wait(fetch_many(pgconn)))
        except BaseException:
            # Cut off half-way (the network, an interrupt): results may be left unread, so
            # the connection is closed; the pool will not hand it out again.
            driver.close()
            raise
        pgconn.exit_pipeline_mode()
    for result in results:
        if result and result[0].status == pq.ExecStatus.FATAL_ERROR:
            for sql in new_names:  # maybe never prepared: the server skipped it
                names.pop(sql, None)
            error = errors.error_from_result(result[0], encoding=driver.info.encoding)
            if error.sqlstate == "26000":  # our statements were dropped behind our back
                names.clear()
            raise error
    # Group the results by statement of the batch (several rows: several commands).
    grouped, i = [], 0
    for _compiled, rows in batch:
        grouped.append([r for k in answers[i : i + len(rows)] for r in results[k]])
        i += len(rows)
    return grouped


_NAME_NUMBERS = itertools.count()


def _prepared_names(driver: Any) -> dict[bytes, bytes]:
    """Return the statements prepared on this connection by this module (SQL -> name).

    Prepared statements spare the server parsing and planning the same SQL again (psycopg's
    cursors prepare a statement after its fifth run, for the same reason). psycopg drops every
    prepared statement of the connection (``DEALLOCATE ALL``) after a rollback when it holds
    some of its own: the connection's ``_deallocate`` is wrapped so that this list is
    forgotten then too. Should they vanish another way (``DISCARD ALL``), the next statement
    fails once and the list is forgotten.
    """
    held = driver.__dict__.get("_ill_prepared")
    if held is None:
        held = driver._ill_prepared = {}
        deallocate = driver._deallocate

        def _deallocate(name: bytes | None) -> Any:
            if name is None:
                held.clear()
            return deallocate(name)

        driver._deallocate = _deallocate
    return held


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
    results = _pg_exchange(driver, prepared)
    return sum(r.command_tuples or 0 for r in results[0])  # the first statement's row count


def _send(cursor: Any, compiled: _Compiled, rows: list[dict]) -> None:
    if len(rows) == 1:
        cursor.execute(compiled.sql, compiled.params(rows[0]))
    else:
        cursor.executemany(compiled.sql, [compiled.params(r) for r in rows])
