"""When each enrollment's status last changed, and the indexes that serve the Contacts
tab's sorts (next send, status change, step, status) and its resume-scheduled filter

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# null sort keys sort as these (persistence/moments.py writes the same constants)
FAR_FUTURE = {
    "postgresql": "CAST('9999-12-31 00:00:00+00' AS TIMESTAMP WITH TIME ZONE)",
    "sqlite": "'9999-12-31 00:00:00.000000'",
}
LAST_STEP = "2147483647"


def upgrade() -> None:
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE enrollments SET status_changed_at = updated_at")
    with op.batch_alter_table("enrollments") as batch:
        batch.alter_column(
            "status_changed_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
    op.create_index(
        "ix_enrollments_seq_changed", "enrollments", ["sequence_id", "status_changed_at", "id"]
    )
    op.create_index("ix_enrollments_seq_status_id", "enrollments", ["sequence_id", "status", "id"])
    op.create_index(
        "ix_enrollments_seq_resume_at",
        "enrollments",
        ["sequence_id", "resume_at"],
        postgresql_where=sa.text("resume_at IS NOT NULL"),
        sqlite_where=sa.text("resume_at IS NOT NULL"),
    )
    # expression indexes: declared here only (the tables cannot say them per dialect)
    far = FAR_FUTURE[op.get_bind().dialect.name]
    op.execute(
        "CREATE INDEX ix_enrollments_seq_next_send ON enrollments "
        f"(sequence_id, COALESCE(next_run_at, {far}), id)"
    )
    op.execute(
        "CREATE INDEX ix_enrollments_seq_step_order ON enrollments "
        f"(sequence_id, COALESCE(current_step, {LAST_STEP}), id)"
    )


def downgrade() -> None:
    op.drop_index("ix_enrollments_seq_step_order", table_name="enrollments")
    op.drop_index("ix_enrollments_seq_next_send", table_name="enrollments")
    op.drop_index("ix_enrollments_seq_resume_at", table_name="enrollments")
    op.drop_index("ix_enrollments_seq_status_id", table_name="enrollments")
    op.drop_index("ix_enrollments_seq_changed", table_name="enrollments")
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("status_changed_at")
