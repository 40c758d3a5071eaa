"""Harvest runs remember when their changes were re-clustered (a killed step is caught up).

Revision ID: 0012
Revises: 0008 (the head: ILL was chained after 0011)
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "harvest_runs", sa.Column("clustered_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Runs finished before this upgrade were clustered by their own step (as far as anything
    # can tell now): catching them all up would re-cluster the whole store once.
    op.execute("UPDATE harvest_runs SET clustered_at = finished_at WHERE finished_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("harvest_runs") as batch:
        batch.drop_column("clustered_at")
