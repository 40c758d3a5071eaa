"""Alembic environment: runs migrations on the engine the Database object passes in."""

from alembic import context

import federation.accounts.models  # noqa: F401  (users, API tokens, sign-in attempts)
import federation.costs.models  # noqa: F401  (cost sharing, issue 7)
import federation.models  # noqa: F401  (registers the tables on Base.metadata)
import federation.stats.models  # noqa: F401  (usage roll-ups, issue 7)
import ill.models  # noqa: F401  (the ILL broker's tables)
from federation.db import Base, make_engine

config = context.config
target_metadata = Base.metadata
# Tables that other libraries own in our database (APScheduler's job store).
FOREIGN_TABLES = {"scheduler_jobs"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave tables we do not own out of autogenerate."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def run_migrations_online() -> None:
    """Run the migrations inside one transaction on the configured engine."""
    engine = config.attributes.get("engine") or make_engine(
        config.get_main_option("sqlalchemy.url")
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
