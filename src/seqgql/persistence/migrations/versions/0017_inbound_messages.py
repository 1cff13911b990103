"""Inbound email: the messages read (once per workspace and Message-ID, with what was
decided) and how far the IMAP poller has read each mailbox

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column(
            "workspace_id",
            _ID,
            sa.ForeignKey(
                "workspaces.id",
                name="fk_inbound_messages_workspace_id_workspaces",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("message_key", sa.String(64), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(320), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column(
            "enrollment_id",
            _ID,
            sa.ForeignKey(
                "enrollments.id",
                name="fk_inbound_messages_enrollment_id_enrollments",
                ondelete="SET NULL",
            ),
            nullable=True,
        ),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_messages"),
        sa.UniqueConstraint("workspace_id", "message_key", name="uq_inbound_messages_key"),
    )
    op.create_index("ix_inbound_messages_enrollment", "inbound_messages", ["enrollment_id"])
    op.create_table(
        "inbound_cursors",
        sa.Column("mailbox", sa.String(400), nullable=False),
        sa.Column("uid_validity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mailbox", name="pk_inbound_cursors"),
    )


def downgrade() -> None:
    op.drop_table("inbound_cursors")
    op.drop_index("ix_inbound_messages_enrollment", table_name="inbound_messages")
    op.drop_table("inbound_messages")
