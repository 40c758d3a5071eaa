"""Measure deduplication: throughput of the clustering core, and quality on labelled sets.

    python benchmarks/dedup.py [--total 105000] [--runs 5] [--no-store]

Prints one JSON object: ``records_per_s`` (median wall-clock rate of the in-memory core, match
keys included, over ``--runs`` runs on a demo corpus of ``--total`` records, generated and
parsed first: that takes a few minutes and is not timed), and ``sets``: pairwise precision,
recall and F1 at the manifestation level on the demo corpus (5,200 records, generator ground
truth), on the large corpus used for timing, and on the hand-labelled Pride and Prejudice
records in tests/data/dedup. ``store`` times, through a SQLite record store holding the demo
corpus, ``rebuild_clusters`` (loading, keys, clustering, writing), ``index_rebuild`` (what
`federation index rebuild` does: documents from the stored clusters into a new tantivy index;
the issue's rebuild-from-the-store figure), ``documents`` (the same without tantivy) and
``index_rebuild_recluster`` (`--recluster`: every record clustered again first);
``--store-set large`` uses the --total corpus there. The machine's load is printed too:
other work on a 2-core machine slows every wall-clock figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search.dedup.cluster import cluster_records, deduplicate  # noqa: E402
from search.dedup.keys import clear_caches  # noqa: E402
from search.dedup.labelled import LabelledSet, load_demo_set, load_marc_set  # noqa: E402
from search.dedup.quality import pairwise_scores  # noqa: E402

ALLIANCE = ROOT / "config" / "demo" / "alliance.yaml"
DEDUP_DATA = ROOT / "tests" / "data" / "dedup"
NOW = datetime(2026, 1, 1, tzinfo=UTC)  # a fixed day: the same corpus on every run


def score(labelled: LabelledSet, clusters) -> dict:
    """Return the pairwise scores of a clustering against the set's labels."""
    found = {rid: n for n, c in enumerate(clusters) for rid in c.record_ids}
    return pairwise_scores(found, labelled.truth).as_dict() | {"records": len(labelled.records)}


def time_core(labelled: LabelledSet, runs: int) -> tuple[dict, list]:
    """Time keys + clustering of every record, ``runs`` times; caches start cold each run."""
    walls, cpus, result = [], [], None
    items = list(labelled.records.items())
    for _ in range(runs):
        clear_caches()
        wall, cpu = time.perf_counter(), time.process_time()
        result = deduplicate(items)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    n = len(items)
    figures = {
        "records": n,
        "clusters": len(result.clusters),
        "runs": runs,
        "records_per_s": round(n / statistics.median(walls)),
        "records_per_s_best": round(n / min(walls)),
        "cpu_records_per_s": round(n / statistics.median(cpus)),
        "seconds_median": round(statistics.median(walls), 3),
    }
    return figures, result.clusters


def time_store(labelled: LabelledSet) -> dict:
    """Time the rebuilds from a SQLite record store holding the set.

    ``rebuild_clusters`` re-clusters every record (loading, keys, clustering, writing).
    ``index_rebuild`` is exactly `federation index rebuild`: every cluster's document built
    from the stored clusters and written to a new tantivy index (the issue's "rebuild from
    the store"); ``documents`` is the same reading and building with a consumer that only
    iterates (this side's cost apart from tantivy's); ``index_rebuild_recluster`` is
    `federation index rebuild --recluster` (every record clustered again first). Rates are
    records of the store per second; ``cpu_us_per_record`` counts every thread of the
    process, ``main_thread_cpu_us_per_record`` the one that reads, builds and feeds.
    """
    from search.backends.tantivy import TantivyBackend
    from search.dedup.services import all_cluster_documents, rebuild_clusters
    from search.indexing import rebuild_index

    n = len(labelled.records)
    with tempfile.TemporaryDirectory() as folder:
        db = _store(labelled, folder)
        clock = _Clock(n)
        with db.session() as session:
            changes = rebuild_clusters(session)
        out = {"records": n, "clusters": len(changes.upserted), "rebuild_clusters": clock.rates()}
        for name, recluster in (("index_rebuild", False), ("index_rebuild_recluster", True)):
            backend = TantivyBackend(Path(folder) / name)
            clock = _Clock(n)
            written = rebuild_index(db, backend, recluster=recluster)
            out[name] = {"documents": written, **clock.rates()}
            backend.close()
            if name == "index_rebuild":
                clock = _Clock(n)
                with db.session() as session:
                    built = sum(1 for _doc in all_cluster_documents(session))
                out["documents"] = {"documents": built, **clock.rates()}
        db.dispose()
    return out


class _Clock:
    """Wall clock, process CPU and this thread's CPU since it was made, per record."""

    def __init__(self, records: int) -> None:
        self.records = records
        self.wall, self.cpu, self.thread = (
            time.perf_counter(),
            time.process_time(),
            time.thread_time(),
        )

    def rates(self) -> dict:
        seconds = time.perf_counter() - self.wall
        cpu, thread = time.process_time() - self.cpu, time.thread_time() - self.thread
        return {"seconds": round(seconds, 2), "records_per_s": round(self.records / seconds),
                "cpu_us_per_record": round(cpu * 1e6 / self.records, 1),
                "main_thread_cpu_us_per_record": round(thread * 1e6 / self.records, 1)}  # fmt: skip


def _store(labelled: LabelledSet, folder: str):
    """Return a SQLite record store in ``folder`` holding the set's records."""
    from federation.alliance import load_alliance
    from federation.db import Database
    from federation.members import import_alliance
    from harvesters.runs import start_run
    from harvesters.store import Checkpoint, StoredRecord, bib_to_json, save_page

    db = Database(f"sqlite:///{folder}/bench.sqlite3")
    db.upgrade()
    with db.session() as session:
        import_alliance(session, load_alliance(ALLIANCE))
    by_member: dict[str, list] = {}
    for rid, record in labelled.records.items():
        row = StoredRecord(labelled.names[rid], "2026-01-01T00:00:00Z", "active",
                           record.source_format, b"-", bib_to_json(record))  # fmt: skip
        by_member.setdefault(record.member, []).append(row)
    for member, rows in by_member.items():
        save_page(db, start_run(db, member, "full", "x"), member, rows, Checkpoint(None, 0, None))
    return db


def reference_loop_seconds() -> float:
    """Time a fixed pure-Python loop: how fast this machine runs Python right now."""
    started = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i * i
    return round(time.process_time() - started, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--total", type=int, default=105_000, help="records generated for timing (~3%% deleted)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs (the median is reported)")
    parser.add_argument("--no-store", action="store_true", help="skip the record-store rebuild")
    parser.add_argument(
        "--store-set",
        choices=("demo", "large"),
        default="demo",
        help="corpus in the record store for the rebuild timings (large: the --total one)",
    )
    args = parser.parse_args()
    load_before = os.getloadavg()

    demo = load_demo_set(ALLIANCE, now=NOW)
    pride = load_marc_set(
        "pride-and-prejudice",
        DEDUP_DATA / "pride-and-prejudice-fixed.mrc",
        DEDUP_DATA / "pride-and-prejudice-labels.csv",
    )
    large = load_demo_set(ALLIANCE, now=NOW, total=args.total)
    figures, large_clusters = time_core(large, args.runs)
    out = {
        "records_per_s": figures["records_per_s"],
        "throughput": figures,
        "sets": {
            "demo": score(demo, cluster_records(demo.keys()).clusters),
            f"demo-{len(large.records)}": score(large, large_clusters),
            "pride-and-prejudice": score(pride, cluster_records(pride.keys()).clusters),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "python": sys.version.split()[0],
            # CPU seconds of `for i in range(10**7): total += i * i`; about 0.5 s on an idle
            # modern core with CPython 3.11: more means the machine is busy or slow
            "reference_loop_cpu_s": reference_loop_seconds(),
        },
    }
    if not args.no_store:
        out["store"] = time_store(demo if args.store_set == "demo" else large)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
