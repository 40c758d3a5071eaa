"""Normalisation steps MARC 21 and UNIMARC share: standard numbers, subjects, e-resources."""

from __future__ import annotations

import re

from harvesters.bibrecord import BibRecord
from harvesters.parsers.identifiers import (
    normalise_isbn,
    normalise_issn,
    normalise_lccn,
    split_system_number,
)
from harvesters.parsers.marcdata import MarcData, subfields
from harvesters.parsers.text import add_unique, clean_heading

_ELECTRONIC = re.compile(
    r"electronic|électronique|elektronische|risorsa elettronica|电子|電子|онлайн|электронн",
    re.IGNORECASE,
)


def add_isbns(record: BibRecord, values: list[str], known_invalid: list[str] = ()) -> None:
    """Add ISBNs as ISBN-13; keep the ones that fail (and catalogued-invalid ones) apart."""
    for value in values:
        isbn, bad = normalise_isbn(value)
        if isbn:
            add_unique(record.isbns, isbn)
        elif bad:
            add_unique(record.invalid_isbns, bad)
            record.warnings.append(f"invalid ISBN {bad!r}")
    for value in known_invalid:
        isbn, bad = normalise_isbn(value)
        add_unique(record.invalid_isbns, isbn or bad)


def add_issns(record: BibRecord, values: list[str], known_invalid: list[str] = ()) -> None:
    """Add checksum-valid ISSNs as NNNN-NNNC; keep the ones that fail apart."""
    for value in values:
        issn, bad = normalise_issn(value)
        if issn:
            add_unique(record.issns, issn)
        elif bad:
            add_unique(record.invalid_issns, bad)
            record.warnings.append(f"invalid ISSN {bad!r}")
    for value in known_invalid:
        issn, bad = normalise_issn(value)
        add_unique(record.invalid_issns, issn or bad)


def lccn(value: str | None) -> str | None:
    """Return a normalised LCCN, or None."""
    return normalise_lccn(value) if value else None


def add_system_number(numbers: list[tuple[str, str]], value: str) -> None:
    """Add "(prefix)number" as a (prefix, number) pair unless already there."""
    pair = split_system_number(value)
    if pair:
        add_unique(numbers, pair)


def system_numbers(data: MarcData, tag: str) -> list[tuple[str, str]]:
    """Return the (prefix, number) pairs of every $a of tag (035 in both formats)."""
    numbers: list[tuple[str, str]] = []
    for field in data.fields.get(tag, ()):
        for value in subfields(field, "a"):
            add_system_number(numbers, value)
    return numbers


def subject_heading(field, main: str, subdivisions: str) -> str | None:
    """Join a heading and its subdivisions: "Economic development -- China -- 1994"."""
    head: list[str] = []
    subs: list[str] = []
    for code, value in field[2]:
        if code in main:
            value = value.strip()
            if value:
                head.append(value)
        elif code in subdivisions:
            value = value.strip()
            if value:
                subs.append(value)
    if head:
        subs.insert(0, ", ".join(head))
    return clean_heading(" -- ".join(subs)) if subs else None


def subjects(data: MarcData, tags, subdivisions: str, main: str = "a") -> list[str]:
    """Return the subject headings of the given tags, without duplicates."""
    found: list[str] = []
    fields = data.fields
    for tag in tags:
        if tag in fields:
            for field in fields[tag]:
                heading = subject_heading(field, main, subdivisions)
                if heading and heading not in found:
                    found.append(heading)
    return found


def says_electronic(text: str | None) -> bool:
    """Tell whether a general material designation says "electronic resource"."""
    return bool(text) and _ELECTRONIC.search(text) is not None
