"""Who may manage which accounts and tokens: alliance administrators all, a member's
administrator only its own member's staff, readers and tokens."""

from __future__ import annotations

from federation.policy import Permission, allowed
from federation.roles import Actor, Role

MEMBER_ADMIN_MAY_CREATE = (Role.READER, Role.ILL_STAFF, Role.MEMBER_ADMIN)
ALLIANCE_ADMIN_MAY_CREATE = (
    Role.READER,
    Role.ILL_STAFF,
    Role.MEMBER_ADMIN,
    Role.COORDINATOR,
    Role.ALLIANCE_ADMIN,
)


def is_alliance_admin(actor: Actor | None) -> bool:
    """Return True if ``actor`` runs the whole alliance's accounts."""
    return allowed(actor, Permission.ALLIANCE_ADMIN)


def may_manage(actor: Actor | None, member_code: str | None) -> bool:
    """Return True if ``actor`` may manage accounts or tokens of ``member_code`` (None: none)."""
    if is_alliance_admin(actor):
        return True
    return member_code is not None and allowed(actor, Permission.MEMBER_ADMIN, member_code)


def scope_of(actor: Actor) -> str | None:
    """Return the member whose accounts ``actor`` sees, or None for every member."""
    return None if is_alliance_admin(actor) else actor.member_code


def roles_creatable(actor: Actor | None) -> tuple[Role, ...]:
    """Return the roles ``actor`` may give to a new account."""
    if is_alliance_admin(actor):
        return ALLIANCE_ADMIN_MAY_CREATE
    if allowed(actor, Permission.MANAGE_ACCOUNTS):
        return MEMBER_ADMIN_MAY_CREATE
    return ()
