"""Bulk operations readable as nodes: the input each was called with and what it did, and
its events found by operation

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bulk_operations") as batch:
        batch.add_column(sa.Column("options", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("result", sa.JSON(), nullable=True))
    op.create_index("ix_events_bulk_operation", "events", ["bulk_operation_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_events_bulk_operation", table_name="events")
    with op.batch_alter_table("bulk_operations") as batch:
        batch.drop_column("result")
        batch.drop_column("options")
