"""Who is acting: the roles of the platform and the actor every service call carries.

Views turn a signed-in user (or an API token) into an :class:`Actor`; services take the actor
and never look at the web request. The rules of who may do what live in one policy module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The kinds of people (and systems) that use the platform."""

    READER = "reader"  # a library card holder of one member
    ILL_STAFF = "ill_staff"  # interlibrary-loan staff of one member
    MEMBER_ADMIN = "member_admin"  # administrator of one member
    COORDINATOR = "coordinator"  # government coordinator: aggregates only, read-only
    ALLIANCE_ADMIN = "alliance_admin"  # runs the platform for the whole alliance
    SYSTEM = "system"  # the scheduler and the broker acting by themselves


MEMBER_SCOPED = frozenset({Role.READER, Role.ILL_STAFF, Role.MEMBER_ADMIN})


@dataclass(frozen=True)
class Actor:
    """One person or system acting on the platform, with the member it belongs to."""

    role: Role
    member_code: str | None = None  # required for member-scoped roles
    user_id: int | None = None
    name: str = ""  # shown in event logs ("ytu: Wang Li"); never a reader's name
    read_only: bool = False  # API tokens with read scope

    def __post_init__(self) -> None:
        if self.role in MEMBER_SCOPED and not self.member_code:
            raise ValueError(f"a {self.role} actor needs a member_code")

    @property
    def label(self) -> str:
        """Return how the actor appears in timelines and audit logs."""
        who = self.name or self.role.value
        return f"{self.member_code}: {who}" if self.member_code else who

    def is_staff_of(self, member_code: str) -> bool:
        """Return True if the actor works for ``member_code`` (ILL staff or its administrator)."""
        return self.member_code == member_code and self.role in (Role.ILL_STAFF, Role.MEMBER_ADMIN)


SYSTEM = Actor(Role.SYSTEM, name="broker")
