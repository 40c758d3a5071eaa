"""Index queue: clusters waiting to be written to (or deleted from) the search index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_queue",
        sa.Column("cluster_id", sa.String(64), primary_key=True),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("index_queue")
