"""What an ACTIVE enrollment's next step is waiting for, as the engine last decided it
(its wait, the sending window, the daily limit, a retry backoff, the transport)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(sa.Column("waiting_for", sa.String(32), nullable=True))
    op.execute("UPDATE enrollments SET waiting_for = 'WAIT' WHERE status = 'ACTIVE'")


def downgrade() -> None:
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("waiting_for")
