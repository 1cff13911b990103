"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:39:23.176040
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# 64-bit ids on PostgreSQL (SQLite only auto-increments an INTEGER PRIMARY KEY)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Enum columns hold the domain enums' values as plain text (seqgql.domain is their one
# definition; no database-side enum type or CHECK constraint restates them).
ENUM = sa.String(length=32)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "workspaces",
        sa.Column(
            "id",
            ID,
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint("name", name=op.f("uq_workspaces_name")),
    )
    op.create_table(
        "contacts",
        sa.Column(
            "id",
            ID,
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column(
            "phone_type",
            ENUM,
            nullable=False,
        ),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("sort_name", sa.String(length=401), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_contacts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index("ix_contacts_workspace_id_id", "contacts", ["workspace_id", "id"], unique=False)
    op.create_table(
        "groups",
        sa.Column(
            "id",
            ID,
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_groups_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("workspace_id", "name", name="uq_groups_name"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_idempotency_keys_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "sequences",
        sa.Column(
            "id",
            ID,
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("cloned_from_id", ID, nullable=True),
        sa.Column("sending_window", sa.JSON(), nullable=True),
        sa.Column("reply_window_minutes", sa.Integer(), nullable=False),
        sa.Column("last_event_number", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cloned_from_id"],
            ["sequences.id"],
            name=op.f("fk_sequences_cloned_from_id_sequences"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sequences_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sequences")),
    )
    op.create_index(
        "ix_sequences_workspace_id_id", "sequences", ["workspace_id", "id"], unique=False
    )
    op.create_table(
        "users",
        sa.Column(
            "id",
            ID,
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column(
            "role",
            ENUM,
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_users_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("workspace_id", "email", name="uq_users_email"),
    )
    op.create_table(
        "api_tokens",
        sa.Column(
            "id",
            ID,
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "bulk_operations",
        sa.Column(
            "id",
            ID,
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column(
            "kind",
            ENUM,
            nullable=False,
        ),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("changed_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_bulk_operations_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_bulk_operations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_operations")),
    )
    op.create_table(
        "enrollments",
        sa.Column(
            "id",
            ID,
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("sequence_id", ID, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column(
            "status",
            ENUM,
            nullable=False,
        ),
        sa.Column(
            "reason",
            ENUM,
            nullable=True,
        ),
        sa.Column("current_step", sa.Integer(), nullable=True),
        sa.Column("last_sent_step", sa.Integer(), nullable=False),
        sa.Column("enrolled_by_id", ID, nullable=True),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resume_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_enrollments_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enrolled_by_id"],
            ["users.id"],
            name=op.f("fk_enrollments_enrolled_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sequence_id"],
            ["sequences.id"],
            name=op.f("fk_enrollments_sequence_id_sequences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_enrollments_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
        sa.UniqueConstraint("sequence_id", "contact_id", name="uq_enrollments_sequence_contact"),
    )
    op.create_index("ix_enrollments_contact", "enrollments", ["contact_id"], unique=False)
    op.create_index(
        "ix_enrollments_due",
        "enrollments",
        ["next_run_at"],
        unique=False,
        postgresql_where=sa.text("status = 'ACTIVE'"),
        sqlite_where=sa.text("status = 'ACTIVE'"),
    )
    op.create_index(
        "ix_enrollments_resume",
        "enrollments",
        ["resume_at"],
        unique=False,
        postgresql_where=sa.text("status = 'PAUSED'"),
        sqlite_where=sa.text("status = 'PAUSED'"),
    )
    op.create_index(
        "ix_enrollments_seq_enrolled",
        "enrollments",
        ["sequence_id", "enrolled_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_enrollments_seq_enrolled_by",
        "enrollments",
        ["sequence_id", "enrolled_by_id"],
        unique=False,
    )
    op.create_index(
        "ix_enrollments_seq_status",
        "enrollments",
        ["sequence_id", "status", "enrolled_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_enrollments_seq_step", "enrollments", ["sequence_id", "current_step"], unique=False
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", ID, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_group_members_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_members_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "contact_id", name=op.f("pk_group_members")),
    )
    op.create_index(
        op.f("ix_group_members_contact_id"), "group_members", ["contact_id"], unique=False
    )
    op.create_table(
        "steps",
        sa.Column(
            "id",
            ID,
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("sequence_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            ENUM,
            nullable=False,
        ),
        sa.Column("wait_minutes", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sequence_id"],
            ["sequences.id"],
            name=op.f("fk_steps_sequence_id_sequences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_steps")),
        sa.UniqueConstraint("sequence_id", "position", name="uq_steps_sequence_position"),
    )
    op.create_table(
        "activities",
        sa.Column(
            "id",
            ID,
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("enrollment_id", ID, nullable=False),
        sa.Column(
            "kind",
            ENUM,
            nullable=False,
        ),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_activities_enrollment_id_enrollments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_activities_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_index("ix_activities_enrollment", "activities", ["enrollment_id", "id"], unique=False)
    op.create_table(
        "events",
        sa.Column(
            "id",
            ID,
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("sequence_id", ID, nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("enrollment_id", ID, nullable=False),
        sa.Column(
            "from_status",
            ENUM,
            nullable=True,
        ),
        sa.Column(
            "from_reason",
            ENUM,
            nullable=True,
        ),
        sa.Column(
            "to_status",
            ENUM,
            nullable=False,
        ),
        sa.Column(
            "to_reason",
            ENUM,
            nullable=True,
        ),
        sa.Column("actor_id", ID, nullable=True),
        sa.Column("bulk_operation_id", ID, nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_events_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["bulk_operation_id"],
            ["bulk_operations.id"],
            name=op.f("fk_events_bulk_operation_id_bulk_operations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["enrollments.id"],
            name=op.f("fk_events_enrollment_id_enrollments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sequence_id"],
            ["sequences.id"],
            name=op.f("fk_events_sequence_id_sequences"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("sequence_id", "number", name="uq_events_sequence_number"),
    )
    op.create_index("ix_events_enrollment", "events", ["enrollment_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # free-text search on contact name/email: ILIKE '%term%' served by a trigram index
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_contacts_search_trgm ON contacts USING gin (search_text gin_trgm_ops)"
        )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_contacts_search_trgm")

    op.drop_index("ix_events_enrollment", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_activities_enrollment", table_name="activities")
    op.drop_table("activities")
    op.drop_table("steps")
    op.drop_index(op.f("ix_group_members_contact_id"), table_name="group_members")
    op.drop_table("group_members")
    op.drop_index("ix_enrollments_seq_step", table_name="enrollments")
    op.drop_index("ix_enrollments_seq_status", table_name="enrollments")
    op.drop_index("ix_enrollments_seq_enrolled_by", table_name="enrollments")
    op.drop_index("ix_enrollments_seq_enrolled", table_name="enrollments")
    op.drop_index(
        "ix_enrollments_resume",
        table_name="enrollments",
        postgresql_where=sa.text("status = 'PAUSED'"),
        sqlite_where=sa.text("status = 'PAUSED'"),
    )
    op.drop_index(
        "ix_enrollments_due",
        table_name="enrollments",
        postgresql_where=sa.text("status = 'ACTIVE'"),
        sqlite_where=sa.text("status = 'ACTIVE'"),
    )
    op.drop_index("ix_enrollments_contact", table_name="enrollments")
    op.drop_table("enrollments")
    op.drop_table("bulk_operations")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_index("ix_sequences_workspace_id_id", table_name="sequences")
    op.drop_table("sequences")
    op.drop_table("idempotency_keys")
    op.drop_table("groups")
    op.drop_index("ix_contacts_workspace_id_id", table_name="contacts")
    op.drop_table("contacts")
    op.drop_table("workspaces")
