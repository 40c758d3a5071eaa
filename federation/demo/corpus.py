"""The demo alliance's catalogue corpus: real seed records extended by a seeded generator.

``build_corpus`` gives every member its records, as its OAI-PMH endpoint serves them: MARC 21
(MARCXML, holdings in 852), UNIMARC in Chinese practice (UNIMARC slim, holdings in 905/995) or
Dublin Core only, and oai_dc for every member. The same edition is catalogued slightly
differently by each member that holds it; ``GroundTruth`` says which records are one edition
(manifestation) and which editions are one work, for deduplication tests.

The output depends only on the members, ``seed``, ``total`` and ``now``: the same arguments give
byte-identical records. ``now`` defaults to today's midnight (UTC), so runs on one day agree.

What a harvester meets (each module's docstring has the details):

- ``marc21``: ``<record xmlns="http://www.loc.gov/MARC21/slim">`` (MARCXML); holdings in 852,
  one per copy (marc21.py).
- ``unimarc``: ``<rec xmlns="http://www.bncf.firenze.sbn.it/unimarc/slim">`` with the element
  names of unimarcslim.xsd: ``lab``, ``cf``, ``df``, ``sf`` and attributes ``t``, ``i1``,
  ``i2``, ``c`` (that schema declares no ``record`` element); holdings in 905 plus one 995 per
  copy (unimarc.py).
- ``oai_dc``: ``<oai_dc:dc>``; no holdings (dublincore.py).

Sets: ``clc:<CLC main class>`` and ``lang:<ISO 639-2>``; a record lists its leaf sets and
``Corpus.sets`` adds the parents ``clc`` and ``lang``. Deleted records (about 3 %) keep their
identifier, carry the deletion time as datestamp and have no metadata.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from federation.demo import wordlists as W
from federation.demo.dublincore import dc_record
from federation.demo.holders import AFFINITY, Holding, assign
from federation.demo.holdings import ShelfList
from federation.demo.marc21 import marc21_raw, marc21_record
from federation.demo.model import Manifestation
from federation.demo.seeds import load_seeds
from federation.demo.unimarc import unimarc_raw, unimarc_record
from federation.demo.variants import describe, member_style
from federation.demo.works import WorkFactory
from federation.demo.xmlout import FORMATS

NATIVE_FORMATS = ("marc21", "unimarc", "oai_dc")
_FORMAT_ALIASES = {"cnmarc": "unimarc", "dc": "oai_dc"}
POOL_RATIO = 0.62  # distinct editions per record: the rest of the records are shared copies
DELETED_SHARE = 0.03
HISTORY_DAYS = 730


@dataclass(frozen=True)
class MemberProfile:
    """What the generator needs to know of a member library."""

    code: str
    kind: str  # university | public | research | school | community
    native_format: str  # marc21 | unimarc | oai_dc ("cnmarc" and "dc" are accepted too)
    size_weight: float = 1.0  # share of the corpus, relative to the other members

    def __post_init__(self) -> None:
        fmt = _FORMAT_ALIASES.get(self.native_format, self.native_format)
        object.__setattr__(self, "native_format", fmt)
        if not self.code or not self.code.replace("-", "").replace("_", "").isalnum():
            raise ValueError(f"member code {self.code!r}: use letters, digits, '-' or '_'")
        if self.kind not in AFFINITY:
            raise ValueError(f"member {self.code}: kind must be one of {', '.join(AFFINITY)}")
        if fmt not in NATIVE_FORMATS:
            raise ValueError(
                f"member {self.code}: native_format must be one of {', '.join(NATIVE_FORMATS)}"
            )
        if not self.size_weight > 0:
            raise ValueError(f"member {self.code}: size_weight must be a positive number")


@dataclass(frozen=True)
class DemoRecord:
    """One member's record as its OAI-PMH endpoint serves it."""

    identifier: str
    datestamp: datetime
    deleted: bool
    sets: tuple[str, ...]
    payloads: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    def metadata(self, prefix: str) -> bytes | None:
        """Return the metadata element in ``prefix``; None if deleted or not offered."""
        return None if self.deleted else self.payloads.get(prefix)


@dataclass
class GroundTruth:
    """Which records describe one edition, and which editions belong to one work."""

    manifestation_of: dict[str, str] = field(default_factory=dict)  # identifier -> edition
    # (deleted records included: a harvester that missed the deletion still holds them)
    work_of: dict[str, str] = field(default_factory=dict)  # edition -> work

    def write(self, path: str | Path) -> None:
        """Write one JSON object per record: identifier, manifestation, work."""
        with open(path, "w", encoding="utf-8") as out:
            for identifier in sorted(self.manifestation_of):
                m = self.manifestation_of[identifier]
                row = {"identifier": identifier, "manifestation": m, "work": self.work_of[m]}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")

    @classmethod
    def read(cls, path: str | Path) -> GroundTruth:
        """Read a file written by ``write``."""
        truth = cls()
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                truth.manifestation_of[row["identifier"]] = row["manifestation"]
                truth.work_of[row["manifestation"]] = row["work"]
        return truth


@dataclass
class Corpus:
    """Every member's records, the truth about them, and what each endpoint offers."""

    records: dict[str, list[DemoRecord]]
    truth: GroundTruth
    members: dict[str, MemberProfile]
    manifestations: dict[str, Manifestation]

    def formats(self, member_code: str) -> list[tuple[str, str, str]]:
        """Return (prefix, schema URL, namespace) of each format the member offers."""
        native = self.members[member_code].native_format
        prefixes = [native] + (["oai_dc"] if native != "oai_dc" else [])
        return [(p, *FORMATS[p]) for p in prefixes]

    def sets(self, member_code: str) -> list[tuple[str, str]]:
        """Return (setSpec, setName) of the member's sets, parents included."""
        specs = {s for r in self.records[member_code] for s in r.sets}
        specs |= {s.split(":")[0] for s in specs}
        return [(s, _set_name(s)) for s in sorted(specs)]


def build_corpus(
    members: list[MemberProfile], seed: int = 2026, total: int = 5200, now: datetime | None = None
) -> Corpus:
    """Generate every member's records: real seed records first, then invented editions."""
    if not members:
        raise ValueError("give at least one member profile")
    if len({m.code for m in members}) != len(members):
        raise ValueError("member codes must be unique")
    if total < 1:
        raise ValueError("total must be a positive number of records")
    now = _utc_now(now)
    rng = random.Random(seed)
    factory = WorkFactory(rng, latest_year=now.year)
    seeds = _adopt_seeds(factory)
    pool = factory.generate(max(len(seeds), int(total * POOL_RATIO)))[len(seeds) :]
    held = assign(members, seeds, pool, total, rng)
    truth = GroundTruth()
    records = {p.code: _member_records(p, held[p.code], seed, now, truth) for p in members}
    editions = {m.id: m for m in factory.manifestations if m.id in truth.work_of}
    return Corpus(records, truth, {p.code: p for p in members}, editions)


def corpus_summary(corpus: Corpus) -> dict:
    """Count records per member, shared editions, works in several editions and deletions."""
    holders: dict[str, set[str]] = defaultdict(set)
    deleted = Counter()
    for code, records in corpus.records.items():
        for r in records:
            if r.deleted:
                deleted[code] += 1
            else:
                holders[corpus.truth.manifestation_of[r.identifier]].add(code)
    editions_per_work = Counter(corpus.truth.work_of[m] for m in holders)
    return {
        "members": {
            code: {
                "kind": p.kind,
                "format": p.native_format,
                "records": len(corpus.records[code]),
                "deleted": deleted[code],
            }
            for code, p in corpus.members.items()
        },
        "records": sum(len(r) for r in corpus.records.values()),
        "deleted": sum(deleted.values()),
        "manifestations": len(holders),
        "manifestations_held_by_2_or_more": sum(1 for h in holders.values() if len(h) >= 2),
        "works": len(editions_per_work),
        "works_with_2_or_more_editions": sum(1 for n in editions_per_work.values() if n >= 2),
        "seed_records": sum(
            1
            for i, m in corpus.truth.manifestation_of.items()
            if corpus.manifestations[m].source != "generated"
        ),
    }


# -- assembly ---------------------------------------------------------------------------


def _utc_now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return now.astimezone(UTC).replace(microsecond=0)


def _adopt_seeds(factory: WorkFactory) -> list[Manifestation]:
    """Register the real records; those sharing an ISBN are editions of one work."""
    seeds = load_seeds()
    works_by_isbn: dict[str, str] = {}
    class_by_isbn = {m.isbn13: m.clc for m in seeds if m.isbn13 and m.clc}
    for m in seeds:
        work = factory.adopt(m, works_by_isbn.get(m.isbn13 or ""))
        if m.isbn13:
            works_by_isbn.setdefault(m.isbn13, work)
            m.clc = m.clc or class_by_isbn.get(m.isbn13)
        m.popularity = 0.5
    return seeds


def _member_records(
    profile: MemberProfile, held: list[Holding], seed: int, now: datetime, truth: GroundTruth
) -> list[DemoRecord]:
    """Catalogue each held edition the member's way; number and date the records."""
    rng = random.Random(f"records/{seed}/{profile.code}")
    cataloguer = _Cataloguer(
        profile, seed, now, ShelfList(profile.code, profile.kind, rng.randint(10, 98))
    )
    timeline = sorted(
        (_created(rng, now), m.id, m, verbatim) for m, verbatim in held
    )  # records are numbered in the order they were catalogued
    number = rng.randint(10_000, 400_000)
    out = []
    for created, _mid, m, verbatim in timeline:
        number += rng.randint(1, 4)
        deleted = not verbatim and rng.random() < DELETED_SHARE
        stamp = _later(rng, created, now) if deleted or rng.random() < 0.2 else created
        local_id = _local_id(profile.native_format, number)
        identifier = f"oai:{profile.code}.demo.example:{local_id}"
        truth.manifestation_of[identifier] = m.id
        truth.work_of[m.id] = m.work_id
        payloads = {} if deleted else cataloguer.payloads(m, verbatim, local_id, stamp)
        out.append(DemoRecord(identifier, stamp, deleted, _sets(m), payloads))
    return out


@dataclass
class _Cataloguer:
    """One member's cataloguing department: its habits, its shelves, its record formats."""

    profile: MemberProfile
    seed: int
    now: datetime
    shelf: ShelfList

    def __post_init__(self) -> None:
        self.style = member_style(self.profile.code, self.seed)

    def payloads(
        self, m: Manifestation, verbatim: bool, local_id: str, stamp: datetime
    ) -> dict[str, bytes]:
        """Return the record of ``m`` in every format the member offers."""
        code, fmt = self.profile.code, self.profile.native_format
        rng = random.Random(f"record/{self.seed}/{code}/{m.id}")
        d = describe(m, self.style, rng)
        holding = self.shelf.holding(m, rng, self.now)
        out = {"oai_dc": dc_record(d)}
        if fmt == "marc21" and verbatim:
            out[fmt] = marc21_raw(local_id, code, stamp, m, holding)
        elif fmt == "marc21":
            out[fmt] = marc21_record(local_id, code, stamp, d, holding, self.style)
        elif fmt == "unimarc" and verbatim:
            out[fmt] = unimarc_raw(local_id, code, stamp, m, holding)
        elif fmt == "unimarc":
            out[fmt] = unimarc_record(local_id, code, stamp, d, holding)
        return out


def _created(rng: random.Random, now: datetime) -> datetime:
    """Return when a record was catalogued: a bulk load two years ago, then steady work."""
    if rng.random() < 0.35:
        days = rng.uniform(HISTORY_DAYS - 30, HISTORY_DAYS)
    else:
        days = rng.uniform(0.02, HISTORY_DAYS - 30)
    return now - timedelta(seconds=int(days * 86_400))


def _later(rng: random.Random, start: datetime, now: datetime) -> datetime:
    return start + timedelta(seconds=rng.randint(1, max(1, int((now - start).total_seconds()))))


def _local_id(native_format: str, number: int) -> str:
    if native_format == "marc21":
        return f"{number:09d}"
    return str(number) if native_format == "unimarc" else f"dc{number}"


def _sets(m: Manifestation) -> tuple[str, ...]:
    specs = []
    if m.clc and m.clc[0] in W.CLC_CLASSES:
        specs.append(f"clc:{m.clc[0]}")
    specs.append(f"lang:{m.lang}")
    return tuple(specs)


def _set_name(spec: str) -> str:
    if spec == "clc":
        return "中图法分类 / CLC classes"
    if spec == "lang":
        return "语种 / Languages"
    group, _, value = spec.partition(":")
    zh, en = (W.CLC_CLASSES if group == "clc" else W.LANGUAGES).get(value, (value, value))
    return f"{value} {zh} / {en}" if group == "clc" else f"{zh} / {en}"
