"""The index document: one per cluster (one manifestation across members), the contract
between dedup (which builds documents) and the search backends (which index and query them).

Every backend indexes exactly these fields; fields marked "facet" are filterable and counted.
"""

from __future__ import annotations

from typing import TypedDict


class HoldingDoc(TypedDict, total=False):
    record_id: int  # row id in the records table
    member: str  # member code                                     (facet: member)
    member_name_zh: str
    member_name_en: str
    region: str  # district code                                   (facet: region)
    region_name_zh: str
    region_name_en: str
    library_type: str  # university | public | research | school | community (facet)
    latitude: float
    longitude: float
    location: str | None
    call_number: str | None
    availability: str | None  # "available" | "on loan" | "in library use only" | as catalogued
    item_count: int | None


class ClusterDoc(TypedDict, total=False):
    cluster_id: str  # stable id of the cluster (the key of every upsert)
    work_id: str | None  # clusters of one work share it ("other editions")
    title: str  # from the most complete record
    subtitle: str | None
    title_sort: str  # normalised title for sorting (articles and punctuation dropped)
    other_titles: list[str]  # every member's title variant, for search
    authors: list[str]
    publisher: str | None
    place: str | None
    year: int | None  # (facet: year; range filters)
    edition: str | None
    languages: list[str]  # ISO 639-2 codes                        (facet: language)
    format: str  # BibRecord.format                                (facet: format)
    subjects: list[str]  #                                          (facet: subject)
    clc: list[str]  # full CLC class numbers, e.g. "TP393.09"
    clc_main: list[str]  # CLC main class letter(s): "T", "TP"      (facet: class)
    isbns: list[str]  # ISBN-13 and ISBN-10 forms, digits only (X upper case)
    issns: list[str]
    other_ids: list[str]  # "OCoLC:123", "LCCN:...", national bibliography numbers
    series: list[str]
    pages: int | None
    holdings: list[HoldingDoc]
    members: list[str]  # member codes holding it                   (facet: member)
    regions: list[str]  # district codes                            (facet: region)
    library_types: list[str]  #                                     (facet: library_type)
    holding_count: int
    available_count: int  # holdings with a copy available now
    record_ids: list[int]


# Facet names as the query model and the UI use them -> document field.
FACET_FIELDS: dict[str, str] = {
    "member": "members",
    "region": "regions",
    "library_type": "library_types",
    "format": "format",
    "language": "languages",
    "year": "year",
    "subject": "subjects",
    "class": "clc_main",
}
