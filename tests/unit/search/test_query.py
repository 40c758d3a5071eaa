"""The reader's query string becomes one tree for every backend; bad requests say what to fix."""

from __future__ import annotations

import pytest

from search.analysis import fold, highlight, isbn_forms, normalise, prepare_for_index
from search.query import (
    And,
    MatchAll,
    Not,
    Or,
    Phrase,
    QueryError,
    SearchQuery,
    Term,
    parse_query,
    positive_texts,
)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("", MatchAll()),
        ("数据库", Term("数据库")),
        ("world war", And((Term("world"), Term("war")))),
        ('"world war"', Phrase("world war")),
        ("“中国 历史”", Phrase("中国 历史")),
        ("a AND b", And((Term("a"), Term("b")))),
        ("a OR b c", Or((Term("a"), And((Term("b"), Term("c")))))),
        ("a NOT b", And((Term("a"), Not(Term("b"))))),
        ("a -b", And((Term("a"), Not(Term("b"))))),
        ("(a OR b) c", And((Or((Term("a"), Term("b"))), Term("c")))),
        ("title:history", Term("history", "title")),
        ('author:"lu xun"', Phrase("lu xun", "author")),
        ("题名：红楼梦", Term("红楼梦", "title")),
        ("ISBN:7-111-07524-2", Term("7-111-07524-2", "isbn")),
        ("class:TP3", Term("TP3", "class")),
        ("unknown:field", Term("unknown:field")),
    ],
)
def test_parse(text, tree):
    assert parse_query(text) == tree


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("AND", Term("AND")),
        ("OR", Term("OR")),
        ("NOT", Term("NOT")),
        ("a OR", Or((Term("a"), Term("OR")))),
        ('"unclosed quote', And((Term("unclosed"), Term("quote")))),
        ("((a)", Term("a")),
        ("a)) b", And((Term("a"), Term("b")))),
        ("()", MatchAll()),
    ],
)
def test_garbage_is_read_as_text(text, tree):
    assert parse_query(text) == tree


@pytest.mark.parametrize(
    "text",
    [
        '"',
        "((((((((((((((((((((x",
        ")" * 50,
        "-",
        "--",
        "title:",
        ":::",
        "NOT NOT NOT",
        "\x00",
        "a" * 5000,
    ],
)
def test_parser_never_raises(text):
    parse_query(text)


def test_very_long_queries_are_capped():
    tree = parse_query(" ".join(f"w{i}" for i in range(500)))
    assert isinstance(tree, And) and len(tree.children) == 64


def test_positive_texts_skip_negations_and_identifiers():
    tree = parse_query('数据库 -管理 "world war" isbn:7111075242')
    assert positive_texts(tree) == ["数据库", "world war"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sort": "price"}, "sort must be one of relevance, year_desc, year_asc, title"),
        ({"page": 0}, "page must be a whole number from 1"),
        ({"page_size": 500}, "page_size must be from 1 to 100"),
        ({"page": 200, "page_size": 100}, "only the first 10000 results"),
        ({"facets": ["colour"]}, "unknown facet 'colour'; known facets: member, region"),
        ({"filters": {"shelf": ["x"]}}, "unknown facet 'shelf'"),
        ({"filters": {"year": ["nineteen"]}}, "year filter values must be years"),
        ({"year_from": "1990"}, "year_from must be a year"),
    ],
)
def test_bad_requests_say_what_to_fix(kwargs, message):
    with pytest.raises(QueryError, match=message.replace("(", r"\(")):
        SearchQuery(**kwargs)


def test_query_drops_empty_filters():
    query = SearchQuery(filters={"member": ["a"], "region": []})
    assert query.filters == {"member": ("a",)}
    assert query.offset == 0 and SearchQuery(page=3, page_size=10).offset == 20


@pytest.mark.parametrize(
    ("typed", "forms"),
    [
        ("978-7-111-07524-0", ["9787111075240", "7111075242"]),
        ("7-111-07524-2", ["9787111075240", "7111075242"]),
        ("0 8044 2957 x", ["9780804429573", "080442957X"]),
        ("ISBN: 978-0-8044-2957-3", ["9780804429573", "080442957X"]),
        ("979-10-90636-07-1", ["9791090636071"]),  # 979 has no ISBN-10 form
        ("978-7-111-07524-1", []),  # wrong check digit
        ("12345", []),
    ],
)
def test_isbn_forms(typed, forms):
    assert isbn_forms(typed) == forms


def test_folding():
    assert normalise("數據庫ＡＢＣ") == "数据库ABC"
    assert fold("Café ÀLA") == "cafe ala"
    assert prepare_for_index("数据库 Systems") == " 数据 据库 库  Systems"


def test_highlight_maps_folded_matches_back_to_the_catalogued_text():
    assert highlight("數據庫管理", ["数据库"]) == "<mark>數據庫</mark>管理"
    assert highlight("Café <b>", ["cafe"]) == "<mark>Café</mark> &lt;b&gt;"
    assert highlight("Warfare and war", ["war"]) == "Warfare and <mark>war</mark>"
    assert highlight("nothing here", ["absent"]) is None


def test_highlight_of_plain_ascii_text_matches_the_general_path():
    # ASCII text takes a shortcut (no per-character folding); a trailing CJK character sends
    # the same text through the general path, whose answer must agree.
    needles = ["history", "of", "U.S.", "c++", "war"]
    for text in ["A History of the U.S. <War>", "HISTORY & c++ of war-torn", "historyof", ""]:
        plain = highlight(text, needles)
        general = highlight(text + "中", needles)
        assert (plain or text) + "中" == (general or text + "中")
