"""ILL broker: requests, rota entries with score terms, event log, timers, lender statistics,
in-app notifications.

Revision ID: 0008
Revises: 0011
Create Date: 2026-11-21 15:57:28.194091
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0011"  # chained after stats 0009 and reports 0011 (merged from main)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ill_lender_stats",
        sa.Column("member_code", sa.String(length=32), nullable=False),
        sa.Column("asked", sa.Integer(), nullable=False),
        sa.Column("filled", sa.Integer(), nullable=False),
        sa.Column("unfilled", sa.Integer(), nullable=False),
        sa.Column("timeouts", sa.Integer(), nullable=False),
        sa.Column("turnaround_hours", sa.Float(), nullable=False),
        sa.Column("borrowed", sa.Integer(), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("member_code"),
    )
    op.create_table(
        "ill_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("borrower_code", sa.String(length=32), nullable=False),
        sa.Column("lender_code", sa.String(length=32), nullable=True),
        sa.Column("cluster_id", sa.String(length=64), nullable=True),
        sa.Column("citation", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("service_type", sa.String(length=16), nullable=False),
        sa.Column("service_level", sa.String(length=16), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=True),
        sa.Column("max_cost", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("pickup_location", sa.String(length=200), nullable=False),
        sa.Column("patron_name", sa.Text(), nullable=True),
        sa.Column("patron_card", sa.Text(), nullable=True),
        sa.Column("patron_digest", sa.String(length=64), nullable=True),
        sa.Column("reader_user_id", sa.Integer(), nullable=True),
        sa.Column("mediated", sa.Boolean(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("local_holding", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("requester_state", sa.String(length=16), nullable=True),
        sa.Column("rota_seed", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["borrower_code"], ["members.code"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("borrower_code", "idempotency_key", name="uq_ill_requests_idempotency"),
    )
    with op.batch_alter_table("ill_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ill_requests_borrower_status", ["borrower_code", "status"], unique=False
        )
        batch_op.create_index(
            "ix_ill_requests_lender_status", ["lender_code", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ill_requests_patron_digest"), ["patron_digest"], unique=False
        )
        batch_op.create_index(
            "ix_ill_requests_reader", ["borrower_code", "reader_user_id"], unique=False
        )

    op.create_table(
        "ill_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("lender_code", sa.String(length=32), nullable=True),
        sa.Column("message", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["ill_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ill_events", schema=None) as batch_op:
        batch_op.create_index("ix_ill_events_request", ["request_id"], unique=False)

    op.create_table(
        "ill_notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("member_code", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["ill_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ill_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ill_notifications_member", ["member_code", "read_at"], unique=False
        )

    op.create_table(
        "ill_rota_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("member_code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("filter_reason", sa.String(length=300), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("tie_break", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["ill_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ill_rota_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ill_rota_member_asked", ["member_code", "asked_at"], unique=False)
        batch_op.create_index("ix_ill_rota_request", ["request_id"], unique=False)

    op.create_table(
        "ill_timers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lender_code", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["ill_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "kind", name="uq_ill_timers_request_kind"),
    )
    with op.batch_alter_table("ill_timers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ill_timers_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ill_timers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ill_timers_due_at"))

    op.drop_table("ill_timers")
    with op.batch_alter_table("ill_rota_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ill_rota_request")
        batch_op.drop_index("ix_ill_rota_member_asked")

    op.drop_table("ill_rota_entries")
    with op.batch_alter_table("ill_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_ill_notifications_member")

    op.drop_table("ill_notifications")
    with op.batch_alter_table("ill_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ill_events_request")

    op.drop_table("ill_events")
    with op.batch_alter_table("ill_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_ill_requests_reader")
        batch_op.drop_index(batch_op.f("ix_ill_requests_patron_digest"))
        batch_op.drop_index("ix_ill_requests_lender_status")
        batch_op.drop_index("ix_ill_requests_borrower_status")

    op.drop_table("ill_requests")
    op.drop_table("ill_lender_stats")
