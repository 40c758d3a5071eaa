"""The application as production WSGI servers load it: ``gunicorn "web.wsgi:app"``.

Besides creating the app, it sets Python's cyclic garbage collector up for a long-running
worker. A full collection walks every tracked object, and while it runs the worker's threads
stand still: with the app, its libraries and the per-worker search caches that is some 200,000
objects and 100-150 ms on a 2-core machine, which under load became the results page's p99
(benchmarks/README.md, "Web"). So what start-up built is frozen (``gc.freeze``: it lives as
long as the worker, and no collection walks it again), and collections run less often: the
pages' own garbage is freed by reference counting, not by the collector.
"""

from __future__ import annotations

import gc

from web import create_app

# Collect the youngest generation every 10,000 allocations (Python's default: 700), the older
# ones after 20 of the one below: a full collection is rare and walks only what came later.
GC_THRESHOLDS = (10_000, 20, 20)


def settle_garbage_collector() -> None:
    """Freeze what exists now out of every later collection and make collections rarer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


app = create_app()
settle_garbage_collector()
