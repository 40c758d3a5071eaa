"""The demo corpus: deterministic, schema-valid, overlapping like real union catalogues."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import isbnlib
import pytest
from lxml import etree
from opencc import OpenCC

from federation.demo import GroundTruth, MemberProfile, build_corpus, corpus_summary

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = ROOT / "tests" / "data" / "schemas"
SEED_DIR = ROOT / "config" / "demo" / "seed"
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
NS = {
    "m": "http://www.loc.gov/MARC21/slim",
    "u": "http://www.bncf.firenze.sbn.it/unimarc/slim",
    "dc": "http://purl.org/dc/elements/1.1/",
}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
AVAILABILITY = {"available", "on loan", "in library use only"}

# Yantai: universities and public libraries in several districts, each with its own system.
MEMBERS = [
    MemberProfile("ytu", "university", "marc21", 1.6),
    MemberProfile("ldu", "university", "unimarc", 1.6),
    MemberProfile("sdtbu", "university", "marc21", 1.2),
    MemberProfile("bzmc-yt", "university", "cnmarc", 0.8),
    MemberProfile("ytlib", "public", "unimarc", 1.4),
    MemberProfile("zhifu", "public", "unimarc", 0.8),
    MemberProfile("laishan", "public", "marc21", 0.6),
    MemberProfile("fushan", "public", "oai_dc", 0.5),
    MemberProfile("penglai", "community", "dc", 0.3),
]


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(MEMBERS, seed=2026, total=5200, now=NOW)


def digest(corpus) -> str:
    """Hash everything a harvester could see, in a fixed order."""
    h = hashlib.sha256()
    for code in sorted(corpus.records):
        for r in corpus.records[code]:
            h.update(f"{r.identifier}|{r.datestamp.isoformat()}|{r.deleted}|{r.sets}".encode())
            for prefix, _schema, _ns in corpus.formats(code):
                h.update(r.metadata(prefix) or b"-")
    return h.hexdigest()


def live(corpus):
    """Yield (member code, native prefix, record) of every record that is not deleted."""
    for code, records in corpus.records.items():
        prefix = corpus.formats(code)[0][0]
        for r in records:
            if not r.deleted:
                yield code, prefix, r


def title_and_isbn(prefix: str, payload: bytes) -> tuple[str, str | None]:
    """Read the title (with other title information) and the first ISBN of a payload."""
    root = etree.fromstring(payload, PARSER)
    if prefix == "marc21":
        title = root.xpath(
            'm:datafield[@tag="245"]/m:subfield[@code="a" or @code="b"]', namespaces=NS
        )
        isbn = root.xpath('m:datafield[@tag="020"]/m:subfield[@code="a"]/text()', namespaces=NS)
    elif prefix == "unimarc":
        title = root.xpath('u:df[@t="200"]/u:sf[@c="a" or @c="e"]', namespaces=NS)
        isbn = root.xpath('u:df[@t="010"]/u:sf[@c="a"]/text()', namespaces=NS)
    else:
        title = root.xpath("dc:title", namespaces=NS)
        isbn = root.xpath("dc:identifier/text()", namespaces=NS)
    return " | ".join(t.text for t in title), (isbn[0] if isbn else None)


def isbn13(text: str) -> str:
    """Normalise a catalogued ISBN ("7-302-12345-X", "0596000855 (pbk.)") to ISBN-13."""
    digits = isbnlib.canonical(text.split(" (")[0])
    return isbnlib.to_isbn13(digits) if len(digits) == 10 else digits


# -- determinism and size -----------------------------------------------------------------


def test_same_seed_gives_byte_identical_records(corpus):
    again = build_corpus(MEMBERS, seed=2026, total=5200, now=NOW)
    assert digest(again) == digest(corpus)


def test_another_process_gives_byte_identical_records(corpus):
    """Nothing may depend on hash order, which changes between interpreter runs."""
    script = (
        "import sys; sys.path[:0] = sys.argv[1:]; import test_corpus as t; "
        "print(t.digest(t.build_corpus(t.MEMBERS, seed=2026, total=5200, now=t.NOW)))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    paths = [str(Path(__file__).parent), str(ROOT)]
    out = subprocess.run(
        [sys.executable, "-c", script, *paths], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == digest(corpus)


def test_another_seed_gives_other_records():
    small = dict(total=600, now=NOW)
    assert digest(build_corpus(MEMBERS, seed=1, **small)) != digest(
        build_corpus(MEMBERS, seed=2, **small)
    )


def test_corpus_has_over_5000_live_records_across_all_members(corpus):
    assert sum(len(r) for r in corpus.records.values()) == 5200
    assert sum(1 for _ in live(corpus)) >= 5000
    assert set(corpus.records) == {m.code for m in MEMBERS}
    sizes = {code: len(records) for code, records in corpus.records.items()}
    assert sizes["ytu"] > sizes["laishan"] > sizes["penglai"] > 0  # size_weight is honoured


# -- what each endpoint serves ----------------------------------------------------------------


@pytest.fixture(scope="module")
def schemas():
    files = {"marc21": "MARC21slim.xsd", "unimarc": "unimarcslim.xsd", "oai_dc": "oai_dc.xsd"}
    return {p: etree.XMLSchema(etree.parse(str(SCHEMAS / f), PARSER)) for p, f in files.items()}


def test_every_payload_validates_against_its_schema(corpus, schemas):
    checked = Counter()
    for code, records in corpus.records.items():
        for r in records:
            for prefix, _schema, namespace in corpus.formats(code):
                payload = r.metadata(prefix)
                if payload is None:
                    continue
                root = etree.fromstring(payload, PARSER)
                assert etree.QName(root).namespace == namespace
                assert schemas[prefix].validate(root), (r.identifier, schemas[prefix].error_log)
                checked[prefix] += 1
    assert checked["marc21"] > 1000 and checked["unimarc"] > 1000 and checked["oai_dc"] > 5000


def test_payloads_are_metadata_elements_without_xml_declaration(corpus):
    for _code, prefix, r in live(corpus):
        assert not r.metadata(prefix).startswith(b"<?xml")
    ytu = corpus.records["ytu"][0]
    assert ytu.metadata("marc21").startswith(b'<record xmlns="http://www.loc.gov/MARC21/slim">')


def test_every_member_offers_oai_dc_and_its_native_format(corpus):
    prefixes = {code: [f[0] for f in corpus.formats(code)] for code in corpus.records}
    assert prefixes["ytu"] == ["marc21", "oai_dc"]
    assert prefixes["bzmc-yt"] == ["unimarc", "oai_dc"]  # CNMARC is served as UNIMARC slim
    assert prefixes["penglai"] == ["oai_dc"]
    for code, prefix, r in live(corpus):
        assert r.metadata(prefix) and r.metadata("oai_dc")
        other = {"marc21", "unimarc"} - set(prefixes[code])
        assert all(r.metadata(p) is None for p in other)


def test_deleted_records_have_no_metadata_and_a_later_datestamp(corpus):
    deleted = [r for records in corpus.records.values() for r in records if r.deleted]
    assert 0.01 < len(deleted) / 5200 < 0.06
    assert all(r.metadata("oai_dc") is None for r in deleted)
    assert all(r.datestamp <= NOW for r in deleted)


def test_identifiers_are_unique_and_name_their_member(corpus):
    seen = set()
    for code, records in corpus.records.items():
        for r in records:
            assert re.fullmatch(rf"oai:{re.escape(code)}\.demo\.example:\w+", r.identifier)
            seen.add(r.identifier)
    assert len(seen) == 5200


def test_datestamps_are_utc_seconds_spread_over_two_years(corpus):
    stamps = [r.datestamp for records in corpus.records.values() for r in records]
    assert all(s.utcoffset() == timedelta(0) and s.microsecond == 0 for s in stamps)
    assert NOW - timedelta(days=731) <= min(stamps) and max(stamps) <= NOW
    assert max(stamps) - min(stamps) > timedelta(days=600)
    recent = sum(1 for s in stamps if s > NOW - timedelta(days=30))
    assert recent > 50  # an incremental harvest of the last month has work to do


def test_sets_are_clc_classes_and_languages_listed_by_the_member(corpus):
    for code, records in corpus.records.items():
        listed = dict(corpus.sets(code))
        assert {"clc", "lang"} <= set(listed)
        assert all(name for name in listed.values())
        for r in records:
            assert set(r.sets) <= set(listed)
    assert "T 工业技术 / Industrial technology" in dict(corpus.sets("ytu")).values()


# -- holdings -------------------------------------------------------------------------------


def test_marc21_records_carry_one_852_per_copy_with_call_number_and_status(corpus):
    statuses = Counter()
    for code, prefix, r in live(corpus):
        if prefix != "marc21":
            continue
        root = etree.fromstring(r.metadata(prefix), PARSER)
        items = root.xpath('m:datafield[@tag="852"]', namespaces=NS)
        assert items, r.identifier
        for item in items:
            sub = {s.get("code"): s.text for s in item}
            assert sub["a"] == code.upper() and sub["h"] and sub["p"]
            statuses[sub["z"]] += 1
    assert set(statuses) == AVAILABILITY


def test_unimarc_records_carry_905_and_one_995_per_copy(corpus):
    call_numbers = []
    for _code, prefix, r in live(corpus):
        if prefix != "unimarc":
            continue
        root = etree.fromstring(r.metadata(prefix), PARSER)
        summary = root.xpath('u:df[@t="905"]/u:sf[@c="s"]/text()', namespaces=NS)
        items = root.xpath('u:df[@t="995"]', namespaces=NS)
        assert len(summary) == 1 and items, r.identifier
        for item in items:
            sub = {s.get("c"): s.text for s in item}
            assert sub["s"] in AVAILABILITY and sub["k"] == summary[0] and sub["f"]
        call_numbers.append(summary[0])
    clc = [c for c in call_numbers if re.fullmatch(r"[A-Z]{1,2}[0-9.]*/\d+", c)]
    lc_like = [c for c in call_numbers if re.fullmatch(r"[A-Z]{1,3}[0-9.A-Z]* \S+( \d{4})?", c)]
    assert len(clc) > 0.8 * len(call_numbers) and lc_like  # "TP393/123" and "QA76.73.P98 L88 2001"


# -- overlap and ground truth -----------------------------------------------------------------


@pytest.fixture(scope="module")
def by_edition(corpus):
    """Map each edition to (member, title, ISBN) of the live records that describe it."""
    editions = defaultdict(list)
    for code, prefix, r in live(corpus):
        title, isbn = title_and_isbn(prefix, r.metadata(prefix))
        editions[corpus.truth.manifestation_of[r.identifier]].append((code, title, isbn))
    return editions


def test_shared_editions_are_catalogued_differently_by_each_member(by_edition):
    shared = {m: holders for m, holders in by_edition.items() if len(holders) >= 2}
    assert len(shared) > 0.3 * len(by_edition)
    titles_differ = [m for m, h in shared.items() if len({t for _c, t, _i in h}) > 1]
    isbn_forms = [
        m
        for m, h in shared.items()
        if len({i for _c, _t, i in h if i}) > 1 and len({isbn13(i) for _c, _t, i in h if i}) == 1
    ]
    assert len(titles_differ) > 100 and len(isbn_forms) > 100
    forms = Counter(
        "13-hyphen" if i.startswith("978-") else "10-hyphen" if i.count("-") == 3 else str(len(i))
        for h in shared.values()
        for _c, _t, i in h
        if i and "(" not in i
    )
    assert {"13-hyphen", "10-hyphen", "13", "10"} <= set(forms)
    missing = sum(1 for h in shared.values() for _c, _t, i in h if i is None)
    assert missing > 0  # some members did not record the ISBN


def test_some_members_write_traditional_characters_or_full_width_colons(by_edition):
    s2t = OpenCC("s2t")
    traditional = fullwidth = 0
    for holders in by_edition.values():
        titles = {t for _c, t, _i in holders}
        traditional += any(s2t.convert(a) == b != a for a in titles for b in titles)
        fullwidth += any("：" in t for t in titles) and any(":" in t for t in titles)
    assert traditional > 10 and fullwidth > 10


def test_universities_hold_academic_books_and_public_libraries_popular_ones(corpus):
    share = {}
    for kind in ("university", "public"):
        codes = {m.code for m in MEMBERS if m.kind == kind}
        held = [
            corpus.manifestations[corpus.truth.manifestation_of[r.identifier]]
            for code, _p, r in live(corpus)
            if code in codes
        ]
        share[kind] = sum(m.audience == "academic" for m in held) / len(held)
    assert share["university"] > 0.6 and share["public"] < 0.4


def test_every_record_maps_to_an_edition_and_every_edition_to_a_work(corpus):
    truth = corpus.truth
    for records in corpus.records.values():
        for r in records:
            assert truth.work_of[truth.manifestation_of[r.identifier]]


def test_records_of_one_edition_share_its_isbn(by_edition):
    isbn_owner = {}
    for edition, holders in by_edition.items():
        numbers = {isbn13(i) for _c, _t, i in holders if i}
        assert len(numbers) <= 1, (edition, holders)
        for number in numbers:
            isbn_owner.setdefault(number, set()).add(edition)
    shared_isbn = {n: e for n, e in isbn_owner.items() if len(e) > 1}
    # Only a real printed book and its e-book reproduction share an ISBN.
    assert len(shared_isbn) <= 2


def test_editions_of_one_work_share_the_work_id(corpus):
    editions = defaultdict(set)
    for edition, work in corpus.truth.work_of.items():
        editions[work].add(edition)
    several = [e for e in editions.values() if len(e) >= 2]
    assert len(several) > 100
    languages = [{corpus.manifestations[m].lang for m in e} for e in several]
    assert any(langs == {"chi", "eng"} for langs in languages)  # a translation and its original
    statements = {corpus.manifestations[m].edition_statement for e in several for m in e}
    assert {"第2版", "2nd ed."} <= statements


def test_ground_truth_round_trips_through_a_file(corpus, tmp_path):
    path = tmp_path / "truth.jsonl"
    corpus.truth.write(path)
    again = GroundTruth.read(path)
    assert again.manifestation_of == corpus.truth.manifestation_of
    assert again.work_of == corpus.truth.work_of


# -- real records and ISBNs -------------------------------------------------------------------


def test_real_library_of_congress_records_are_served(corpus):
    payloads = [r.metadata("marc21") for _c, p, r in live(corpus) if p == "marc21"]
    pragmatic = [p for p in payloads if b"The pragmatic programmer" in p]
    assert any(b"99043581" in p for p in pragmatic)  # LoC's LCCN kept from the real record
    assert any(b"Botanical materia medica and pharmacology" in p for p in payloads)


def test_real_beijing_normal_university_records_are_served(corpus):
    payloads = [r.metadata("unimarc") for _c, p, r in live(corpus) if p == "unimarc"]
    report = [p for p in payloads if "'94中国发展报告".encode() in p]
    pinyin = b'<sf c="9">\'94Zhong Guo Fa Zhan Bao Gao</sf>'  # CNMARC $A written as $9
    assert any(b'<sf c="b">BNU</sf>' in p and pinyin in p for p in report)
    marc = [r.metadata("marc21") for _c, p, r in live(corpus) if p == "marc21"]
    dc = [r.metadata("oai_dc") for _c, _p, r in live(corpus)]
    assert any("'08中国改革跟踪报告".encode() in p for p in marc + dc)


def test_seed_files_are_documented_in_provenance():
    provenance = (SEED_DIR / "PROVENANCE.md").read_text(encoding="utf-8")
    for path in SEED_DIR.iterdir():
        if path.name != "PROVENANCE.md":
            assert f"`{path.name}`" in provenance or f"| {path.name} |" in provenance


def test_every_isbn_has_a_valid_check_digit(corpus, by_edition):
    isbns = [i for holders in by_edition.values() for _c, _t, i in holders if i]
    assert len(isbns) > 4000
    for text in isbns:
        digits = isbnlib.canonical(text.split(" (")[0])
        assert isbnlib.is_isbn13(digits) or isbnlib.is_isbn10(digits), text
    generated_chinese = [
        m.isbn13
        for m in corpus.manifestations.values()
        if m.source == "generated" and m.lang == "chi"
    ]
    assert generated_chinese and all(i.startswith("9787") for i in generated_chinese)


# -- summary and input checks -----------------------------------------------------------------


def test_summary_counts_what_the_demo_prints(corpus):
    summary = corpus_summary(corpus)
    assert summary["records"] == 5200
    assert summary["deleted"] == sum(m["deleted"] for m in summary["members"].values())
    assert summary["members"]["ldu"]["format"] == "unimarc"
    assert 0 < summary["manifestations_held_by_2_or_more"] < summary["manifestations"]
    assert 0 < summary["works_with_2_or_more_editions"] < summary["works"]
    assert summary["seed_records"] >= 149


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        (dict(code="x", kind="museum", native_format="marc21"), "kind must be one of"),
        (dict(code="x", kind="public", native_format="mods"), "native_format must be one of"),
        (dict(code="x y", kind="public", native_format="marc21"), "member code"),
        (dict(code="x", kind="public", native_format="marc21", size_weight=0), "size_weight"),
    ],
)
def test_bad_member_profiles_are_refused_with_a_clear_message(profile, message):
    with pytest.raises(ValueError, match=message):
        MemberProfile(**profile)


def test_bad_corpus_arguments_are_refused(corpus):
    with pytest.raises(ValueError, match="unique"):
        build_corpus([MEMBERS[0], MEMBERS[0]], now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        build_corpus(MEMBERS, now=datetime(2026, 1, 1))
