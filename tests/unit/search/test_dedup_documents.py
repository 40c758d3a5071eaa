"""A cluster's index document: the best description, every identifier, every holding."""

from __future__ import annotations

import pytest

from harvesters.bibrecord import Holding
from search.dedup.documents import MemberInfo, availability, build_document, clc_main, isbn10
from tests.unit.search.dedup_records import book

MEMBERS = {
    "ytu": MemberInfo("ytu", "烟台大学图书馆", "Yantai University Library", "laishan", "莱山区",
                      "Laishan District", "university", 37.47, 121.44),
    "ytlib": MemberInfo("ytlib", "烟台市图书馆", "Yantai Library", "zhifu", "芝罘区",
                        "Zhifu District", "public", 37.53, 121.39),
    "xingfu-cl": MemberInfo("xingfu-cl", "幸福社区图书室", "Xingfu Community Library", "zhifu",
                            "芝罘区", "Zhifu District", "community"),
}  # fmt: skip


def records():
    full = book(
        "ytu",
        "微观经济学导论",
        subtitle="理论与案例",
        names=["周瑞静", "李明"],
        publisher="浙江大学出版社",
        place="杭州",
        year=2001,
        pages=298,
        isbns=["9787308409797"],
        subjects=["微观经济学 -- 高等学校 -- 教材"],
        classifications=[("CLC", "F016"), ("LCC", "HB172")],
        system_numbers=[("OCoLC", "123456")],
        holdings=[
            Holding("YTU", location="中文书库", call_number="F016/12", availability="on loan"),
            Holding("YTU", location="中文书库", call_number="F016/12", availability="available"),
            Holding("YTU", location="密集书库", call_number="F016/12", availability="on loan"),
        ],
    )
    variant = book(
        "ytlib",
        "微觀經濟學導論",
        names=["周瑞静 著"],
        publisher="浙江大學出版社",
        year=2001,
        isbns=["9787308409797"],
        subjects=["经济学"],
        classifications=[("CLC", "F016")],
        source_format="unimarc",
        holdings=[Holding("YTLIB", location="YTLIB", call_number="F016/3", availability="在架")],
    )
    dc = book("xingfu-cl", "微观经济学导论", source_format="oai_dc", holdings=[], year=2001)
    return [(7, variant), (3, full), (11, dc)]


def test_the_most_complete_record_describes_the_cluster():
    doc = build_document("c3", records(), MEMBERS, work_id="w3")
    assert doc["cluster_id"] == "c3" and doc["work_id"] == "w3"
    assert (doc["title"], doc["subtitle"], doc["publisher"]) == (
        "微观经济学导论",
        "理论与案例",
        "浙江大学出版社",
    )
    assert doc["title_sort"] == "微观经济学导论理论与案例"
    assert doc["authors"] == ["周瑞静", "李明"]
    assert doc["record_ids"] == [3, 7, 11]


def test_identifiers_subjects_and_classes_are_the_union_of_the_records():
    doc = build_document("c3", records(), MEMBERS)
    assert doc["isbns"] == ["9787308409797", "7308409791"]  # with its ISBN-10
    assert doc["other_ids"] == ["OCoLC:123456"]
    assert doc["subjects"] == ["微观经济学 -- 高等学校 -- 教材", "经济学"]
    assert doc["clc"] == ["F016"] and doc["clc_main"] == ["F"]
    assert doc["languages"] == ["chi"]
    assert "微觀經濟學導論" in doc["other_titles"] and "微观经济学导论" not in doc["other_titles"]


def test_every_members_holdings_are_listed_once_per_shelf_with_member_facts():
    doc = build_document("c3", records(), MEMBERS)
    shelves = {(h["member"], h["location"]): h for h in doc["holdings"]}
    assert set(shelves) == {("ytu", "中文书库"), ("ytu", "密集书库"), ("ytlib", "YTLIB"),
                            ("xingfu-cl", None)}  # fmt: skip
    main = shelves[("ytu", "中文书库")]
    assert (main["item_count"], main["availability"]) == (2, "available")
    assert (main["region"], main["library_type"], main["member_name_en"]) == (
        "laishan",
        "university",
        "Yantai University Library",
    )
    assert shelves[("ytlib", "YTLIB")]["availability"] == "available"  # 在架
    assert doc["members"] == ["xingfu-cl", "ytlib", "ytu"]
    assert doc["regions"] == ["laishan", "zhifu"]
    assert doc["library_types"] == ["community", "public", "university"]
    assert (doc["holding_count"], doc["available_count"]) == (4, 2)


def test_a_cluster_without_records_is_refused():
    with pytest.raises(ValueError, match="no records"):
        build_document("c1", [], MEMBERS)


@pytest.mark.parametrize(
    ("text", "word"),
    [("在架", "available"), ("Available.", "available"), ("借出", "on loan"),
     ("仅限馆内阅览", "in library use only"), ("Missing", "Missing"), (None, None)],
)  # fmt: skip
def test_availability_is_put_in_the_indexs_words(text, word):
    assert availability(text) == word


def test_isbn_10_and_clc_main_classes():
    assert isbn10("9787111544937") == "7111544935"
    assert isbn10("9791234567896") is None
    assert clc_main("TP393.09") == ["T", "TP"] and clc_main("I247.5") == ["I"]
