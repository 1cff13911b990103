"""Events that can be undone and that show step moves: each event keeps the step before
and after, the resume date and outcome before, and the enrollment's version after; an
enrollment moved to another sequence links to its new enrollment

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("from_step", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("to_step", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("from_resume_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("from_outcome", sa.String(32), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=True))
    # an enrollment's events, and those of one operation: what an undo looks up per row
    op.drop_index("ix_events_enrollment", table_name="events")
    op.create_index(
        "ix_events_enrollment_operation", "events", ["enrollment_id", "bulk_operation_id", "id"]
    )
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(
            sa.Column(
                "moved_to_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                sa.ForeignKey(
                    "enrollments.id", name="fk_enrollments_moved_to_id", ondelete="SET NULL"
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_constraint("fk_enrollments_moved_to_id", type_="foreignkey")
        batch.drop_column("moved_to_id")
    op.drop_index("ix_events_enrollment_operation", table_name="events")
    op.create_index("ix_events_enrollment", "events", ["enrollment_id"])
    with op.batch_alter_table("events") as batch:
        batch.drop_column("version")
        batch.drop_column("from_outcome")
        batch.drop_column("from_resume_at")
        batch.drop_column("to_step")
        batch.drop_column("from_step")
