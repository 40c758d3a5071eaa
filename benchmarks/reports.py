"""Measure the service-gap report build: 500 members, 100 districts, a year of ~10M events.

    python benchmarks/reports.py [--members 500] [--districts 100] [--events 10000000] [--runs 3]

The report reads monthly roll-ups (counts per month, measure, district, library type and CLC
class, plus turnaround and distance histograms), never raw events. This script makes the
roll-ups of a simulated year directly, drawing how many events fall under each roll-up key so
that they add up to ``--events``; it does not create 10M event rows (``rollup_included``:
false). What folding raw events into roll-ups costs is measured separately on a sample of
``--fold-sample`` events with the report's own fold (``fold_events_per_s``), in memory (the
database read is not included). The roll-up is written to a SQLite store's ``report_rollups``
table and read back as the page reads it (``rollup_read_s``). ``build_s`` is the median over
``--runs`` of the whole report of the year from the facts read back (every metric, gap
detection with its sentences, every table, and the comparison with the year before);
``read_and_build_s`` is what a page or an export waits for. ``baseline_build_s`` builds the
same alliance with a tenth of the events in the same process: a build that reads roll-ups
barely depends on the event count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from federation.reports import facts as f  # noqa: E402
from federation.reports.facts import ALL_TYPES, District, Facts, Library  # noqa: E402
from federation.reports.report import add_comparison, build_report  # noqa: E402
from federation.reports.rollups import rollup_rows  # noqa: E402

TYPES = ("university", "public", "public", "public", "community", "school", "research")
# CLC main classes (T split into its two-letter subclasses, as the report counts them)
CLASSES = list("ABCDEFGHIJKNOPQRSUVXZ") + ["TB", "TD", "TG", "TH", "TM", "TN", "TP", "TQ", "TS"]
# Shares of the year's events by kind (searches dominate, as in any union catalogue).
MIX = {"search": 0.80, "search_zero": 0.06, "requested": 0.07, "filled": 0.06, "cancelled": 0.01}
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


def alliance(members: int, districts: int, rng: random.Random) -> Facts:
    """Return districts with populations and members spread over them (a few districts empty)."""
    places = [
        District(f"d{i:03d}", f"区{i}", f"District {i}", rng.randint(50_000, 1_500_000))
        for i in range(districts)
    ]
    served = places[: max(1, districts - districts // 10)]  # a tenth have no library
    libraries = []
    for i in range(members):
        d = served[i % len(served)]
        lat, lon = 30 + rng.random() * 5, 115 + rng.random() * 5
        libraries.append(
            Library(f"m{i:03d}", f"馆{i}", f"Library {i}", rng.choice(TYPES), d.code, lat, lon)
        )
    facts = Facts(places, libraries)
    _holdings(facts, rng)
    return facts


def _holdings(facts: Facts, rng: random.Random) -> None:
    h = facts.holdings
    h.alliance_titles = 2_000_000
    for c in CLASSES:
        h.alliance_class_titles[c] = rng.randint(10_000, 200_000)
    for lib in facts.libraries:
        titles = rng.randint(5_000, 300_000)
        h.titles[(lib.district, lib.type)] += titles
        h.titles[(lib.district, ALL_TYPES)] += titles
        for c in CLASSES:
            h.class_titles[(lib.district, c)] += titles // len(CLASSES)


def _split(total: int, weights: list[float], rng: random.Random) -> list[int]:
    """Share ``total`` among weights with noise, keeping the sum exact."""
    noisy = [w * rng.uniform(0.5, 1.5) for w in weights]
    scale = total / sum(noisy)
    counts = [int(w * scale) for w in noisy]
    counts[0] += total - sum(counts)
    return counts


def rollups(facts: Facts, events: int, rng: random.Random) -> None:
    """Fill the roll-ups of a year of ``events`` events (counts drawn per key)."""
    r, libs = facts.rollup, facts.libraries
    weights = [1.0] * len(libs)
    for kind, share in MIX.items():
        per_month = _split(int(events * share), [1.0] * len(MONTHS), rng)
        for month, n in zip(MONTHS, per_month, strict=True):
            per_lib = _split(n, weights, rng)
            for lib, k in zip(libs, per_lib, strict=True):
                _fill(r, kind, month, lib, k, rng, libs)


def _fill(r, kind: str, month: str, lib: Library, n: int, rng, libs) -> None:
    # As the fold keeps them: searches and requests by CLC class (demand), the rest as totals.
    by_class = kind in ("search", "requested")
    per_class = _split(n, [1.0] * 8, rng) if by_class else [n]
    classes = rng.sample(CLASSES, 8) if by_class else [""]
    measure = {
        "search": f.SEARCHES,
        "search_zero": f.ZERO_SEARCHES,
        "requested": f.REQUESTED,
        "filled": f.FILLED,
        "cancelled": f.CANCELLED,
    }[kind]
    for clc, k in zip(classes, per_class, strict=True):
        r.add(month, measure, lib.district, lib.type, clc, k)
    if kind == "requested":
        r.add(month, f.REQUESTED_HELD_LOCALLY, lib.district, lib.type, n=n * 2 // 5)
        for km, k in zip((3, 12, 40, 90), _split(n, [4, 3, 2, 1], rng), strict=True):
            r.add_km(month, lib.district, lib.type, km + rng.random() * 5, k)
    if kind == "filled":
        lender = rng.choice(libs)
        r.add(month, f.LENT, lender.district, lender.type, n=n)
        if lender.type == "university" and lib.type == "public":
            r.add(month, f.UNIVERSITY_TO_PUBLIC, lib.district, lib.type, n=n)
        hours = (6, 12, 24, 36, 48, 72, 96, 120, 168, 240)
        for h, k in zip(hours, _split(n, [3, 5, 8, 6, 5, 4, 2, 1, 1, 0.5], rng), strict=True):
            r.add_hours(month, lib.district, lib.type, h, k)


def store_and_read(facts: Facts, path: Path) -> tuple[Facts, float, float]:
    """Write the roll-up to a SQLite store's report_rollups table; time reading it back."""
    from sqlalchemy import insert

    from federation.db import Database
    from federation.models import ReportRollup
    from federation.reports.rollups import HOLDINGS, holdings_rows, read_rollups, rollup_rows

    db = Database(f"sqlite:///{path}")
    db.upgrade()
    start = time.perf_counter()
    rows = rollup_rows(facts.rollup) + holdings_rows(facts.holdings)
    with db.session() as session:
        for i in range(0, len(rows), 20_000):
            session.execute(insert(ReportRollup), rows[i : i + 20_000])
    written = time.perf_counter() - start
    loaded = Facts(facts.districts, facts.libraries)
    start, cpu = time.perf_counter(), time.process_time()
    with db.session() as session:
        read_rollups(session, loaded, [*MONTHS, HOLDINGS])
    read = (time.perf_counter() - start, time.process_time() - cpu)
    db.dispose()
    return loaded, written, read


def build(facts: Facts) -> tuple[float, float]:
    """Build the year's report and its comparison with the year before; return wall, CPU s."""
    start, cpu = time.perf_counter(), time.process_time()
    report = build_report(facts, "2026", targets={"fill_rate": 0.8})
    add_comparison(report, build_report(facts, report.previous))
    elapsed = (time.perf_counter() - start, time.process_time() - cpu)
    assert report.has_data and report.top
    return elapsed


def fold_rate(facts: Facts, sample: int, rng: random.Random) -> float:
    """Return raw events folded into roll-ups per second (the report's own fold, in memory)."""
    from types import SimpleNamespace

    from federation.reports.facts import Rollup
    from federation.reports.source import Titles, _fold

    where = {lib.code: lib for lib in facts.libraries}
    codes = {d.code for d in facts.districts}
    titles = Titles(
        {f"c{i}": {rng.choice(facts.libraries).code} for i in range(10_000)},
        {f"c{i}": rng.choice(CLASSES) for i in range(10_000)},
    )
    kinds = ["search"] * 80 + ["search_zero"] * 6 + ["ill_requested"] * 7 + ["ill_filled"] * 6
    kinds += ["ill_cancelled"]
    events = [
        SimpleNamespace(
            kind=rng.choice(kinds),
            member_code=rng.choice(facts.libraries).code,
            partner_code=rng.choice(facts.libraries).code,
            region_code=None,
            cluster_id=f"c{rng.randrange(10_000)}",
            clc_class=rng.choice(CLASSES),
            quantity=1,
            value=rng.choice((12.0, 30.0)),
        )
        for _ in range(sample)
    ]
    rollup = Rollup()
    start = time.perf_counter()
    for e in events:
        _fold(rollup, e, "2026-03", where, codes, titles)
    return sample / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--districts", type=int, default=100)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fold-sample", type=int, default=200_000)
    args = parser.parse_args()
    rng = random.Random(2026)
    facts = alliance(args.members, args.districts, rng)
    small = alliance(args.members, args.districts, random.Random(2026))
    start = time.perf_counter()
    rollups(facts, args.events, rng)
    made_s = time.perf_counter() - start
    rollups(small, args.events // 10, random.Random(7))
    with tempfile.TemporaryDirectory() as folder:
        loaded, written_s, (read_s, read_cpu_s) = store_and_read(
            facts, Path(folder) / "rollups.sqlite3"
        )
    assert loaded.rollup.counts == facts.rollup.counts  # the table gives back the same roll-up
    builds = [build(loaded) for _ in range(args.runs)]
    baselines = [build(small) for _ in range(args.runs)]
    rate = fold_rate(facts, args.fold_sample, rng)
    print(
        json.dumps(
            {
                "members": args.members,
                "districts": args.districts,
                "events": sum(
                    n
                    for k, n in facts.rollup.counts.items()
                    if k[1] in (f.SEARCHES, f.ZERO_SEARCHES, f.REQUESTED, f.FILLED, f.CANCELLED)
                ),
                "months": len(MONTHS),
                "rollup_keys": len(facts.rollup.counts),
                "rollup_included": False,
                "rollup_made_s": round(made_s, 2),
                "rollup_rows": len(rollup_rows(facts.rollup)),
                "rollup_write_s": round(written_s, 2),
                "rollup_read_s": round(read_s, 2),
                "rollup_read_cpu_s": round(read_cpu_s, 2),
                "build_s": round(statistics.median(b[0] for b in builds), 3),
                "build_cpu_s": round(statistics.median(b[1] for b in builds), 3),
                "read_and_build_s": round(read_s + statistics.median(b[0] for b in builds), 3),
                "build_runs_s": [round(b[0], 3) for b in builds],
                "baseline_events": args.events // 10,
                "baseline_build_s": round(statistics.median(b[0] for b in baselines), 3),
                "fold_events_per_s": round(rate),
                "fold_all_events_estimate_s": round(args.events / rate, 1),
                "load_avg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
