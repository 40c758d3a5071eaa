"""Cluster records into manifestations, and clusters into works: the pure, in-memory core.

Union-find over blocks: records sharing an identifier (strongest rule first), then records
sharing a title and year. Pairs are compared only inside a block; a union is refused when it
would put two records of one member together without a shared identifier, join components
whose ISBNs all differ, or cross a staff split. Staff merges are applied first. Accepted
unions form a spanning tree per cluster: each record's evidence is the edge that reached it
from the cluster's first record. Identifiers on the blocklist, or shared by several unrelated
titles (a reused or wrong ISBN), are not evidence.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import attrgetter

from harvesters.bibrecord import BibRecord
from search.dedup.evidence import (
    Evidence,
    id_evidence,
    id_veto,
    isbns_conflict,
    title_evidence,
    title_score,
    titles_agree,
)
from search.dedup.keys import ID_RULES, RecordKeys, record_keys

_NONE: frozenset[str] = frozenset()
MAX_ID_BLOCK = 1000  # records sharing one identifier beyond this: not an identifier of one book
UNRELATED_TITLES = 3  # distinct titles under one identifier that make it untrusted
MAX_TITLE_BLOCK = 200  # a larger title-and-year block is compared within each author only


@dataclass
class Overrides:
    """Staff decisions: pairs of record ids that must, or must not, share a cluster."""

    merge: list[tuple[int, int]] = field(default_factory=list)
    split: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class Cluster:
    """One manifestation: its records (smallest id first) and why each one is here."""

    record_ids: list[int]
    evidence: list[Evidence]  # one per record, in record_ids order
    work: int = 0  # index of the first cluster of its work, in Clustering.clusters
    work_link: Evidence | None = None  # why it is linked into that work (None: it leads)


@dataclass
class Clustering:
    """The clusters of a set of records, and the identifiers that were not trusted."""

    clusters: list[Cluster]
    ignored: dict[str, str]  # identifier key -> why it was not used as evidence

    def cluster_of(self) -> dict[int, int]:
        """Return record id -> index of its cluster."""
        return {rid: n for n, c in enumerate(self.clusters) for rid in c.record_ids}


def deduplicate(
    records: Iterable[tuple[int, BibRecord]],
    overrides: Overrides | None = None,
    blocklist: Iterable[str] = (),
) -> Clustering:
    """Read the match keys of (record id, BibRecord) pairs and cluster them."""
    with paused_gc():
        keys = [record_keys(rid, record) for rid, record in records]
        return cluster_records(keys, overrides, blocklist)


def cluster_records(
    keys: Iterable[RecordKeys],
    overrides: Overrides | None = None,
    blocklist: Iterable[str] = (),
) -> Clustering:
    """Cluster records (their match keys) into manifestations linked into works."""
    with paused_gc():
        records = sorted(keys, key=attrgetter("rid"))
        graph = _Graph(records, overrides or Overrides())
        graph.apply_merges()
        ignored = graph.link_identifiers(frozenset(blocklist))
        graph.link_titles()
        clusters, work_keys = graph.clusters()
        for c, (leader, link) in zip(clusters, group_works(work_keys), strict=True):
            c.work, c.work_link = leader, link
        return Clustering(clusters, ignored)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building acyclic data in bulk.

    Clustering allocates a dozen objects per record and no reference cycles; with the
    collector running, its passes over the growing heap cost as much as the clustering.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Graph:
    """Union-find with the per-component facts that decide whether a union is allowed."""

    def __init__(self, records: Sequence[RecordKeys], overrides: Overrides) -> None:
        self.records = records
        self.index = {k.rid: i for i, k in enumerate(records)}
        self.parent = list(range(len(records)))
        self.size = [1] * len(records)
        # root -> member codes; built when the title rule needs it (identifier rules do not)
        self.members: dict[int, set] | None = None
        self.isbns: dict[int, frozenset[str]] = {
            i: k.isbns for i, k in enumerate(records) if k.isbns
        }
        self.apart: dict[int, set[int]] = defaultdict(set)  # root -> indices it must not meet
        for a, b in overrides.split:
            if a in self.index and b in self.index:
                ia, ib = self.index[a], self.index[b]
                self.apart[ia].add(ib)
                self.apart[ib].add(ia)
        self.merges = [(a, b) for a, b in overrides.merge if a in self.index and b in self.index]
        self.edges: list[tuple[int, int, Evidence]] = []

    # -- union-find ------------------------------------------------------------------------

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def allowed(self, ri: int, rj: int, same_member_ok: bool) -> bool:
        """Tell whether components ri and rj (roots) may become one."""
        if not same_member_ok and not self.members_of(ri).isdisjoint(self.members_of(rj)):
            return False
        if isbns_conflict(self.isbns.get(ri, _NONE), self.isbns.get(rj, _NONE)):
            return False
        if self.apart:  # staff splits
            for small, other in ((ri, rj), (rj, ri)):
                if small in self.apart and any(self.find(x) == other for x in self.apart[small]):
                    return False
        return True

    def members_of(self, root: int) -> set:
        """Return the member codes of a component (built on first use, then kept)."""
        if self.members is None:
            self.members = {}
            for i, k in enumerate(self.records):
                self.members.setdefault(self.find(i), set()).add(k.member)
        return self.members[root]

    def union(self, i: int, j: int, evidence: Evidence) -> None:
        ri, rj = self.find(i), self.find(j)
        if self.size[ri] < self.size[rj]:
            ri, rj = rj, ri
        self.parent[rj] = ri
        self.size[ri] += self.size[rj]
        if self.members is not None:
            self.members[ri] |= self.members.pop(rj)
        if rj in self.isbns:
            self.isbns[ri] = self.isbns.get(ri, _NONE) | self.isbns.pop(rj)
        if rj in self.apart:
            self.apart[ri] |= self.apart.pop(rj)
        self.edges.append((i, j, evidence))

    # -- rules -----------------------------------------------------------------------------

    def apply_merges(self) -> None:
        """Join the records staff said are one manifestation (unless a later split forbids)."""
        for a, b in self.merges:
            i, j = self.index[a], self.index[b]
            ri, rj = self.find(i), self.find(j)
            if ri != rj and self._not_apart(ri, rj):
                self.union(i, j, Evidence(b, "staff-merge", {}, a))

    def _not_apart(self, ri: int, rj: int) -> bool:
        return not any(self.find(x) == rj for x in self.apart.get(ri, ()))

    def link_identifiers(self, blocklist: frozenset[str]) -> dict[str, str]:
        """Join records sharing a trusted identifier, rule by rule; return untrusted ones."""
        first: dict[str, int] = {}  # most identifiers are held by one record: no list for them
        shared: dict[str, list[int]] = {}
        for i, k in enumerate(self.records):
            for key in k.ids:
                j = first.setdefault(key, i)
                if j != i:
                    if key in shared:
                        shared[key].append(i)
                    else:
                        shared[key] = [j, i]
        by_rule: dict[str, list[str]] = {rule: [] for rule in ID_RULES}
        for key in shared:
            by_rule[key.partition(":")[0]].append(key)
        ignored: dict[str, str] = {}
        for rule in ID_RULES:
            for key in by_rule[rule]:
                members = shared[key]
                reason = "blocklist" if key in blocklist else self._untrusted(members)
                if reason:
                    ignored[key] = reason
                    continue
                self._link_block(rule, key, members)
        return ignored

    def _untrusted(self, members: list[int]) -> str | None:
        """Return why an identifier shared by these records is no evidence, or None."""
        if len(members) > MAX_ID_BLOCK:
            return f"shared by {len(members)} records"
        if len(members) < UNRELATED_TITLES:
            return None
        if len({self.records[i].title for i in members}) < UNRELATED_TITLES:
            return None  # the usual case: one title (or two spellings) under the identifier
        distinct: list[RecordKeys] = []
        for i in members:
            k = self.records[i]
            if k.title and all(titles_agree(k, d) is False for d in distinct):
                distinct.append(k)
                if len(distinct) >= UNRELATED_TITLES:
                    return f"shared by {len(distinct)}+ unrelated titles"
        return None

    def _link_block(self, rule: str, key: str, members: list[int]) -> None:
        records, find, values = self.records, self.find, None
        for pos in range(1, len(members)):
            i = members[pos]
            ri = find(i)
            for other in range(pos):
                j = members[other]
                rj = find(j)
                if ri == rj:
                    break
                if id_veto(records[i], records[j], rule) is None and self.allowed(ri, rj, True):
                    if values is None:  # one dict per identifier, shared by its records
                        values = id_evidence(rule, key)
                    self.union(i, j, Evidence(records[i].rid, rule, values, records[j].rid))
                    break

    def link_titles(self) -> None:
        """Join records of different members agreeing on title, year and other facts."""
        candidates = []
        for members in _title_blocks(self.records):
            candidates += self._title_candidates(members)
        candidates.sort()
        records = self.records
        for _neg, _a, _b, i, j in candidates:
            ri, rj = self.find(i), self.find(j)
            if ri != rj and self.allowed(ri, rj, False):
                evidence = Evidence(
                    records[j].rid, "title", title_evidence(records[i], records[j]), records[i].rid
                )
                self.union(i, j, evidence)

    def _title_candidates(self, members: list[int]) -> list[tuple]:
        """Return the best-scoring title match between each two components in the block."""
        roots = [self.find(i) for i in members]
        if len(set(roots)) < 2:  # the block is one cluster already (usually by ISBN)
            return []
        records, best, isbns = self.records, {}, self.isbns
        for pos, i in enumerate(members):
            a, ra = records[i], roots[pos]
            for other in range(pos + 1, len(members)):
                rb = roots[other]
                if ra == rb or (ra in isbns and rb in isbns and isbns[ra].isdisjoint(isbns[rb])):
                    continue  # one cluster already, or two whose ISBNs all differ
                j = members[other]
                b = records[j]
                if a.member == b.member:
                    continue
                score = title_score(a, b)
                pair = (ra, rb) if ra < rb else (rb, ra)
                if score and (pair not in best or -score < best[pair][0]):
                    best[pair] = (-score, a.rid, b.rid, i, j)
        return list(best.values())

    # -- result ----------------------------------------------------------------------------

    def clusters(self) -> tuple[list[Cluster], list[list[tuple[int, str]]]]:
        """Return the components as clusters (each record with the edge that reached it),
        and each cluster's (record id, work key) pairs."""
        groups: dict[int, list[int]] = {}
        parent = self.parent
        for i in range(len(parent)):
            root = i
            while parent[root] != root:  # find(), inlined: it runs once per record
                root = parent[root]
            if root in groups:
                groups[root].append(i)
            else:
                groups[root] = [i]
        adjacency: dict[int, list[tuple[int, Evidence]]] = defaultdict(list)
        for i, j, evidence in self.edges:
            adjacency[i].append((j, evidence))
            adjacency[j].append((i, evidence))
        records = self.records
        clusters, work_keys = [], []
        for members in groups.values():
            if len(members) == 1:
                k = records[members[0]]
                clusters.append(Cluster([k.rid], [Evidence(k.rid, "seed")]))
                work_keys.append([(k.rid, k.work_key)] if k.work_key else [])
                continue
            clusters.append(self._cluster(members, adjacency))
            work_keys.append(
                [(records[i].rid, records[i].work_key) for i in members if records[i].work_key]
            )
        return clusters, work_keys

    def _cluster(self, members: list[int], adjacency) -> Cluster:
        """Return a cluster whose records each carry the tree edge that reached them."""
        records = self.records
        seed = members[0]
        why = {seed: Evidence(records[seed].rid, "seed")}
        stack = [seed]
        while stack:  # the accepted unions form a tree: each record is reached once
            i = stack.pop()
            for j, evidence in adjacency[i]:
                if j not in why:
                    rid = records[j].rid
                    if evidence.record_id != rid:  # the edge, seen from the record it reached
                        evidence = Evidence(rid, evidence.rule, evidence.values, records[i].rid)
                    why[j] = evidence
                    stack.append(j)
        return Cluster([records[i].rid for i in members], [why[i] for i in members])


def _title_blocks(records: Sequence[RecordKeys]) -> list[list[int]]:
    """Group records by title and year; split a crowded block by author."""
    blocks: dict[str, list[int]] = {}
    for i, k in enumerate(records):
        key = k.block_key
        if key is not None:
            blocks.setdefault(key, []).append(i)
    out = []
    for members in blocks.values():
        if len(members) < 2:
            continue
        if len(members) <= MAX_TITLE_BLOCK:
            out.append(members)
            continue
        by_author: dict[str | None, list[int]] = {}
        for i in members:
            by_author.setdefault(records[i].author, []).append(i)
        out += [m for author, m in by_author.items() if author and len(m) >= 2]
    return out


def group_works(
    work_keys: Sequence[Sequence[tuple[int, str]]],
) -> list[tuple[int, Evidence | None]]:
    """Group clusters (given their records' (record id, work key)) into works.

    Returns, per cluster, the index of its work's first cluster and, unless it is that first
    cluster, the evidence linking it: a work key it shares with another cluster.
    """
    parent = list(range(len(work_keys)))

    def find(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    holders: dict[str, list[tuple[int, int]]] = {}  # work key -> (cluster, record id)
    for n, pairs in enumerate(work_keys):
        for rid, key in pairs:
            found = holders.setdefault(key, [])
            if not found or found[-1][0] != n:
                found.append((n, rid))
    for found in holders.values():
        for n, _rid in found[1:]:
            a, b = find(found[0][0]), find(n)
            parent[max(a, b)] = min(a, b)  # a work is led by its first cluster
    out: list[tuple[int, Evidence | None]] = []
    for n, pairs in enumerate(work_keys):
        leader = find(n)
        out.append((leader, None if leader == n else _work_evidence(n, pairs, holders)))
    return out


def _work_evidence(n: int, pairs, holders) -> Evidence | None:
    for rid, key in pairs:
        other = next((r for m, r in holders[key] if m != n), None)
        if other is not None:
            title, _, author = key[2:].rpartition("|")
            return Evidence(rid, "title-author", {"title": title, "author": author}, other)
    return None
