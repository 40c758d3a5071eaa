"""The generator's neutral view of a book: works, their editions, and one member's copies."""

from __future__ import annotations

from dataclasses import dataclass, field

# A MARC or UNIMARC field as read from a real record: (tag, ind1, ind2, ((code, value), ...)).
RawField = tuple[str, str, str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Name:
    """A person or body responsible for a book, in the forms catalogues use."""

    display: str  # "王伟", "John Smith"
    inverted: str  # "王伟", "Smith, John" (MARC 100/700 form)
    role: str = "author"  # author | editor | translator
    zh: str | None = None  # Chinese transliteration of a Western name, "约翰·史密斯"
    nationality: str | None = None  # "美" for "(美)约翰·史密斯"
    corporate: bool = False


@dataclass
class Manifestation:
    """One edition of a work (what a dedup cluster should hold), before any member catalogues it."""

    id: str
    work_id: str
    lang: str  # ISO 639-2: chi | eng
    title: str
    subtitle: str | None
    names: tuple[Name, ...]
    year: int
    publisher: str | None
    place: str | None
    audience: str  # academic | popular | general
    edition: int = 1
    responsibility: str | None = None  # statement as on a real seed record; generated: None
    edition_statement: str | None = None  # "第2版", "2nd ed."
    pages: int | None = None
    size_cm: int | None = None
    isbn13: str | None = None
    isbn_parts: tuple[str, str] | None = None  # (group, registrant) for hyphenation
    price: str | None = None
    clc: str | None = None
    lcc: str | None = None
    subjects: tuple[str, ...] = ()
    series: str | None = None
    country: str = "cc "  # MARC country code of publication
    place_code: str | None = None  # CNMARC 102$b
    original_lang: str | None = None  # for translations
    original_title: str | None = None
    online: bool = False  # an electronic reproduction
    popularity: float = 1.0
    source: str = "generated"  # generated | loc | bnu
    raw_format: str | None = None  # marc21 | unimarc: the format raw_fields are in
    raw_fields: tuple[RawField, ...] = ()
    raw_leader: str | None = None


@dataclass(frozen=True)
class Item:
    """One physical copy on a member's shelf."""

    barcode: str
    location: str
    status: str  # available | on loan | in library use only
    due: str | None = None  # yyyy-mm-dd when on loan


@dataclass
class Holding:
    """A member's copies of one manifestation, under one call number."""

    member: str
    call_number: str
    class_part: str
    item_part: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Description:
    """How one member catalogued one manifestation: the strings that end up in its record."""

    lang: str
    title: str
    subtitle: str | None
    responsibility: str | None
    translator_statement: str | None
    names: tuple[Name, ...]
    edition: str | None
    place: str | None
    publisher: str | None
    year: str | None
    year_int: int
    pages: str | None
    size: str | None
    isbn: str | None
    price: str | None
    clc: str | None
    lcc: str | None
    subjects: tuple[str, ...]
    series: str | None
    country: str
    place_code: str | None
    original_lang: str | None
    original_title: str | None
    online: bool
    brackets: tuple[str, str] = ("(", ")")  # around the nationality: "(美)", "[美]", "（美）"
