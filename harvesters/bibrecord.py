"""The normalised bibliographic record every metadata parser produces."""

from __future__ import annotations

from dataclasses import dataclass, field

# Values of BibRecord.format, one per kind of material a reader would filter on.
FORMATS = (
    "book",
    "serial",
    "article",
    "e-resource",
    "map",
    "music score",
    "audio",
    "video",
    "image",
    "kit",
    "mixed",
    "object",
    "other",
)


class RecordRejected(Exception):  # noqa: N818 - the name says what happened to the record
    """A harvested record that cannot be turned into a BibRecord."""

    def __init__(self, reason: str) -> None:
        reason = reason.strip().replace("\r", " ").replace("\n", " ")  # one line: it is logged
        super().__init__(reason)
        self.reason = reason
        self.position: int | None = None  # index in an ISO 2709 stream, when from one


@dataclass(slots=True, frozen=True)
class Name:
    """A person or body named in the record, with its role as catalogued."""

    name: str
    role: str | None = None  # relator code or term as catalogued: "aut", "070", "主编"
    kind: str = "personal"  # "personal" or "corporate" (meetings count as corporate)


@dataclass(slots=True, frozen=True)
class Holding:
    """One member's copies of the record at one location."""

    member: str | None
    library: str | None = None  # branch or institution code as catalogued
    location: str | None = None
    call_number: str | None = None
    availability: str | None = None  # as the member's system states it
    item_count: int | None = None  # None when the record does not say


@dataclass(slots=True)
class BibRecord:
    """One harvested record, normalised for the record store, dedup and search."""

    source_format: str  # "marc21", "unimarc", "cnmarc" or "oai_dc"
    title: str | None = None
    subtitle: str | None = None
    part_numbers: list[str] = field(default_factory=list)
    part_names: list[str] = field(default_factory=list)
    other_titles: list[str] = field(default_factory=list)
    names: list[Name] = field(default_factory=list)
    publisher: str | None = None
    place: str | None = None
    year: int | None = None
    edition: str | None = None
    languages: list[str] = field(default_factory=list)
    format: str = "other"
    subjects: list[str] = field(default_factory=list)
    classifications: list[tuple[str, str]] = field(default_factory=list)  # (scheme, number)
    series: list[tuple[str, str | None]] = field(default_factory=list)  # (title, numbering)
    pages: int | None = None
    isbns: list[str] = field(default_factory=list)  # ISBN-13, checksum-valid
    invalid_isbns: list[str] = field(default_factory=list)
    issns: list[str] = field(default_factory=list)  # NNNN-NNNC, checksum-valid
    invalid_issns: list[str] = field(default_factory=list)
    lccn: str | None = None
    system_numbers: list[tuple[str, str]] = field(default_factory=list)  # ("OCoLC", "12345")
    national_bib_numbers: list[tuple[str, str]] = field(default_factory=list)  # (source, number)
    control_number: str | None = None
    holdings: list[Holding] = field(default_factory=list)
    member: str | None = None
    record_status: str | None = None  # leader/05: "n", "c", "d" (deleted), ...
    raw: bytes = b""
    warnings: list[str] = field(default_factory=list)

    @property
    def deleted(self) -> bool:
        """Tell whether the source marked the record deleted (leader/05 'd')."""
        return self.record_status == "d"

    @property
    def first_author(self) -> Name | None:
        """Return the first name in the record, usually the main entry."""
        return self.names[0] if self.names else None
