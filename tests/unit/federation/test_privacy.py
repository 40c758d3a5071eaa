from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from federation.db import Database
from federation.models import AuditEvent
from federation.privacy import ReaderDataCipher, ReaderDataError, audit, ensure_reader_key
from federation.roles import Actor, Role


def test_sealed_reader_data_holds_no_clear_text_and_opens_again():
    cipher = ReaderDataCipher(Fernet.generate_key())
    sealed = cipher.seal("王小明 2023110456")
    assert "王小明" not in sealed and "2023110456" not in sealed
    assert cipher.open(sealed) == "王小明 2023110456"


def test_a_different_key_cannot_open_reader_data():
    sealed = ReaderDataCipher(Fernet.generate_key()).seal("Li Hua")
    with pytest.raises(ReaderDataError):
        ReaderDataCipher(Fernet.generate_key()).open(sealed)


def test_a_malformed_key_is_refused_with_a_hint():
    with pytest.raises(ReaderDataError, match="Fernet key"):
        ReaderDataCipher("not-a-key")


def test_the_generated_key_is_kept_in_the_instance_folder(tmp_path: Path):
    first = ensure_reader_key({"READER_DATA_KEY": "", "INSTANCE_PATH": str(tmp_path)})
    again = ensure_reader_key({"READER_DATA_KEY": "", "INSTANCE_PATH": str(tmp_path)})
    assert first == again
    assert (tmp_path / "reader_data.key").stat().st_mode & 0o077 == 0


def test_audit_lines_name_the_actor_and_subject(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    db.upgrade()
    with db.session() as session:
        audit(session, Actor(Role.ILL_STAFF, "ytu", 3, "Wang"), "read", "ill_request:7")
        session.commit()
        row = session.scalars(select(AuditEvent)).one()
    assert (row.actor, row.action, row.subject) == ("ytu: Wang", "read", "ill_request:7")


def test_member_scoped_actor_needs_a_member():
    with pytest.raises(ValueError):
        Actor(Role.ILL_STAFF)
    assert Actor(Role.MEMBER_ADMIN, "ytu").is_staff_of("ytu")
    assert not Actor(Role.READER, "ytu").is_staff_of("ytu")
