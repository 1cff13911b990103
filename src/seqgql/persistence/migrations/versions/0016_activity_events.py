"""Activities in the event log: an event is a status change (to_status set) or an
activity (its kind and row)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29
"""

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


@contextmanager
def _events_table() -> Iterator[BatchOperations]:
    """The events table to alter (on SQLite, copied: reflecting it also reflects the
    enrollments table, whose expression indexes SQLAlchemy cannot read and says so)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        with op.batch_alter_table("events") as batch:
            yield batch


def upgrade() -> None:
    with _events_table() as batch:
        batch.alter_column("to_status", existing_type=sa.String(32), nullable=True)
        batch.add_column(sa.Column("activity", sa.String(32), nullable=True))
        batch.add_column(
            sa.Column("activity_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
        )


def downgrade() -> None:
    op.execute("DELETE FROM events WHERE to_status IS NULL")
    with _events_table() as batch:
        batch.drop_column("activity_id")
        batch.drop_column("activity")
        batch.alter_column("to_status", existing_type=sa.String(32), nullable=False)
