"""Regions and member libraries.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("parent_code", sa.String(32), sa.ForeignKey("regions.code", ondelete="RESTRICT")),
        sa.Column("level", sa.String(16)),
        sa.Column("population", sa.Integer),
        sa.Column("kind", sa.String(16)),
    )
    op.create_table(
        "members",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column(
            "region_code",
            sa.String(32),
            sa.ForeignKey("regions.code", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("latitude", sa.Float, nullable=False),
        sa.Column("longitude", sa.Float, nullable=False),
        sa.Column("oai_base_url", sa.String(500), nullable=False),
        sa.Column("oai_metadata_prefix", sa.String(64), nullable=False),
        sa.Column("oai_sets", sa.JSON, nullable=False),
        sa.Column("harvest_schedule", sa.String(100)),
        sa.Column("ill_policy", sa.JSON, nullable=False),
        sa.Column("liaison", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_members_region_code", "members", ["region_code"])


def downgrade() -> None:
    op.drop_index("ix_members_region_code", table_name="members")
    op.drop_table("members")
    op.drop_table("regions")
