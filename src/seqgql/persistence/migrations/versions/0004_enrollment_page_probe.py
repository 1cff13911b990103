"""The page query finds a search's enrollments by index only: on PostgreSQL the
(sequence_id, contact_id) unique constraint's index includes the enrollment's id,
workspace, status, step and enrollment time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "uq_enrollments_sequence_contact"
INCLUDED = "id, workspace_id, status, current_step, enrolled_at"


def _replace(include: str) -> None:
    # the new constraint is built before the old one goes: uniqueness holds throughout
    op.execute(
        f"ALTER TABLE enrollments ADD CONSTRAINT {NAME}_new "
        f"UNIQUE (sequence_id, contact_id){include}"
    )
    op.execute(f"ALTER TABLE enrollments DROP CONSTRAINT {NAME}")
    op.execute(f"ALTER TABLE enrollments RENAME CONSTRAINT {NAME}_new TO {NAME}")


def upgrade() -> None:
    # SQLite has no INCLUDE (and its planner reads the table row anyway): nothing to do
    if op.get_bind().dialect.name == "postgresql":
        _replace(f" INCLUDE ({INCLUDED})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _replace("")
