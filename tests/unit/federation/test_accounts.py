"""Accounts services: password rules and hashing, sign-in throttling, API tokens."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from federation.accounts import (
    AccountError,
    SignInThrottled,
    actor_for_token,
    actor_for_user,
    authenticate,
    create_token,
    create_user,
    disable_user,
    enable_user,
    list_tokens,
    list_users,
    revoke_token,
)
from federation.accounts.models import ApiToken, User
from federation.accounts.throttle import MAX_FAILURES_PER_USER, WINDOW
from federation.alliance import load_alliance
from federation.members import import_alliance
from federation.policy import Permission, allowed
from federation.roles import Role
from tests.conftest import DEMO_ALLIANCE

PASSWORD = "long enough secret"
NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.fixture
def session(db):
    with db.session() as s:
        import_alliance(s, load_alliance(DEMO_ALLIANCE))
    with db.session() as s:
        yield s


def test_passwords_are_stored_as_argon2_hashes_never_in_clear(session, db):
    create_user(session, "li.na", PASSWORD, Role.ILL_STAFF, "ytu")
    session.commit()
    with db.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM users")) for v in row)
    assert PASSWORD not in dump
    assert "$argon2id$" in dump


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short", "at least 10 characters"),
        ("aaaaaaaaaaaa", "4 different characters"),
        ("wang.xiaoming", "must not be the user name"),
        ("x" * 300, "at most 256"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(session, password, why):
    with pytest.raises(AccountError, match=why):
        create_user(session, "wang.xiaoming", password, Role.COORDINATOR)
    assert list_users(session) == []


def test_roles_and_members_must_fit_together(session):
    with pytest.raises(AccountError, match="needs a member"):
        create_user(session, "a1", PASSWORD, Role.READER)
    with pytest.raises(AccountError, match="no member with code 'nowhere'"):
        create_user(session, "a2", PASSWORD, Role.ILL_STAFF, "nowhere")
    with pytest.raises(AccountError, match="belongs to no member"):
        create_user(session, "a3", PASSWORD, Role.COORDINATOR, "ytu")
    with pytest.raises(AccountError, match="unknown role 'boss'"):
        create_user(session, "a4", PASSWORD, "boss")
    with pytest.raises(AccountError, match="not an account"):
        create_user(session, "a5", PASSWORD, Role.SYSTEM)
    with pytest.raises(AccountError, match="user name has"):
        create_user(session, "Bad Name!", PASSWORD, Role.COORDINATOR)


def test_a_taken_user_name_is_refused_whatever_its_case(session):
    create_user(session, "zhang", PASSWORD, Role.COORDINATOR)
    with pytest.raises(AccountError, match="taken"):
        create_user(session, "ZHANG", PASSWORD, Role.COORDINATOR)


def test_authenticate_gives_the_user_and_its_actor(session):
    create_user(session, "zhang", PASSWORD, Role.MEMBER_ADMIN, "ldu", display_name="Zhang Wei")
    user = authenticate(session, "Zhang", PASSWORD, "192.0.2.1", NOW)
    actor = actor_for_user(user)
    assert (actor.role, actor.member_code, actor.name) == (Role.MEMBER_ADMIN, "ldu", "Zhang Wei")
    assert user.last_sign_in_at == NOW


def test_a_reader_actor_never_carries_the_readers_name(session):
    create_user(session, "r2026001", PASSWORD, Role.READER, "ytlib", display_name="Chen Jing")
    actor = actor_for_user(authenticate(session, "r2026001", PASSWORD, "192.0.2.1", NOW))
    assert "Chen" not in actor.label


def test_disabled_accounts_cannot_sign_in_until_enabled(session):
    user = create_user(session, "zhang", PASSWORD, Role.COORDINATOR)
    disable_user(session, user, NOW)
    with pytest.raises(AccountError, match="disabled"):
        authenticate(session, "zhang", PASSWORD, "192.0.2.1", NOW)
    enable_user(session, user)
    assert authenticate(session, "zhang", PASSWORD, "192.0.2.1", NOW).id == user.id


def test_repeated_failures_close_the_account_for_a_while_even_with_the_right_password(session):
    create_user(session, "zhang", PASSWORD, Role.COORDINATOR)
    for minute in range(MAX_FAILURES_PER_USER):
        with pytest.raises(AccountError):
            authenticate(session, "zhang", "guess", "198.51.100.1", NOW + timedelta(minutes=minute))
    later = NOW + timedelta(minutes=MAX_FAILURES_PER_USER)
    with pytest.raises(SignInThrottled) as closed:
        authenticate(session, "zhang", PASSWORD, "192.0.2.1", later)
    assert 0 < closed.value.retry_after <= WINDOW.total_seconds()
    reopened = NOW + WINDOW + timedelta(seconds=1)
    assert authenticate(session, "zhang", PASSWORD, "192.0.2.1", reopened).username == "zhang"


def test_a_success_clears_earlier_failures(session):
    create_user(session, "zhang", PASSWORD, Role.COORDINATOR)
    for _ in range(MAX_FAILURES_PER_USER - 1):
        with pytest.raises(AccountError):
            authenticate(session, "zhang", "guess", "192.0.2.1", NOW)
    authenticate(session, "zhang", PASSWORD, "192.0.2.1", NOW)
    with pytest.raises(AccountError):
        authenticate(session, "zhang", "guess", "192.0.2.1", NOW)
    assert authenticate(session, "zhang", PASSWORD, "192.0.2.1", NOW)


def test_one_address_guessing_many_names_is_slowed_down(session):
    for n in range(30):
        with pytest.raises(AccountError):
            authenticate(session, f"user{n}", "guess", "203.0.113.9", NOW)
    create_user(session, "zhang", PASSWORD, Role.COORDINATOR)
    with pytest.raises(SignInThrottled):
        authenticate(session, "zhang", PASSWORD, "203.0.113.9", NOW)
    assert authenticate(session, "zhang", PASSWORD, "192.0.2.1", NOW)


def test_a_token_is_shown_once_and_kept_only_as_a_hash(session, db):
    issued = create_token(session, "ytu", "Interlibrary system", "write")
    session.commit()
    with db.engine.connect() as conn:
        dump = " ".join(
            str(v) for row in conn.execute(text("SELECT * FROM api_tokens")) for v in row
        )
    assert issued.secret not in dump
    assert issued.secret.startswith("fed_" + issued.prefix)


def test_a_token_acts_for_its_member_with_its_scope_and_records_its_use(session):
    write = create_token(session, "ytu", "ILS", "write")
    read = create_token(session, "ldu", "Discovery", "read")
    writer = actor_for_token(session, write.secret, NOW)
    reader = actor_for_token(session, read.secret, NOW)
    assert (writer.member_code, writer.read_only) == ("ytu", False)
    assert (reader.member_code, reader.read_only) == ("ldu", True)
    assert allowed(writer, Permission.ILL_ACT, "ytu")
    assert not allowed(writer, Permission.ILL_ACT, "ldu")  # another member's objects
    assert not allowed(reader, Permission.ILL_ACT, "ldu")  # read scope never writes
    assert allowed(reader, Permission.ILL_READ, "ldu")
    row = session.scalar(select(ApiToken).where(ApiToken.prefix == write.prefix))
    assert row.last_used_at.replace(tzinfo=UTC) == NOW  # SQLite gives it back without zone


def test_revoked_wrong_and_forged_tokens_act_for_nobody(session):
    issued = create_token(session, "ytu", "ILS", "write")
    forged = issued.secret[:-4] + "AAAA"
    assert actor_for_token(session, forged) is None
    assert actor_for_token(session, "fed_nothing_here") is None
    assert actor_for_token(session, "") is None
    row = session.get(ApiToken, issued.id)
    assert revoke_token(session, row, NOW) is True
    assert revoke_token(session, row, NOW) is False
    assert actor_for_token(session, issued.secret) is None


def test_tokens_need_a_known_member_a_scope_and_a_name(session):
    with pytest.raises(AccountError, match="unknown scope"):
        create_token(session, "ytu", "x", "admin")
    with pytest.raises(AccountError, match="no member"):
        create_token(session, "nowhere", "x", "read")
    with pytest.raises(AccountError, match="needs a name"):
        create_token(session, "ytu", "  ", "read")
    create_token(session, "ytu", "one", "read")
    create_token(session, "ldu", "two", "read")
    assert [t.name for t in list_tokens(session, "ytu")] == ["one"]
    assert session.scalar(select(User)) is None


def test_a_token_with_characters_we_never_issue_is_no_token(db):
    from federation.accounts import actor_for_token

    with db.session() as session:
        assert actor_for_token(session, "fed_abc\x00def") is None
        assert actor_for_token(session, "fed_abc def") is None
