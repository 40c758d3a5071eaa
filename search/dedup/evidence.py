"""Why two records are one manifestation: the pairwise tests and the evidence they leave.

Each rule is tried only between records that share a block (an identifier, or a title and
year); a rule that accepts a pair returns the values that matched, which are kept with the
cluster so the record page can say why each record joined. Vetoes come first: a shared
identifier is not trusted when the titles, formats, numbered editions or volumes disagree,
or when publisher and year both do (a reused or mistyped ISBN); a title match needs the same
title, year and edition, no disagreeing fact, and two facts that agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from search.dedup.keys import RecordKeys
from search.dedup.normalise import pages_agree, publishers_agree

# Rule -> (zh, en) wording shown on the record page; order is strength, strongest first.
RULES: dict[str, tuple[str, str]] = {
    "staff-merge": ("馆员合并", "merged by staff"),
    "isbn": ("相同 ISBN", "same ISBN"),
    "issn": ("相同 ISSN 与卷次", "same ISSN (and volume)"),
    "oclc": ("相同 OCLC 号", "same OCLC number"),
    "lccn": ("相同 LCCN", "same LCCN"),
    "nbn": ("相同国家书目号", "same national bibliography number"),
    "title": (
        "题名、责任者、出版年、出版者、页数相符",
        "title, author, year, publisher, pages agree",
    ),
    "seed": ("聚类首条记录", "first record of the cluster"),
    "staff-split": ("馆员拆分", "split by staff"),
    "ignored-identifier": ("不作为证据的标识符", "identifier not used as evidence"),
}
# Work links between clusters (editions of one work).
WORK_RULES: dict[str, tuple[str, str]] = {
    "title-author": ("题名与责任者相同的其他版本", "other edition: same title and author"),
}
_TEXT_FORMATS = frozenset({"book", "article", "mixed", "other"})
_MIN_TITLE_DICE = 0.6
_REISSUE_YEARS = 1  # years apart, with another publisher, that make a shared ISBN doubtful


@dataclass(slots=True)  # not frozen: one is made per record, and frozen ones cost 4x to make
class Evidence:
    """Why a record is in its cluster: the rule, what matched, and the record it matched."""

    record_id: int | None
    rule: str
    values: dict[str, Any] = field(default_factory=dict)
    matched_record_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the evidence as JSON-able data."""
        return {
            "record_id": self.record_id,
            "rule": self.rule,
            "values": self.values,
            "matched_record_id": self.matched_record_id,
        }


# -- identifier rules ------------------------------------------------------------------------


def id_veto(a: RecordKeys, b: RecordKeys, rule: str) -> str | None:
    """Return why a shared identifier does not make a and b one manifestation, or None."""
    if not formats_agree(a.format, b.format):
        return "format"
    if a.edition != b.edition and _numbered(a.edition) and _numbered(b.edition):
        return "edition"
    if (a.parts and b.parts and a.parts != b.parts) or _volumes_differ(a, b):
        return "volume"
    if titles_agree(a, b) is False:
        return "title"
    if rule != "isbn" and isbns_conflict(a.isbns, b.isbns):
        return "isbn"
    if (
        a.year is not None
        and b.year is not None
        and abs(a.year - b.year) > _REISSUE_YEARS
        and publishers_agree(a.publisher, b.publisher) is False
    ):
        return "reissue"
    return None


def id_evidence(rule: str, key: str) -> dict[str, Any]:
    """Return the values kept for a match on identifier ``key``."""
    return {rule: key.split(":", 1)[1]}


# -- the title rule --------------------------------------------------------------------------


def title_score(a: RecordKeys, b: RecordKeys) -> int:
    """Score a title match of two records in one title block; 0 when they differ.

    The block guarantees the title proper and year; here nothing may disagree (full title,
    edition, volume, format, language, ISBN, names, publisher, pages) and at least two of
    names, publisher and pages must agree.
    """
    if a.edition != b.edition and a.edition_known and b.edition_known:
        return 0
    if a.parts != b.parts or _volumes_differ(a, b) or not formats_agree(a.format, b.format):
        return 0
    if a.languages and b.languages and a.languages.isdisjoint(b.languages):
        return 0
    full = _full_titles(a.full_title, b.full_title)
    if full == 0 or isbns_conflict(a.isbns, b.isbns):
        return 0
    agree = 0
    for verdict in (
        _names_agree(a, b),
        publishers_agree(a.publisher, b.publisher),
        pages_agree(a.pages, b.pages),
    ):
        if verdict is False:
            return 0
        agree += verdict is True
    return 0 if agree < 2 else 2 * agree + full


def title_evidence(a: RecordKeys, b: RecordKeys) -> dict[str, Any]:
    """Return the values kept for a title match."""
    return {
        "title": a.sort_title,
        "year": a.year,
        "authors": sorted(a.authors & b.authors),
        "publisher": a.publisher if publishers_agree(a.publisher, b.publisher) else None,
        "pages": [a.pages, b.pages],
        "edition": a.edition,
    }


# -- shared tests ----------------------------------------------------------------------------


def formats_agree(a: str, b: str) -> bool:
    """Tell whether two formats can be one manifestation (text formats count as one)."""
    return a == b or (a in _TEXT_FORMATS and b in _TEXT_FORMATS)


def isbns_conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    """Tell whether both records have valid ISBNs and none in common."""
    return bool(a) and bool(b) and a.isdisjoint(b)


def titles_agree(a: RecordKeys, b: RecordKeys) -> bool | None:
    """Tell whether two titles name one book (None when not comparable: missing, other script)."""
    if not a.title or not b.title or a.cjk_title != b.cjk_title:
        return None
    if a.title == b.title or a.title in b.full_title or b.title in a.full_title:
        return True
    return dice(a.title, b.title) >= _MIN_TITLE_DICE


def dice(a: str, b: str) -> float:
    """Return the Dice coefficient of the character bigrams of two strings."""
    if len(a) < 2 or len(b) < 2:
        return 1.0 if a == b else 0.0
    pa = {a[i : i + 2] for i in range(len(a) - 1)}
    pb = {b[i : i + 2] for i in range(len(b) - 1)}
    return 2 * len(pa & pb) / (len(pa) + len(pb))


def _full_titles(a: str, b: str) -> int:
    """Return 2 for equal full titles, 1 when one lacks the other's subtitle, else 0."""
    if a == b:
        return 2
    return 1 if a.startswith(b) or b.startswith(a) else 0


def _names_agree(a: RecordKeys, b: RecordKeys) -> bool | None:
    if not a.authors or not b.authors:
        return None
    return not a.authors.isdisjoint(b.authors)


def _volumes_differ(a: RecordKeys, b: RecordKeys) -> bool:
    return a.volume is not None and b.volume is not None and a.volume != b.volume


def _numbered(edition: str | None) -> bool:
    return edition is not None and edition.isdigit()
