"""Cost per document of one rebuild worker's loop, by stage and by index field.

A parallel rebuild's worker (search/backends/tantivy_build.py) parses each sent document,
prepares its fields, converts them to a tantivy document and indexes it with one writer
thread. This runs that loop in one process over generated documents (benchmarks/search.py's
generator) and prints the process CPU per document, tantivy's threads included:

    PYTHONPATH=$PWD .venv/bin/python benchmarks/index_cost.py --stage index --docs 100000

Stages are cumulative: ``gen`` (generate only), ``loads`` (orjson.loads), ``fields``
(+ document_fields), ``convert`` (+ Document.from_dict), ``index`` (+ add_document, commit),
``json`` (the index stage through ``writer.add_json``, the stored bytes as base64).
``--drop f1,f2`` leaves fields out of the schema and the documents (an experiment: the search
pages need every field) to see what each costs.

CPU time on a shared machine varies by ±20 % run to run. For exact comparisons count
instructions instead: run a stage and ``gen`` under
``valgrind --tool=callgrind --callgrind-out-file=/dev/null`` with ``--docs 3000`` (about a
minute each) and divide the difference of the "Collected" totals by the documents.
"""

from __future__ import annotations

import argparse
import base64
import resource
import shutil
import tempfile
import time

import orjson
import tantivy

from benchmarks.search import Generator
from search.backends.tantivy_schema import build_schema, document_fields, register_tokenizers

STAGES = ("gen", "loads", "fields", "convert", "index", "json")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _schema_without(drop: set[str]) -> tantivy.Schema:
    """Build the schema with the ``drop`` fields left out (add_* calls on them skipped)."""
    if not drop:
        return build_schema()
    cls = tantivy.SchemaBuilder
    originals = {n: getattr(cls, n) for n in ("add_text_field", "add_integer_field",
                                              "add_bytes_field")}  # fmt: skip

    def skipping(method):
        def add(self, name, *args, **kwargs):
            return self if name in drop else method(self, name, *args, **kwargs)

        return add

    try:
        for name, method in originals.items():
            setattr(cls, name, skipping(method))
        return build_schema()
    finally:
        for name, method in originals.items():
            setattr(cls, name, method)


def run(stage: str, docs: int, members: int, drop: set[str]) -> dict[str, float]:
    """Run one stage over ``docs`` generated documents; return its CPU figures."""
    gen = Generator(members)
    sent = [orjson.dumps(gen.doc(n)) for n in range(docs)]
    schema = _schema_without(drop)
    folder = tempfile.mkdtemp(prefix="index-cost-")
    try:
        index = tantivy.Index(schema, path=folder, reuse=False)
        register_tokenizers(index)
        writer = index.writer(250_000_000, 1)
        started, thread_started = _cpu_s(), time.thread_time()
        if stage != "gen":
            for stored in sent:
                doc = orjson.loads(stored)
                if stage == "loads":
                    continue
                fields = document_fields(doc, stored)
                for name in drop:
                    fields.pop(name, None)
                if stage == "json":
                    fields["doc"] = base64.b64encode(stored).decode()
                    writer.add_json(orjson.dumps(fields).decode())
                elif stage in ("convert", "index"):
                    document = tantivy.Document.from_dict(fields, schema)
                    if stage == "index":
                        writer.add_document(document)
        writer.commit()
        writer.wait_merging_threads()
        total, thread = _cpu_s() - started, time.thread_time() - thread_started
    finally:
        shutil.rmtree(folder)
    return {
        "cpu_us_per_doc": round(1e6 * total / docs, 1),
        "python_thread_us_per_doc": round(1e6 * thread / docs, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stage", choices=STAGES, default="index")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--drop", default="", help="comma-separated index fields to leave out")
    args = parser.parse_args(argv)
    drop = set(filter(None, args.drop.split(",")))
    figures = run(args.stage, args.docs, args.members, drop)
    print(orjson.dumps({"stage": args.stage, "docs": args.docs, "drop": sorted(drop),
                        **figures}).decode())  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
