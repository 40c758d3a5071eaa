"""MARC 21 bibliographic records (MARCXML or ISO 2709) to BibRecord."""

from __future__ import annotations

from harvesters.bibrecord import BibRecord, Name, RecordRejected
from harvesters.parsers import common
from harvesters.parsers.marcdata import MarcData, first, subfield, subfields
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
    "001", "003", "007", "008", "010", "015", "020", "022", "035", "041", "050", "080",
    "082", "084", "100", "110", "111", "245", "246", "250", "260", "264", "300", "440",
    "490", "600", "610", "611", "630", "650", "651", "653", "700", "710", "711", "830",
    "880",
})  # fmt: skip
INDICATORS = frozenset({"264"})  # the only indicator read: 264 ind2 = publication
_NAME_TAGS = (("100", "personal"), ("110", "corporate"), ("111", "corporate"),
              ("700", "personal"), ("710", "corporate"), ("711", "corporate"))  # fmt: skip
_SUBJECT_TAGS = ("600", "610", "611", "630", "650", "651", "653")
_CLC_SOURCES = frozenset({"clc", "zhtfl", "中图法", "中国图书馆分类法"})
# leader/06 type of record -> format (language material and bib level handled in _format)
_TYPE_FORMATS = {
    "c": "music score", "d": "music score", "e": "map", "f": "map", "g": "video",
    "i": "audio", "j": "audio", "k": "image", "m": "e-resource", "o": "kit", "p": "mixed",
    "r": "object",
}  # fmt: skip


def build(data: MarcData, record: BibRecord) -> BibRecord:
    """Fill a BibRecord from a MARC 21 record; raise RecordRejected when it has no title."""
    leader = data.leader or ""
    record.record_status = leader[5:6].strip() or None
    record.control_number = data.control.get("001", "").strip() or None
    _title(data, record)
    if record.title is None and record.record_status != "d":
        raise RecordRejected(_no_title_reason(data))
    fixed = data.control.get("008", "")
    _identifiers(data, record)
    _names(data, record)
    _imprint(data, record, fixed)
    record.edition = clean(first(data, "250", "a"))
    record.languages = _languages(data, fixed)
    record.format = _format(leader, fixed, data)
    record.subjects = common.subjects(data, _SUBJECT_TAGS, "vxyz")
    record.classifications = _classifications(data)
    record.series = _series(data)
    record.pages = pages_from_extent(first(data, "300", "a"))
    return record


def _no_title_reason(data: MarcData) -> str:
    if "245" in data.fields:
        return "245 title field has no $a or $k"
    if "200" in data.all_tags():
        return "no 245 title field (the record looks like UNIMARC: it has a 200 field)"
    return "no 245 title field"


def _title(data: MarcData, record: BibRecord) -> None:
    fields = data.fields
    if "245" in fields:
        title = subtitle = None
        numbers: list[str] = []
        names: list[str] = []
        for code, value in fields["245"][0][2]:
            if code == "a" or (code == "k" and title is None):
                title = title or value
            elif code == "b":
                subtitle = subtitle or value
            elif code == "n":
                numbers.append(value)
            elif code == "p":
                names.append(value)
        record.title = clean_title(title)
        record.subtitle = clean_title(subtitle)
        record.part_numbers = [v for v in map(clean, numbers) if v]
        record.part_names = [v for v in map(clean_title, names) if v]
    if "880" in fields or "246" in fields:
        record.other_titles = _other_titles(fields)


def _other_titles(fields) -> list[str]:
    others: list[str] = []
    for field in fields.get("880", ()):
        link = subfield(field, "6") or ""
        if link.startswith("245"):  # the title in its original script (CJK, Arabic, ...)
            add_unique(others, clean_title(subfield(field, "a")))
    for field in fields.get("246", ()):
        add_unique(others, clean_title(subfield(field, "a")))
    return others


def _identifiers(data: MarcData, record: BibRecord) -> None:
    fields = data.fields
    if "020" in fields:
        for field in fields["020"]:
            common.add_isbns(record, subfields(field, "a"), subfields(field, "z"))
    if "022" in fields:
        for field in fields["022"]:
            common.add_issns(record, subfields(field, "a"), subfields(field, "yz"))
    if "010" in fields:
        record.lccn = common.lccn(first(data, "010", "a"))
    if "035" in fields:
        record.system_numbers = common.system_numbers(data, "035")
    if data.control.get("003", "").strip().upper() == "OCOLC" and record.control_number:
        common.add_system_number(record.system_numbers, f"(OCoLC){record.control_number}")
    if "015" in fields:
        national: list[tuple[str, str]] = []
        for field in fields["015"]:
            source = subfield(field, "2") or ""
            for number in subfields(field, "a"):
                add_unique(national, (source, number.strip()))
        record.national_bib_numbers = national


def _names(data: MarcData, record: BibRecord) -> None:
    names: list[Name] = []
    fields = data.fields
    for tag, kind in _NAME_TAGS:
        if tag not in fields:
            continue
        for field in fields[tag]:
            parts: list[str] = []
            role = term = None
            for code, value in field[2]:
                if code == "a" or code == "b":
                    parts.append(value)
                elif code == "4":
                    role = role or value.strip()
                elif code == "e":
                    term = term or value
                elif code == "t" and tag[0] == "7":
                    break  # a name-title entry points at another work, not a contributor
            else:
                name = clean_name(" ".join(parts)) if kind == "personal" else join_corporate(parts)
                if name:
                    _add_name(names, Name(name, role or clean(term), kind))
    record.names = names


def _add_name(names: list[Name], name: Name) -> None:
    for known in names:
        if known.name == name.name and known.role == name.role:
            return
    names.append(name)


def _imprint(data: MarcData, record: BibRecord, fixed: str) -> None:
    imprint = None
    for field in data.fields.get("264", ()):
        if field[1] == "1":  # publication, not production/distribution/copyright
            imprint = field
            break
    if imprint is None:
        imprint = (data.fields.get("260") or data.fields.get("264") or (None,))[0]
    if imprint is not None:
        record.place = clean_imprint(subfield(imprint, "a"))
        record.publisher = clean_imprint(subfield(imprint, "b"))
    year = year_from_digits(fixed[7:11]) if len(fixed) >= 11 else None
    if year is None and imprint is not None:
        year = year_from_text(subfield(imprint, "c"))
    record.year = year


def _languages(data: MarcData, fixed: str) -> list[str]:
    languages: list[str] = []
    if len(fixed) >= 38:
        add_unique(languages, language_code(fixed[35:38]))
    for field in data.fields.get("041", ()):
        for value in subfields(field, "a"):
            value = value.strip()
            # old records pack several codes into one subfield: "engfre"
            for i in range(0, len(value) - 2, 3):
                add_unique(languages, language_code(value[i : i + 3]))
    return languages


def _electronic(fixed: str, data: MarcData) -> bool:
    if data.control.get("007", "")[:1] == "c":
        return True
    if len(fixed) > 23 and fixed[23] in "oqs":
        return True
    return common.says_electronic(first(data, "245", "h"))


def _format(leader: str, fixed: str, data: MarcData) -> str:
    if len(leader) < 8:
        return "other"
    kind, level = leader[6], leader[7]
    if kind in "at":
        if level in "ab":
            return "article"
        if level in "is":
            return "serial"
        return "e-resource" if _electronic(fixed, data) else "book"
    return _TYPE_FORMATS.get(kind, "other")


def _classifications(data: MarcData) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    fields = data.fields
    for field in fields.get("050", ()):
        number = " ".join(v.strip() for v in subfields(field, "ab"))
        add_unique(found, ("LCC", number))
    for field in fields.get("082", ()):
        for number in subfields(field, "a"):
            add_unique(found, ("DDC", number.replace("/", "").replace("'", "").strip()))
    for field in fields.get("080", ()):
        add_unique(found, ("UDC", (subfield(field, "a") or "").strip()))
    for field in fields.get("084", ()):
        source = (subfield(field, "2") or "").strip()
        scheme = "CLC" if source.lower() in _CLC_SOURCES else (source or "local")
        for number in subfields(field, "a"):
            add_unique(found, (scheme, number.strip()))
    return [c for c in found if c[1]]


def _series(data: MarcData) -> list[tuple[str, str | None]]:
    series: list[tuple[str, str | None]] = []
    titles: set[str] = set()
    for tag in ("830", "490", "440"):
        for field in data.fields.get(tag, ()):
            title = clean_title(subfield(field, "a"))
            if title and title.casefold() not in titles:
                titles.add(title.casefold())
                series.append((title, clean(subfield(field, "v"))))
    return series
