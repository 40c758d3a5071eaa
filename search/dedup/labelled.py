"""Labelled record sets for measuring dedup: a MARC file with hand labels, and the demo corpus.

Both give ``LabelledSet``: the records' match keys and, per record id, the manifestation the
labels say it describes. The MARC loader reads records MARC 21 first and falls back to
UNIMARC for records that are UNIMARC (mixed files exist: the Pride and Prejudice set holds
CMARC records from Taiwan); every record is its own member, because the file does not say
which catalogue each came from.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from harvesters.bibrecord import BibRecord, RecordRejected
from harvesters.parsers import parse_metadata
from harvesters.parsers.iso2709 import split_records
from search.dedup.keys import RecordKeys, record_keys

# How the demo derives a member's generator profile from the alliance file (as web/demo.py).
_DEMO_FORMATS = {"marc21": "marc21", "unimarc": "unimarc", "cnmarc": "unimarc", "dc": "oai_dc"}
_DEMO_WEIGHTS = {"university": 1.6, "public": 1.0, "research": 0.8, "school": 0.4, "community": 0.3}


@dataclass
class LabelledSet:
    """Records with their true manifestation, keyed by record id."""

    name: str
    records: dict[int, BibRecord] = field(default_factory=dict)
    truth: dict[int, str] = field(default_factory=dict)  # record id -> manifestation label
    names: dict[int, str] = field(default_factory=dict)  # record id -> identifier shown

    def keys(self) -> list[RecordKeys]:
        """Return the match keys of every record."""
        return [record_keys(rid, record) for rid, record in self.records.items()]


def read_iso2709_mixed(data: bytes) -> Iterator[tuple[int, BibRecord | RecordRejected]]:
    """Yield (position, record) for each record, read as MARC 21 or else as UNIMARC."""
    for position, (chunk, _warning) in enumerate(split_records(data)):
        try:
            yield position, parse_metadata("iso2709-marc21", chunk)
        except RecordRejected as marc21_error:
            try:
                yield position, parse_metadata("iso2709-unimarc", chunk)
            except RecordRejected:
                yield position, marc21_error


def load_marc_set(name: str, mrc_path: str | Path, labels_path: str | Path) -> LabelledSet:
    """Load an ISO 2709 file and its labels CSV (columns position, manifestation)."""
    labels = {}
    with open(labels_path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            labels[int(row["position"])] = row["manifestation"]
    out = LabelledSet(name)
    for position, record in read_iso2709_mixed(Path(mrc_path).read_bytes()):
        if isinstance(record, RecordRejected) or position not in labels:
            continue
        record.member = f"{name}-{position}"
        out.records[position] = record
        out.truth[position] = labels[position]
        out.names[position] = f"#{position} {record.control_number or ''}".strip()
    return out


def demo_profiles(alliance_path: str | Path) -> list:
    """Return the demo corpus generator's member profiles for an alliance file."""
    from federation.alliance.loader import load_alliance
    from federation.demo import MemberProfile

    alliance = load_alliance(alliance_path)
    return [
        MemberProfile(
            code=m.code,
            kind=m.type,
            native_format=_DEMO_FORMATS.get(m.oai.record_format, "marc21"),
            size_weight=_DEMO_WEIGHTS.get(m.type, 0.5),
        )
        for m in alliance.members
    ]


def load_demo_set(
    alliance_path: str | Path, *, seed: int = 2026, total: int = 5200, now: datetime | None = None
) -> LabelledSet:
    """Generate the demo corpus, parse every live record in its native format, keep the truth."""
    from federation.demo import build_corpus

    corpus = build_corpus(demo_profiles(alliance_path), seed=seed, total=total, now=now)
    out = LabelledSet("demo")
    rid = 0
    for code, records in corpus.records.items():
        prefix = corpus.members[code].native_format
        for demo_record in records:
            payload = demo_record.metadata(prefix)
            if payload is None:  # deleted: a tombstone has nothing to cluster
                continue
            try:
                record = parse_metadata(prefix, payload, member=code, keep_raw=False)
            except RecordRejected:  # not clusterable: the harvester would have rejected it too
                continue
            rid += 1
            out.records[rid] = record
            out.truth[rid] = corpus.truth.manifestation_of[demo_record.identifier]
            out.names[rid] = demo_record.identifier
    return out
