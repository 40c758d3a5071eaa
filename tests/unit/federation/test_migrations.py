"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import federation.accounts.models  # noqa: F401
import federation.models  # noqa: F401
from federation.db import Base


def test_models_and_migrations_agree(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # Server defaults differ in spelling between dialects; only structural drift matters here.
    structural = [
        d for d in diff if not (isinstance(d, list) and d and d[0][0] == "modify_default")
    ]
    assert structural == [], structural


def test_upgrade_is_idempotent(db):
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(db.alembic_config()).get_current_head()  # one head only
    before = db.current_revision()
    db.upgrade()
    assert db.current_revision() == before == head
