import pytest

from federation.policy import GRANTS, Permission, allowed
from federation.roles import Actor, Role

P = Permission


def test_anonymous_may_only_use_public_things():
    assert allowed(None, P.PUBLIC)
    assert not any(allowed(None, p) for p in P if p is not P.PUBLIC)


@pytest.mark.parametrize("role", [Role.ILL_STAFF, Role.MEMBER_ADMIN])
def test_staff_act_only_on_their_own_members_requests(role):
    staff = Actor(role, "ytu")
    assert allowed(staff, P.ILL_ACT, "ytu") and allowed(staff, P.READER_DATA, "ytu")
    assert not allowed(staff, P.ILL_ACT, "ldu") and not allowed(staff, P.READER_DATA, "ldu")


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ALLIANCE_ADMIN])
def test_coordinators_and_alliance_admins_never_see_reader_data(role):
    actor = Actor(role)
    assert allowed(actor, P.REPORTS)
    assert not allowed(actor, P.READER_DATA, "ytu") and not allowed(actor, P.ILL_READ, "ytu")


def test_a_read_only_token_cannot_write():
    token = Actor(Role.ILL_STAFF, "ytu", name="token:opac", read_only=True)
    assert allowed(token, P.ILL_READ, "ytu")
    assert not allowed(token, P.ILL_ACT, "ytu")


def test_only_alliance_admins_adopt_cost_models():
    assert [r for r, grants in GRANTS.items() if P.COSTS_ADOPT in grants] == [Role.ALLIANCE_ADMIN]
