"""The COUNTER-shaped reports validate against the R5.1 schema and carry the rolled-up counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.stats.counter import ill_report, months_between, platform_report
from federation.stats.rollup import rollup
from federation.usage import ILL_FILLED, ILL_REQUESTED, RECORD_VIEW, SEARCH, record_usage
from tests.conftest import DEMO_ALLIANCE, TEST_DATA

SPEC = TEST_DATA / "counter" / "COUNTER_SUSHI_API_R5.1_planned-branch.json"


@pytest.fixture(scope="module")
def pr_validator():
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    resource = DRAFT202012.create_resource(spec)
    registry = Registry().with_resource("urn:counter", resource)
    schema = {"$ref": "urn:counter#/components/schemas/PR"}
    return Draft202012Validator(schema, registry=registry)


@pytest.fixture
def alliance():
    return load_alliance(DEMO_ALLIANCE)


@pytest.fixture
def used(db, alliance):
    with db.session() as s:
        import_alliance(s, alliance)
        for day in (3, 4, 5):
            record_usage(
                s, SEARCH, member_code="ytlib", occurred_at=datetime(2026, 7, day, tzinfo=UTC)
            )
        record_usage(
            s, RECORD_VIEW, member_code="ytlib", occurred_at=datetime(2026, 8, 1, 5, tzinfo=UTC)
        )
        record_usage(
            s,
            ILL_REQUESTED,
            member_code="ytlib",
            partner_code="ytu",
            occurred_at=datetime(2026, 8, 2, 5, tzinfo=UTC),
        )
        record_usage(
            s,
            ILL_FILLED,
            member_code="ytlib",
            partner_code="ytu",
            occurred_at=datetime(2026, 8, 3, 5, tzinfo=UTC),
        )
    with db.session() as s:
        rollup(s)
    return db


def errors(validator, report) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(report)]


def test_the_platform_report_validates_and_counts_searches(used, alliance, pr_validator):
    with used.session() as s:
        report = platform_report(s, alliance, "2026-07", "2026-09", member_code="ytlib")
    assert errors(pr_validator, report) == []
    platform, book = report["Report_Items"][0]["Attribute_Performance"]
    assert platform["Performance"]["Searches_Platform"] == {
        "2026-07": 3,
        "2026-08": 0,
        "2026-09": 0,
    }
    assert book["Performance"]["Total_Item_Investigations"]["2026-08"] == 1
    assert book["Performance"]["Total_Item_Requests"]["2026-08"] == 1
    assert report["Report_Header"]["Report_Filters"] == {
        "Begin_Date": "2026-07-01",
        "End_Date": "2026-09-30",
    }


def test_the_alliance_ill_report_validates_with_one_entry_per_member(used, alliance, pr_validator):
    with used.session() as s:
        report = ill_report(s, alliance, "2026-08", "2026-08")
    assert errors(pr_validator, report) == []
    entries = report["Report_Items"][0]["Attribute_Performance"]
    assert len(entries) == len(alliance.members)
    ytlib = next(e for e in entries if e["Institution_Name"] == alliance.member("ytlib").name_en)
    assert ytlib["Performance"] == {
        "Total_Item_Investigations": {"2026-08": 1},
        "Total_Item_Requests": {"2026-08": 1},
    }


def test_a_broken_report_is_caught_by_the_schema(used, alliance, pr_validator):
    with used.session() as s:
        report = platform_report(s, alliance, "2026-07", "2026-07")
    report["Report_Items"][0]["Attribute_Performance"][0]["Performance"]["Searches_Platform"] = {}
    assert errors(pr_validator, report)


def test_months_between_crosses_the_year():
    assert months_between("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
