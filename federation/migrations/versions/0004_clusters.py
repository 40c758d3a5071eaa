"""Dedup: clusters, cluster records with evidence, work links, match keys, staff decisions.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def _record_fk(name: str, primary_key: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.Integer,
        sa.ForeignKey("records.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def _cluster_fk(name: str, primary_key: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.String(40),
        sa.ForeignKey("clusters.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "clusters",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "cluster_records",
        _record_fk("record_id", primary_key=True),
        _cluster_fk("cluster_id"),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("matched_record_id", sa.Integer),
    )
    op.create_index("ix_cluster_records_cluster", "cluster_records", ["cluster_id"])
    op.create_table(
        "work_links",
        _cluster_fk("cluster_id", primary_key=True),
        sa.Column("work_id", sa.String(40), nullable=False),
        sa.Column("rule", sa.String(32)),
        sa.Column("evidence", sa.JSON, nullable=False),
    )
    op.create_index("ix_work_links_work", "work_links", ["work_id"])
    op.create_table(
        "dedup_keys",
        _record_fk("record_id", primary_key=True),
        sa.Column("key", sa.String(300), primary_key=True),
    )
    op.create_index("ix_dedup_keys_key", "dedup_keys", ["key"])
    op.create_table(
        "dedup_overrides",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(8), nullable=False),
        _record_fk("record_a"),
        _record_fk("record_b"),
        sa.Column("created_by", sa.String(100)),
        sa.Column("reason", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dedup_overrides_a", "dedup_overrides", ["record_a"])
    op.create_index("ix_dedup_overrides_b", "dedup_overrides", ["record_b"])
    op.create_table(
        "dedup_blocklist",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("created_by", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dedup_blocklist")
    op.drop_index("ix_dedup_overrides_b", table_name="dedup_overrides")
    op.drop_index("ix_dedup_overrides_a", table_name="dedup_overrides")
    op.drop_table("dedup_overrides")
    op.drop_index("ix_dedup_keys_key", table_name="dedup_keys")
    op.drop_table("dedup_keys")
    op.drop_index("ix_work_links_work", table_name="work_links")
    op.drop_table("work_links")
    op.drop_index("ix_cluster_records_cluster", table_name="cluster_records")
    op.drop_table("cluster_records")
    op.drop_table("clusters")
