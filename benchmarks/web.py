"""Load-test the reader results page: gunicorn serving the app, Debian's wrk driving it.

    python benchmarks/web.py --clusters 100000 [--workers 2] [--threads 4] [--duration 20]

Prints one JSON object (requests_per_s, p50/p90/p99 latency, errors, server CPU per request,
the result cache's hit rate, workers, threads, index size) for the app as configured by
default (each worker keeps a cache of recent results), and the same figures with that cache
switched off under ``uncached``. The synthetic index comes from benchmarks/search.py's seeded
generator and is built once under ``--root`` (default /tmp/web-bench-<clusters>) and reused by
later runs. The instance there holds the demo alliance's members (SQLite) and the index;
gunicorn serves ``web.wsgi:app`` (the production entry point).

The requests are a stream of reader visits, as in a search log: each visit searches for words
drawn from the corpus's own Zipf-distributed vocabulary (English and Chinese words, two-word
queries, the advanced title field with a year range, sometimes a chosen home library), and may
go on to tick a facet value, open page 2 or sort by year. Popular words come back often, most
queries rarely or once, so a result cache helps only as much as it would on real traffic. The
stream never repeats within a run (wrk's threads start at different places in it), and the
warm-up uses a stream of its own. Requests come as if from 1,000 readers behind one reverse
proxy (X-Forwarded-For, PROXY_HOPS=1), so the per-client rate limit counts each reader
separately as it would in production.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search.backends.tantivy import TantivyBackend  # noqa: E402


def _load_search_benchmark():
    """Load benchmarks/search.py (its name clashes with the ``search`` package)."""
    spec = importlib.util.spec_from_file_location("bench_search", ROOT / "benchmarks/search.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Generator = _load_search_benchmark().Generator

WRK = "/usr/bin/wrk"
LUA = """
local paths = {}
for line in io.lines(os.getenv("WEB_BENCH_URLS")) do paths[#paths + 1] = line end
local threads = 0
setup = function(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local i = 0
init = function(args)
  -- Each thread starts at its own place in the stream: no request repeats another's.
  i = math.floor((id or 0) * #paths / 2)
end
request = function()
  i = i % #paths + 1
  -- Readers reach gunicorn through a proxy (PROXY_HOPS=1): each request comes from one of
  -- 1,000 reader addresses, so the per-client limit (600 pages a minute) does not refuse them.
  local reader = "10.0." .. (i % 10) .. "." .. (i % 100)
  return wrk.format("GET", paths[i], {["X-Forwarded-For"] = reader})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write("JSON ", string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
"""

# gunicorn settings file of the run: each worker writes its result cache's counters at exit.
GUNICORN_CONF = """
import json, os

def worker_exit(server, worker):
    backend = worker.wsgi.extensions.get("federation.search")
    results = getattr(backend, "results", None)
    if results is not None:
        stats = results.stats()
        counts = getattr(backend, "counts", None)  # totals and facet counts kept across pages
        if counts is not None:
            kept = counts.stats()
            stats.update(counts_hits=kept["hits"], counts_misses=kept["misses"])
        with open(os.environ["WEB_BENCH_CACHE_STATS"], "a", encoding="utf-8") as out:
            out.write(json.dumps(stats) + "\\n")
"""


def prepare_instance(root: Path, clusters: int, members: int) -> Path:
    """Return the instance folder under ``root``, building the index and database if missing."""
    instance = root / "instance"
    marker = root / f"built-v4-{clusters}-{members}"  # v4: the stored document as bytes
    if marker.exists():
        return instance
    shutil.rmtree(root, ignore_errors=True)
    (instance / "search").mkdir(parents=True)
    gen = Generator(members)
    backend = TantivyBackend(instance / "search" / "tantivy")
    try:
        backend.rebuild(placed(gen.doc(n)) for n in range(clusters))
    finally:
        backend.close()
    _import_members(instance)
    marker.write_text("ok\n", encoding="utf-8")
    return instance


def placed(doc: dict) -> dict:
    """Give each holding its library's coordinates (spread over the demo city), like real ones."""
    for holding in doc["holdings"]:
        n = int(holding["member"][1:])
        holding["latitude"] = 37.35 + (n * 37 % 100) / 250
        holding["longitude"] = 121.10 + (n * 61 % 100) / 150
    return doc


def _import_members(instance: Path) -> None:
    """Create the instance database and import the demo alliance's members and districts."""
    env = {**os.environ, "FEDERATION_INSTANCE_PATH": str(instance), "PYTHONPATH": str(ROOT)}
    for command in (["db", "upgrade"], ["members", "import"]):
        subprocess.run(
            [sys.executable, "-m", "federation.cli", *command], env=env, check=True, cwd=ROOT
        )


def request_mix(members: int, count: int, seed: int = 5) -> list[str]:
    """Return ``count`` results-page paths: a stream of reader visits (see the module's doc)."""
    gen = Generator(members, seed=23)
    rng = random.Random(seed)
    urls: list[str] = []
    while len(urls) < count:
        urls += _visit(gen, rng)
    return ["/search?" + urlencode(args, doseq=True) for args in urls[:count]]


def _visit(gen: Generator, rng: random.Random) -> list[dict]:
    """Return the pages one reader asks for: a search, then maybe a facet, page 2, a sort."""
    en = rng.choices(gen.en_words, cum_weights=gen.en_cw, k=2)
    zh = rng.choices(gen.zh_words, cum_weights=gen.zh_cw, k=1)[0]
    kind = rng.random()
    if kind < 0.40:
        args: dict = {"q": en[0]}
    elif kind < 0.75:
        args = {"q": zh}
    elif kind < 0.90:
        args = {"q": f"{en[0]} {en[1]}"}
    else:
        args = {"title": en[0], "year_from": 1990, "year_to": 2025}
    if rng.random() < 0.15:
        args["home"] = "ytlib"
    pages = [args]
    if rng.random() < 0.30:  # ticks a value the facet lists offer
        facet = rng.choice(
            [f"member:{gen.members[rng.randrange(20)]}", "language:eng", "language:chi",
             "format:book", f"region:d{rng.randrange(16):02d}", "library_type:university"]
        )  # fmt: skip
        args = {**args, "f": [facet]}
        pages.append(args)
    if rng.random() < 0.20:
        pages.append({**args, "page": 2})
    if rng.random() < 0.05:
        pages.append({**args, "sort": "year_desc"})
    return pages


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(
    instance: Path, port: int, workers: int, threads: int, extra_env: dict[str, str]
) -> subprocess.Popen:
    """Start gunicorn on ``port`` serving the app of ``instance``; wait until it answers."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "FEDERATION_INSTANCE_PATH": str(instance), "PYTHONPATH": path,
           "FEDERATION_PROXY_HOPS": "1", **extra_env}  # fmt: skip
    conf = instance.parent / "gunicorn_conf.py"
    conf.write_text(GUNICORN_CONF, encoding="utf-8")
    # ``python -m gunicorn``: gunicorn may be importable without a script beside the interpreter.
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(conf), "-w", str(workers), "--threads",
           str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
           "web.wsgi:app"]  # fmt: skip
    with open(instance.parent / "gunicorn.log", "ab") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return proc
        except OSError:
            time.sleep(0.3)
    stop(proc)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop(proc: subprocess.Popen) -> None:
    """Stop gunicorn and its workers (its own process group)."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def server_cpu_s(master: int) -> float:
    """Return the CPU seconds (user + system) used so far by gunicorn's master and workers."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        pid, ppid = int(stat.parent.name), int(fields[1])
        if master in (pid, ppid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def run_wrk(port: int, urls: list[str], duration: int, connections: int) -> dict:
    """Drive the server with wrk over ``urls`` and return wrk's summary as a dict."""
    with tempfile.TemporaryDirectory() as tmp:
        lua, listing = Path(tmp) / "mix.lua", Path(tmp) / "urls.txt"
        lua.write_text(LUA, encoding="utf-8")
        listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
        cmd = [WRK, "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
               "-s", str(lua), f"http://127.0.0.1:{port}"]  # fmt: skip
        out = subprocess.run(
            cmd,
            env={**os.environ, "WEB_BENCH_URLS": str(listing)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    return json.loads(line[5:])


def measure(args: argparse.Namespace, instance: Path, cache_size: int | None) -> dict:
    """Serve the app (result cache of ``cache_size``; None: the default), drive it, and return
    wrk's figures with the server's CPU per request and the cache's counters."""
    stats = instance.parent / "cache-stats.jsonl"
    stats.unlink(missing_ok=True)
    extra = {"WEB_BENCH_CACHE_STATS": str(stats)}
    if cache_size is not None:
        extra["FEDERATION_SEARCH_RESULT_CACHE_SIZE"] = str(cache_size)
    port = free_port()
    proc = start_gunicorn(instance, port, args.workers, args.threads, extra)
    try:
        urls = request_mix(args.members, args.urls)
        warm = run_wrk(port, request_mix(args.members, 2000, seed=99), 3, args.connections)
        load_before = os.getloadavg()[0]
        cpu_before = server_cpu_s(proc.pid)
        figures = run_wrk(port, urls, args.duration, args.connections)
        cpu_ms = (server_cpu_s(proc.pid) - cpu_before) * 1000 / max(figures["requests"], 1)
    finally:
        stop(proc)
    counters = (
        [json.loads(line) for line in stats.read_text().splitlines()] if stats.exists() else []
    )
    hits = sum(c["hits"] for c in counters)
    lookups = hits + sum(c["misses"] for c in counters)
    counts_hits = sum(c.get("counts_hits", 0) for c in counters)
    counts_lookups = counts_hits + sum(c.get("counts_misses", 0) for c in counters)
    return {
        "requests_per_s": round(figures["requests"] / (figures["duration_us"] / 1e6), 1),
        "p50_ms": round(figures["p50_us"] / 1000, 1),
        "p90_ms": round(figures["p90_us"] / 1000, 1),
        "p99_ms": round(figures["p99_us"] / 1000, 1),
        "max_ms": round(figures["max_us"] / 1000, 1),
        "requests": figures["requests"],
        "non_2xx": figures["non_2xx"],
        "socket_errors": figures["socket_errors"],
        # CPU the server spent per request: steadier than req/s on a shared machine, and
        # cpus * 1000 / it bounds what an otherwise idle machine could serve.
        "server_cpu_ms_per_request": round(cpu_ms, 2),
        "idle_machine_bound_rps": round((os.cpu_count() or 1) * 1000 / cpu_ms) if cpu_ms else None,
        # Searches answered from the workers' result caches, warm-up included (its requests
        # are counted in warmup_requests); spelling probes of pages with few hits count too.
        "cache_hit_rate": round(hits / lookups, 3) if lookups else None,
        "cache_lookups": lookups,
        # Searches missing the result cache whose total and facet counts came from the counts
        # kept for their first page (page 2, a re-sort), of the searches looking there.
        "counts_cache_hit_rate": round(counts_hits / counts_lookups, 3) if counts_lookups else None,
        "warmup_requests": warm["requests"],
        "load_avg_before": round(load_before, 2),
        "load_avg_after": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the load test and print its JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clusters", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--root", help="folder for the instance (default /tmp/web-bench-N)")
    # The README's production set-up: gunicorn's sync workers, one request at a time each
    # (threads share one GIL: a heavy page stretched the pages beside it; see benchmarks/README).
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--urls", type=int, default=30_000, help="length of the request stream")
    parser.add_argument(
        "--skip-uncached", action="store_true", help="do not measure without the result cache"
    )
    args = parser.parse_args(argv)
    root = Path(args.root or f"/tmp/web-bench-{args.clusters}")
    started = time.perf_counter()
    instance = prepare_instance(root, args.clusters, args.members)
    prepare_s = time.perf_counter() - started
    figures = measure(args, instance, None)
    uncached = None if args.skip_uncached else measure(args, instance, 0)
    index = instance / "search" / "tantivy"
    urls = request_mix(args.members, args.urls)
    print(json.dumps({
        **figures,
        "uncached": uncached,
        "distinct_urls_share": round(len(set(urls)) / len(urls), 3),
        "workers": args.workers,
        "threads": args.threads,
        "connections": args.connections,
        "duration_s": args.duration,
        "clusters": args.clusters,
        "index_mb": round(sum(f.stat().st_size for f in index.rglob("*") if f.is_file()) / 1e6),
        "prepare_s": round(prepare_s, 1),
        "cpus": os.cpu_count(),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
