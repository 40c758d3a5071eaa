"""Clustering: one result per manifestation held by many members, never one for two books."""

from __future__ import annotations

from harvesters.bibrecord import Holding
from harvesters.parsers import parse_metadata
from search.dedup.cluster import Overrides
from tests.unit.search.dedup_records import book, cluster_with, groups, run, together

ISBN_A = "9787111544937"
ISBN_B = "9787302269663"


def shelf(member, title, isbn=None, **fields):
    """A typical Chinese academic book as a member catalogues it."""
    fields.setdefault("names", ["周瑞静"])
    fields.setdefault("publisher", "浙江大学出版社")
    fields.setdefault("year", 2001)
    fields.setdefault("pages", 298)
    return book(member, title, isbns=[isbn] if isbn else [], **fields)


def test_copies_of_one_edition_at_several_members_make_one_cluster_with_evidence():
    result = run({n: shelf(m, "微观经济学导论", ISBN_A) for n, m in enumerate("abcd", 1)})
    assert groups(result) == {frozenset({1, 2, 3, 4})}
    evidence = cluster_with(result, 1).evidence
    assert evidence[0].rule == "seed"
    assert {(e.rule, e.values["isbn"], e.matched_record_id) for e in evidence[1:]} == {
        ("isbn", ISBN_A, 1)
    }


MARCXML = """<record xmlns="http://www.loc.gov/MARC21/slim">
<leader>00000nam a2200000 a 4500</leader>
<controlfield tag="001">{id}</controlfield>
<datafield tag="020" ind1=" " ind2=" "><subfield code="a">{isbn}</subfield></datafield>
<datafield tag="245" ind1="0" ind2="0"><subfield code="a">{title}</subfield></datafield>
<datafield tag="260" ind1=" " ind2=" "><subfield code="b">{publisher}</subfield>
<subfield code="c">1998</subfield></datafield>
<datafield tag="700" ind1="0" ind2=" "><subfield code="a">{name}</subfield></datafield>
</record>"""
UNIMARC = """<rec xmlns="http://www.bncf.firenze.sbn.it/unimarc/slim">
<lab>     nam0 22      i 450 </lab>
<cf t="001">{id}</cf><df t="010" i1=" " i2=" "><sf c="a">{isbn}</sf></df>
<df t="200" i1="1" i2=" "><sf c="a">{title}</sf></df>
<df t="210" i1=" " i2=" "><sf c="c">{publisher}</sf><sf c="d">1998</sf></df>
<df t="701" i1=" " i2="0"><sf c="a">{name}</sf></df></rec>"""


def test_isbn_10_and_isbn_13_of_one_book_in_marc21_and_unimarc_join_one_cluster():
    marc = MARCXML.format(
        id="1",
        isbn="7-5037-2790-X",
        title="中国发展报告",
        publisher="中国统计出版社",
        name="国家统计局",
    )
    uni = UNIMARC.format(
        id="2",
        isbn="9787503727900",
        title="中國發展報告",
        publisher="中國統計出版社",
        name="(美)国家统计局",
    )
    records = {
        1: parse_metadata("marc21", marc.encode(), member="ytu"),
        2: parse_metadata("unimarc", uni.encode(), member="ytlib"),
    }
    assert records[1].isbns == records[2].isbns == ["9787503727900"]
    result = run(records)
    assert together(result, 1, 2)
    assert cluster_with(result, 2).evidence[1].rule == "isbn"


def test_an_isbn_reused_by_unrelated_titles_is_no_evidence():
    titles = ["微观经济学导论", "果树栽培技术", "中国古代文学史", "外科学概论"]
    records = {n: shelf(f"m{n}", t, ISBN_A, names=[f"作者{n}"]) for n, t in enumerate(titles, 1)}
    records[5] = shelf("m5", "微观经济学导论", ISBN_A)
    records[6] = shelf("m6", "微观经济学导论", ISBN_A)
    result = run(records)
    assert "unrelated titles" in result.ignored[f"isbn:{ISBN_A}"]
    assert not together(result, 1, 2) and not together(result, 2, 3)
    # the real holders of the title still meet, on the title rule and not the ISBN
    assert together(result, 5, 6)
    assert {e.rule for e in cluster_with(result, 5).evidence} == {"seed", "title"}


def test_two_different_books_sharing_a_mistyped_isbn_stay_apart():
    result = run({1: shelf("a", "微观经济学导论", ISBN_A), 2: shelf("b", "果树栽培技术", ISBN_A)})
    assert groups(result) == {frozenset({1}), frozenset({2})}


def test_a_blocklisted_isbn_is_no_evidence_but_the_title_still_is():
    records = {
        1: shelf("a", "微观经济学导论", ISBN_A),
        2: shelf("b", "微观经济学导论", ISBN_A, pages=None, publisher="人民出版社"),
        3: shelf("c", "微观经济学导论", ISBN_A),
    }
    result = run(records, blocklist={f"isbn:{ISBN_A}"})
    assert result.ignored == {f"isbn:{ISBN_A}": "blocklist"}
    assert together(result, 1, 3) and not together(result, 1, 2)


def test_one_members_records_join_only_when_they_share_an_identifier():
    twins = {1: shelf("ytu", "微观经济学导论"), 2: shelf("ytu", "微观经济学导论")}
    assert groups(run(twins)) == {frozenset({1}), frozenset({2})}
    twins = {1: shelf("ytu", "微观经济学导论", ISBN_A), 2: shelf("ytu", "微观经济学导论", ISBN_A)}
    assert groups(run(twins)) == {frozenset({1, 2})}


def test_another_member_cannot_bridge_two_records_of_one_member():
    records = {
        1: shelf("ytu", "微观经济学导论"),
        2: shelf("ldu", "微观经济学导论"),
        3: shelf("ytu", "微观经济学导论"),
    }
    result = run(records)
    assert not together(result, 1, 3)
    assert together(result, 1, 2) or together(result, 2, 3)


def test_editions_of_one_work_stay_apart_and_are_linked_as_one_work():
    records = {
        1: shelf("a", "数据结构", ISBN_A, year=2010),
        2: shelf("b", "数据结构", ISBN_A, year=2010),
        3: shelf("c", "数据结构", ISBN_B, year=2016, edition="第2版", pages=350),
        4: shelf("d", "数据结构（第2版）", year=2016, pages=352),
    }
    result = run(records)
    assert groups(result) == {frozenset({1, 2}), frozenset({3, 4})}
    first, second = cluster_with(result, 1), cluster_with(result, 3)
    assert first.work == second.work == result.clusters.index(first)
    assert first.work_link is None
    assert second.work_link.rule == "title-author"
    assert second.work_link.values == {"title": "数据结构", "author": "周瑞静"}


def test_traditional_full_width_and_simplified_records_match_on_the_title_rule():
    records = {
        1: shelf("ytu", "微觀經濟 學導論", publisher="浙江大學出版社"),
        2: shelf("ldu", "微观经济学导论", names=["周瑞静 著"]),
        3: shelf("ytlib", "微观经济学导论", source_format="unimarc", names=["(美)周瑞静"]),
    }
    result = run(records)
    assert groups(result) == {frozenset({1, 2, 3})}
    why = cluster_with(result, 1).evidence[1]
    assert why.rule == "title"
    assert why.values["title"] == "微观经济学导论" and why.values["year"] == 2001


def test_a_title_match_needs_two_facts_that_agree():
    records = {
        1: book("a", "Gedichte", names=["Gehring, Albert"], year=1899, pages=80, languages=["ger"]),
        2: book("b", "Gedichte", names=["Gehring, Albert"], year=1899, languages=["ger"]),
    }
    assert not together(run(records), 1, 2)


def test_same_title_author_publisher_and_year_but_other_pagination_stay_apart():
    """Regression: two different novels merged in a 100,000-record demo corpus."""
    records = {
        1: book("fushan-pl", "Chronicles of the coast", names=["Clark, Emma"], year=1998,
                publisher="Vintage Books", pages=279, languages=["eng"]),
        2: book("ytu", "Chronicles of the Coast", names=["Clark, Daniel"], year=1998,
                publisher="Vintage", pages=271, languages=["eng"], isbns=["9780679193531"]),
    }  # fmt: skip
    assert not together(run(records), 1, 2)


def test_print_and_electronic_records_sharing_an_isbn_stay_apart():
    records = {
        1: shelf("a", "92中国备忘", ISBN_A),
        2: shelf("b", "92中国备忘", ISBN_A, format="e-resource"),
    }
    assert not together(run(records), 1, 2)


def test_a_reissue_by_another_publisher_years_later_is_another_manifestation():
    records = {
        1: shelf("a", "微观经济学导论", ISBN_A, year=2001),
        2: shelf("b", "微观经济学导论", ISBN_A, year=2012, publisher="高等教育出版社"),
    }
    assert not together(run(records), 1, 2)


def test_volumes_of_a_set_sharing_the_set_isbn_stay_apart():
    records = {
        1: shelf("a", "中国通史", ISBN_A, part_numbers=["第1卷"]),
        2: shelf("b", "中国通史", ISBN_A, part_numbers=["第2卷"]),
        3: shelf("c", "中国通史", ISBN_A, part_numbers=["第2卷"]),
    }
    assert groups(run(records)) == {frozenset({1}), frozenset({2, 3})}


def test_records_with_different_isbns_are_never_chained_by_a_record_without_one():
    records = {
        1: shelf("a", "微观经济学导论", ISBN_A),
        2: shelf("b", "微观经济学导论"),
        3: shelf("c", "微观经济学导论", ISBN_B),
    }
    result = run(records)
    assert not together(result, 1, 3)


def test_staff_merge_and_split_override_the_evidence():
    records = {
        1: shelf("a", "微观经济学导论", ISBN_A),
        2: shelf("b", "微观经济学导论", ISBN_A),
        3: shelf("c", "果树栽培技术", ISBN_B),
    }
    result = run(records, Overrides(merge=[(1, 3)], split=[(1, 2)]))
    assert together(result, 1, 3) and not together(result, 1, 2)
    why = {e.record_id: e for e in cluster_with(result, 1).evidence}
    assert why[3].rule == "staff-merge" and why[3].matched_record_id == 1


def test_every_record_has_evidence_naming_a_record_of_its_own_cluster():
    records = {
        n: shelf(m, "微观经济学导论", ISBN_A if n % 2 else None) for n, m in enumerate("abcdef", 1)
    }
    for c in run(records).clusters:
        assert [e.record_id for e in c.evidence] == c.record_ids
        assert all(e.matched_record_id in c.record_ids for e in c.evidence[1:])


def test_holdings_do_not_decide_identity():
    a = shelf("a", "微观经济学导论", ISBN_A, holdings=[Holding("a", call_number="F0/1")])
    b = shelf("b", "微观经济学导论", ISBN_A, holdings=[])
    assert together(run({1: a, 2: b}), 1, 2)


def test_a_dublin_core_record_which_cannot_state_an_edition_still_finds_it():
    """Regression: oai_dc records of a revised edition were missed (Dublin Core has no edition)."""
    records = {
        1: shelf("ytlib", "走进书法", ISBN_A, edition="修订版", year=2022),
        2: shelf("xingfu-cl", "走进书法", year=2022, source_format="oai_dc"),
        3: shelf("ldu", "走进书法", ISBN_B, year=2018),  # the first edition, another year
    }
    result = run(records)
    assert together(result, 1, 2) and not together(result, 2, 3)


def test_a_series_issn_proves_identity_only_with_the_same_volume():
    """Regression: volumes 3 and 4 of a yearbook series were merged by the title rule."""

    def volume(member, number, title="中国经济年鉴"):
        return shelf(member, title, issns=["1000-0135"], series=[("经济丛书", number)])

    records = {1: volume("a", "第3辑"), 2: volume("b", "3"), 3: volume("c", "第4辑")}
    result = run(records)
    assert together(result, 1, 2) and not together(result, 1, 3)
    assert cluster_with(result, 2).evidence[1].values == {"issn": "1000-0135|v3"}


def test_oclc_numbers_written_in_different_ways_match():
    forms = [("OCoLC", "28684073"), ("", "ocm28684073"), ("", "OCLC ocm28684073 from D950126M")]
    records = {
        n: book(m, "Pride and prejudice", languages=["eng"], system_numbers=[form])
        for n, (m, form) in enumerate(zip("abc", forms, strict=True), 1)
    }
    result = run(records)
    assert groups(result) == {frozenset({1, 2, 3})}
    assert cluster_with(result, 1).evidence[1].rule == "oclc"


def test_a_shared_lccn_does_not_join_records_whose_isbns_all_differ():
    """Regression (Pride and Prejudice set): a Gramercy reissue kept the Avenel edition's LCCN."""
    common = dict(names=["Austen, Jane"], year=1981, pages=1103, languages=["eng"], lccn="81010777")
    records = {
        1: book("a", "The Complete novels", publisher="Gramercy Books", isbns=["9780517147689"],
                **common),
        2: book("b", "Jane Austen, her complete novels", publisher="Avenel Books",
                isbns=["9780517347997"], **common),
    }  # fmt: skip
    assert not together(run(records), 1, 2)
