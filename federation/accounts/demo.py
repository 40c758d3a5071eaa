"""Demo sign-ins: one account per role, with passwords made fresh at every demo start."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from federation.accounts.users import create_user, enable_user, find_user, set_password
from federation.privacy import cipher_from_settings
from federation.roles import Role

# (user name, role, member, what it shows in the demo)
DEMO_ACCOUNTS = (
    ("admin", Role.ALLIANCE_ADMIN, None, "alliance administrator: harvests, accounts, tokens"),
    ("ytu-admin", Role.MEMBER_ADMIN, "ytu", "Yantai University library administrator"),
    ("ytu-ill", Role.ILL_STAFF, "ytu", "Yantai University interlibrary-loan staff"),
    ("ldu-ill", Role.ILL_STAFF, "ldu", "Ludong University interlibrary-loan staff"),
    ("coordinator", Role.COORDINATOR, None, "government coordinator: reports, aggregates only"),
    ("reader", Role.READER, "ytlib", "a reader of Yantai Library"),
)
DEMO_CARD = "YTLIB-DEMO-0001"


@dataclass(frozen=True)
class DemoAccount:
    """A demo sign-in as printed on the console."""

    username: str
    password: str
    role: Role
    member_code: str | None
    purpose: str


def seed_demo_accounts(session: Session, settings: dict[str, Any]) -> list[DemoAccount]:
    """Create (or re-key) one account per role; return them with their new passwords."""
    cipher = cipher_from_settings(settings)
    out = []
    for username, role, member, purpose in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(9)
        user = find_user(session, username)
        if user is None:
            card = cipher.seal(DEMO_CARD) if role is Role.READER else None
            create_user(session, username, password, role, member, purpose, card, created_by="demo")
        else:
            enable_user(session, user)
            set_password(session, user, password)
        out.append(DemoAccount(username, password, role, member, purpose))
    return out
