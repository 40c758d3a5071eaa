"""UNIMARC and CNMARC bibliographic records (XML or ISO 2709) to BibRecord.

CNMARC is UNIMARC with Chinese practice: 690 holds the CLC class, 905 the holdings, and
systems such as dp2 add pinyin in capital subfield codes ($A, $F), which are never read here.
"""

from __future__ import annotations

from harvesters.bibrecord import BibRecord, Name, RecordRejected
from harvesters.parsers import common
from harvesters.parsers.marcdata import Field, MarcData, first, subfield, subfields
from harvesters.parsers.text import (
    add_unique,
    clean,
    clean_imprint,
    clean_name,
    clean_title,
    join_corporate,
    language_code,
    pages_from_extent,
    year_from_digits,
    year_from_text,
)

WANTED = frozenset({
    "001", "010", "011", "020", "035", "100", "101", "110", "135", "200", "205", "210",
    "214", "215", "225", "410", "510", "517", "600", "601", "602", "604", "605", "606",
    "607", "610", "675", "676", "680", "686", "690", "692", "700", "701", "702", "710",
    "711", "712",
})  # fmt: skip
INDICATORS: frozenset[str] = frozenset()  # no indicator changes what is read
_NAME_TAGS = (("700", "personal"), ("710", "corporate"), ("701", "personal"),
              ("711", "corporate"), ("702", "personal"), ("712", "corporate"))  # fmt: skip
_SUBJECT_TAGS = ("600", "601", "602", "604", "605", "606", "607", "610")
_CLASS_TAGS = (("690", "CLC"), ("692", "CAS"), ("676", "DDC"), ("680", "LCC"), ("675", "UDC"))
# leader/06 type of record -> format (language material handled in _format)
_TYPE_FORMATS = {
    "c": "music score", "d": "music score", "e": "map", "f": "map", "g": "video",
    "i": "audio", "j": "audio", "k": "image", "l": "e-resource", "m": "mixed", "r": "object",
}  # fmt: skip


def build(data: MarcData, record: BibRecord) -> BibRecord:
    """Fill a BibRecord from a UNIMARC/CNMARC record; raise RecordRejected when it has no title."""
    leader = data.leader or ""
    record.record_status = leader[5:6].strip() or None
    record.control_number = data.control.get("001", "").strip() or None
    _title(data, record)
    if record.title is None and record.record_status != "d":
        raise RecordRejected(_no_title_reason(data))
    _identifiers(data, record)
    record.names = _names(data)
    _imprint(data, record)
    record.edition = clean(first(data, "205", "a"))
    languages: list[str] = []
    for field in data.fields.get("101", ()):
        for value in subfields(field, "a"):
            add_unique(languages, language_code(value))
    record.languages = languages
    record.format = _format(leader, data)
    record.subjects = common.subjects(data, _SUBJECT_TAGS, "jxyz", main="ab")
    record.classifications = _classifications(data)
    record.series = _series(data)
    record.pages = pages_from_extent(first(data, "215", "a"))
    return record


def _no_title_reason(data: MarcData) -> str:
    if "200" in data.fields:
        return "200 title field has no $a"
    if "245" in data.all_tags():
        return "no 200 title field (the record looks like MARC 21: it has a 245 field)"
    return "no 200 title field"


def _title(data: MarcData, record: BibRecord) -> None:
    fields = data.fields.get("200")
    if fields:
        field = fields[0]
        # several $a: works by one author without a collective title, joined ISBD-style
        titles = [t for t in map(clean_title, subfields(field, "a")) if t]
        record.title = " ; ".join(titles) if titles else None
        record.subtitle = clean_title(subfield(field, "e"))
        record.part_numbers = [v for v in map(clean, subfields(field, "h")) if v]
        record.part_names = [v for v in map(clean_title, subfields(field, "i")) if v]
    others: list[str] = []
    for tag in ("510", "517"):  # parallel titles, other variant titles
        for field in data.fields.get(tag, ()):
            add_unique(others, clean_title(subfield(field, "a")))
    record.other_titles = others


def _identifiers(data: MarcData, record: BibRecord) -> None:
    for field in data.fields.get("010", ()):
        common.add_isbns(record, subfields(field, "a"), subfields(field, "z"))
    for field in data.fields.get("011", ()):
        common.add_issns(record, subfields(field, "a"), subfields(field, "yz"))
    record.system_numbers = common.system_numbers(data, "035")
    national = []
    for field in data.fields.get("020", ()):  # national bibliography number: country + number
        number = clean(subfield(field, "b"))
        if number:
            add_unique(national, ((subfield(field, "a") or "").strip(), number))
    record.national_bib_numbers = national


def _name(field: Field) -> str | None:
    entry = clean(subfield(field, "a"))
    if not entry:
        return None
    rest = subfield(field, "b") or subfield(field, "g")  # $g: forenames written out in full
    rest = clean(rest.lstrip(" ,")) if rest else None
    return clean_name(f"{entry}, {rest}" if rest else entry)


def _names(data: MarcData) -> list[Name]:
    names: list[Name] = []
    seen = set()
    for tag, kind in _NAME_TAGS:
        for field in data.fields.get(tag, ()):
            name = _name(field) if kind == "personal" else join_corporate(subfields(field, "ab"))
            role = clean(subfield(field, "4"))
            if name and (name, role) not in seen:
                seen.add((name, role))
                names.append(Name(name, role, kind))
    return names


def _imprint(data: MarcData, record: BibRecord) -> None:
    imprint = (data.fields.get("210") or data.fields.get("214") or (None,))[0]
    if imprint is not None:
        record.place = clean_imprint(subfield(imprint, "a"))
        # $g: the printer, all that old books (BSG) name
        record.publisher = clean_imprint(subfield(imprint, "c") or subfield(imprint, "g"))
    general = first(data, "100", "a") or ""
    year = year_from_digits(general[9:13]) if len(general) >= 13 else None
    if year is None and imprint is not None:
        year = year_from_text(subfield(imprint, "d"))
    record.year = year


def _format(leader: str, data: MarcData) -> str:
    if len(leader) < 8:  # no leader: guess from the coded-data fields
        if "110" in data.fields:
            return "serial"
        return "e-resource" if "135" in data.fields else "book"
    kind, level = leader[6], leader[7]
    if kind in "ab":
        if level == "a":
            return "article"
        if level in "is":
            return "serial"
        electronic = "135" in data.fields or common.says_electronic(first(data, "200", "b"))
        return "e-resource" if electronic else "book"
    return _TYPE_FORMATS.get(kind, "other")


def _classifications(data: MarcData) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    fields = data.fields
    for tag, scheme in _CLASS_TAGS:
        for field in fields.get(tag, ()):
            number = " ".join(v.strip() for v in subfields(field, "ab") if v.strip())
            if scheme == "DDC":
                number = number.replace("/", "").replace("'", "")
            add_unique(found, (scheme, number))
    for field in fields.get("686", ()):
        scheme = (subfield(field, "2") or "").strip() or "local"
        add_unique(found, (scheme, (subfield(field, "a") or "").strip()))
    return [c for c in found if c[1]]


def _series(data: MarcData) -> list[tuple[str, str | None]]:
    series: list[tuple[str, str | None]] = []
    titles: set[str] = set()
    candidates = [(f, "a") for f in data.fields.get("225", ())]
    if not candidates:  # linking field to the series record
        candidates = [(f, "t" if subfield(f, "t") else "a") for f in data.fields.get("410", ())]
    for field, code in candidates:
        title = clean_title(subfield(field, code))
        if title and title.casefold() not in titles:
            titles.add(title.casefold())
            series.append((title, clean(subfield(field, "v"))))
    return series
