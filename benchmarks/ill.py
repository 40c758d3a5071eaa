"""Measure the ILL broker: rota latency (500 members, 50 holders) and full lifecycles per second.

    python benchmarks/ill.py [--rotas 300] [--seconds 10] [--workers 8] [--pg URL | --no-pg]

Prints one JSON object. The rota figure is one whole rota computation as the broker does it
(holders read from the record store and today's load read from the database, together; lender
statistics from the broker's per-process copy, read from the database at most once a minute
(``IllContext.stats_ttl``); filters with business-hour deadlines, scores, tie-break) on a
generated alliance of 500 members where 50 hold the title. A lifecycle is create + route,
WillSupply, Loaned, Received, ShippedReturn, LoanCompleted: six transactions through the real
services (each call its own whole transaction, ``commit=True``), run by ``--workers``
processes at once for ``--seconds`` on SQLite (WAL file) and on PostgreSQL, timed from when
all of them are set up (``startup_s`` apart).
``baseline_tx_per_s`` is a one-row insert-and-commit loop in the same run and database: the
machine's speed at that moment, to compare runs by ratio. ``client_cpu_ms_per_lifecycle`` is
the workers' CPU time per finished lifecycle; ``server_cpu_ms_per_lifecycle`` (PostgreSQL on
this machine) that of the backends serving them (WAL writer and other server processes not
counted).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet  # noqa: E402

from federation.alliance import load_alliance  # noqa: E402
from federation.db import Database  # noqa: E402
from federation.members import import_alliance  # noqa: E402
from federation.models import Cluster, ClusterRecord, Record  # noqa: E402
from federation.roles import Actor, Role  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "config" / "demo" / "alliance.yaml"
KEY = Fernet.generate_key().decode("ascii")
LIFECYCLE_TITLES = 20


def big_alliance(n: int, seed: int = 5):
    """Return the demo alliance grown to ``n`` members (copies of its members, moved about)."""
    demo = load_alliance(DEMO)
    rng = random.Random(seed)
    leaves = [r.code for r in demo.regions if r.population]
    members = []
    for i in range(n):
        base = demo.members[i % len(demo.members)]
        members.append(dataclasses.replace(
            base, code=f"m{i:03d}", region=rng.choice(leaves),
            latitude=base.latitude + rng.uniform(-0.3, 0.3),
            longitude=base.longitude + rng.uniform(-0.3, 0.3),
        ))  # fmt: skip
    return dataclasses.replace(demo, members=tuple(members))


def add_title(db: Database, cluster_id: str, holders: list[str], rng: random.Random) -> None:
    """Store one record per holder in one cluster, copies on the shelf or on loan."""
    with db.session() as session:
        session.add(Cluster(id=cluster_id, size=len(holders)))
        session.flush()
        for code in holders:
            state = rng.choice(("available", "available", "on loan"))
            record = Record(member_code=code, oai_identifier=f"oai:{code}:{cluster_id}",
                            datestamp="2026-01-01", status="active", metadata_prefix="marc21",
                            normalised={"title": cluster_id, "holdings": [
                                {"availability": state, "item_count": 1}]})  # fmt: skip
            session.add(record)
            session.flush()
            session.add(ClusterRecord(record_id=record.id, cluster_id=cluster_id, rule="isbn"))


def prepare(url: str, alliance, titles: dict[str, list[str]]) -> Database:
    """Migrate a fresh database and fill it with the alliance and the titles."""
    db = Database(url)
    db.upgrade()
    with db.session() as session:
        import_alliance(session, alliance)
    rng = random.Random(1)
    for cluster_id, holders in titles.items():
        add_title(db, cluster_id, holders, rng)
    return db


def bench_rota(url: str, runs: int) -> dict:
    """Time whole rota computations on 500 members with 50 holders."""
    from ill import broker
    from ill.context import make_context
    from ill.models import IllRequest

    alliance = big_alliance(500)
    rng = random.Random(2)
    codes = [m.code for m in alliance.members]
    holders = rng.sample(codes, 50)
    db = prepare(url, alliance, {"c-rota": holders})
    ctx = make_context(alliance, KEY)
    ranker_started = time.perf_counter()
    broker.ranker_for(ctx)
    setup_ms = (time.perf_counter() - ranker_started) * 1000
    times, rank_only = [], []
    with db.session() as session:
        for i in range(runs):
            borrower = rng.choice([c for c in codes if c not in holders])
            request = IllRequest(borrower_code=borrower, cluster_id="c-rota", service_type="Loan",
                                 service_level=rng.choice(("Rush", "Normal")), rota_seed=i,
                                 max_cost=None, needed_by=None)  # fmt: skip
            started = time.perf_counter()
            lines = broker.compute_rota(session, ctx, request)
            times.append((time.perf_counter() - started) * 1000)
            assert sum(1 for line in lines if line.rank) > 0
            started = time.perf_counter()
            broker.ranker_for(ctx).rank(_wanted(request), _holdings(holders), {}, ctx.now())
            rank_only.append((time.perf_counter() - started) * 1000)
    db.dispose()
    return {"rota_p50_ms": _pct(times, 50), "rota_p99_ms": _pct(times, 99),
            "rota_rank_only_p50_ms": _pct(rank_only, 50),
            "rota_rank_only_p99_ms": _pct(rank_only, 99), "rota_setup_ms": round(setup_ms, 2),
            "rota_runs": runs}  # fmt: skip


def _wanted(request):
    from ill.rota import Wanted

    return Wanted(request.borrower_code, "Loan", request.service_level, None, None, 1)


def _holdings(holders):
    from ill.rota import Holding

    return [Holding(code, available=1) for code in holders]


def _pct(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))], 3)


# -- lifecycles ---------------------------------------------------------------------------------


def lifecycle_titles() -> dict[str, list[str]]:
    """Titles held by two or three demo universities and public libraries."""
    rng = random.Random(3)
    lenders = ["ytu", "ldu", "sdtbu", "ytlib", "fushan-pl"]
    return {f"c-life-{i}": rng.sample(lenders, rng.choice((2, 3))) for i in range(LIFECYCLE_TITLES)}


def unlimited(alliance):
    """Return the alliance with daily capacities no benchmark run can reach.

    The demo members take 8-30 requests a day; a fast run would fill them within a second and
    then measure unrouted requests instead of lifecycles.
    """
    members = tuple(
        dataclasses.replace(m, ill=dataclasses.replace(m.ill, daily_capacity=10**9))
        for m in alliance.members
    )
    return dataclasses.replace(alliance, members=members)


def _worker(url: str, seconds: float, seed: int, queue, alliance=None, start=None) -> None:
    """Run full lifecycles until time is up; put how many finished (and conflicts) on queue.

    Each transition is its own transaction and the whole of it (``commit=True``: on
    PostgreSQL its COMMIT travels with its writes). With ``start`` (a barrier) the worker
    sets itself up first (database connection, context) and starts with the others.
    """
    from ill import services
    from ill.context import make_context

    db = Database(url)
    ctx = make_context(unlimited(alliance or load_alliance(DEMO)), KEY)
    ctx.rng = random.Random(seed)
    rng = random.Random(seed)
    titles = list(lifecycle_titles())
    borrowers = ["zhifu-pl", "muping-pl", "penglai-pl", "longkou-pl", "xingfu-cl"]
    done = conflicts = 0
    server = _backend_cpu(db)
    if start is not None:
        start.wait()
    cpu = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        borrower = Actor(Role.ILL_STAFF, rng.choice(borrowers), name="bench")
        try:
            with db.session() as s:
                req = services.create_request(s, borrower, ctx=ctx, cluster_id=rng.choice(titles),
                                              patron_name="读者", patron_card="B-1",
                                              commit=True)  # fmt: skip
                rid, lender = req.id, Actor(Role.ILL_STAFF, req.lender_code, name="bench")
            for actor, kind, step in ((lender, "s", "WillSupply"), (lender, "s", "Loaned"),
                                      (borrower, "r", "Received"), (borrower, "r", "ShippedReturn"),
                                      (lender, "s", "LoanCompleted")):  # fmt: skip
                with db.session() as s:
                    if kind == "s":
                        services.apply_supplier_status(s, actor, rid, step, ctx=ctx, commit=True)
                    else:
                        services.apply_requester_action(s, actor, rid, step, ctx=ctx, commit=True)
            done += 1
        except services.Conflict:
            conflicts += 1
    cpu = time.process_time() - cpu
    server = _backend_cpu(db) - server if server is not None else None
    db.dispose()
    queue.put((done, conflicts, cpu, server))


def _backend_cpu(db: Database) -> float | None:
    """Return the CPU seconds of the PostgreSQL backend serving this worker (same machine).

    The worker runs one transaction at a time, so its pool hands it the same connection.
    """
    if db.engine.dialect.name != "postgresql":
        return None
    from sqlalchemy import text

    with db.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the server runs elsewhere: not measured
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def baseline(url: str, seconds: float = 2.0) -> float:
    """Return one-row insert-and-commit transactions per second (machine speed now)."""
    from federation.usage import record_usage

    db = Database(url)
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        with db.session() as session:
            record_usage(session, "search", member_code="ytu")
        n += 1
    db.dispose()
    return round(n / (time.perf_counter() - started), 1)


def bench_lifecycles(url: str, seconds: float, workers: int) -> dict:
    """Return full lifecycles per second with ``workers`` processes at once.

    The clock starts when every worker is set up (the broker imported and the alliance read
    once, before the workers fork; each worker's connection open): lifecycles per second of
    the running workers, not of their start-up (``startup_s``, printed apart). Up to the
    branch ill (2026-11-21) the start-up of eight workers (each parsing the alliance file,
    ~0.3 s of CPU) was inside the measured time.
    """
    import ill.context  # noqa: F401
    import ill.services  # noqa: F401 - imported once, before the workers fork

    alliance = load_alliance(DEMO)
    prepare(url, alliance, lifecycle_titles()).dispose()
    base = baseline(url)
    context = mp.get_context("fork")
    queue = context.Queue()
    start = context.Barrier(workers + 1)
    forked = time.perf_counter()
    procs = [context.Process(target=_worker, args=(url, seconds, i, queue, alliance, start))
             for i in range(workers)]  # fmt: skip
    for p in procs:
        p.start()
    start.wait(timeout=120)
    started = time.perf_counter()
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    done = sum(r[0] for r in results)
    cpu_ms = sum(r[2] for r in results) * 1000 / max(done, 1)
    out = {"per_s": round(done / elapsed, 1), "lifecycles": done,
           "conflicts": sum(r[1] for r in results), "baseline_tx_per_s": base,
           "client_cpu_ms_per_lifecycle": round(cpu_ms, 1),
           "startup_s": round(started - forked, 2)}  # fmt: skip
    if all(r[3] is not None for r in results):  # PostgreSQL on this machine
        out["server_cpu_ms_per_lifecycle"] = round(
            sum(r[3] for r in results) * 1000 / max(done, 1), 1
        )
    return out


def _fresh_pg(url: str) -> str | None:
    """Recreate the benchmark's PostgreSQL database; None when no server answers."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    target = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    except OperationalError:
        return None
    finally:
        admin.dispose()
    return target.render_as_string(hide_password=False)


def main() -> None:
    """Run the measurements and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rotas", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--pg", default=os.environ.get(
        "BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/fed_ill_bench"))  # fmt: skip
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-ill-"))
    out: dict = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                 "cpus": os.cpu_count(), "workers": args.workers,
                 "seconds": args.seconds}  # fmt: skip
    out.update(bench_rota(f"sqlite:///{folder / 'rota.sqlite3'}", args.rotas))
    lifecycles = {"sqlite": bench_lifecycles(f"sqlite:///{folder / 'life.sqlite3'}",
                                             args.seconds, args.workers)}  # fmt: skip
    pg = None if args.no_pg else _fresh_pg(args.pg)
    if pg:
        lifecycles["postgresql"] = bench_lifecycles(pg, args.seconds, args.workers)
    out["lifecycles_per_s"] = {k: v["per_s"] for k, v in lifecycles.items()}
    if not pg:
        out["lifecycles_per_s"]["postgresql"] = None  # no server: not measured
    out["lifecycles"] = lifecycles
    out["load_average"] = os.getloadavg()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
