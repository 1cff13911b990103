"""An index of the pauses of the rule whileActiveElsewhere, which end by themselves once
the contact is busy in no other sequence

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = sa.text("reason = 'ACTIVE_IN_OTHER_SEQUENCE'")


def upgrade() -> None:
    op.create_index(
        "ix_enrollments_paused_elsewhere",
        "enrollments",
        ["contact_id"],
        postgresql_where=WHERE,
        sqlite_where=WHERE,
    )


def downgrade() -> None:
    op.drop_index("ix_enrollments_paused_elsewhere", table_name="enrollments")
