"""Records for the dedup tests: BibRecords as the parsers make them, and clustering helpers."""

from __future__ import annotations

from harvesters.bibrecord import BibRecord, Holding, Name
from search.dedup.cluster import Clustering, Overrides, deduplicate


def book(member: str, title: str, **fields) -> BibRecord:
    """Return a book record of ``member``; names are given as strings."""
    names = [Name(n) if isinstance(n, str) else n for n in fields.pop("names", ())]
    fields.setdefault("languages", ["chi"])
    fields.setdefault("format", "book")
    fields.setdefault("holdings", [Holding(member, call_number="I247.5/1", item_count=1)])
    return BibRecord(fields.pop("source_format", "marc21"), title=title, names=names,
                     member=member, **fields)  # fmt: skip


def run(records: dict[int, BibRecord], overrides: Overrides | None = None, blocklist=()):
    """Cluster {record id: record} and return the result."""
    return deduplicate(records.items(), overrides, blocklist)


def groups(result: Clustering) -> set[frozenset[int]]:
    """Return the clusters as sets of record ids (singletons included)."""
    return {frozenset(c.record_ids) for c in result.clusters}


def together(result: Clustering, *ids: int) -> bool:
    """Tell whether these records share one cluster."""
    return any(set(ids) <= set(c.record_ids) for c in result.clusters)


def cluster_with(result: Clustering, rid: int):
    """Return the cluster holding record ``rid``."""
    return next(c for c in result.clusters if rid in c.record_ids)
