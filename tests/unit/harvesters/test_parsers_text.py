"""Text normalisation: page counts, years, titles, languages, characters illegal in XML."""

from __future__ import annotations

import pytest

from harvesters.parsers import strip_illegal_xml_chars
from harvesters.parsers.text import (
    clean_imprint,
    clean_title,
    language_code,
    pages_from_extent,
    year_from_text,
)


@pytest.mark.parametrize(
    ("extent", "pages"),
    [
        ("320页", 320),
        ("xii, 345 p.", 345),
        ("385,[10]页", 385),  # unnumbered pages in brackets do not beat the main sequence
        ("10, 374页", 374),
        ("422,图版[40]页", 422),
        ("在线资源(393页)", 393),
        ("[496] p.", 496),  # only a bracketed count: use it
        ("1 partition de poche (IX, 26) p. ;", 26),
        ("[5] Bl., 460 S., [13] Bl.", 460),
        ("1 vol. (185 p.)", 185),
        ("368 с.", 368),
        ("1 online resource (xii, 300 pages)", 300),
        ("5 disques compacts", None),
        ("27 cm", None),
        ("", None),
    ],
)
def test_pages_from_extent(extent, pages):
    assert pages_from_extent(extent) == pages


@pytest.mark.parametrize(
    ("text", "year"),
    [("1899.", 1899), ("[ca 1936]", 1936), ("1946->", 1946), ("c2009", 2009),
     ("2000-2004", 2000), ("1992.8", 1992), ("19uu", None), ("[s.d.]", None)],
)  # fmt: skip
def test_year_from_text(text, year):
    assert year_from_text(text) == year


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("La lepre nella luna /", "La lepre nella luna"),
        ("Jauchzet Gott in allen Landen : ", "Jauchzet Gott in allen Landen"),
        ("<<The >>sweetest fig", "The sweetest fig"),  # non-sorting markers (BNR, BnF)
        ("\x88Le \x89monde", "Le monde"),  # C1 non-sorting begin/end
        ("Wo\u0308rterbuch.", "Wörterbuch"),  # decomposed umlaut composed; final period gone
        ("Papers, etc.", "Papers, etc."),
        ("Mystery...", "Mystery..."),
        ("   ", None),
    ],
)
def test_clean_title(raw, title):
    assert clean_title(raw) == title


def test_placeholders_for_unknown_place_and_publisher_become_none():
    assert clean_imprint("[S.l.] :") is None
    assert clean_imprint("[s.n.],") is None
    assert clean_imprint("[Bern] :") == "Bern"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("chi", "chi"), ("ENG", "eng"), ("en", "eng"), ("zh", "chi"), ("und", None),
     ("   ", None), ("|||", None), ("english", None)],
)  # fmt: skip
def test_language_codes(code, expected):
    assert language_code(code) == expected


def test_strip_illegal_xml_chars_counts_what_it_removes():
    assert strip_illegal_xml_chars("ok\tfine\n") == ("ok\tfine\n", 0)
    assert strip_illegal_xml_chars("a\x00b\x1bc\x0bd\ufffee") == ("abcde", 4)
    assert strip_illegal_xml_chars("中文\U0001f4da") == ("中文\U0001f4da", 0)
