"""Measure the ISO 18626 wire: messages built and read with XSD validation, and over HTTP.

Prints one JSON object. Baselines run in the same process: lxml parsing the same bytes without
the schema (what validation costs on top), and an HTTP round trip to a loopback server that
answers a fixed confirmation (what the endpoint costs on top of HTTP itself).

    PYTHONPATH=. .venv/bin/python benchmarks/iso18626.py [--messages 2000] [--posts 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ill.iso18626.client import Iso18626Client, Peer  # noqa: E402
from ill.iso18626.xml import from_xml, to_xml  # noqa: E402
from tests.unit.ill.iso18626.messages import every_message, requester_message  # noqa: E402

SECRET = "benchmark-shared-secret-0123456789"  # noqa: S105 - a loopback-only benchmark


def per_message_us(work, items, rounds: int) -> float:
    """Return the median over ``rounds`` of the mean microseconds per item of ``work``."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            work(item)
        samples.append((time.perf_counter() - start) / len(items) * 1e6)
    return round(statistics.median(samples), 1)


def codec(messages: int) -> dict:
    """Time building, reading and plain parsing of every kind of message."""
    kinds = every_message()
    items = [kinds[i % len(kinds)] for i in range(messages)]
    bodies = [to_xml(m) for m in items]
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return {
        "build_validated_us": per_message_us(to_xml, items, 5),
        "read_validated_us": per_message_us(from_xml, bodies, 5),
        "baseline_lxml_parse_us": per_message_us(lambda b: etree.fromstring(b, parser), bodies, 5),
    }


def http(posts: int) -> dict:
    """Time posts to the real endpoint and to a fixed-answer server, both on loopback."""
    from federation.db import Database
    from tests.conftest import DEMO_ALLIANCE
    from web import create_app
    from web.oai.server import EndpointServer

    with tempfile.TemporaryDirectory() as tmp, EndpointServer() as servers:
        url = f"sqlite:///{tmp}/bench.sqlite3"
        Database(url).upgrade()
        app = create_app(
            {
                "INSTANCE_PATH": tmp,
                "DATABASE_URL": url,
                "ALLIANCE_FILE": str(DEMO_ALLIANCE),
                "SECRET_KEY": "bench",
                "ILL_PEER_SECRETS": f"ytu={SECRET}",
                "LOG_LEVEL": "ERROR",
            }
        )
        answer = to_xml(from_xml(_confirmation()))
        fixed = servers.start(_fixed(answer)) + "iso18626"
        ours = servers.start(app) + "iso18626"
        client = Iso18626Client(max_retries=0)
        message = requester_message()  # unknown request: the full path to an ERROR answer
        figures = {}
        for name, endpoint in (("baseline_fixed_answer", fixed), ("endpoint", ours)):
            peer = Peer("ytu", endpoint, SECRET)
            client.send(peer, message)  # warm up: connections, schema compilation
            figures[f"{name}_ms"] = round(
                per_message_us(lambda _, p=peer: client.send(p, message), range(posts), 3) / 1000, 2
            )
        app.extensions["federation.db"].dispose()
    figures["endpoint_per_s"] = round(1000 / figures["endpoint_ms"], 1)
    return figures


def _confirmation() -> bytes:
    from ill.iso18626.confirm import confirm
    from ill.iso18626.messages import utcnow

    return to_xml(confirm(requester_message(), utcnow()))


def _fixed(body: bytes):
    def app(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response(
            "200 OK", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return app


def main() -> None:
    """Run both measurements and print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=300)
    args = parser.parse_args()
    figures = {"messages": args.messages, "posts": args.posts, **codec(args.messages)}
    figures["validation_ratio"] = round(
        figures["read_validated_us"] / figures["baseline_lxml_parse_us"], 1
    )
    figures.update(http(args.posts))
    figures["endpoint_over_baseline"] = round(
        figures["endpoint_ms"] / figures["baseline_fixed_answer_ms"], 2
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
