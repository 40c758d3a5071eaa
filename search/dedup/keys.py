"""Match keys of one record: identifiers that prove identity, and the facts compared under them.

``record_keys`` reads a BibRecord once into a small ``RecordKeys``: every later step (blocking,
pairwise checks, work links, the record store's key table) uses only these. Identifier keys
look like ``isbn:9787111544937``, ``oclc:42943498``, ``lccn:2003265779``; the title block key
``t:<title key>|<year>`` and the work key ``w:<title key>|<author key>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from harvesters.bibrecord import BibRecord
from search.dedup.normalise import (
    compact,
    drop_article,
    edition_key,
    fold,
    has_cjk,
    name_key,
    publisher_key,
    split_title,
    title_proper,
    words,
)

# Identifier rules, strongest first: the order clustering applies them in.
ID_RULES = ("isbn", "issn", "oclc", "lccn", "nbn")
_OCLC = re.compile(r"^(?:\(ocolc\))?\s*(?:ocm|ocn|on)?0*(\d{1,10})$")
_OCLC_IN_TEXT = re.compile(r"\bocl?c\s+(?:ocm|ocn|on)0*(\d{1,10})\b")
_OCLC_SOURCES = frozenset({"ocolc", "oclc"})
_DIGITS = re.compile(r"\d+")
_MAX_NAMES = 4
MAX_STORED_KEY = 300


@dataclass(slots=True)
class RecordKeys:
    """What dedup knows of one record."""

    rid: int
    member: str | None
    ids: tuple[str, ...]  # identifier keys ("isbn:978..."), strongest rule first
    isbns: frozenset[str]
    title: str  # title proper, compact folded: the block key
    full_title: str  # title and subtitle, compact folded
    sort_title: str  # spaced, articles dropped: the sort key
    cjk_title: bool
    year: int | None
    author: str | None  # first name: the work key's author
    authors: frozenset[str]  # every name (a few): compared between records
    publisher: str | None
    pages: int | None
    edition: str | None
    edition_known: bool  # False for Dublin Core, which has no edition element
    format: str
    languages: frozenset[str]
    parts: str  # part numbers and names of a multipart title, folded
    volume: str | None  # the number in a series or of a part: "v3" ("第3辑", "v. 3", "3")
    block_key: str | None  # "t:<title>|<year>": records compared by the title rule
    work_key: str | None  # "w:<title>|<first author>": editions of one work

    def store_keys(self) -> list[str]:
        """Return every key the record store indexes, for finding a record's neighbours."""
        keys = list(self.ids)
        keys += [k for k in (self.block_key, self.work_key) if k]
        # the column holds 300 characters; a cut key only finds a few more candidates
        return list(dict.fromkeys(k[:MAX_STORED_KEY] for k in keys))


def record_keys(rid: int, record: BibRecord, member: str | None = None) -> RecordKeys:
    """Read the match keys of one record."""
    # Written for speed (it runs once per record per clustering): caches looked up inline.
    languages = tuple(record.languages)
    title, full, sort, cjk, title_edition = _title(record.title, record.subtitle, languages)
    names = _names(record)
    year = record.year
    isbns = record.isbns
    edition = record.edition or title_edition
    publisher = record.publisher
    return RecordKeys(
        rid,
        member if member is not None else record.member,
        identifier_keys(record),
        frozenset(isbns) if isbns else _NONE,
        title,
        full,
        sort,
        cjk,
        year,
        names[0] if names else None,
        frozenset(names) if names else _NONE,
        (_PUBLISHERS[publisher] if publisher in _PUBLISHERS
         else _cached(_PUBLISHERS, publisher_key, publisher)),
        record.pages,
        _EDITIONS[edition] if edition in _EDITIONS else _cached(_EDITIONS, edition_key, edition),
        record.source_format != "oai_dc" or bool(edition),
        record.format,
        _LANGUAGES.get(languages) or _languages(languages),
        _parts(record) if record.part_numbers or record.part_names else "",
        _volume(record) if record.series or record.part_numbers else None,
        f"t:{title}|{year}" if title and year is not None else None,
        f"w:{title}|{names[0]}" if title and names else None,
    )  # fmt: skip


_NONE: frozenset[str] = frozenset()


def _parts(record: BibRecord) -> str:
    return compact(words(" ".join(record.part_numbers + record.part_names)))


# Members catalogue one book with the same strings more often than not: each key is computed
# once per distinct string (the caches restart when full, so memory stays bounded).
_TITLES: dict[tuple, tuple[str, str, str, bool, str | None]] = {}
_NAMES: dict[str | tuple[str, str], str] = {}
_PUBLISHERS: dict[str, str | None] = {}
_EDITIONS: dict[str, str | None] = {}
_CACHE_LIMIT = 200_000


_LANGUAGES: dict[tuple[str, ...], frozenset[str]] = {}


def _languages(languages: tuple[str, ...]) -> frozenset[str]:
    value = _LANGUAGES[languages] = frozenset(languages)
    return value


def _cached(cache: dict, function, text: str | None):
    if not text:
        return None
    try:
        return cache[text]
    except KeyError:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        value = cache[text] = function(text)
        return value


def _title(title: str | None, subtitle: str | None, languages: tuple[str, ...]):
    """Return title key, full title key, sort title, CJK flag and an edition in the title."""
    key = (title, subtitle, languages)
    hit = _TITLES.get(key)
    if hit is None:
        text, edition = split_title(title)
        full = title_tokens(text, languages) + words(subtitle)
        proper = compact(title_tokens(title_proper(text), languages))
        cjk = has_cjk(title)  # CJK titles sort without the spaces members put in them
        hit = (proper, compact(full), compact(full) if cjk else " ".join(full), cjk, edition)
        if len(_TITLES) >= _CACHE_LIMIT:
            _TITLES.clear()
        _TITLES[key] = hit
    return hit


def sort_title_of(title: str | None, subtitle: str | None, languages: Iterable[str]) -> str:
    """Return a record's sort title (spaced, articles dropped), as record_keys would."""
    return _title(title, subtitle, tuple(languages))[2]


def title_tokens(text: str, languages: tuple[str, ...] = ()) -> list[str]:
    """Return a title's folded words without its leading article."""
    return drop_article(words(text), languages)


def identifier_keys(record: BibRecord) -> tuple[str, ...]:
    """Return the keys of the identifiers that can prove two records one manifestation."""
    if not (record.issns or record.system_numbers or record.lccn or record.national_bib_numbers):
        return tuple(["isbn:" + isbn for isbn in record.isbns])  # the common case
    keys = ["isbn:" + isbn for isbn in record.isbns]
    keys += _issn_keys(record)
    keys += [f"oclc:{n}" for n in oclc_numbers(record.system_numbers)]
    if record.lccn:
        keys.append(f"lccn:{compact(words(record.lccn))}")
    for source, number in record.national_bib_numbers:
        number = compact(words(number))
        if number:
            keys.append(f"nbn:{fold(source)}:{number}")
    return tuple(dict.fromkeys(keys))


def oclc_numbers(system_numbers: list[tuple[str, str]]) -> list[str]:
    """Return the OCLC numbers among (source, number) pairs, leading zeros dropped."""
    found = []
    for source, number in system_numbers:
        text = fold(number).strip()
        if fold(source) in _OCLC_SOURCES:
            hit = _OCLC.match(text.replace(" ", ""))
        elif not source:  # 035 without a source: "(OCoLC)123", "ocm123", "OCLC ocm123 from X"
            hit = _OCLC.match(text) if text.startswith(("(ocolc)", "ocm", "ocn", "on")) else None
            hit = hit or _OCLC_IN_TEXT.search(text)
        else:
            hit = None
        if hit:
            found.append(hit.group(1))
    return list(dict.fromkeys(found))


def _issn_keys(record: BibRecord) -> list[str]:
    """ISSN of a serial alone; of a monograph series only with the volume number."""
    if not record.issns:
        return []
    if record.format == "serial":
        return [f"issn:{issn}" for issn in record.issns]
    volume = _volume(record)
    return [f"issn:{issn}|{volume}" for issn in record.issns] if volume else []


def _volume(record: BibRecord) -> str | None:
    numbering = [n for _title, n in record.series if n] + record.part_numbers
    for text in numbering:
        digits = _DIGITS.findall(fold(text))
        if digits:
            return "v" + ".".join(str(int(d)) for d in digits)
    return None


def _names(record: BibRecord) -> list[str]:
    """Return the keys of the record's first names, main entry first, without repeats."""
    out: list[str] = []
    for name in record.names[:_MAX_NAMES]:
        # personal names (most) are cached by their text, bodies by (text, kind)
        cache_key = name.name if name.kind == "personal" else (name.name, name.kind)
        key = _NAMES.get(cache_key)
        if key is None:
            if len(_NAMES) >= _CACHE_LIMIT:
                _NAMES.clear()
            key = _NAMES[cache_key] = name_key(name.name, name.kind) or ""
        if key and key not in out:
            out.append(key)
    return out


def clear_caches() -> None:
    """Forget every cached key (benchmarks start cold; tests that change tables)."""
    from search.dedup import normalise

    for cache in (_TITLES, _NAMES, _PUBLISHERS, _EDITIONS, _LANGUAGES, normalise._FOLD_CACHE):
        cache.clear()
