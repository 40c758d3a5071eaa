"""Reader search pages: results with facets, chips and paging; the record page; citations;
hostile harvested metadata shown only as text everywhere."""

from __future__ import annotations

import json
import re
import zlib
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.models import Cluster, Record, WorkLink
from federation.roles import Role
from tests.conftest import DEMO_ALLIANCE
from tests.support.accounts import sign_in_as
from web.views.search_export import haversine_km, safe_highlight

HOSTILE = '<script>alert(1)</script> " onmouseover="x javascript:alert(1)'
PLACES = {
    "ytu": ("烟台大学图书馆", "Yantai University Library", "laishan", 37.4762, 121.4485),
    "ytlib": ("烟台图书馆", "Yantai Library", "zhifu", 37.5391, 121.3932),
    "penglai-pl": ("蓬莱区图书馆", "Penglai District Library", "penglai", 37.8108, 120.7591),
}


def _holding(code: str, call: str, availability: str = "available", rid: int = 1) -> dict:
    zh, en, region, lat, lon = PLACES[code]
    return {
        "record_id": rid,
        "member": code,
        "member_name_zh": zh,
        "member_name_en": en,
        "region": region,
        "region_name_zh": region + "区",
        "region_name_en": region.title() + " District",
        "library_type": "university" if code == "ytu" else "public",
        "latitude": lat,
        "longitude": lon,
        "location": "Stacks",
        "call_number": call,
        "availability": availability,
        "item_count": 1,
    }


def _doc(cid: str, title: str, year: int, holdings: list[dict], **extra) -> dict:
    doc = {
        "cluster_id": cid,
        "work_id": None,
        "title": title,
        "title_sort": title.lower(),
        "other_titles": [],
        "authors": extra.pop("authors", ["Li Ming"]),
        "publisher": "Science Press",
        "year": year,
        "languages": extra.pop("languages", ["eng"]),
        "format": "book",
        "subjects": extra.pop("subjects", ["Libraries"]),
        "clc": ["G25"],
        "clc_main": ["G"],
        "isbns": [],
        "issns": [],
        "other_ids": [],
        "series": [],
        "holdings": holdings,
        "members": sorted({h["member"] for h in holdings}),
        "regions": sorted({h["region"] for h in holdings}),
        "library_types": sorted({h["library_type"] for h in holdings}),
        "holding_count": len(holdings),
        "available_count": sum(h["availability"] == "available" for h in holdings),
        "record_ids": [h["record_id"] for h in holdings],
    }
    doc.update(extra)
    return doc


@pytest.fixture
def catalogue(app, db):
    """The demo members in the database and a small index built from hand-made documents."""
    with db.session() as s:
        import_alliance(s, load_alliance(DEMO_ALLIANCE))
        s.add_all([Cluster(id="c-river", size=2), Cluster(id="c-river2", size=1)])
        title = b'<datafield tag="245"><subfield code="a">' + HOSTILE.encode() + b"</subfield>"
        raw = b"<record>" + title
        s.add(
            Record(
                id=1,
                member_code="ytu",
                oai_identifier="oai:ytu:1",
                datestamp="2026-01-01",
                status="active",
                metadata_prefix="marc21",
                raw=zlib.compress(raw + b"</datafield></record>"),
            )
        )
        s.flush()
        link = {"values": {"title": "river library guide"}, "record_id": 4, "matched_record_id": 2}
        s.add_all(
            [
                WorkLink(cluster_id="c-river", work_id="w-river", rule=None, evidence={}),
                WorkLink(
                    cluster_id="c-river2", work_id="w-river", rule="title-author", evidence=link
                ),
            ]
        )
    docs = [
        _doc("c-hostile", HOSTILE + " library", 2001, [_holding("ytu", "Z1 <b>x</b>")]),
        _doc(
            "c-river",
            "River library guide",
            2010,
            [_holding("penglai-pl", "K92", rid=2), _holding("ytu", "K92.1", "on loan", rid=3)],
            work_id="w-river",
            authors=["Wang Fang"],
        ),
        _doc(
            "c-river2",
            "River library guide",
            2018,
            [_holding("ytlib", "K92/2", rid=4)],
            work_id="w-river",
            edition="2nd ed.",
        ),
        _doc(
            "c-zh",
            "中国图书馆发展报告",
            2015,
            [_holding("ytlib", "G25", rid=5)],
            languages=["chi"],
            authors=["王明"],
            subjects=["图书馆事业"],
        ),
    ]
    docs += [
        _doc(f"c-bulk{i:02d}", f"Bulk library volume {i}", 1990 + i, [_holding("ytlib", f"B{i}")])
        for i in range(25)
    ]
    backend = app.extensions["federation.search"]
    backend.rebuild(docs)
    return docs


def _links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]*)"', html)]


def _assert_only_escaped(body: str) -> None:
    assert "<script>alert(1)" not in body
    assert 'onmouseover="x' not in body
    assert not any(h.strip().lower().startswith("javascript:") for h in _links(body))


def test_results_show_hits_counts_and_availability(client, catalogue):
    body = client.get("/search?q=river&lang=en").get_data(as_text=True)
    assert "River library guide" in body or "<mark>River</mark> library guide" in body
    assert "2 titles found" in body
    assert "available at 1 library" in body


def test_nearest_library_follows_the_chosen_home_and_is_remembered(client, catalogue):
    response = client.get("/search?q=river&lang=en&home=ytlib")
    body = response.get_data(as_text=True)
    assert "home=ytlib" in response.headers["Set-Cookie"]
    # c-river: only Penglai has a copy available; the 2nd edition sits in Yantai Library itself.
    assert "nearest: Penglai District Library, " in body
    assert "nearest: Yantai Library, 0.0 km" in body
    again = client.get("/search?q=river&lang=en").get_data(as_text=True)
    assert "nearest: Yantai Library" in again


def test_holdings_without_coordinates_have_no_nearest_but_the_page_answers(app, client, catalogue):
    unplaced = _holding("ytu", "Q1")
    del unplaced["latitude"], unplaced["longitude"]
    backend = app.extensions["federation.search"]
    backend.index_documents([_doc("c-unplaced", "Unplaced atlas", 2020, [unplaced])])
    backend.commit()
    response = client.get("/search?q=atlas&lang=en&home=ytlib")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "available at 1 library" in body
    assert "nearest:" not in body


def test_hostile_title_is_plain_text_on_the_results_page(client, catalogue):
    body = client.get("/search?q=library&f=member:ytu&lang=en").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    _assert_only_escaped(body)
    assert "<mark>" in body  # our own highlight survives


def test_safe_highlight_keeps_only_our_mark():
    got = safe_highlight("&lt;b&gt;<mark>x</mark><img src=x onerror=y>", "")
    assert str(got) == "&lt;b&gt;<mark>x</mark>&lt;img src=x onerror=y&gt;"


def test_facets_multi_select_and_removable_chips(client, catalogue):
    url = "/search?q=library&f=member:ytu&f=member:penglai-pl&lang=en"
    body = client.get(url).get_data(as_text=True)
    assert "2 titles found" in body  # hostile (ytu) + river (ytu, penglai)
    assert re.search(r'value="member:ytu"\s+checked', body)
    assert re.search(r'value="member:penglai-pl"\s+checked', body)
    chips = [h for h in _links(body) if h.startswith("/search") and "f=" in h]
    dropped = [parse_qs(urlsplit(h).query)["f"] for h in chips]
    assert ["member:penglai-pl"] in dropped and ["member:ytu"] in dropped
    assert "Library: Yantai University Library" in body


def test_paging_moves_through_the_results(client, catalogue):
    first = client.get("/search?q=bulk&lang=en").get_data(as_text=True)
    assert "25 titles found" in first and 'rel="next"' in first
    second = client.get("/search?q=bulk&page=2&lang=en").get_data(as_text=True)
    assert 'aria-current="page">2<' in second and 'rel="prev"' in second
    assert second.count('class="hit"') == 5


def test_advanced_fields_and_year_range_narrow_the_search(client, catalogue):
    body = client.get("/search?author=Wang+Fang&lang=en").get_data(as_text=True)
    assert "1 title found" in body and '/record/c-river"' in body
    body = client.get("/search?q=river&year_from=2015&lang=en").get_data(as_text=True)
    assert "1 title found" in body and '/record/c-river2"' in body
    chip = [h for h in _links(body) if "year_from" not in h and "q=river" in h]
    assert chip, "the year chip removes the year and keeps the words"
    body = client.get("/search?class=G25&q=中国&lang=en").get_data(as_text=True)
    assert "1 title found" in body


def test_empty_result_offers_a_way_on(client, catalogue):
    body = client.get("/search?q=river+zebra&lang=en").get_data(as_text=True)
    assert "0 titles found" in body
    assert "interlibrary loan" in body
    assert "/search?q=river+OR+zebra" in body


def test_bad_parameters_get_a_clear_message_not_a_traceback(client, catalogue):
    response = client.get("/search?q=x&f=planet:mars&lang=en")
    assert response.status_code == 400
    assert "unknown facet" in response.get_data(as_text=True)
    response = client.get("/search?q=x&page=abc&lang=en")
    assert response.status_code == 400 and "whole number" in response.get_data(as_text=True)


def test_chinese_interface_and_chinese_query(client, catalogue):
    body = client.get("/search?q=图书馆发展&lang=zh_CN").get_data(as_text=True)
    assert "中国图书馆发展报告" in body or "<mark>" in body
    assert "高级检索" in body and "排序" in body
    english = client.get("/search?q=图书馆发展&lang=en").get_data(as_text=True)
    assert "Advanced search" in english


def test_record_page_groups_holdings_nearest_first(client, catalogue):
    body = client.get("/record/c-river?home=ytlib&lang=en").get_data(as_text=True)
    assert body.index("Penglai District Library") > 0
    assert "Sorted by distance from Yantai Library" in body
    # From Yantai Library, Yantai University (Laishan) is nearer than Penglai.
    assert body.index("Laishan District</h3>") < body.index("Penglai District</h3>")
    assert "Other editions" in body and "/record/c-river2" in body


def test_record_page_says_why_editions_are_linked(client, catalogue):
    body = client.get("/record/c-river2?lang=en").get_data(as_text=True)
    assert "Why these records were merged" in body
    assert "other edition: same title and author" in body
    assert "Yantai Library" in body and '/record/c-river"' in body


def test_a_district_can_be_home_and_not_chosen_forgets_it(client, catalogue):
    response = client.get("/record/c-river?home=district:penglai&lang=en")
    body = response.get_data(as_text=True)
    assert "Sorted by distance from Penglai District." in body
    assert body.index("Penglai District</h3>") < body.index("Laishan District</h3>")
    assert "home=district:penglai" in response.headers["Set-Cookie"]
    cleared = client.get("/record/c-river?home=&lang=en")
    assert "Choose your home library" in cleared.get_data(as_text=True)
    assert "home=;" in cleared.headers["Set-Cookie"]


def test_record_page_of_an_unknown_cluster_is_404(client, catalogue):
    assert client.get("/record/nope?lang=en").status_code == 404


def test_hostile_title_is_plain_text_on_the_record_page_and_json_ld(client, catalogue):
    body = client.get("/record/c-hostile?lang=en").get_data(as_text=True)
    _assert_only_escaped(body)
    assert "&lt;b&gt;x&lt;/b&gt;" in body  # the call number too
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', body, re.S)
    assert script and "<" not in script.group(1)
    data = json.loads(script.group(1))
    assert data["name"].startswith(HOSTILE)
    assert data["@type"] == "Book"
    assert data["offers"][0]["offeredBy"]["alternateName"] == "Yantai University Library"


def test_citations_keep_the_hostile_title_as_text(client, catalogue):
    ris = client.get("/record/c-hostile/cite.ris")
    assert ris.mimetype == "application/x-research-info-systems"
    assert ris.headers["X-Content-Type-Options"] == "nosniff"
    lines = ris.get_data(as_text=True).splitlines()
    assert f"TI  - {HOSTILE} library" in lines and lines[-1] == "ER  -"
    bib = client.get("/record/c-hostile/cite.bib")
    assert bib.mimetype == "application/x-bibtex"
    assert "title = {<script>alert(1)</script>" in bib.get_data(as_text=True)


def test_citation_fields_cannot_break_out_of_their_line_or_braces(app, catalogue):
    from web.views.search_export import bibtex, ris

    doc = {**catalogue[0], "title": "A\r\nER  -\r\nTY  - EVIL", "authors": ["x} , note = {y"]}
    assert "\nTY  - EVIL" not in ris(doc, "http://x/")
    assert "author = {x\\} , note = \\{y}" in bibtex(doc, "http://x/")


def test_staff_see_the_source_records_as_text(app, client, catalogue):
    sign_in_as(client, app, Role.ILL_STAFF, "ytu")
    page = client.get("/record/c-hostile?lang=en").get_data(as_text=True)
    assert "/record/c-hostile/source" in page
    body = client.get("/record/c-hostile/source?lang=en").get_data(as_text=True)
    assert "&lt;datafield tag=&#34;245&#34;&gt;" in body and "oai:ytu:1" in body
    _assert_only_escaped(body)


def test_source_records_are_refused_to_the_public(app, client, catalogue):
    assert client.get("/record/c-hostile/source").status_code == 401
    assert "/source" not in client.get("/record/c-hostile?lang=en").get_data(as_text=True)
    sign_in_as(client, app, Role.READER, "ytlib")
    assert client.get("/record/c-hostile/source").status_code == 403
    assert "/source" not in client.get("/record/c-hostile?lang=en").get_data(as_text=True)


def test_home_page_has_the_search_box_and_title_count(client, catalogue):
    body = client.get("/?lang=en").get_data(as_text=True)
    assert 'action="/search"' in body and 'name="q"' in body
    assert f"{len(catalogue)} titles in the unified catalogue" in body


def test_haversine_distance():
    # Yantai Library to Penglai District Library: about 63 km as the crow flies.
    assert 60 < haversine_km(37.5391, 121.3932, 37.8108, 120.7591) < 66
    assert haversine_km(37.5, 121.4, 37.5, 121.4) == 0


def test_odd_unicode_digits_in_filters_are_a_message_not_a_crash(client, catalogue):
    # "³" is a digit to str.isdigit() but not to int(): the API fuzzing found this 500.
    for query in ("filter=region:³³", "filter=year:³³", "year_from=³"):
        response = client.get(f"/search?q=history&{query}")
        assert response.status_code in (200, 400), query
        assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("libary", "library"), ("rivr", "river"), ('title:"rievr library"', 'title:"river library"')],
)
def test_did_you_mean_offers_the_indexed_spelling(client, catalogue, typed, meant):
    body = client.get("/search", query_string={"q": typed, "lang": "en"}).get_data(as_text=True)
    assert "Did you mean:" in body
    link = unescape(re.search(r'class="suggestion">[^<]*<a href="([^"]*)"', body).group(1))
    assert parse_qs(urlsplit(link).query)["q"] == [meant]
    assert "titles found" in client.get(link).get_data(as_text=True)


@pytest.mark.parametrize("typed", ["river", "qzxwv", "中国图书"])
def test_no_suggestion_for_good_or_hopeless_words(client, catalogue, typed):
    body = client.get("/search", query_string={"q": typed, "lang": "en"}).get_data(as_text=True)
    assert "Did you mean:" not in body


def test_language_chosen_by_argument_is_kept_by_the_search_form(client, catalogue):
    first = client.get("/search?q=river&lang=en")
    assert "lang=en" in first.headers["Set-Cookie"]
    assert 'name="lang" value="en"' in first.get_data(as_text=True)
    # The next search (the form, or a link without ?lang) stays in English.
    assert 'lang="en"' in client.get("/search?q=library").get_data(as_text=True)[:200]


def test_chosen_filters_survive_a_new_search_from_the_form(client, catalogue):
    # ytu holds one of the "library" titles; filtered to Penglai nothing matches, so the
    # facet lists cannot show the chosen value: the form must still send it.
    body = client.get("/search?q=library&f=member:penglai-pl&f=language:chi").get_data(as_text=True)
    form = body.split('class="search-page"')[1].split("</form>")[0]
    sent = set(re.findall(r'name="f" value="([^"]*)"', form))
    assert {"member:penglai-pl", "language:chi"} <= sent


def test_facet_values_are_escaped_counted_and_ticked(app, client, catalogue):
    backend = app.extensions["federation.search"]
    hostile = [_doc(f"c-hs{n}", f"Harbour atlas {n}", 2020, [_holding("ytu", "H1")],
                    subjects=[HOSTILE, "Maps & <charts>"]) for n in range(3)]  # fmt: skip
    backend.index_documents(hostile)
    backend.commit()
    for _ in range(2):  # the second time from the kept escaped text
        body = client.get("/search?q=harbour&lang=en&f=subject:Maps+%26+<charts>").get_data(
            as_text=True
        )
        _assert_only_escaped(body)
        assert re.search(
            r'value="subject:Maps &amp; &lt;charts&gt;" checked>\s+Maps &amp; &lt;charts&gt; '
            r'<span class="count">\(3\)</span>',
            body,
        )
        assert 'value="subject:&lt;script&gt;alert(1)&lt;/script&gt; &#34; onmouseover=' in body
        assert re.search(
            r'onmouseover=&#34;x javascript:alert\(1\) <span class="count">\(3\)', body
        )
