"""Harvest throughput: our harvester end to end against a bare sickle loop, same server, same run.

A loopback server in its own process serves pre-rendered ListRecords pages of N generated
MARCXML records (page bodies are rendered once from a few templates; each page only swaps its
number into the identifiers, so the server is not the bottleneck). Then, each in a fresh child
process so peak RSS is its own:

- baseline: sickle's ListRecords iterating every record and doing nothing else;
- harvest:  harvesters.services.harvest_member (fetch, parse, normalise, store in SQLite).

Prints one JSON object. Usage: python benchmarks/harvest.py --records 100000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PAGE_MARKER = b"@@PAGE@@"
TEMPLATES = 8
OAI_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    b'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ '
    b'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
    b"<responseDate>2026-11-21T00:00:00Z</responseDate>"
    b'<request verb="ListRecords" metadataPrefix="marc21">http://127.0.0.1/oai</request>'
)
IDENTIFY = OAI_HEAD.replace(b'verb="ListRecords" metadataPrefix="marc21"', b'verb="Identify"') + (
    b"<Identify><repositoryName>Benchmark</repositoryName><baseURL>http://127.0.0.1/oai</baseURL>"
    b"<protocolVersion>2.0</protocolVersion><adminEmail>a@example.org</adminEmail>"
    b"<earliestDatestamp>2020-01-01T00:00:00Z</earliestDatestamp>"
    b"<deletedRecord>persistent</deletedRecord>"
    b"<granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify></OAI-PMH>"
)
FORMATS = OAI_HEAD.replace(
    b'verb="ListRecords" metadataPrefix="marc21"', b'verb="ListMetadataFormats"'
) + (
    b"<ListMetadataFormats><metadataFormat><metadataPrefix>marc21</metadataPrefix>"
    b"<schema>http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd</schema>"
    b"<metadataNamespace>http://www.loc.gov/MARC21/slim</metadataNamespace></metadataFormat>"
    b"</ListMetadataFormats></OAI-PMH>"
)


def render_templates(page_size: int, seed: int = 7) -> list[bytes]:
    """Render a few ListRecords page bodies from the demo corpus's MARCXML records."""
    from federation.demo import MemberProfile, build_corpus

    corpus = build_corpus(
        [MemberProfile("bench", "university", "marc21", 1.0)], seed=seed, total=600
    )
    payloads = [r.metadata("marc21") for r in corpus.records["bench"] if not r.deleted]
    rng = random.Random(seed)
    pages = []
    for t in range(TEMPLATES):
        parts = [OAI_HEAD, b"<ListRecords>"]
        for k in range(page_size):
            payload = payloads[rng.randrange(len(payloads))]
            parts += [
                b"<record><header><identifier>oai:bench:",
                PAGE_MARKER,
                f"-{k}".encode(),
                b"</identifier><datestamp>2026-01-0",
                str(1 + t % 9).encode(),
                b"T10:00:00Z</datestamp></header><metadata>",
                payload,
                b"</metadata></record>",
            ]
        parts.append(b"@@TOKEN@@</ListRecords></OAI-PMH>")
        pages.append(b"".join(parts))
    return pages


def serve(port_queue, records: int, page_size: int) -> None:
    """Serve the pages until killed (runs in its own process)."""
    templates = render_templates(page_size)
    page_count = -(-records // page_size)
    # Each template cut at its page markers once: a page is then one join (one copy of ~1 MB)
    # instead of two replace() passes over it, ~2.6 -> ~0.5 ms of the server's CPU a page,
    # CPU the harvester under test would otherwise share its two cores with.
    tail = b"@@TOKEN@@</ListRecords></OAI-PMH>"
    pieces = [t[: -len(tail)].split(PAGE_MARKER) for t in templates]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep the benchmark output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's spelling
            args = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            verb = args.get("verb")
            if verb == "Identify":
                body = IDENTIFY
            elif verb == "ListMetadataFormats":
                body = FORMATS
            else:
                page = int(args.get("resumptionToken", "0"))
                body = self.page(page)
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def page(self, number: int) -> bytes:
            if number + 1 < page_count:
                size = page_count * page_size
                token = f'<resumptionToken completeListSize="{size}">{number + 1}</resumptionToken>'
            else:
                token = "<resumptionToken/>"  # noqa: S105 - an OAI element, not a password
            head = str(number).encode().join(pieces[number % TEMPLATES])
            body = b"".join((head, token.encode(), tail[len(b"@@TOKEN@@") :]))
            if number + 1 == page_count and records % page_size:
                body = _truncate_page(body, records % page_size)
            return body

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_port)
    server.serve_forever()


def _truncate_page(body: bytes, keep: int) -> bytes:
    """Keep only the first ``keep`` records of the last page."""
    pieces = body.split(b"</record>")
    return b"</record>".join(pieces[:keep]) + b"</record>" + pieces[-1]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_cpu_seconds() -> float:
    """CPU time (user + system) of this process's finished children (the normalising workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children (workers)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def sickle_loop(url: str, out) -> None:
    """Baseline: iterate sickle's ListRecords and do nothing with the records."""
    from sickle import Sickle

    started, cpu = time.perf_counter(), cpu_seconds()
    count = sum(1 for _ in Sickle(url, timeout=60).ListRecords(metadataPrefix="marc21"))
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    out.put(
        {"records": count, "seconds": seconds, "peak_rss_mb": peak_rss_mb(), "cpu_seconds": cpu}
    )


def our_harvest(url: str, folder: str, out) -> None:
    """Harvest end to end into a fresh SQLite store with harvesters.services.harvest_member."""
    import dataclasses

    from sqlalchemy import func, select

    from benchmarks.search import ChildMemory
    from config import DEMO_ALLIANCE_FILE
    from federation.alliance import load_alliance
    from federation.db import Database
    from federation.members import import_alliance
    from federation.models import Record
    from federation.settings import load_settings
    from harvesters.services import harvest_member

    settings = load_settings({"INSTANCE_PATH": folder}, environ={})
    db = Database(settings["DATABASE_URL"])
    db.upgrade()
    alliance = load_alliance(DEMO_ALLIANCE_FILE)
    with db.session() as session:
        import_alliance(session, alliance)
    member = alliance.members[0]
    member = dataclasses.replace(
        member, oai=dataclasses.replace(member.oai, base_url=url, metadata_prefix="marc21", sets=())
    )
    workers_memory = ChildMemory()  # ru_maxrss would be the fork's: sample VmHWM instead
    started, cpu, worker_cpu = time.perf_counter(), cpu_seconds(), children_cpu_seconds()
    summary = harvest_member(db, member, full=True, settings=settings)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    worker_cpu = children_cpu_seconds() - worker_cpu
    with db.session() as session:
        stored = session.scalar(select(func.count()).select_from(Record))
    out.put(
        {
            "records": stored,
            "seconds": seconds,
            "peak_rss_mb": peak_rss_mb(),
            "worker_peak_rss_mb": workers_memory.stop(),  # the largest worker's own peak
            "status": summary.status,
            "error": summary.error,
            "cpu_seconds": cpu,
            "worker_cpu_seconds": worker_cpu,
        }
    )


def run_child(target, *args) -> dict:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, out))
    proc.start()
    result = out.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    ports = ctx.Queue()
    server = ctx.Process(target=serve, args=(ports, args.records, args.page_size), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ports.get(timeout=120)}/oai"
    try:
        baseline = None if args.skip_baseline else run_child(sickle_loop, url)
        with tempfile.TemporaryDirectory(prefix="bench-harvest-") as folder:
            ours = run_child(our_harvest, url, folder)
    finally:
        server.terminate()

    rate = ours["records"] / ours["seconds"]
    result = {
        "records": ours["records"],
        "page_size": args.page_size,
        "seconds": round(ours["seconds"], 2),
        "records_per_s": round(rate),
        "peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "worker_peak_rss_mb": round(ours["worker_peak_rss_mb"], 1),
        "cpu_us_per_record": round(ours["cpu_seconds"] / ours["records"] * 1e6),
        # of which the normalising worker processes (their ~1 s each of start-up imports included)
        "worker_cpu_us_per_record": round(ours["worker_cpu_seconds"] / ours["records"] * 1e6),
        "status": ours["status"],
        "machine": (
            f"{platform.machine()} {mp.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if ours.get("error"):
        result["error"] = ours["error"]
    if baseline:
        sickle_rate = baseline["records"] / baseline["seconds"]
        result.update(
            {
                "sickle_records": baseline["records"],
                "sickle_records_per_s": round(sickle_rate),
                "sickle_peak_rss_mb": round(baseline["peak_rss_mb"], 1),
                "sickle_cpu_us_per_record": round(
                    baseline["cpu_seconds"] / baseline["records"] * 1e6
                ),
                "ratio_vs_sickle": round(rate / sickle_rate, 2),
            }
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
