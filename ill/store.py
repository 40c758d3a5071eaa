"""The broker's writes: one request's change read once, written in a few statements.

A change of a request (a lender's status, a borrower's action, a timeout) reads the request's
row once (with the rota entry of its current lender) into a :class:`RequestRecord`, lets the
broker work on that record, and writes everything it decided in one go (:class:`Unit`): one
guarded ``UPDATE ... WHERE id = :id AND version = :v`` of the request (no row: someone else
changed it, a :class:`~ill.errors.Conflict`), the timeline's events, notices, usage events,
timers and rota entries. Statements are built with SQLAlchemy Core and run through
:mod:`ill.sql` (compiled once per dialect, on the session's own connection and transaction);
on PostgreSQL the writes of one change travel in one pipeline (one round trip). The ORM
objects the callers see (``IllRequest``) are attached to the session afterwards without
reading the row again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Integer,
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, instrumentation
from sqlalchemy.orm.attributes import instance_state

from federation.models import AuditEvent, UsageEvent
from ill.errors import Conflict
from ill.models import IllEvent, IllNotification, IllRequest, IllRotaEntry, IllTimer
from ill.sql import fetch, run

REQUESTS: Table = IllRequest.__table__  # type: ignore[assignment]
ENTRIES: Table = IllRotaEntry.__table__  # type: ignore[assignment]
EVENTS: Table = IllEvent.__table__  # type: ignore[assignment]
NOTICES: Table = IllNotification.__table__  # type: ignore[assignment]
TIMERS: Table = IllTimer.__table__  # type: ignore[assignment]
USAGE: Table = UsageEvent.__table__  # type: ignore[assignment]
AUDIT: Table = AuditEvent.__table__  # type: ignore[assignment]

REQUEST_COLUMNS = tuple(c.name for c in REQUESTS.columns)
ENTRY_COLUMNS = tuple(c.name for c in ENTRIES.columns)
# Filled in by the database: never part of an INSERT we write.
_SERVER_KEYS = {"id"}


# -- records -------------------------------------------------------------------------------------


class Record:
    """The values of one row, with the columns changed since it was read."""

    __slots__ = ("_values", "_changed")

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_changed", set())

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value
        self._changed.add(name)

    def changes(self) -> dict[str, Any]:
        """Return the changed columns and their new values."""
        return {name: self._values[name] for name in self._changed}


class EntryRecord(Record):
    """One rota entry of a request (``id`` None until written)."""

    __slots__ = ()


class RequestRecord(Record):
    """A request as read at the start of a change; its rota is read only when asked for."""

    __slots__ = ("_rota", "_current", "_session", "is_new", "unwritten")

    def __init__(
        self,
        session: Session,
        values: dict[str, Any],
        is_new: bool = False,
        unwritten: bool = False,
    ) -> None:
        super().__init__(values)
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_rota", None)
        object.__setattr__(self, "_current", ())  # () = not read with the request
        object.__setattr__(self, "is_new", is_new)  # being placed in this change
        # Its id is drawn but its row not inserted yet: the change's first write inserts it.
        object.__setattr__(self, "unwritten", unwritten)

    @property
    def rota(self) -> list[EntryRecord]:
        """Return the request's rota entries in their order (read once, then kept)."""
        if self._rota is None:
            rows = fetch(self._session, "rota", lambda: _ROTA, {"rid": self._values["id"]})
            entries = [EntryRecord(dict(zip(ENTRY_COLUMNS, r, strict=True))) for r in rows]
            current = self._current
            if isinstance(current, EntryRecord):  # keep the one object the change may touch
                entries = [current if e.id == current.id else e for e in entries]
            object.__setattr__(self, "_rota", entries)
        return self._rota

    def set_rota(self, entries: list[EntryRecord]) -> None:
        """Set the rota of a new request."""
        object.__setattr__(self, "_rota", entries)

    def current_entry(self) -> EntryRecord | None:
        """Return the rota entry of the lender holding the request now (asked or supplied)."""
        if self._rota is None and self._current != ():
            return self._current
        for e in self.rota:
            if e.member_code == self.lender_code and e.outcome in ("asked", "supplied"):
                return e
        return None

    def known_entries(self) -> list[EntryRecord]:
        """Return the entries read or made so far (what a write may have to send)."""
        if self._rota is not None:
            return list(self._rota)
        return [self._current] if isinstance(self._current, EntryRecord) else []


_ROTA = select(ENTRIES).where(ENTRIES.c.request_id == bindparam("rid")).order_by(ENTRIES.c.position)
_CURRENT = ENTRIES.alias("current_entry")
# The request and the entry of the lender holding it now (the one most changes touch).
_LOAD = (
    select(REQUESTS, *(_CURRENT.c[name].label(f"entry_{name}") for name in ENTRY_COLUMNS))
    .outerjoin(
        _CURRENT,
        (_CURRENT.c.request_id == REQUESTS.c.id)
        & (_CURRENT.c.member_code == REQUESTS.c.lender_code)
        & or_(_CURRENT.c.outcome == "asked", _CURRENT.c.outcome == "supplied"),
    )
    .where(REQUESTS.c.id == bindparam("rid"))
)


def load_request(session: Session, request_id: int) -> RequestRecord | None:
    """Read the request with its current lender's rota entry; None if there is none."""
    rows = fetch(session, "load", lambda: _LOAD, {"rid": request_id})
    if not rows:
        return None
    n = len(REQUEST_COLUMNS)
    row = rows[0]
    record = RequestRecord(session, dict(zip(REQUEST_COLUMNS, row[:n], strict=True)))
    if len(rows) == 1:  # several matching entries: the rota is read when needed
        entry = dict(zip(ENTRY_COLUMNS, row[n:], strict=True))
        object.__setattr__(record, "_current", EntryRecord(entry) if entry["id"] else None)
    return record


def _insert(table: Table, columns: tuple[str, ...]):
    return insert(table).values({name: bindparam(name) for name in columns})


def _update_request(columns: tuple[str, ...]):
    return (
        update(REQUESTS)
        .where(REQUESTS.c.id == bindparam("w_id"), REQUESTS.c.version == bindparam("w_version"))
        .values({name: bindparam(name) for name in columns})
    )


# The text a guarded UPDATE that matched no row fails with inside PostgreSQL (see
# ``_update_request_or_fail``); the client turns that failure into a Conflict.
CONFLICT_MARK = "ill: request changed by someone else; rows matched: "


def _update_request_or_fail(columns: tuple[str, ...]):
    """The guarded UPDATE as a statement that fails in the server when it matches no row.

    Used when the COMMIT travels in the same pipeline as the writes: the failure aborts the
    pipeline, so none of the statements after it run and the COMMIT ends as a rollback;
    nothing of a lost race is written. (``count(*)`` keeps the failing cast from being
    evaluated when the statement is planned.)
    """
    changed = _update_request(columns).returning(REQUESTS.c.id).cte("changed")
    matched = func.count()
    failure = cast(func.concat(bindparam("conflict_mark", CONFLICT_MARK), matched), Integer)
    return select(case((matched == 1, 1), else_=failure)).select_from(changed)


def _is_conflict(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) == "22P02" and CONFLICT_MARK in str(error.orig)


_COMMIT = text("COMMIT")


def _update_entry(columns: tuple[str, ...]):
    return (
        update(ENTRIES)
        .where(ENTRIES.c.id == bindparam("w_id"))
        .values({name: bindparam(name) for name in columns})
    )


def _delete_timers(kinds: tuple[str, ...]):
    stmt = delete(TIMERS).where(TIMERS.c.request_id == bindparam("w_id"))
    if kinds:  # one bound value per kind: the text compiled once runs as it is
        stmt = stmt.where(or_(*(TIMERS.c.kind == bindparam(f"kind_{k}") for k in kinds)))
    return stmt


# -- the unit of work ---------------------------------------------------------------------------


class Unit:
    """Everything one change of one request writes, sent together by :meth:`flush`."""

    def __init__(self, session: Session, request: RequestRecord) -> None:
        self.session = session
        self.request = request
        self.steps: list[tuple[Any, Any, list[dict]]] = []  # (key, build, rows)
        self.touched = False  # an event was logged: the request's version moves on
        self.emits: list[tuple[str, dict]] = []
        self._merge: dict[Any, tuple[Any, Any, list[dict]]] = {}

    def add(self, table: Table, row: dict[str, Any]) -> None:
        """Queue one INSERT; rows of one table travel together (one executemany).

        Timers keep their order with their removals; other tables have no order to keep.
        """
        columns = tuple(row)
        key = ("insert", table.name, columns)
        step = self._merge.get(key) if table is not TIMERS else None
        if step is None:
            step = (key, lambda: _insert(table, columns), [])
            self.steps.append(step)
            if table is not TIMERS:
                self._merge[key] = step
        step[2].append(row)

    def emit(self, name: str, detail: dict) -> None:
        """Tell the context's listeners about ``name`` once the change is written."""
        self.emits.append((name, detail))

    def clear_timers(self, kinds: tuple[str, ...]) -> None:
        """Queue the removal of the request's timers of ``kinds`` (all when empty)."""
        if self.request.is_new:
            return  # a request being placed has none yet
        params = {"w_id": self.request.id, **{f"kind_{k}": k for k in kinds}}
        self.steps.append((("timers", kinds), lambda: _delete_timers(kinds), [params]))

    def flush(self, commit: bool = False) -> None:
        """Write the request's changes (guarded by its version) and everything queued.

        With ``commit`` on PostgreSQL the transaction's COMMIT travels in the same pipeline
        (one round trip less); the caller still commits the session (no round trip then).
        """
        request = self.request
        changes = request.changes()
        entries = self._entry_steps()
        unwritten = request.unwritten
        if not (changes or self.touched or self.steps or entries or unwritten):
            return
        version = request.version
        changes["version"] = version + 1
        columns = tuple(sorted(changes))
        pipelined = (
            commit
            and self.session.get_bind().dialect.driver == "psycopg"
            and not self.session.in_nested_transaction()  # a savepoint: commit it as usual
        )
        if unwritten:  # a new request, its id drawn already: one INSERT with its final values
            values = {**request._values, **changes}
            names = tuple(values)
            first = (("new_with_id", names), lambda: _insert(REQUESTS, names), [values])
        else:
            first = (
                ("request_or_fail" if pipelined else "request", columns),
                (lambda: _update_request_or_fail(columns))
                if pipelined
                else (lambda: _update_request(columns)),
                [{**changes, "w_id": request.id, "w_version": version}],
            )
        steps = [first, *self.steps, *entries]
        if pipelined:
            steps.append(("commit", lambda: _COMMIT, [{}]))
        try:
            matched = run(self.session, steps)
        except DBAPIError as error:
            if not _is_conflict(error):
                raise
            matched = 0
        if matched != 1:
            # Nothing of a lost race may stay: the transaction is rolled back, as a failed
            # flush of the ORM would (the caller starts again with a fresh read).
            self.session.rollback()
            raise Conflict(
                f"ILL request {request.id} was changed by someone else at the same moment; "
                "reload it and try again"
            )
        request._values["version"] = version + 1
        request._changed.clear()
        object.__setattr__(request, "unwritten", False)

    def _entry_steps(self) -> list[tuple[Any, Any, list[dict]]]:
        known = self.request.known_entries()
        new = [e for e in known if e._values.get("id") is None]
        steps = []
        if new:
            columns = tuple(k for k in new[0]._values if k not in _SERVER_KEYS)
            steps.append(
                (
                    ("insert", "ill_rota_entries", columns),
                    lambda: _insert(ENTRIES, columns),
                    [{c: e._values[c] for c in columns} for e in new],
                )
            )
            for e in new:
                e._changed.clear()
        for e in known:
            changed = e.changes()
            if e._values.get("id") is None or not changed:
                continue
            columns = tuple(sorted(changed))
            steps.append(
                (
                    ("entry", columns),
                    lambda c=columns: _update_entry(c),
                    [{**changed, "w_id": e.id}],
                )
            )
            e._changed.clear()
        return steps


# -- rows of other tables -----------------------------------------------------------------------


def next_request_id_read() -> tuple:
    """Return a read (for :func:`ill.sql.fetch_many`) that draws a new request's id
    (PostgreSQL): it travels with the create's other reads, and the request's row is then
    inserted with the change's other writes."""
    return ("next_request_id", lambda: _NEXT_ID, {})


_NEXT_ID = select(func.nextval(func.pg_get_serial_sequence(REQUESTS.name, REQUESTS.c.id.name)))


def insert_request(session: Session, values: dict[str, Any]) -> int:
    """Insert a new request's row; return its id."""
    columns = tuple(values)
    rows = fetch(
        session,
        ("new", columns),
        lambda: _insert(REQUESTS, columns).returning(REQUESTS.c.id),
        values,
    )
    return int(rows[0][0])


def attach(session: Session, record: RequestRecord) -> IllRequest:
    """Return the session's ``IllRequest`` for the record, up to date, without reading it again.

    An object the session already holds is expired (its next use reads the row); otherwise
    one is made from the record's values and added as a clean, persistent object.
    """
    key = session.identity_key(IllRequest, (record.id,))
    held = session.identity_map.get(key)
    if held is not None:
        for entry in held.__dict__.get("rota", ()):
            session.expire(entry)
        session.expire(held)
        return held
    # What the ORM's loader does with a row it has not seen (sqlalchemy.orm.loading): an
    # instance made without __init__, every column loaded and committed, registered in the
    # identity map as persistent. (make_transient_to_detached + Session.add did the same with
    # a pass over the relationships' cascades: ~0.1 ms a change.) Relationships stay unloaded
    # and load lazily, as on a loaded object.
    obj = _MANAGER.new_instance()
    values = record._values
    state = instance_state(obj)
    state.dict.update(zip(REQUEST_COLUMNS, [values[name] for name in REQUEST_COLUMNS], strict=True))
    state.key = key
    state.identity_token = key[2]
    state.session_id = session.hash_key
    session.identity_map.add(state)
    state._commit_all(state.dict, session.identity_map)
    return obj


_MANAGER = instrumentation.manager_of_class(IllRequest)
