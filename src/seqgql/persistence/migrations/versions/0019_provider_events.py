"""Email provider events: each event a provider's webhook posted (SendGrid, Mailgun), once
per workspace, provider and event id, with what was decided

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "provider_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column(
            "workspace_id",
            _ID,
            sa.ForeignKey(
                "workspaces.id",
                name="fk_provider_events_workspace_id_workspaces",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("token", sa.String(200), nullable=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "enrollment_id",
            _ID,
            sa.ForeignKey(
                "enrollments.id",
                name="fk_provider_events_enrollment_id_enrollments",
                ondelete="SET NULL",
            ),
            nullable=True,
        ),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_provider_events"),
        sa.UniqueConstraint(
            "workspace_id", "provider", "event_id", name="uq_provider_events_event_id"
        ),
        sa.UniqueConstraint("workspace_id", "provider", "token", name="uq_provider_events_token"),
    )
    op.create_index("ix_provider_events_enrollment", "provider_events", ["enrollment_id"])


def downgrade() -> None:
    op.drop_index("ix_provider_events_enrollment", table_name="provider_events")
    op.drop_table("provider_events")
