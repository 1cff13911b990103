"""How a finished enrollment ended (its outcome), and sequences that can be turned off

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(sa.Column("outcome", sa.String(32), nullable=True))
    # finished before outcomes were kept: a detected reply, the reply window, else a user
    op.execute(
        "UPDATE enrollments SET outcome = CASE reason"
        " WHEN 'COMPLETED_NO_RESPONSE' THEN 'NO_RESPONSE'"
        " WHEN 'REPLIED' THEN 'RESPONDED' ELSE 'STOPPED' END"
        " WHERE status = 'FINISHED'"
    )
    op.create_index(
        "ix_enrollments_seq_outcome",
        "enrollments",
        ["sequence_id", "outcome"],
        postgresql_where=sa.text("outcome IS NOT NULL"),
        sqlite_where=sa.text("outcome IS NOT NULL"),
    )
    with op.batch_alter_table("sequences") as batch:
        batch.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("sequences") as batch:
        batch.drop_column("active")
    op.drop_index("ix_enrollments_seq_outcome", table_name="enrollments")
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("outcome")
