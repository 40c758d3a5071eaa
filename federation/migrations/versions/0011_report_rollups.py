"""Monthly roll-ups of the service-gap reports (counts by district, type and class only).

Revision ID: 0011
Revises: 0009 (after merging wt-accounts and wt-stats; was 0006)
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"  # chained after accounts 0007 and stats 0009 (merged)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_rollups",
        sa.Column("month", sa.String(8), primary_key=True),
        sa.Column("measure", sa.String(32), primary_key=True),
        sa.Column("district", sa.String(32), primary_key=True),
        sa.Column("library_type", sa.String(16), primary_key=True),
        sa.Column("clc", sa.String(8), primary_key=True),
        sa.Column("bucket", sa.Integer, primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "report_rollup_months",
        sa.Column("month", sa.String(8), primary_key=True),
        sa.Column("events", sa.BigInteger, nullable=False),
        sa.Column("simulated", sa.Boolean, nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("report_rollup_months")
    op.drop_table("report_rollups")
