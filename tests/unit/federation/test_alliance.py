"""The alliance file: the demo and example files load; every bad file fails with one clear line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from federation.alliance import (
    AllianceFileError,
    as_plain,
    load_alliance,
    load_alliance_text,
    load_ill_policy,
    schedule_trigger,
)

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "config" / "demo" / "alliance.yaml"
EXAMPLE = REPO / "config" / "example-alliance.yaml"
DATA = REPO / "tests" / "data" / "alliance"
MINIMAL = DATA / "good" / "minimal.yaml"

# file under bad/ -> (key path in the message, fragment saying what to fix)
BAD_FILES = {
    "wrong-type-population": ("regions[1].population", "expected a whole number"),
    "quoted-number": ("members[0].ill.daily_capacity", "remove the quotes"),
    "wrong-type-members": ("members", "expected a list"),
    "unknown-key": ("members[0].regoin", "did you mean 'region'?"),
    "unknown-top-level-key": ("harvest_everything", "unknown key 'harvest_everything'"),
    "member-unknown-region": ("members[1].region", "unknown region 'north'"),
    "duplicate-member-codes": ("members[1].code", "'east-univ' is already used by members[0]"),
    "duplicate-region-codes": ("regions[2].code", "'east' is already used by regions[1]"),
    "unknown-parent-region": ("regions[2].parent", "did you mean 'city'?"),
    "region-cycle": ("regions[0].parent", "cycle (city -> east -> city)"),
    "bad-latitude": ("members[1].coordinates.lat", "swap lat and lon"),
    "bad-longitude": ("members[0].coordinates.lon", "between -180 and 180"),
    "url-scheme-file": ("members[1].oai.base_url", "use an http:// or https:// URL"),
    "url-scheme-ftp": ("members[0].oai.base_url", "the scheme 'ftp:'"),
    "bad-holdings-subfields": (
        "members[0].oai.holdings[0].call_number", "must be subfield codes, e.g. 'h' or 'hi'"
    ),
    "url-scheme-javascript": ("members[0].oai.base_url", "the scheme 'javascript:'"),
    "empty": ("(file)", "the file is empty; a minimal alliance file is a mapping"),
    "not-a-mapping": ("(file)", "holds a list, not a mapping"),
    "invalid-yaml": ("(file)", "invalid YAML at line 5, column 13"),
    "unquoted-cron": ("(file)", "must be quoted, e.g. schedule: '*/30 * * * *'"),
    "tab-indentation": ("(file)", "indent with spaces, not tabs"),
    "weights-not-summing": ("cost_sharing.weights", "must sum to 1, they sum to 1.1"),
    "bad-time-zone": ("alliance.time_zone", "unknown time zone 'Asia/Beijing'"),
    "bad-cron": ("members[0].oai.schedule", "'30 25 * * *' is not a valid schedule"),
    "cron-numeric-weekday": ("members[0].oai.schedule", "day of week with names"),
    "bad-interval": ("members[1].oai.schedule", "too often"),
    "bad-business-hours": ("members[0].ill.business_hours.mon-fri", "closes before it opens"),
    "bad-business-days": ("members[1].ill.business_hours.tues-sun", "not a day"),
    "unquoted-hours": ("members[1].ill.business_hours.tue-sun", "write hours in quotes"),
    "bad-closure": ("members[0].ill.closures[0]", "swap from and to"),
    "missing-required-key": ("members[1].liaison", "required key 'liaison' is missing"),
    "duplicate-yaml-key": ("members[1].type", "given twice in this mapping (lines 41 and 42)"),
    "loans-without-loan-days": ("members[1].ill.loan_days", "lends includes loans"),
    "leaf-without-population": ("regions[2].population", "required for 'west'"),
    "bad-member-code": ("members[0].code", "use 1-32 characters a-z, 0-9 and '-'"),
    "bad-email": ("members[0].liaison.email", "not a valid e-mail address"),
    "unknown-reciprocal-member": (
        "cost_sharing.ill_fees.reciprocal_agreements[0][1]",
        "unknown member 'west-library'; did you mean 'west-pl'?",
    ),
    "bad-member-type": ("members[1].type", "use one of: university, public"),
    "negative-fee": ("cost_sharing.ill_fees.cross_district.loan", "must be 0 or more"),
    "two-errors": ("regions[1].population", "at least 1"),
}


def load_error(path: Path) -> AllianceFileError:
    with pytest.raises(AllianceFileError) as info:
        load_alliance(path)
    return info.value


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_fails_with_one_line_naming_file_key_and_fix(name):
    path = DATA / "bad" / f"{name}.yaml"
    key_path, fragment = BAD_FILES[name]
    error = load_error(path)
    message = str(error)
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(f"{path}: {key_path}: ")
    assert fragment in message
    assert (error.path, error.key_path) == (str(path), key_path)


def test_every_bad_file_has_an_expectation():
    on_disk = {p.stem for p in (DATA / "bad").glob("*.yaml")}
    assert on_disk == set(BAD_FILES)


def test_the_bad_files_differ_from_a_file_that_loads():
    alliance = load_alliance(MINIMAL)
    assert [m.code for m in alliance.members] == ["east-univ", "west-pl"]


def test_errors_name_the_line_of_the_key():
    error = load_error(DATA / "bad" / "member-unknown-region.yaml")
    lines = (DATA / "bad" / "member-unknown-region.yaml").read_text(encoding="utf-8").splitlines()
    assert "region: north" in lines[error.line - 1]
    assert str(error).endswith(f"(line {error.line})")


def test_the_first_problem_in_the_file_is_reported_every_time():
    path = DATA / "bad" / "two-errors.yaml"
    assert {str(load_error(path)) for _ in range(3)} == {str(load_error(path))}
    assert load_error(path).key_path == "regions[1].population"  # before members[1].type


def test_a_misspelt_key_is_reported_before_the_key_it_replaces_goes_missing():
    error = load_error(DATA / "bad" / "unknown-key.yaml")
    assert error.key_path == "members[0].regoin"


def test_a_missing_file_gives_one_line():
    error = load_error(DATA / "no-such-file.yaml")
    assert error.key_path == "(file)" and "no such file" in str(error)


def test_a_file_that_is_not_utf8_gives_one_line(tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes("alliance:\n  name: {zh: 烟台}\n".encode("gbk"))
    assert "save it as UTF-8" in str(load_error(path))


def test_a_utf8_file_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.read_bytes())
    assert load_alliance(path).name_zh == "测试联盟"


def test_text_errors_name_the_given_source():
    with pytest.raises(AllianceFileError) as info:
        load_alliance_text("alliance: 5\n")
    assert str(info.value).startswith("<string>: alliance: expected a mapping")


def test_yaml_anchors_can_share_business_hours():
    text = MINIMAL.read_text(encoding="utf-8")
    text = text.replace('mon-fri: "08:30-17:30"', '&weekdays mon-fri: "08:30-17:30"')
    text = text.replace('        tue-sun: "09:00-17:00"', "        <<: {mon-fri: '08:30-17:30'}")
    alliance = load_alliance_text(text)
    assert alliance.members[1].ill.business_hours.fri[0].start == dt.time(8, 30)


def test_members_take_the_alliance_time_zone_unless_they_name_their_own():
    text = MINIMAL.read_text(encoding="utf-8").replace(
        "  name: {zh: 测试联盟, en: Test Alliance}\n",
        "  name: {zh: 测试联盟, en: Test Alliance}\n  time_zone: Asia/Urumqi\n",
    )
    alliance = load_alliance_text(text)
    assert {m.ill.time_zone for m in alliance.members} == {"Asia/Urumqi"}
    assert load_alliance(MINIMAL).members[0].ill.time_zone == "Asia/Shanghai"


def test_lender_ranking_weights_default_and_normalise():
    ranking = load_alliance(MINIMAL).lender_ranking
    assert ranking.distance == 0.35
    assert sum(ranking.normalised().values()) == pytest.approx(1.0)


# The demo alliance


@pytest.fixture(scope="module")
def demo():
    return load_alliance(DEMO)


def test_demo_is_a_yantai_alliance_of_universities_and_public_libraries(demo):
    assert "烟台" in demo.name_zh and demo.time_zone == "Asia/Shanghai"
    assert len(demo.members) >= 8
    types = [m.type for m in demo.members]
    assert types.count("university") >= 3 and types.count("public") >= 3
    districts = {m.region for m in demo.members}
    assert len(districts) >= 4
    assert all(demo.region(code).level in ("district", "county") for code in districts)


def test_demo_region_tree_runs_from_shandong_through_yantai_to_districts(demo):
    shandong = demo.region("shandong")
    assert shandong.parent is None and shandong.level == "province"
    assert demo.region("yantai").parent == "shandong"
    for region in demo.children("yantai"):
        assert region.population and region.population > 0 and region.kind
    assert set(demo.members_in("yantai")) == set(demo.members)


def test_demo_members_serve_oai_on_consecutive_loopback_ports(demo):
    for i, member in enumerate(demo.members):
        assert member.oai.base_url == f"http://127.0.0.1:{5101 + i}/oai"


def test_demo_members_sit_inside_yantai(demo):
    for m in demo.members:
        assert 36.5 < m.latitude < 38.5 and 119.5 < m.longitude < 122.0, m.code


def test_demo_formats_match_the_kinds_of_library(demo):
    universities = [m for m in demo.members if m.type == "university"]
    publics = [m for m in demo.members if m.type == "public"]
    assert {m.oai.metadata_prefix for m in universities} == {"marc21"}
    assert sum(m.oai.metadata_prefix == "unimarc" for m in publics) > len(publics) / 2
    dc_only = [m for m in demo.members if m.oai.record_format == "dc"]
    assert len(dc_only) == 1 and dc_only[0].type == "community"


def test_demo_schedules_give_triggers_that_fire_within_a_week(demo):
    now = dt.datetime.now(dt.UTC)
    for m in demo.members:
        trigger = schedule_trigger(m.oai.schedule, demo.time_zone)
        assert trigger.get_next_fire_time(None, now) - now <= dt.timedelta(days=7), m.code


def test_demo_ill_hours_public_at_weekends_universities_closed_at_spring_festival(demo):
    spring_festival = dt.date(2026, 2, 17)
    for m in demo.members:
        hours = m.ill.business_hours
        if m.type == "public":
            assert hours.sat and hours.sun, m.code
        if m.type == "university":
            assert m.ill.is_closed_on(spring_festival), m.code
            assert not hours.sat and not hours.sun
        assert m.ill.daily_capacity > 0 and m.ill.response_hours > 0
        assert m.liaison.email.endswith("@example.org")


def test_demo_business_hours_answer_is_open_at(demo):
    ytu = demo.member("ytu").ill.business_hours
    assert ytu.is_open_at(dt.datetime(2026, 3, 3, 9, 0))  # a Tuesday morning
    assert not ytu.is_open_at(dt.datetime(2026, 3, 3, 12, 30))  # lunch break
    assert not ytu.is_open_at(dt.datetime(2026, 3, 7, 9, 0))  # Saturday


def test_demo_cost_sharing_parameters(demo):
    cs = demo.cost_sharing
    assert cs.common_costs > 0 and 0 <= cs.base_share <= 1
    assert cs.weights.alpha + cs.weights.beta + cs.weights.gamma == pytest.approx(1.0)
    assert cs.ill_fees.same_district.loan == 0
    assert cs.ill_fees.are_reciprocal("ytu", "ldu")
    assert not cs.ill_fees.are_reciprocal("ytu", "penglai-pl")
    assert set(cs.district_subsidies) <= {r.code for r in demo.regions}


def test_ill_policies_survive_a_trip_through_json(demo):
    for m in demo.members:
        plain = json.loads(json.dumps(as_plain(m.ill)))
        assert load_ill_policy(plain) == m.ill


# The example file for a real alliance


def test_example_file_loads_and_uses_https_everywhere():
    example = load_alliance(EXAMPLE)
    assert len(example.members) >= 2
    assert all(m.oai.base_url.startswith("https://") for m in example.members)
    own = [m for m in example.members if m.ill.runs_own_iso18626]
    assert own and own[0].ill.iso18626_endpoint.startswith("https://")
