"""Accounts: users, API tokens of member systems, sign-in attempts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column(
            "member_code",
            sa.String(32),
            sa.ForeignKey("members.code", ondelete="RESTRICT"),
            nullable=True,
        ),
        sa.Column("card_sealed", sa.String(500), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("session_epoch", sa.Integer, nullable=False),
        sa.Column("must_change_password", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("last_sign_in_at", TZ, nullable=True),
        sa.Column("disabled_at", TZ, nullable=True),
    )
    op.create_index("ix_users_member_code", "users", ["member_code"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "member_code",
            sa.String(32),
            sa.ForeignKey("members.code", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("last_used_at", TZ, nullable=True),
        sa.Column("revoked_at", TZ, nullable=True),
    )
    op.create_index("ix_api_tokens_member_code", "api_tokens", ["member_code"])
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("succeeded", sa.Boolean, nullable=False),
    )
    op.create_index("ix_sign_in_attempts_username_at", "sign_in_attempts", ["username", "at"])
    op.create_index("ix_sign_in_attempts_address_at", "sign_in_attempts", ["address", "at"])


def downgrade() -> None:
    op.drop_table("sign_in_attempts")
    op.drop_table("api_tokens")
    op.drop_table("users")
