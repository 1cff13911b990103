"""The event log keeps only its enrollment foreign key (bulk writes check 1 key per row, not 5)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {
    "fk_events_workspace_id_workspaces": ("workspaces", "workspace_id", "CASCADE"),
    "fk_events_sequence_id_sequences": ("sequences", "sequence_id", "CASCADE"),
    "fk_events_actor_id_users": ("users", "actor_id", "SET NULL"),
    "fk_events_bulk_operation_id_bulk_operations": (
        "bulk_operations", "bulk_operation_id", "SET NULL",
    ),
}  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        for name in DROPPED:
            batch.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        for name, (table, column, ondelete) in DROPPED.items():
            batch.create_foreign_key(name, table, [column], ["id"], ondelete=ondelete)
