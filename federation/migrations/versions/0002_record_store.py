"""Record store: harvested records and harvest runs with their checkpoints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "harvest_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "member_code",
            sa.String(32),
            sa.ForeignKey("members.code", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("metadata_prefix", sa.String(64), nullable=False),
        sa.Column("set_spec", sa.String(200)),
        sa.Column("from_date", sa.String(32)),
        sa.Column("until_date", sa.String(32)),
        sa.Column("response_date", sa.String(32)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
        sa.Column("new", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("illegal_chars", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.String(2000)),
        sa.Column("resumption_token", sa.String(2000)),
        sa.Column("cursor", sa.Integer, nullable=False, server_default="0"),
        sa.Column("checkpoint_at", sa.DateTime(timezone=True)),
        sa.Column("last_datestamp", sa.String(32)),
    )
    op.create_index("ix_harvest_runs_member_started", "harvest_runs", ["member_code", "started_at"])
    op.create_table(
        "records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "member_code",
            sa.String(32),
            sa.ForeignKey("members.code", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("oai_identifier", sa.String(500), nullable=False),
        sa.Column("datestamp", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("metadata_prefix", sa.String(64), nullable=False),
        sa.Column("reject_reason", sa.String(1000)),
        sa.Column("raw", sa.LargeBinary),
        sa.Column("normalised", sa.JSON),
        sa.Column("run_id", sa.Integer),
        sa.Column("harvested_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("member_code", "oai_identifier", name="uq_records_member_oai"),
    )
    op.create_index("ix_records_member_status", "records", ["member_code", "status"])


def downgrade() -> None:
    op.drop_index("ix_records_member_status", table_name="records")
    op.drop_table("records")
    op.drop_index("ix_harvest_runs_member_started", table_name="harvest_runs")
    op.drop_table("harvest_runs")
