"""Measure the search index: build rate and query latencies on N generated clusters.

    python benchmarks/search.py --clusters 100000 [--members 200] [--queries 200] [--keep DIR]
    python benchmarks/search.py --clusters 1000000 --reuse DIR   # query figures only


Prints one JSON object. Clusters are generated (seeded): Chinese and English titles from word
lists with Zipf-distributed words, Zipf-distributed subjects, 1-40 holdings from an alliance of
50-500 members in ~member/12 districts. Latencies are the median of --runs runs per query,
summarised as p50/p95/p99 over the query set; no cache of ours sits in front of the backend
(the backend's result cache is off: every run reads the index).

``--reuse DIR`` skips the build and measures queries on an index built earlier from the same
generator (``--keep DIR``, or benchmarks/web.py's instance folder ``.../instance/search/tantivy``
for the same --clusters and --members): building 1M clusters takes minutes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from search.backends.tantivy import TantivyBackend  # noqa: E402
from search.query import SearchQuery  # noqa: E402

PAGE_FACETS = ["member", "region", "library_type", "format", "language", "subject"]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "ze",
    "an",
    "el",
    "in",
    "or",
    "us",
    "ba",
    "de",
    "fi",
    "go",
    "hu",
    "ja",
]
ZH_CHARS = (
    "国家中文学史科技术经济社会发展研究理论方法系统设计数据信息网络管理教育文化艺术"
    "语言生物医药环境工程电子机械材料城市农业历史地理政治法律哲学心理音乐美术新时代"
)
EN_WORDS = [
    "history",
    "theory",
    "practice",
    "introduction",
    "analysis",
    "design",
    "systems",
    "modern",
    "world",
    "china",
    "science",
    "culture",
    "language",
    "society",
    "economy",
    "network",
    "data",
    "learning",
    "methods",
    "study",
    "art",
    "river",
    "mountain",
    "city",
    "garden",
    "night",
    "light",
    "story",
    "road",
    "sea",
    "silent",
    "distant",
    "old",
    "new",
]
LIB_TYPES = ["university", "public", "research", "school", "community"]
FORMATS = ["book"] * 8 + ["ebook", "serial", "map", "score", "video"]
LANGS = ["chi"] * 6 + ["eng"] * 3 + ["ger", "fre", "jpn"]


def _check13(digits: str) -> str:
    return str((10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10)


def _check10(digits: str) -> str:
    check = (11 - sum((10 - i) * int(d) for i, d in enumerate(digits)) % 11) % 11
    return "X" if check == 10 else str(check)


def _zipf_weights(n: int, s: float, q: float = 1.0) -> list[float]:
    """Return cumulative Zipf-Mandelbrot weights 1/(rank+q)^s (q flattens the head)."""
    return list(itertools.accumulate(1.0 / (k + q) ** s for k in range(n)))


class Generator:
    """Seeded generator of realistic-enough ClusterDocs."""

    def __init__(self, members: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.zh_words = list(dict.fromkeys(a + b for a in ZH_CHARS for b in ZH_CHARS if a != b))
        rng.shuffle(self.zh_words)
        self.en_words = EN_WORDS + list(
            dict.fromkeys("".join(rng.choices(SYLLABLES, k=3)) for _ in range(6000))
        )
        # q=20: the commonest title word is in about 4% of titles, as content words are in
        # real catalogues (a plain Zipf put one word in 60% of records, like a stopword).
        self.zh_cw = _zipf_weights(len(self.zh_words), 1.05, 20)
        self.en_cw = _zipf_weights(len(self.en_words), 1.05, 20)
        zh_forms = ("", "研究", "历史", "教材", "手册")
        en_forms = ("", " -- History", " -- Study and teaching", " -- Handbooks", " -- Congresses")
        self.subjects = [f"{w}{v}" for w in self.zh_words[:3000] for v in zh_forms] + [
            f"{w.title()}{v}" for w in self.en_words[:3000] for v in en_forms
        ]
        rng.shuffle(self.subjects)
        self.subject_cw = _zipf_weights(len(self.subjects), 1.1)
        self.members = [f"m{i:03d}" for i in range(members)]
        self.member_cw = _zipf_weights(members, 0.8)
        districts = max(3, members // 12)
        self.holdings = {
            m: [self._holding(m, i % districts, v) for v in range(3)]
            for i, m in enumerate(self.members)
        }
        self.surnames = list("王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗")
        self.given = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚")

    def _holding(self, member: str, district: int, variant: int) -> dict:
        kind = LIB_TYPES[hash(member) % len(LIB_TYPES)]
        return {
            "member": member,
            "member_name_zh": f"{member}图书馆",
            "member_name_en": f"Library {member}",
            "region": f"d{district:02d}",
            "library_type": kind,
            "call_number": f"TP{variant}93/{district}",
            "availability": ["available", "on loan", "in library use only"][variant],
            "item_count": 1 + variant,
        }

    def title(self, chinese: bool) -> str:
        k = self.rng.choice((2, 2, 3, 3, 4))
        if chinese:
            return "".join(self.rng.choices(self.zh_words, cum_weights=self.zh_cw, k=k))
        words = self.rng.choices(self.en_words, cum_weights=self.en_cw, k=k + 1)
        return " ".join(words).capitalize()

    def doc(self, n: int) -> dict:
        rng = self.rng
        chinese = rng.random() < 0.6
        count = min(40, int(rng.expovariate(1 / 3.0)) + 1)
        members = set(rng.choices(self.members, cum_weights=self.member_cw, k=count))
        holdings = [rng.choice(self.holdings[m]) for m in members]
        clc = rng.choice("ABCDEFGHIJKNOPQRSTUVXZ")
        sub = clc + rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        author = rng.choice(self.surnames) + rng.choice(self.given) + rng.choice(self.given)
        isbn9 = f"7{n:08d}"
        isbn12 = "978" + isbn9
        year = 2025 - min(120, int(rng.expovariate(1 / 15)))
        return {
            "cluster_id": f"c{n:08d}",
            "title": self.title(chinese),
            "authors": [author if chinese else f"{self.title(False).split()[0]}, J."],
            "publisher": rng.choice(("清华大学出版社", "人民出版社", "Oxford University Press")),
            "place": "北京",
            "year": year,
            "languages": ["chi" if chinese else rng.choice(LANGS)],
            "format": rng.choice(FORMATS),
            "subjects": rng.choices(
                self.subjects, cum_weights=self.subject_cw, k=rng.randint(1, 3)
            ),
            "clc": [f"{sub}{rng.randint(1, 999)}"],
            "clc_main": [clc, sub],
            "isbns": [isbn12 + _check13(isbn12), isbn9 + _check10(isbn9)],
            "holdings": holdings,
            "members": sorted(members),
            "regions": sorted({h["region"] for h in holdings}),
            "library_types": sorted({h["library_type"] for h in holdings}),
            "holding_count": len(holdings),
            "available_count": sum(h["availability"] == "available" for h in holdings),
        }


def build_queries(gen: Generator, docs: list[dict], n: int) -> dict[str, list[SearchQuery]]:
    """Return the query sets by kind, drawn from the generated corpus and vocabulary."""
    rng = random.Random(11)
    sample = rng.sample(docs, min(len(docs), n * 4))
    zh = [d for d in sample if d["languages"] == ["chi"]]
    en = [d for d in sample if "chi" not in d["languages"]]
    words = rng.choices(gen.en_words, cum_weights=gen.en_cw, k=n)
    kinds = {
        "term": [SearchQuery(text=w) for w in words],
        "phrase": [SearchQuery(text='"' + " ".join(d["title"].split()[:2]) + '"') for d in en[:n]],
        "cjk": [SearchQuery(text=d["title"][: rng.randint(2, 6)]) for d in zh[:n]],
        "fielded": [_fielded(rng, d) for d in sample[:n]],
        "facet_heavy": [_facet_heavy(rng, gen, w) for w in words],
    }
    mix = [q for group in zip(*kinds.values(), strict=False) for q in group][:n]
    kinds["page"] = [
        SearchQuery(text=q.text, filters=q.filters, facets=PAGE_FACETS, highlight=True) for q in mix
    ]
    return kinds


def _fielded(rng: random.Random, doc: dict) -> SearchQuery:
    choice = rng.randrange(4)
    if choice == 0:
        return SearchQuery(text=f"author:{doc['authors'][0].split(',')[0]}")
    if choice == 1:
        return SearchQuery(text=f"isbn:{doc['isbns'][0][:3]}-{doc['isbns'][0][3:]}")
    if choice == 2:
        return SearchQuery(text=f"class:{doc['clc'][0][:3]} {doc['title'].split()[0][:2]}")
    return SearchQuery(text=f'subject:"{doc["subjects"][0]}"')


def _facet_heavy(rng: random.Random, gen: Generator, word: str) -> SearchQuery:
    filters = {
        "member": rng.sample(gen.members[:20], 2),
        "language": ["chi", "eng"],
        "format": ["book"],
    }
    return SearchQuery(text=word, filters=filters, year_from=1990, year_to=2025, facets=PAGE_FACETS)


def measure(backend, queries: list[SearchQuery], runs: int) -> dict[str, float]:
    """Return p50/p95/p99 (ms) over queries of the median of ``runs`` timings each.

    Wall-clock and CPU time (of every thread of this process): on a shared machine the
    wall-clock figures grow with other people's load; the CPU figures much less.
    """
    approximate = sum(backend.search(q).facets_approximate for q in queries)  # also warms up
    walls, cpus = [], []
    for q in queries:
        times, cpu_times = [], []
        for _ in range(runs):
            started, cpu = time.perf_counter(), time.process_time()
            backend.search(q)
            times.append((time.perf_counter() - started) * 1000)
            cpu_times.append((time.process_time() - cpu) * 1000)
        walls.append(statistics.median(times))
        cpus.append(statistics.median(cpu_times))
    cuts = statistics.quantiles(walls, n=100, method="inclusive")
    cpu_cuts = statistics.quantiles(cpus, n=100, method="inclusive")
    return {
        "p50": round(cuts[49], 2),
        "p95": round(cuts[94], 2),
        "p99": round(cuts[98], 2),
        "cpu_p50": round(cpu_cuts[49], 2),
        "cpu_p99": round(cpu_cuts[98], 2),
        "sampled_facets_share": round(approximate / len(queries), 3),
    }


class ChildMemory:
    """Sample the peak RSS (VmHWM) of this process's children while a build runs.

    getrusage's children ru_maxrss is no use here: a spawned worker starts as a fork of this
    process and keeps the fork's RSS (the generated documents) as its maximum.
    """

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tasks = Path(f"/proc/{os.getpid()}/task")
        while not self._stop.wait(0.2):
            try:  # children of every thread (a harvest starts its workers from another one)
                children = [
                    c for t in tasks.iterdir() for c in (t / "children").read_text().split()
                ]
                for child in children:
                    for line in Path(f"/proc/{child}/status").read_text().splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            except OSError:  # a child ended meanwhile; or no /proc (then no figure)
                continue

    def stop(self) -> int:
        """Stop sampling; return the largest child's peak RSS in MB."""
        self._stop.set()
        self._thread.join()
        return round(self.peak_kb / 1024)


def _cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clusters", type=int, default=100_000)
    parser.add_argument(
        "--members", type=int, default=200, choices=range(50, 501), metavar="50-500"
    )
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="build the index in this folder and keep it")
    parser.add_argument("--reuse", help="measure queries on the index built earlier in this folder")
    args = parser.parse_args(argv)
    if args.clusters < 100:
        parser.error("--clusters must be at least 100")
    folder = Path(args.reuse or args.keep or tempfile.mkdtemp(prefix="search-bench-"))
    gen = Generator(args.members)
    started = time.perf_counter()
    docs = [gen.doc(n) for n in range(args.clusters)]
    generate_s = time.perf_counter() - started
    backend = TantivyBackend(folder, result_cache_size=0)
    try:
        load_before = os.getloadavg()[0]
        cpu, started = _cpu_seconds(), time.perf_counter()
        # a big rebuild runs in worker processes: their CPU counts (once they have ended)
        children = _cpu_seconds(resource.RUSAGE_CHILDREN)
        child_memory = ChildMemory()
        feeder = time.thread_time()  # this thread builds every document and hands it over
        if args.reuse:
            if backend.count() != args.clusters:
                parser.error(f"{folder} holds {backend.count()} clusters, not {args.clusters}")
        else:
            backend.rebuild(iter(docs))
        build_s = time.perf_counter() - started
        feeder = time.thread_time() - feeder
        workers_cpu = _cpu_seconds(resource.RUSAGE_CHILDREN) - children
        workers_rss_mb = child_memory.stop()
        build_cpu = _cpu_seconds() - cpu + workers_cpu
        queries = build_queries(gen, docs, args.queries)
        del docs
        latency = {kind: measure(backend, qs, args.runs) for kind, qs in queries.items()}
        result = {
            "backend": "tantivy",
            "clusters": backend.count(),
            "members": args.members,
            "generate_s": round(generate_s, 1),
            # With --reuse nothing was built: no build figures.
            **(
                {"reused_index": str(folder)}
                if args.reuse
                else {
                    "build_s": round(build_s, 2),
                    "build_docs_per_s": round(args.clusters / build_s),
                    "build_cpu_s": round(build_cpu, 1),
                    "build_cpu_us_per_doc": round(build_cpu / args.clusters * 1e6, 1),
                    # this process's thread that reads the documents and hands them over (it
                    # also prepared them for tantivy when the build ran in one process)
                    "build_feeder_cpu_us_per_doc": round(feeder / args.clusters * 1e6, 1),
                    # the worker processes of a parallel build (0: it ran in this process)
                    "build_workers_cpu_us_per_doc": round(workers_cpu / args.clusters * 1e6, 1),
                }
            ),
            "segments": backend.index().searcher().num_segments,
            "index_mb": round(
                sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6
            ),
            **{
                f"{kind}_{p}" + ("" if p.startswith("sampled") else "_ms"): v
                for kind, cuts in latency.items()
                for p, v in cuts.items()
            },
            "cpus": os.cpu_count(),
            "load_avg_before": round(load_before, 2),
            "load_avg_after": round(os.getloadavg()[0], 2),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            # the largest worker process of a parallel build (each holds its writer's heap)
            "workers_max_rss_mb": workers_rss_mb,
        }
    finally:
        backend.close()
        if not (args.keep or args.reuse):
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
