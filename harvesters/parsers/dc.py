"""Simple Dublin Core (oai_dc, SRU dc, DCX) to BibRecord."""

from __future__ import annotations

import re

from harvesters.bibrecord import BibRecord, Name, RecordRejected
from harvesters.parsers import common
from harvesters.parsers.identifiers import split_system_number
from harvesters.parsers.marcdata import localname, namespace
from harvesters.parsers.text import (
    add_unique,
    clean,
    clean_imprint,
    clean_title,
    language_code,
    pages_from_extent,
    year_from_text,
)

DC_NS = "http://purl.org/dc/elements/1.1/"
DC_PREFIX = "{" + DC_NS + "}"
_ISBN_HINT = re.compile(r"^(?:urn:isbn:|isbn[:\s]*)", re.IGNORECASE)
_ISSN_HINT = re.compile(r"^(?:urn:issn:|issn[:\s]*)", re.IGNORECASE)
_BARE_ISBN = re.compile(r"^(?:97[89][\d-]{10,14}|[\d-]{9,12}[\dXx])$")
# dc:type values (lower-cased, after any "info:eu-repo/semantics/" prefix) -> format
_TYPES = {
    "article": "article", "journalarticle": "article", "bookpart": "article",
    "reportpart": "article", "conferenceobject": "article", "contributiontoperiodical": "article",
    "book": "book", "monograph": "book", "report": "book", "doctoralthesis": "book",
    "masterthesis": "book", "bachelorthesis": "book", "thesis": "book", "text": "book",
    "periodical": "serial", "journal": "serial", "image": "image", "stillimage": "image",
    "sound": "audio", "movingimage": "video", "video": "video", "dataset": "e-resource",
    "software": "e-resource", "interactiveresource": "e-resource", "cartographic": "map",
    "map": "map", "physicalobject": "object", "collection": "mixed",
}  # fmt: skip
_TYPE_ORDER = ("article", "serial", "book")  # "text" is weaker evidence than "article"


def build(element, record: BibRecord) -> BibRecord:
    """Fill a BibRecord from a Dublin Core container element (oai_dc:dc or similar)."""
    values: dict[str, list[str]] = {}
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and tag.startswith(DC_PREFIX):
            text = child.text
            if text and text.strip():
                values.setdefault(tag[len(DC_PREFIX) :], []).append(text.strip())
    if not values:
        shown = f"{{{namespace(element)}}}{localname(element)}"
        raise RecordRejected(f"no Dublin Core elements in <{shown}>")
    titles = values.get("title", [])
    record.title = clean_title(titles[0]) if titles else None
    if record.title is None:
        raise RecordRejected("no dc:title")
    record.other_titles = [t for t in map(clean_title, titles[1:]) if t]
    record.names = _names(values)
    publishers = values.get("publisher", [])
    record.publisher = clean_imprint(publishers[-1]) if publishers else None
    record.year = next(filter(None, map(year_from_text, values.get("date", []))), None)
    languages: list[str] = []
    for value in values.get("language", []):
        add_unique(languages, language_code(value))
    record.languages = languages
    record.subjects = [s for s in map(clean, values.get("subject", [])) if s]
    record.format = _format(values.get("type", []))
    record.pages = next(filter(None, map(pages_from_extent, values.get("format", []))), None)
    _identifiers(values.get("identifier", []), record)
    return record


def _names(values: dict[str, list[str]]) -> list[Name]:
    names: list[Name] = []
    for key, role in (("creator", "creator"), ("contributor", "contributor")):
        for value in values.get(key, []):
            name = clean(value)
            if name and all(n.name != name for n in names):
                names.append(Name(name, role, "personal"))
    return names


def _format(types: list[str]) -> str:
    found = set()
    for value in types:
        key = value.rsplit("/", 1)[-1].replace(" ", "").replace("-", "").lower()
        key = key.removeprefix("doctype:")
        if key in _TYPES:
            found.add(_TYPES[key])
    for preferred in _TYPE_ORDER:
        if preferred in found:
            return preferred
    return sorted(found)[0] if found else "other"


def _identifiers(identifiers: list[str], record: BibRecord) -> None:
    isbns, issns = [], []
    for value in identifiers:
        if _ISBN_HINT.match(value):
            isbns.append(_ISBN_HINT.sub("", value))
        elif _ISSN_HINT.match(value):
            issns.append(_ISSN_HINT.sub("", value))
        elif _BARE_ISBN.match(value) and sum(c.isdigit() for c in value) in (9, 10, 13):
            isbns.append(value)
        elif value.startswith("("):
            pair = split_system_number(value)
            if pair:
                add_unique(record.system_numbers, pair)
    common.add_isbns(record, isbns)
    common.add_issns(record, issns)
