"""The engine's delivery rules: a per-sender daily limit per sequence, and transient
send failures counted per enrollment

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sequences") as batch:
        batch.add_column(sa.Column("daily_limit_per_sender", sa.Integer(), nullable=True))
    with op.batch_alter_table("enrollments") as batch:
        batch.add_column(
            sa.Column("send_attempts", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "sender_days",
        sa.Column(
            "sequence_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey(
                "sequences.id", ondelete="CASCADE", name="fk_sender_days_sequence_id_sequences"
            ),
            nullable=False,
        ),
        sa.Column("sender_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sequence_id", "sender_id", "day", name="pk_sender_days"),
    )


def downgrade() -> None:
    op.drop_table("sender_days")
    with op.batch_alter_table("enrollments") as batch:
        batch.drop_column("send_attempts")
    with op.batch_alter_table("sequences") as batch:
        batch.drop_column("daily_limit_per_sender")
