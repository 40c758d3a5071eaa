from sqlalchemy import select

from federation.alliance import load_alliance
from federation.members import alliance_overview, import_alliance, list_members
from federation.models import Member, Region
from tests.conftest import DEMO_ALLIANCE


def test_import_loads_every_region_and_member(db):
    alliance = load_alliance(DEMO_ALLIANCE)
    with db.session() as s:
        regions, members = import_alliance(s, alliance)
    assert sorted(members.created) == sorted(m.code for m in alliance.members)
    assert len(regions.created) == len(alliance.regions)
    with db.session() as s:
        rows = list_members(s)
        assert {m.code for m in rows} == {m.code for m in alliance.members}
        first = alliance.members[0]
        row = s.get(Member, first.code)
        assert row.name_zh == first.name_zh
        assert row.oai_base_url == first.oai.base_url
        assert row.region.code == first.region


def test_import_twice_changes_nothing(db):
    alliance = load_alliance(DEMO_ALLIANCE)
    with db.session() as s:
        import_alliance(s, alliance)
    with db.session() as s:
        regions, members = import_alliance(s, alliance)
        assert members.created == [] and members.updated == [] and members.retired == []
        assert len(members.unchanged) == len(alliance.members)
        assert regions.created == [] and regions.updated == []
        assert s.scalar(select(Member).where(Member.code == alliance.members[0].code)) is not None
        assert len(s.scalars(select(Region)).all()) == len(alliance.regions)


def test_a_member_removed_from_the_file_is_retired_not_deleted(db, tmp_path):
    import dataclasses

    alliance = load_alliance(DEMO_ALLIANCE)
    with db.session() as s:
        import_alliance(s, alliance)
    gone = alliance.members[-1]
    smaller = dataclasses.replace(alliance, members=alliance.members[:-1])
    with db.session() as s:
        _, members = import_alliance(s, smaller)
    assert members.retired == [gone.code]
    with db.session() as s:
        assert s.get(Member, gone.code).active is False
        assert gone.code not in {m.code for m in list_members(s)}


def test_overview_groups_members_by_district(db):
    alliance = load_alliance(DEMO_ALLIANCE)
    with db.session() as s:
        import_alliance(s, alliance)
    with db.session() as s:
        overview = alliance_overview(s, "en")
        assert overview.member_count == len(alliance.members)
        assert len(overview.districts) >= 4
        for district in overview.districts:
            assert all(m.region_code == district.region.code for m in district.members)
        assert {"university", "public"} <= set(overview.count_by_type())
