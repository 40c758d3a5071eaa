"""Measure the usage roll-up: seconds to roll up N events on SQLite and on PostgreSQL.

    python benchmarks/stats.py --events 10000000 [--postgresql URL] [--skip-postgresql] [--check]

For each database the script generates N simulated events inside the database (not timed),
times a plain full scan of them (``SELECT kind, COUNT(*), SUM(quantity) ... GROUP BY kind``, the
baseline: the least any roll-up must read), then times ``rollup`` (set-based GROUP BY into
usage_rollups) and a second, empty run (the high-water mark makes it cheap); ``rollup_cpu_s`` is
this process's CPU time (SQLite's whole work; PostgreSQL works in its server). ``--check``
also runs the direct-count check afterwards (not timed). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from federation.db import Database  # noqa: E402
from federation.stats.generate import generate_events  # noqa: E402
from federation.stats.rollup import rollup  # noqa: E402
from federation.stats.services import check_rollups  # noqa: E402

MEMBERS = [f"m{n:02d}" for n in range(30)]
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/fed_stats_bench"


def _reset_postgres(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()


def _backend_pid(session) -> int | None:
    if session.get_bind().dialect.name != "postgresql":
        return None
    return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _server_cpu(pid: int | None) -> float:
    """Return user + system CPU seconds of a local process (0 when unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, events: int, check: bool) -> dict:
    """Generate, scan and roll up ``events`` events in the database at ``url``."""
    db = Database(url)
    db.upgrade()
    started = time.perf_counter()
    with db.session() as session:
        # Bulk load as a DBA would: the index is built once afterwards, not row by row.
        session.execute(text("DROP INDEX ix_usage_events_kind_occurred"))
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("PRAGMA cache_size = -262144"))  # 256 MB
        generate_events(session, events, MEMBERS)
        session.execute(
            text("CREATE INDEX ix_usage_events_kind_occurred ON usage_events (kind, occurred_at)")
        )
    generate_s = time.perf_counter() - started
    with db.session() as session:
        started = time.perf_counter()
        session.execute(
            text("SELECT kind, COUNT(*), SUM(quantity) FROM usage_events GROUP BY kind")
        ).all()
        scan_s = time.perf_counter() - started
    with db.session() as session:
        backend = _backend_pid(session)
        started, cpu, server = time.perf_counter(), time.process_time(), _server_cpu(backend)
        result = rollup(session)
    rollup_s, rollup_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    server_cpu_s = _server_cpu(backend) - server
    started = time.perf_counter()
    with db.session() as session:
        rollup(session)
    again_s = time.perf_counter() - started
    with db.session() as session:
        rows = session.execute(text("SELECT COUNT(*) FROM usage_rollups")).scalar_one()
        problems = check_rollups(session) if check else None
    db.dispose()
    out = {
        "generate_s": round(generate_s, 2),
        "scan_s": round(scan_s, 2),
        "rollup_s": round(rollup_s, 2),
        # SQLite works inside this process: its CPU time is what a quiet machine would take.
        "rollup_cpu_s": round(rollup_cpu_s, 2),
        # PostgreSQL's server process for this session, read from /proc (same machine only).
        "server_cpu_s": round(server_cpu_s, 2) if backend else None,
        "ratio_to_scan": round(rollup_s / scan_s, 2) if scan_s else None,
        "second_run_s": round(again_s, 3),
        "rolled_up_events": result.events,
        "rollup_rows": rows,
    }
    if check:
        out["check_differences"] = len(problems)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--postgresql", default=os.environ.get("BENCH_POSTGRESQL_URL", DEFAULT_PG))
    parser.add_argument("--skip-postgresql", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["sqlite"] = measure(f"sqlite:///{folder}/bench.sqlite3", args.events, args.check)
    if not args.skip_postgresql:
        _reset_postgres(args.postgresql)
        results["postgresql"] = measure(args.postgresql, args.events, args.check)
    print(
        json.dumps(
            {
                "events": args.events,
                "rollup_s": {name: r["rollup_s"] for name, r in results.items()},
                "load_average": os.getloadavg()[0],
                "details": results,
            }
        )
    )


if __name__ == "__main__":
    main()
