"""Audit log of reader data, usage events (no reader identifiers), reader feedback.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("member_code", sa.String(32), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])
    op.create_table(
        "usage_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("occurred_at", TZ, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("member_code", sa.String(32), nullable=True),
        sa.Column("partner_code", sa.String(32), nullable=True),
        sa.Column("region_code", sa.String(32), nullable=True),
        sa.Column("cluster_id", sa.String(64), nullable=True),
        sa.Column("clc_class", sa.String(8), nullable=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("ref", sa.String(64), nullable=True),
        sa.Column("simulated", sa.Boolean, nullable=False),
    )
    op.create_index("ix_usage_events_kind_occurred", "usage_events", ["kind", "occurred_at"])
    op.create_table(
        "reader_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("member_code", sa.String(32), nullable=True),
        sa.Column("region_code", sa.String(32), nullable=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("message", sa.String(2000), nullable=False),
        sa.Column("page", sa.String(300), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reader_feedback")
    op.drop_table("usage_events")
    op.drop_table("audit_events")
