"""Matching keys fold what members write differently and keep apart what differs."""

from __future__ import annotations

import pytest

from harvesters.bibrecord import BibRecord, Name
from search.dedup.keys import record_keys
from search.dedup.normalise import (
    edition_key,
    fold,
    name_key,
    pages_agree,
    publisher_key,
    publishers_agree,
)


def keys(title, subtitle=None, languages=("chi",), **fields):
    record = BibRecord(
        "marc21", title=title, subtitle=subtitle, languages=list(languages), **fields
    )
    return record_keys(1, record)


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("微觀經濟學導論", "微观经济学导论"),
        ("傲慢與偏見", "傲慢与偏见"),
        ("人民文學出版社", "人民文学出版社"),
        ("臺灣歷史", "台湾历史"),
        ("理智與情感", "理智与情感"),
    ],
)
def test_traditional_and_simplified_chinese_fold_to_one_key(traditional, simplified):
    assert fold(traditional) == fold(simplified)
    assert keys(traditional).title == keys(simplified).title


def test_full_width_letters_digits_and_punctuation_fold_to_half_width():
    assert fold("ＰＹＴＨＯＮ编程：从入门到实践（第２版）") == fold(
        "Python编程:从入门到实践(第2版)"
    )


def test_a_chinese_title_spaced_or_with_its_subtitle_run_in_keeps_its_title_key():
    plain = keys("数据结构", "从入门到精通")
    assert keys("数据 结构", "从入门到精通").title == plain.title
    run_in = keys("数据结构：从入门到精通")
    assert run_in.title == plain.title and run_in.full_title == plain.full_title


def test_an_edition_written_into_a_chinese_title_is_read_as_the_edition():
    in_title = keys("数据结构（第2版）")
    assert in_title.title == keys("数据结构").title
    assert in_title.edition == keys("数据结构", edition="第2版").edition == "2"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Éditions Gallimard", "editions gallimard"),
        ("Przedpełska-Trzeciakowska", "Przedpelska-Trzeciakowska"),
        ("Köln", "KOLN"),
        ("Straße", "strasse"),
        ("Œuvres complètes", "oeuvres completes"),
    ],
)
def test_latin_case_and_accents_fold(a, b):
    assert fold(a) == fold(b)


@pytest.mark.parametrize(
    ("title", "languages", "expected"),
    [
        ("The complete novels", ("eng",), "completenovels"),
        ("Complete novels", ("eng",), "completenovels"),
        ("Les Misérables", ("fre",), "miserables"),
        ("L'Étranger", ("fre",), "etranger"),
        ("Die Verwandlung", ("ger",), "verwandlung"),
        ("A", ("eng",), "a"),  # a title that is only an article keeps it
    ],
)
def test_leading_articles_are_dropped_in_the_records_language(title, languages, expected):
    assert keys(title, languages=languages).title == expected


def test_an_ampersand_reads_as_and():
    assert keys("Pride & prejudice", languages=("eng",)).title == "prideandprejudice"


@pytest.mark.parametrize(
    ("statement", "key"),
    [
        ("第2版", "2"),
        ("第二版", "2"),
        ("2nd ed.", "2"),
        ("Second edition", "2"),
        ("3d. ed. --", "3"),
        ("22. Aufl.", "22"),
        ("第1版", None),
        ("初版.", None),
        ("Beijing di 1 ban.", None),
        ("修订版", "rev"),
        ("Rev. ed.", "rev"),
        ("英文影印版", "英文影印版"),
        (None, None),
    ],
)
def test_edition_statements_become_comparable_keys(statement, key):
    assert edition_key(statement) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Austen, Jane, 1775-1817.", "Jane Austen"),
        ("(美)约翰·史密斯", "约翰·史密斯"),
        ("孫, 乃修", "孙乃修"),
        ("陶佳博 主编", "陶佳博"),
        ("王伟[等]著", "王伟"),
    ],
)
def test_the_same_name_catalogued_two_ways_has_one_key(a, b):
    assert name_key(a) == name_key(b)


def test_a_corporate_body_is_keyed_by_its_first_unit():
    a = name_key("American Institute of the City of New York. Photographical Section", "corporate")
    assert a == name_key("American Institute of the City of New York", "corporate")


@pytest.mark.parametrize(
    ("a", "b", "agree"),
    [
        ("Oxford U. P.", "Oxford University Press", True),
        ("Penguin Books", "Penguin", True),
        ("J.M. Dent", "Dent", True),
        ("譯林", "译林出版社", True),
        ("人民文學出版社", "人民文学出版社", True),
        ("Penguin", "Bantam Books", False),
        ("清华大学出版社", "机械工业出版社", False),
    ],
)
def test_publishers_agree_across_forms_of_their_name(a, b, agree):
    assert publishers_agree(publisher_key(a), publisher_key(b)) is agree


def test_unknown_publishers_or_pages_neither_agree_nor_disagree():
    assert publishers_agree(publisher_key(None), publisher_key("Penguin")) is None
    assert pages_agree(None, 290) is None


def test_pages_agree_within_a_few_pages_only():
    assert pages_agree(290, 292) is True
    assert pages_agree(279, 271) is False  # two different books (regression, demo corpus)


def test_names_in_a_record_are_keyed_main_entry_first():
    record = BibRecord(
        "unimarc",
        title="果树栽培学",
        names=[Name("(美)乔治·亚当斯"), Name("(英)苏珊·泰勒"), Name("曹婷", "译")],
    )
    found = record_keys(1, record)
    assert found.author == "乔治亚当斯"
    assert found.authors == {"乔治亚当斯", "苏珊泰勒", "曹婷"}
