"""Who may do what: the one table every view, endpoint and service asks.

A permission names a capability; :data:`GRANTS` says which roles hold it. Member-scoped
permissions also need the object's member: staff of one member never act on, nor read the
reader data of, another member's requests.
"""

from __future__ import annotations

from enum import StrEnum

from federation.roles import Actor, Role


class Permission(StrEnum):
    """Capabilities a route or service call needs."""

    PUBLIC = "public"  # anyone, signed in or not: search, record pages, OAI, SRU, feedback
    SIGNED_IN = "signed_in"  # any account: own profile, sign out, change password
    READER_SELF = "reader_self"  # a reader's own ILL requests and their export
    ILL_READ = "ill_read"  # a member's ILL queues and requests (member-scoped)
    ILL_ACT = "ill_act"  # act on a member's ILL requests (member-scoped)
    READER_DATA = "reader_data"  # read a reader's name/card on the borrower's request (scoped)
    MEMBER_ADMIN = "member_admin"  # a member's staff accounts and API tokens (member-scoped)
    STATS_OWN = "stats_own"  # one member's own statistics (member-scoped)
    STATS_ALL = "stats_all"  # every member's statistics, sortable
    STATS_ANY = "stats_any"  # the statistics and statement pages at all (own or every member)
    REPORTS = "reports"  # service-gap reports: aggregates only
    FEEDBACK_READ = "feedback_read"  # reader feedback
    COSTS_WHATIF = "costs_whatif"  # try a cost-sharing model without adopting it
    COSTS_ADOPT = "costs_adopt"  # adopt a model, approve and lock a period
    ALLIANCE_ADMIN = "alliance_admin"  # accounts, members, harvests, dedup, backups
    MANAGE_ACCOUNTS = "manage_accounts"  # open the account and token pages (whose: per member)
    STAFF_VIEWS = "staff_views"  # staff-only views of catalogue data (harvested source records)


P = Permission
_STAFF = {
    P.PUBLIC,
    P.SIGNED_IN,
    P.ILL_READ,
    P.ILL_ACT,
    P.READER_DATA,
    P.STATS_OWN,
    P.STATS_ANY,
    P.STAFF_VIEWS,
}
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.READER: frozenset({P.PUBLIC, P.SIGNED_IN, P.READER_SELF}),
    Role.ILL_STAFF: frozenset(_STAFF),
    Role.MEMBER_ADMIN: frozenset(_STAFF | {P.MEMBER_ADMIN, P.MANAGE_ACCOUNTS}),
    Role.COORDINATOR: frozenset(
        {
            P.PUBLIC,
            P.SIGNED_IN,
            P.STATS_ALL,
            P.STATS_ANY,
            P.REPORTS,
            P.FEEDBACK_READ,
            P.COSTS_WHATIF,
        }
    ),
    # The alliance administrator runs the platform but is not a member's ILL staff: no reader data.
    Role.ALLIANCE_ADMIN: frozenset(
        {
            P.PUBLIC,
            P.SIGNED_IN,
            P.STATS_ALL,
            P.STATS_ANY,
            P.REPORTS,
            P.FEEDBACK_READ,
            P.COSTS_WHATIF,
            P.COSTS_ADOPT,
            P.ALLIANCE_ADMIN,
            P.MANAGE_ACCOUNTS,
            P.STAFF_VIEWS,
        }
    ),
    Role.SYSTEM: frozenset({P.PUBLIC, P.ILL_READ, P.ILL_ACT, P.STATS_ALL, P.STATS_ANY, P.REPORTS}),
}
MEMBER_SCOPED = frozenset({P.ILL_READ, P.ILL_ACT, P.READER_DATA, P.MEMBER_ADMIN, P.STATS_OWN})
WRITES = frozenset({P.ILL_ACT, P.MEMBER_ADMIN, P.COSTS_ADOPT, P.ALLIANCE_ADMIN, P.MANAGE_ACCOUNTS})


def allowed(actor: Actor | None, permission: Permission, member_code: str | None = None) -> bool:
    """Return True if ``actor`` holds ``permission`` (for ``member_code``'s objects if given)."""
    if permission is P.PUBLIC:
        return True
    if actor is None or permission not in GRANTS.get(actor.role, frozenset()):
        return False
    if actor.read_only and permission in WRITES:
        return False
    if member_code is not None and permission in MEMBER_SCOPED and actor.role is not Role.SYSTEM:
        return actor.member_code == member_code
    return True
