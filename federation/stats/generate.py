"""Bulk-generate a synthetic usage-event log inside the database (benchmarks, demo load tests).

The rows are made by the database itself (a recursive CTE on SQLite, generate_series on
PostgreSQL): millions of events in seconds, with no Python loop. Every event is marked
``simulated`` so it can never be mistaken for real use.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from federation.usage import COPY_DELIVERED, KINDS, SEARCH, SEARCH_ZERO

_KINDS = sorted(KINDS)
_ILL = [n for n, kind in enumerate(_KINDS) if kind.startswith("ill_") or kind == COPY_DELIVERED]
_SEARCHES = [n for n, kind in enumerate(_KINDS) if kind in (SEARCH, SEARCH_ZERO)]
CLC = "ABCDEFGHIJKNOPQRSTUVXZ"  # the 22 top classes of the Chinese Library Classification


def _kind_case(column: str) -> str:
    whens = " ".join(f"WHEN {n} THEN '{kind}'" for n, kind in enumerate(_KINDS))
    return f"CASE {column} % {len(_KINDS)} {whens} END"


def _member_case(column: str, members: list[str]) -> str:
    for code in members:
        if not code.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"not a member code: {code!r}")
    whens = " ".join(f"WHEN {n} THEN '{code}'" for n, code in enumerate(members))
    return f"CASE {column} % {len(members)} {whens} END"


def generate_events(session: Session, count: int, members: list[str], year: int = 2026) -> None:
    """Insert ``count`` simulated events spread over ``year`` (caller commits)."""
    if session.get_bind().dialect.name == "sqlite":
        rows = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n) "
        source = "s"
        at = f"datetime('{int(year)}-01-01', '+' || ((i * 7919) % 31536000) || ' seconds')"
        rnd = "abs(random())"
    else:
        rows, source = "", "generate_series(1::bigint, :n) AS s(i)"
        at = f"timestamptz '{int(year)}-01-01 00:00+00' + ((i * 7919) % 31536000) * interval '1 s'"
        rnd = "(random() * 1000000)::int"
    # As in real use: only ILL events name a lender, only searches carry a CLC class.
    ill = " OR ".join(f"i % {len(_KINDS)} = {n}" for n in _ILL)
    searches = " OR ".join(f"i % {len(_KINDS)} = {n}" for n in _SEARCHES)
    session.execute(
        text(
            f"{rows}INSERT INTO usage_events (occurred_at, recorded_at, kind, member_code, "  # noqa: S608
            "partner_code, region_code, cluster_id, clc_class, quantity, value, ref, simulated) "
            f"SELECT {at}, {at}, {_kind_case('i')}, {_member_case('i / 11', members)}, "
            f"CASE WHEN {ill} THEN {_member_case(rnd, members)} END, NULL, NULL, "
            f"CASE WHEN {searches} THEN substr('{CLC}', 1 + ({rnd} % {len(CLC)}), 1) END, "
            f"1, CASE WHEN {ill} THEN 24.0 END, 'bench:' || i, true FROM {source}"
        ),
        {"n": int(count)},
    )
