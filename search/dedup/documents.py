"""Build a cluster's index document (ClusterDoc) from its records and the members holding them.

Descriptive fields come from the most complete record (MARC before Dublin Core, then the
smallest record id); identifiers, subjects, languages, classes and title variants are the
union over every record; each record's holdings become HoldingDocs with the member's region
and library type, and availability is put in the index's words when a catalogue used
another ("在架" is "available").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from harvesters.bibrecord import BibRecord
from search.dedup.keys import sort_title_of
from search.dedup.normalise import fold, name_key
from search.documents import ClusterDoc, HoldingDoc

# Availability as catalogues write it -> the index's words.
AVAILABILITY: dict[str, str] = {
    "available": "available", "on shelf": "available", "in": "available",
    "checked in": "available", "在架": "available", "可借": "available", "在馆": "available",
    "on loan": "on loan", "checked out": "on loan", "due": "on loan", "借出": "on loan",
    "已借出": "on loan", "外借": "on loan",
    "in library use only": "in library use only", "library use only": "in library use only",
    "reference": "in library use only", "馆内阅览": "in library use only",
    "仅限馆内阅览": "in library use only", "阅览": "in library use only",
}  # fmt: skip
_RANK = {"available": 0, "in library use only": 1, "on loan": 2}
_COMPLETENESS = (
    "title", "subtitle", "names", "publisher", "place", "year", "edition", "pages", "isbns",
    "subjects", "classifications", "series", "languages",
)  # fmt: skip
# What a document reads of a record (record_data): the descriptive fields and the unions.
_DOCUMENT_FIELDS = (
    "source_format", "title", "subtitle", "other_titles", "publisher", "place", "year",
    "edition", "format", "pages", "languages", "subjects", "classifications", "series",
    "isbns", "issns", "lccn", "system_numbers", "national_bib_numbers",
)  # fmt: skip
# (record id, member code, the record's normalised JSON): a record as the store keeps it.
StoredRow = tuple[int, "str | None", Mapping[str, Any]]


@dataclass(frozen=True)
class MemberInfo:
    """What a document shows of a member: names, district, kind and place."""

    code: str
    name_zh: str
    name_en: str
    region: str
    region_name_zh: str
    region_name_en: str
    library_type: str
    latitude: float | None = None
    longitude: float | None = None
    # The member's part of every HoldingDoc, made once: a rebuild copies it for each holding.
    holding_facts: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        facts = {
            "member": self.code, "member_name_zh": self.name_zh, "member_name_en": self.name_en,
            "region": self.region, "region_name_zh": self.region_name_zh,
            "region_name_en": self.region_name_en, "library_type": self.library_type,
            "latitude": self.latitude, "longitude": self.longitude,
        }  # fmt: skip
        object.__setattr__(self, "holding_facts", facts)


def build_document(
    cluster_id: str,
    records: Sequence[tuple[int, BibRecord]],
    members: Mapping[str, MemberInfo],
    work_id: str | None = None,
) -> ClusterDoc:
    """Return the index document of one cluster: (record id, record) pairs and member facts."""
    rows = [(rid, record.member, record_data(record)) for rid, record in records]
    return stored_document(cluster_id, rows, members, work_id)


def record_data(record: BibRecord) -> dict:
    """Return what a document reads of a BibRecord, in the record store's JSON shape."""
    data = {name: getattr(record, name) for name in _DOCUMENT_FIELDS}
    data["names"] = [{"name": n.name} for n in record.names]
    data["holdings"] = [
        {"library": h.library, "location": h.location, "call_number": h.call_number,
         "availability": h.availability, "item_count": h.item_count}
        for h in record.holdings
    ]  # fmt: skip
    return data


def stored_document(
    cluster_id: str,
    rows: Sequence[StoredRow],
    members: Mapping[str, MemberInfo],
    work_id: str | None = None,
) -> ClusterDoc:
    """Return the index document of one cluster from its records as the store keeps them.

    ``rows`` are (record id, member code, normalised JSON) triples: the JSON is read as
    stored, without rebuilding BibRecords (a full rebuild reads every record of the store,
    and rebuilding them cost as much as the document). An absent key means the BibRecord
    default (the store leaves empty values out).
    """
    if not rows:
        raise ValueError(f"cluster {cluster_id} has no records to build a document from")
    if len(rows) == 1:  # most clusters: nothing to sort or choose between
        ordered = rows
        best = rows[0][2]
        datas = [best]
    else:
        ordered = sorted(rows, key=_first)
        best = max(ordered, key=_rank)[2]
        datas = [row[2] for row in ordered]
    get = best.get
    title, subtitle = get("title"), get("subtitle")
    doc: ClusterDoc = {
        "cluster_id": cluster_id,
        "work_id": work_id,
        "title": title or "",
        "subtitle": subtitle,
        "title_sort": sort_title_of(title, subtitle, get("languages") or ()),
        "other_titles": _other_titles(title, datas),
        "authors": _authors(best, datas),
        "publisher": get("publisher"),
        "place": get("place"),
        "year": get("year"),
        "edition": get("edition"),
        "format": get("format", "other"),
        "pages": get("pages"),
        "record_ids": [row[0] for row in ordered],
    }
    doc.update(_unions(datas))
    holdings = [
        h for rid, member, data in ordered
        for h in holding_docs(rid, member, data.get("holdings"), members)
    ]  # fmt: skip
    doc.update(_holding_facets(holdings))
    return doc


def _first(row: StoredRow) -> int:
    return row[0]


def _rank(row: StoredRow) -> tuple[int, bool, int]:
    """Order a cluster's records: most filled fields, then MARC over Dublin Core, then id."""
    get = row[2].get
    filled = sum(map(bool, map(get, _COMPLETENESS)))
    return filled, get("source_format") != "oai_dc", -row[0]


def holding_docs(
    record_id: int,
    member: str | None,
    holdings: Sequence[Mapping] | None,
    members: Mapping[str, MemberInfo],
) -> list[HoldingDoc]:
    """Return one HoldingDoc per shelf of a record (one bare one when it lists none).

    ``holdings`` are the record's holdings as stored (dicts of Holding's fields).
    """
    base: HoldingDoc = {"record_id": record_id}
    info = members.get(member or "")
    base.update(info.holding_facts if info is not None else {"member": member or ""})
    if not holdings:
        base.update(location=None, call_number=None, availability=None, item_count=None)
        return [base]
    shelves: dict[tuple, HoldingDoc] = {}  # one per location and call number, copies counted
    for h in holdings:
        get = h.get
        where = (get("location") or get("library"), get("call_number"))
        doc = shelves.get(where)
        if doc is None:
            doc = shelves[where] = {**base, "location": where[0], "call_number": where[1],
                                    "availability": None, "item_count": 0}  # fmt: skip
        doc["item_count"] = (doc["item_count"] or 0) + (get("item_count") or 1)
        doc["availability"] = _better(doc["availability"], availability(get("availability")))
    return list(shelves.values())


def _better(a: str | None, b: str | None) -> str | None:
    """Return the availability a reader cares about most: available, then use on site."""
    ranked = [x for x in (a, b) if x]
    return min(ranked, key=lambda x: _RANK.get(x, len(_RANK))) if ranked else None


def availability(text: str | None) -> str | None:
    """Return availability in the index's words, or as catalogued when unknown."""
    if not text:
        return None
    return AVAILABILITY.get(fold(text).strip(" .;"), text)


def isbn10(isbn13: str) -> str | None:
    """Return the ISBN-10 of a 978 ISBN-13, or None."""
    if len(isbn13) != 13 or not isbn13.startswith("978"):
        return None
    body = isbn13[3:12]
    check = (11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11) % 11
    return body + ("X" if check == 10 else str(check))


def clc_main(number: str) -> list[str]:
    """Return the CLC main class and, for T, its two-letter subclass: "TP393" -> ["T", "TP"]."""
    number = number.strip().upper()
    if not number or not number[0].isalpha():
        return []
    out = [number[0]]
    if len(number) > 1 and number[1].isalpha():
        out.append(number[:2])
    return out


def _unique(values: Iterable[str | None], key=fold) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        if value:
            k = key(value)  # once per value: keys fold text, and documents are built in bulk
            if k not in seen:
                seen[k] = value
    return list(seen.values())


def _unique_list(values: list[str | None], key=fold) -> list[str]:
    """Return ``_unique(values)`` for a list: most lists of a record hold one value or none."""
    if len(values) < 2:
        return [values[0]] if values and values[0] else []
    return _unique(values, key)


def _other_titles(title: str | None, records: list[Mapping]) -> list[str]:
    """Return every title variant of the records but the document's own title."""
    if len(records) == 1:
        get = records[0].get
        subtitle, others = get("subtitle"), get("other_titles")
        if not subtitle and not others:  # the common case: nothing but the title itself
            return []
    variants = []
    for data in records:
        get = data.get
        variant, subtitle = get("title"), get("subtitle")
        variants.append(variant)
        if subtitle:
            variants.append(f"{variant} : {subtitle}")
        variants += get("other_titles") or ()
    main = _spelling(title or "")
    # kept per spelling, not per folded key: readers search in either script
    return [t for t in _unique(variants, key=_spelling) if _spelling(t) != main]


@lru_cache(maxsize=100_000)
def _spelling(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _authors(best: Mapping, records: list[Mapping]) -> list[str]:
    """Return the names of the best record first, then the others' (one per author)."""
    names = [n["name"] for n in best.get("names") or ()]
    if len(records) > 1:
        names += [n["name"] for data in records for n in data.get("names") or ()]
    return _unique_list(names, key=_author_key)


@lru_cache(maxsize=100_000)
def _author_key(name: str) -> str:
    """Return the key two spellings of one author share (names repeat across clusters)."""
    return name_key(name) or fold(name)


def _unions(records: list[Mapping]) -> dict:
    """Return the fields that are the union over every record, first spelling kept."""
    if len(records) == 1:
        get = records[0].get
        isbns = _unique_list(get("isbns") or [])
        issns = get("issns") or []
        languages = get("languages") or []
        subjects = get("subjects") or []
        classifications = get("classifications") or ()
        series = get("series") or ()
    else:  # one pass over the records, each list joined in record order
        isbns, issns, languages, subjects, classifications, series = [], [], [], [], [], []
        for data in records:
            get = data.get
            isbns += get("isbns") or ()
            issns += get("issns") or ()
            languages += get("languages") or ()
            subjects += get("subjects") or ()
            classifications += get("classifications") or ()
            series += get("series") or ()
        isbns = _unique(isbns)
    clc = _unique_list([n for s, n in classifications if fold(s) == "clc"])
    return {
        "isbns": _unique_list(isbns + [i10 for i in isbns if (i10 := isbn10(i))]),
        "issns": _unique_list(issns),
        "other_ids": _other_ids(records),
        "languages": _unique_list(languages, key=str.lower),
        "subjects": _unique_list(subjects),
        "clc": clc,
        "clc_main": _unique_list([m for n in clc for m in clc_main(n)], key=str),
        "series": _unique_list([f"{t} ; {n}" if n else t for t, n in series]),
    }


def _other_ids(records: list[Mapping]) -> list[str]:
    """Return the OCLC numbers, LCCNs and national bibliography numbers, in that order."""
    ocolc, lccn, national = [], [], []
    for data in records:
        get = data.get
        numbers, number, bib_numbers = (
            get("system_numbers"),
            get("lccn"),
            get("national_bib_numbers"),
        )
        if numbers:
            ocolc += [f"OCoLC:{n}" for s, n in numbers if fold(s) == "ocolc"]
        if number:
            lccn.append(f"LCCN:{number}")
        if bib_numbers:
            national += [f"{s}:{n}" if s else n for s, n in bib_numbers]
    if not (ocolc or lccn or national):  # most records: no identifier but the ISBN
        return []
    return _unique(ocolc + lccn + national)


def _holding_facets(holdings: list[HoldingDoc]) -> dict:
    if len(holdings) == 1:  # most clusters: one record on one shelf
        h = holdings[0]
        member, region, kind = h.get("member"), h.get("region"), h.get("library_type")
        return {
            "holdings": holdings,
            "members": [member] if member else [],
            "regions": [region] if region else [],
            "library_types": [kind] if kind else [],
            "holding_count": 1,
            "available_count": 1 if h.get("availability") == "available" else 0,
        }
    return {
        "holdings": holdings,
        "members": sorted({h["member"] for h in holdings if h.get("member")}),
        "regions": sorted({h["region"] for h in holdings if h.get("region")}),
        "library_types": sorted({h["library_type"] for h in holdings if h.get("library_type")}),
        "holding_count": len(holdings),
        "available_count": sum(1 for h in holdings if h.get("availability") == "available"),
    }
