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
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter

from harvesters.bibrecord import BibRecord
from search.dedup.keys import sort_title
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
_completeness_values = attrgetter(*_COMPLETENESS)


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


def build_document(
    cluster_id: str,
    records: Sequence[tuple[int, BibRecord]],
    members: Mapping[str, MemberInfo],
    work_id: str | None = None,
) -> ClusterDoc:
    """Return the index document of one cluster: (record id, record) pairs and member facts."""
    if not records:
        raise ValueError(f"cluster {cluster_id} has no records to build a document from")
    ordered = sorted(records, key=lambda pair: pair[0])
    if len(ordered) == 1:  # most clusters: nothing to choose between
        best = ordered[0][1]
    else:
        best = max(ordered, key=lambda pair: (completeness(pair[1]), -pair[0]))[1]
    holdings = [h for rid, record in ordered for h in holding_docs(rid, record, members)]
    doc: ClusterDoc = {
        "cluster_id": cluster_id,
        "work_id": work_id,
        "title": best.title or "",
        "subtitle": best.subtitle,
        "title_sort": sort_title(best),
        "other_titles": _other_titles(best, [r for _rid, r in ordered]),
        "authors": _authors([best] + [r for _rid, r in ordered]),
        "publisher": best.publisher,
        "place": best.place,
        "year": best.year,
        "edition": best.edition,
        "format": best.format,
        "pages": best.pages,
        "record_ids": [rid for rid, _record in ordered],
    }
    doc.update(_unions([r for _rid, r in ordered]))
    doc.update(_holding_facets(holdings))
    return doc


def completeness(record: BibRecord) -> tuple[int, int]:
    """Score how complete a record is: filled fields, then MARC over Dublin Core."""
    filled = sum(map(bool, _completeness_values(record)))
    return filled, record.source_format != "oai_dc"


def holding_docs(
    record_id: int, record: BibRecord, members: Mapping[str, MemberInfo]
) -> list[HoldingDoc]:
    """Return one HoldingDoc per holding of the record (one bare one when it lists none)."""
    code = record.member or ""
    info = members.get(code)
    base: HoldingDoc = {"record_id": record_id, "member": code}
    if info is not None:
        base.update(
            member_name_zh=info.name_zh,
            member_name_en=info.name_en,
            region=info.region,
            region_name_zh=info.region_name_zh,
            region_name_en=info.region_name_en,
            library_type=info.library_type,
            latitude=info.latitude,
            longitude=info.longitude,
        )
    if not record.holdings:
        return [{**base, "location": None, "call_number": None, "availability": None,
                 "item_count": None}]  # fmt: skip
    shelves: dict[tuple, HoldingDoc] = {}  # one per location and call number, copies counted
    for h in record.holdings:
        where = (h.location or h.library, h.call_number)
        doc = shelves.setdefault(
            where,
            {**base, "location": where[0], "call_number": where[1], "availability": None,
             "item_count": 0},
        )  # fmt: skip
        doc["item_count"] = (doc["item_count"] or 0) + (h.item_count or 1)
        doc["availability"] = _better(doc["availability"], availability(h.availability))
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


def _other_titles(best: BibRecord, records: list[BibRecord]) -> list[str]:
    variants = []
    for r in records:
        variants.append(r.title)
        if r.subtitle:
            variants.append(f"{r.title} : {r.subtitle}")
        variants += r.other_titles
    main = _spelling(best.title or "")
    # kept per spelling, not per folded key: readers search in either script
    return [t for t in _unique(variants, key=_spelling) if _spelling(t) != main]


@lru_cache(maxsize=100_000)
def _spelling(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _authors(records: list[BibRecord]) -> list[str]:
    names = [n.name for r in records for n in r.names]
    return _unique(names, key=_author_key)


@lru_cache(maxsize=100_000)
def _author_key(name: str) -> str:
    """Return the key two spellings of one author share (names repeat across clusters)."""
    return name_key(name) or fold(name)


def _unions(records: list[BibRecord]) -> dict:
    isbns = _unique(i for r in records for i in r.isbns)
    clc = _unique(n for r in records for s, n in r.classifications if fold(s) == "clc")
    other_ids = [f"OCoLC:{n}" for r in records for s, n in r.system_numbers if fold(s) == "ocolc"]
    other_ids += [f"LCCN:{r.lccn}" for r in records if r.lccn]
    other_ids += [f"{s}:{n}" if s else n for r in records for s, n in r.national_bib_numbers]
    return {
        "isbns": _unique(isbns + [i10 for i in isbns if (i10 := isbn10(i))]),
        "issns": _unique(i for r in records for i in r.issns),
        "other_ids": _unique(other_ids),
        "languages": _unique((lang for r in records for lang in r.languages), key=str.lower),
        "subjects": _unique(s for r in records for s in r.subjects),
        "clc": clc,
        "clc_main": _unique((m for n in clc for m in clc_main(n)), key=str),
        "series": _unique(f"{t} ; {n}" if n else t for r in records for t, n in r.series),
    }


def _holding_facets(holdings: list[HoldingDoc]) -> dict:
    return {
        "holdings": holdings,
        "members": sorted({h["member"] for h in holdings if h.get("member")}),
        "regions": sorted({h["region"] for h in holdings if h.get("region")}),
        "library_types": sorted({h["library_type"] for h in holdings if h.get("library_type")}),
        "holding_count": len(holdings),
        "available_count": sum(1 for h in holdings if h.get("availability") == "available"),
    }
