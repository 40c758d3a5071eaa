"""How each member catalogues a book: its habits, and the small differences they produce.

Two members holding the same edition rarely catalogue it identically. The differences made here
are the ones Chinese union catalogues are known for: full-width vs half-width punctuation, the
subtitle run into the title, spacing, traditional characters, ISBN-10 vs ISBN-13 with or without
hyphens, missing ISBN or pages, year with month or copyright sign, "[等]" for many authors.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache

from federation.demo.isbn import hyphenate, to_isbn10
from federation.demo.model import Description, Manifestation, Name

ROLE_ZH = {"author": "著", "editor": "主编", "compiler": "编著", "translator": "译"}
ROLE_EN = {"author": "", "editor": "edited by ", "compiler": "compiled by ", "translator": ""}
_LOWER_KEEP = {"Python", "Chinese", "China", "Jiaodong", "Yantai", "Marxism", "Go", "Tang"}
_ASCII_RUN = re.compile(r"[A-Za-z0-9]+")


_PLACES = {"中国", "美国", "英国", "Ohio", "United States"}
_PERIODS = {"现代", "当代", "近代", "古代"}
_FORMS = {"教材", "普及读物", "Textbooks", "Congresses", "Case studies"}


def subdivision_kind(part: str) -> str:
    """Tell what a subject subdivision is: form, place, period or topic (for $v/$z/$y/$x)."""
    if part in _FORMS:
        return "form"
    if part in _PLACES:
        return "place"
    return "period" if part in _PERIODS or part.isdigit() else "topic"


@dataclass(frozen=True)
class Style:
    """A member's cataloguing habits (probabilities are per record)."""

    isbn_form: str  # printed-hyphen | printed-plain | isbn13-plain | isbn13-hyphen
    isbd: bool  # ISBD punctuation between MARC 21 subfields
    fullwidth: bool  # full-width colon and brackets in Chinese titles
    fold_subtitle: float  # subtitle run into the title proper
    traditional: float  # Chinese titles in traditional characters
    missing_isbn: float
    missing_pages: float
    price: bool
    sentence_case: bool  # English titles in sentence case (LC practice)
    year_month: float  # "2015.3" instead of "2015"


def member_style(code: str, seed: int) -> Style:
    """Return the habits of member ``code``; they stay the same for one seed."""
    rng = random.Random(f"style/{seed}/{code}")
    return Style(
        isbn_form=rng.choices(
            ("printed-hyphen", "printed-plain", "isbn13-plain", "isbn13-hyphen"), (5, 2, 2, 1)
        )[0],
        isbd=rng.random() < 0.6,
        fullwidth=rng.random() < 0.6,
        fold_subtitle=rng.choice((0.0, 0.1, 0.5)),
        traditional=rng.choice((0.0, 0.0, 0.0, 0.15)),
        missing_isbn=rng.choice((0.01, 0.03, 0.08)),
        missing_pages=rng.choice((0.01, 0.05, 0.15)),
        price=rng.random() < 0.7,
        sentence_case=rng.random() < 0.7,
        year_month=rng.choice((0.0, 0.2)),
    )


@cache
def _s2t():
    from opencc import OpenCC  # loaded on first use: building the converter reads its tables

    return OpenCC("s2t")


def traditional(text: str | None) -> str | None:
    """Return ``text`` in traditional Chinese characters."""
    return _s2t().convert(text) if text else text


def describe(m: Manifestation, style: Style, rng: random.Random) -> Description:
    """Return how a member with ``style`` catalogues ``m``."""
    title, subtitle, edition = m.title, m.subtitle, m.edition_statement
    if m.lang == "chi":
        title, subtitle, edition = _chinese_title(title, subtitle, edition, style, rng)
    else:
        title, subtitle = _english_title(title, subtitle, style, rng)
    brackets = rng.choice((("(", ")"), ("（", "）"), ("[", "]")))
    responsibility = m.responsibility or _responsibility(m.names, m.lang, brackets, rng)
    translators = [n for n in m.names if n.role == "translator"]
    publisher = m.publisher
    if m.lang == "chi" and rng.random() < style.traditional:
        title, subtitle = traditional(title), traditional(subtitle)
        responsibility, publisher = traditional(responsibility), traditional(publisher)
    return Description(
        lang=m.lang,
        title=title,
        subtitle=subtitle,
        responsibility=responsibility,
        translator_statement=_join_zh([n.display for n in translators], rng) + "译"
        if translators
        else None,
        names=m.names,
        edition=edition,
        place=None if rng.random() < 0.04 else m.place,
        publisher=publisher,
        year=_year(m, style, rng),
        year_int=m.year,
        pages=None if rng.random() < style.missing_pages else _pages(m, rng),
        size=f"{m.size_cm}{rng.choice(('cm', ' cm'))}" if m.size_cm else None,
        isbn=None if rng.random() < style.missing_isbn else _isbn(m, style, rng),
        price=m.price if style.price else None,
        clc=m.clc,
        lcc=m.lcc,
        subjects=m.subjects,
        series=m.series,
        country=m.country,
        place_code=m.place_code,
        original_lang=m.original_lang,
        original_title=m.original_title,
        online=m.online,
        brackets=brackets,
    )


def _chinese_title(title, subtitle, edition, style: Style, rng: random.Random):
    colon = "：" if style.fullwidth else rng.choice((":", " : "))
    if subtitle and rng.random() < style.fold_subtitle:
        title, subtitle = f"{title}{colon}{subtitle}", None
    if edition and edition.startswith("第") and rng.random() < 0.1:
        title += f"（{edition}）" if style.fullwidth else f"({edition})"
        edition = None
    if style.fullwidth and rng.random() < 0.3:
        title = _ASCII_RUN.sub(lambda m: _fullwidth(m.group()), title)
    elif rng.random() < 0.05 and len(title) >= 4:
        cut = rng.randint(2, len(title) - 2)
        title = f"{title[:cut]} {title[cut:]}"
    return title, subtitle, edition


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def _english_title(title, subtitle, style: Style, rng: random.Random):
    if style.sentence_case:
        title = _sentence_case(title)
        subtitle = subtitle and subtitle[0].lower() + subtitle[1:]
    if subtitle and rng.random() < style.fold_subtitle:
        title, subtitle = f"{title}: {subtitle}", None
    if " and " in title and rng.random() < 0.1:
        title = title.replace(" and ", " & ", 1)
    return title, subtitle


def _sentence_case(title: str) -> str:
    words = title.split(" ")
    rest = [w if w in _LOWER_KEEP or w.isupper() else w.lower() for w in words[1:]]
    return " ".join([words[0], *rest])


def _join_zh(names: list[str], rng: random.Random) -> str:
    return rng.choice(("，", ",", ", ")).join(names)


def name_zh(name: Name, brackets: tuple[str, str] = ("(", ")")) -> str:
    """Return a name as a Chinese record writes it, "(美)约翰·史密斯" for Western authors."""
    if name.zh is None:
        return name.display
    return f"{brackets[0]}{name.nationality}{brackets[1]}{name.zh}"


def _responsibility(
    names: tuple[Name, ...], lang: str, brackets: tuple[str, str], rng: random.Random
) -> str | None:
    primary = [n for n in names if n.role != "translator"]
    if not primary:
        return None
    if lang == "chi":
        shown = [name_zh(n, brackets) for n in primary]
        if len(shown) >= 3 and rng.random() < 0.5:
            shown = [shown[0] + rng.choice(("[等]", "等"))]
        return _join_zh(shown, rng) + rng.choice(("", "", " ")) + ROLE_ZH[primary[0].role]
    shown = [n.display for n in primary]
    joined = (
        " and ".join(shown) if len(shown) <= 2 else ", ".join(shown[:-1]) + ", and " + shown[-1]
    )
    prefix = ROLE_EN.get(primary[0].role, "") or rng.choice(("", "by "))
    return prefix + joined


def _year(m: Manifestation, style: Style, rng: random.Random) -> str:
    if m.lang == "chi" and rng.random() < style.year_month:
        return f"{m.year}.{rng.randint(1, 12)}"
    if m.lang != "chi" and rng.random() < 0.25:
        return rng.choice((f"c{m.year}", f"[{m.year}]"))
    return str(m.year)


def _pages(m: Manifestation, rng: random.Random) -> str | None:
    if not m.pages:
        return None
    front = rng.choice(("", "", "", "xii, ", "8, "))
    if m.lang == "chi":
        return f"{front}{m.pages}{rng.choice(('页', '页', ' 页'))}"
    return f"{front}{m.pages} {rng.choice(('p.', 'pages'))}"


def _isbn(m: Manifestation, style: Style, rng: random.Random) -> str | None:
    """Write the ISBN as this member does: as printed (ISBN-10 before 2007) or normalised."""
    if not m.isbn13:
        return None
    form = style.isbn_form if rng.random() < 0.8 else rng.choice(("printed-hyphen", "isbn13-plain"))
    printed = to_isbn10(m.isbn13) if m.year < 2007 else m.isbn13
    number = m.isbn13 if form.startswith("isbn13") else printed or m.isbn13
    if form.endswith("hyphen") and m.isbn_parts:
        number = hyphenate(number, *m.isbn_parts)
    if m.lang != "chi" and rng.random() < 0.15:
        number += rng.choice((" (pbk.)", " (hbk.)", " (alk. paper)"))
    return number
