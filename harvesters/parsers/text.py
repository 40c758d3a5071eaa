"""Cheap text normalisation shared by the parsers: punctuation, years, pages, languages."""

from __future__ import annotations

import re
import unicodedata

# Characters XML 1.0 forbids (C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/F).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# ISBD punctuation left at the end of a subfield: "Title /", "Paris :", "Vrin,".
_TRAILING_PUNCT = " /:;=,\t\n\r"
# Non-sorting markers: C1 NSB/NSE (MARC, UNIMARC) and ISO 5426 NSB/NSE; "<<The >>" (BnF, BNR).
_NONSORT = re.compile("[\x88\x89\x98\x9c]")
_BRACKETS = re.compile(r"^\[(.*)\]$")
_YEAR = re.compile(r"(?<!\d)(1\d{3}|20\d{2})(?!\d)")
# A count, maybe in brackets ("[496]") or closing a parenthesis ("(IX, 26) p."), then blanks.
_PAGE_NUMBER = re.compile(r"(\[?)(\d{1,6})\]?\)?\s*")
# Page units after the count, lower-cased: p. pp. pages S. (Seiten) Bl. f. с. стр. 页 頁
_PAGE_UNITS = (
    "pp", "page", "pg", "s.", "bl.", "leaves", "ff.", "f.", "str.", "с.", "стр", "页", "頁",
)  # fmt: skip
_SEGMENT_START = re.compile(r"[(;:]")
MIN_YEAR, MAX_YEAR = 1000, 2099
MAX_PAGES = 100_000

_UNKNOWN_PLACES_PUBLISHERS = frozenset(
    {
        "s.l.", "s.n.", "s. l.", "s. n.", "sl", "sn", "s.l", "s.n", "sine loco", "sine nomine",
        "place of publication not identified", "publisher not identified",
        "lieu de publication non identifié", "éditeur non identifié", "出版地不详", "出版者不详",
    }
)  # fmt: skip

# ISO 639-1 codes some Dublin Core feeds use, mapped to the MARC (639-2/B) codes catalogues use.
_LANG_639_1 = {
    "en": "eng", "zh": "chi", "fr": "fre", "de": "ger", "es": "spa", "it": "ita", "ja": "jpn",
    "ko": "kor", "ru": "rus", "pt": "por", "nl": "dut", "ar": "ara", "la": "lat", "sv": "swe",
    "da": "dan", "no": "nor", "pl": "pol", "ro": "rum", "uk": "ukr", "el": "gre", "tr": "tur",
}  # fmt: skip


_NO_LANGUAGE = frozenset({"und", "zxx"})  # undetermined, no linguistic content


def strip_illegal_xml_chars(text: str) -> tuple[str, int]:
    """Remove characters illegal in XML 1.0; return the clean text and how many were removed."""
    if _ILLEGAL_XML.search(text) is None:
        return text, 0
    return _ILLEGAL_XML.subn("", text)


def nfc(text: str) -> str:
    """Return text in Unicode NFC (decomposed MARC diacritics composed), cheaply for ASCII."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def clean(text: str | None) -> str | None:
    """Strip blanks and trailing ISBD punctuation; return None for an empty result."""
    if not text:
        return None
    text = text.rstrip(_TRAILING_PUNCT).lstrip()
    if not text:
        return None
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def clean_title(text: str | None) -> str | None:
    """Clean a title: drop non-sorting markers, ISBD punctuation and a final period."""
    if not text:
        return None
    if "<<" in text:
        text = text.replace("<<", "").replace(">>", "")
    if not text.isascii() and _NONSORT.search(text):
        text = _NONSORT.sub("", text)
    text = clean(text)
    if text and text.endswith(".") and not text.endswith("..."):
        last_word = text.rsplit(None, 1)[-1]
        if len(last_word) > 4:  # keep "etc." "Jr." "U.S.A."-style abbreviations
            text = text[:-1].rstrip()
    return text or None


def clean_name(text: str | None) -> str | None:
    """Clean a heading: trailing commas always, a final period unless it ends an initial."""
    text = clean(text)
    if text and text.endswith("."):
        last_word = text.rsplit(None, 1)[-1].rstrip(".")
        if len(last_word) > 2 and "." not in last_word:
            text = text[:-1].rstrip()
    return text or None


def join_corporate(parts: list[str]) -> str | None:
    """Join a body and its subdivisions ISBD-style: "Etats-Unis. Department of the Treasury"."""
    joined = ""
    for part in parts:
        part = part.strip().rstrip(",")
        if not part:
            continue
        if joined and not joined.endswith((".", "?", "!")):
            joined += "."
        joined = f"{joined} {part}" if joined else part
    return clean_name(joined)


def clean_heading(text: str | None) -> str | None:
    """Clean a subject heading: like a name, headings end with a period in MARC."""
    return clean_name(text)


def clean_imprint(text: str | None) -> str | None:
    """Clean a place or publisher: brackets and "s.l."/"s.n." placeholders go."""
    text = clean(text)
    if not text:
        return None
    match = _BRACKETS.match(text)
    if match:
        text = clean(match.group(1))
        if not text:
            return None
    if text.lower() in _UNKNOWN_PLACES_PUBLISHERS:
        return None
    return text


def year_from_text(text: str | None) -> int | None:
    """Return the first plausible four-digit year in text: "[ca 1936]" -> 1936."""
    if not text:
        return None
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def year_from_digits(text: str) -> int | None:
    """Return text as a year when it is exactly four plausible digits ("19uu" -> None)."""
    if len(text) == 4 and text.isascii() and text.isdecimal():
        year = int(text)
        if MIN_YEAR <= year <= MAX_YEAR:
            return year
    return None


def _is_page_unit(rest: str) -> bool:
    if rest.startswith(_PAGE_UNITS):
        return True
    return rest[:1] == "p" and (len(rest) == 1 or not rest[1].isalpha())  # "p." "p," "p"


def pages_from_extent(text: str | None) -> int | None:
    """Read a page count from an extent: "xii, 345 p." -> 345, "385,[10]页" -> 385."""
    if not text:
        return None
    lower = text.lower()
    best = plain = bracketed = 0
    last_end = 0
    for match in _PAGE_NUMBER.finditer(lower):
        if _SEGMENT_START.search(lower, last_end, match.start()):
            plain = bracketed = 0  # "2 vol. (793 p.)": counts before "(", ";", ":" are not pages
        value = int(match.group(2))
        if match.group(1):
            bracketed = max(bracketed, value)
        else:
            plain = max(plain, value)
        last_end = match.end()
        if _is_page_unit(lower[last_end : last_end + 6]):
            best = max(best, plain or bracketed)
            plain = bracketed = 0
    return best if 0 < best <= MAX_PAGES else None


def language_code(text: str | None) -> str | None:
    """Normalise a language code to lower-case ISO 639-2 ("en" -> "eng"); None if not a code."""
    if not text:
        return None
    code = text.strip().lower()
    if len(code) == 2:
        return _LANG_639_1.get(code)
    if len(code) == 3 and code.isalpha() and code.isascii() and code not in _NO_LANGUAGE:
        return code
    return None


def add_unique(items: list, value) -> None:
    """Append value unless it is empty or already present (lists here are short)."""
    if value and value not in items:
        items.append(value)
