"""Usage roll-ups (high-water mark, late events, locked months) and cost-sharing settlements.

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"  # chained after accounts (merged from wt-accounts)
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _key(name: str, length: int) -> sa.Column:
    return sa.Column(name, sa.String(length), primary_key=True, nullable=False)


def _stats_tables() -> None:
    op.create_table(
        "usage_rollups",
        _key("month", 7),
        _key("kind", 32),
        _key("member_code", 32),
        _key("partner_code", 32),
        _key("region_code", 32),
        _key("clc", 1),
        sa.Column("simulated", sa.Boolean, primary_key=True, nullable=False),
        sa.Column("late", sa.Boolean, primary_key=True, nullable=False),
        sa.Column("events", sa.BigInteger, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("value_sum", sa.Float, nullable=False),
        sa.Column("value_count", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_usage_rollups_member_month", "usage_rollups", ["member_code", "month"])
    op.create_table(
        "stats_rollup_state",
        _key("name", 32),
        sa.Column("last_event_id", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "stats_late_events",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("occurred_month", sa.String(7), nullable=False),
        sa.Column("counted_month", sa.String(7), nullable=False),
    )
    op.create_index("ix_stats_late_events_counted", "stats_late_events", ["counted_month"])
    op.create_table(
        "stats_locked_months",
        _key("month", 7),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("locked_at", TZ, nullable=False),
    )


def _cost_tables() -> None:
    op.create_table(
        "cost_model_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("valid_from", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("adopted_by", sa.String(200), nullable=False),
        sa.Column("adopted_at", TZ, nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
    )
    op.create_index("ix_cost_model_versions_valid_from", "cost_model_versions", ["valid_from"])
    op.create_table(
        "cost_periods",
        _key("code", 16),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("model_version_id", sa.Integer, nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_at", TZ, nullable=True),
        sa.Column("approved_through", sa.BigInteger, nullable=True),
        sa.Column("model_params", sa.JSON, nullable=True),
        sa.Column("locked_by", sa.String(200), nullable=True),
        sa.Column("locked_at", TZ, nullable=True),
    )
    op.create_table(
        "settlement_lines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("payer", sa.String(32), nullable=False),
        sa.Column("payee", sa.String(32), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("basis", sa.String(500), nullable=False),
        sa.Column("refs", sa.JSON, nullable=False),
    )
    op.create_index("ix_settlement_lines_period", "settlement_lines", ["period", "line_no"])


def upgrade() -> None:
    _stats_tables()
    _cost_tables()


def downgrade() -> None:
    for table in (
        "settlement_lines",
        "cost_periods",
        "cost_model_versions",
        "stats_locked_months",
        "stats_late_events",
        "stats_rollup_state",
        "usage_rollups",
    ):
        op.drop_table(table)
