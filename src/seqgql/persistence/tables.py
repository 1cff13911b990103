"""The tables. Enum columns hold the domain enums directly (seqgql.domain)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from seqgql.domain.kinds import (
    ActivityKind,
    BulkActionKind,
    EmailProvider,
    InboundKind,
    PhoneType,
    ReportDecision,
    Role,
    StepChannel,
    WaitingFor,
)
from seqgql.domain.status import EnrollmentStatus, Outcome, StatusReason
from seqgql.domain.webhooks import DeliveryStatus, DisabledReason
from seqgql.persistence.types import enum_column, fk_column, id_column, ref_column, time_column

metadata = SQLModel.metadata
metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"

    id: int | None = Field(default=None, sa_column=id_column())
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    created_at: datetime = Field(sa_column=time_column())


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "email", name="uq_users_email"),)

    id: int | None = Field(default=None, sa_column=id_column())
    workspace_id: int = Field(sa_column=fk_column("workspaces.id"))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    email: str = Field(sa_column=sa.Column(sa.String(320), nullable=False))
    role: Role = Field(sa_column=enum_column(Role))
    created_at: datetime = Field(sa_column=time_column())


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, sa_column=id_column())
    user_id: int = Field(sa_column=fk_column("users.id", index=True))
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = Field(sa_column=time_column())
    # what the token is for, as its creator named it (null for tokens made before names)
    name: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
    # the first characters of the secret ("sqg_" and 8 more): enough to recognise it in a
    # list, never enough to use it (null for tokens made before prefixes were kept)
    prefix: str | None = Field(default=None, sa_column=sa.Column(sa.String(16), nullable=True))
    # the most the token may do; its user's role caps it (the lower of the two applies).
    # Null: the user's role (tokens made before tokens had roles)
    role: Role | None = Field(default=None, sa_column=enum_column(Role, nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    # when the token was last looked up, to the minute (written at most once a minute)
    last_used_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))


class Contact(SQLModel, table=True):
    __tablename__ = "contacts"
    __table_args__ = (sa.Index("ix_contacts_workspace_id_id", "workspace_id", "id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    workspace_id: int = Field(sa_column=fk_column("workspaces.id"))
    first_name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    last_name: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    email: str | None = Field(default=None, sa_column=sa.Column(sa.String(320)))
    phone: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    phone_type: PhoneType = Field(sa_column=enum_column(PhoneType))
    time_zone: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    opted_out: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, default=False)
    )
    # lower-cased "first last email": what free-text search matches (trigram-indexed on PG)
    search_text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # lower-cased "first last": the sort key for ordering by name
    sort_name: str = Field(sa_column=sa.Column(sa.String(401), nullable=False))
    created_at: datetime = Field(sa_column=time_column())


class Group(SQLModel, table=True):
    __tablename__ = "groups"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "name", name="uq_groups_name"),)

    id: int | None = Field(default=None, sa_column=id_column())
    workspace_id: int = Field(sa_column=fk_column("workspaces.id"))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = Field(sa_column=time_column())


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_members"

    group_id: int = Field(sa_column=fk_column("groups.id", primary_key=True))
    contact_id: int = Field(sa_column=fk_column("contacts.id", primary_key=True, index=True))
    added_at: datetime = Field(sa_column=time_column())


class Sequence(SQLModel, table=True):
    __tablename__ = "sequences"
    __table_args__ = (sa.Index("ix_sequences_workspace_id_id", "workspace_id", "id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    workspace_id: int = Field(sa_column=fk_column("workspaces.id"))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    archived: bool = Field(
        default=False, sa_column=sa.Column(sa.Boolean, nullable=False, default=False)
    )
    # turned off (deactivateSequence): sends nothing and changes no status
    active: bool = Field(
        default=True,
        sa_column=sa.Column(sa.Boolean, nullable=False, default=True, server_default=sa.true()),
    )
    cloned_from_id: int | None = Field(
        default=None, sa_column=fk_column("sequences.id", nullable=True)
    )
    # domain.rules.Ruleset as JSON; null: the defaults
    rules: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    # {"days": ["MONDAY", ...], "start": "09:00", "end": "17:00", "timeZone": "Europe/Paris"}
    sending_window: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    reply_window_minutes: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    # at most this many steps sent per sender (the enrolling user) per day; None: no limit
    daily_limit_per_sender: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))
    # the number of the sequence's last Event: event numbers are gapless per sequence
    last_event_number: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, default=0)
    )
    created_at: datetime = Field(sa_column=time_column())


class Step(SQLModel, table=True):
    __tablename__ = "steps"
    __table_args__ = (
        sa.UniqueConstraint("sequence_id", "position", name="uq_steps_sequence_position"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    sequence_id: int = Field(sa_column=fk_column("sequences.id"))
    position: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    channel: StepChannel = Field(sa_column=enum_column(StepChannel))
    wait_minutes: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    subject: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))


# what uq_enrollments_sequence_contact includes on PostgreSQL (migration 0004)
PAGE_PROBE_COLUMNS = ["id", "workspace_id", "status", "current_step", "enrolled_at"]


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollments"
    __table_args__ = (
        # On PostgreSQL the constraint's index also holds the columns a list filters and
        # sorts on: the page query finds a search's enrollments in a sequence by index only
        sa.UniqueConstraint(
            "sequence_id",
            "contact_id",
            name="uq_enrollments_sequence_contact",
            postgresql_include=PAGE_PROBE_COLUMNS,
        ),
        sa.Index("ix_enrollments_seq_enrolled", "sequence_id", "enrolled_at", "id"),
        sa.Index("ix_enrollments_seq_status", "sequence_id", "status", "enrolled_at", "id"),
        sa.Index("ix_enrollments_seq_step", "sequence_id", "current_step"),
        sa.Index("ix_enrollments_seq_enrolled_by", "sequence_id", "enrolled_by_id"),
        sa.Index("ix_enrollments_contact", "contact_id"),
        # the pauses of the rule whileActiveElsewhere, which the engine looks at every batch
        sa.Index(
            "ix_enrollments_paused_elsewhere",
            "contact_id",
            postgresql_where=sa.text("reason = 'ACTIVE_IN_OTHER_SEQUENCE'"),
            sqlite_where=sa.text("reason = 'ACTIVE_IN_OTHER_SEQUENCE'"),
        ),
        sa.Index("ix_enrollments_seq_changed", "sequence_id", "status_changed_at", "id"),
        sa.Index("ix_enrollments_seq_status_id", "sequence_id", "status", "id"),
        sa.Index(
            "ix_enrollments_seq_resume_at",
            "sequence_id",
            "resume_at",
            postgresql_where=sa.text("resume_at IS NOT NULL"),
            sqlite_where=sa.text("resume_at IS NOT NULL"),
        ),
        # also, made by migration 0011 (expression indexes): ix_enrollments_seq_next_send
        # (sequence_id, COALESCE(next_run_at, far future), id) and
        # ix_enrollments_seq_step_order (sequence_id, COALESCE(current_step, last), id)
        sa.Index(
            "ix_enrollments_seq_outcome",
            "sequence_id",
            "outcome",
            postgresql_where=sa.text("outcome IS NOT NULL"),
            sqlite_where=sa.text("outcome IS NOT NULL"),
        ),
        sa.Index(
            "ix_enrollments_due",
            "next_run_at",
            postgresql_where=sa.text("status = 'ACTIVE'"),
            sqlite_where=sa.text("status = 'ACTIVE'"),
        ),
        sa.Index(
            "ix_enrollments_resume",
            "resume_at",
            postgresql_where=sa.text("status = 'PAUSED'"),
            sqlite_where=sa.text("status = 'PAUSED'"),
        ),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    workspace_id: int = Field(sa_column=fk_column("workspaces.id"))
    sequence_id: int = Field(sa_column=fk_column("sequences.id"))
    contact_id: int = Field(sa_column=fk_column("contacts.id"))
    status: EnrollmentStatus = Field(sa_column=enum_column(EnrollmentStatus))
    reason: StatusReason | None = Field(
        default=None, sa_column=enum_column(StatusReason, nullable=True)
    )
    # how a FINISHED one ended (domain.status.outcome_of); null in other statuses
    outcome: Outcome | None = Field(default=None, sa_column=enum_column(Outcome, nullable=True))
    # the position of the step to send next (None once nothing is left to send)
    current_step: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))
    # the highest step position ever sent to this contact in this sequence
    last_sent_step: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, default=0)
    )
    enrolled_by_id: int | None = Field(default=None, sa_column=fk_column("users.id", nullable=True))
    enrolled_at: datetime = Field(sa_column=time_column())
    resume_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    next_run_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    updated_at: datetime = Field(sa_column=time_column())
    # when its status last changed (enrolled, paused, finished...): a step move, a new
    # resume date or a send does not count
    status_changed_at: datetime = Field(sa_column=time_column())
    version: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, default=0))
    # transient transport failures of the current step in a row (reset when it is sent)
    send_attempts: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
    )
    # a message handed to an outside transport whose outcome is not recorded yet: its key
    # (the Message-ID's), and until when the worker sending it holds the step (renewed
    # while it sends; once past, another worker takes the step up with the same key)
    sending_key: str | None = Field(default=None, sa_column=sa.Column(sa.String, nullable=True))
    sending_until: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    # while ACTIVE: what its step waits for, as the engine last decided (WaitingFor)
    waiting_for: WaitingFor | None = Field(
        default=None, sa_column=enum_column(WaitingFor, nullable=True)
    )
    # when it last stopped being ACTIVE (paused, finished, ...), and when its step was due
    # then (null: nothing was scheduled); resuming (or an undo) keeps the remaining wait
    # from them; cleared once ACTIVE again
    paused_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    paused_due_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    # REMOVED (MOVED): the enrollment it was moved to, in another sequence
    moved_to_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("enrollments.id", name="fk_enrollments_moved_to_id", ondelete="SET NULL"),
            nullable=True,
        ),
    )


class Activity(SQLModel, table=True):
    __tablename__ = "activities"
    __table_args__ = (sa.Index("ix_activities_enrollment", "enrollment_id", "id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    workspace_id: int = Field(sa_column=fk_column("workspaces.id"))
    enrollment_id: int = Field(sa_column=fk_column("enrollments.id"))
    kind: ActivityKind = Field(sa_column=enum_column(ActivityKind))
    step: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))
    at: datetime = Field(sa_column=time_column())
    detail: str | None = Field(default=None, sa_column=sa.Column(sa.Text))


class BulkOperation(SQLModel, table=True):
    __tablename__ = "bulk_operations"

    id: int | None = Field(default=None, sa_column=id_column())
    workspace_id: int = Field(sa_column=fk_column("workspaces.id"))
    kind: BulkActionKind = Field(sa_column=enum_column(BulkActionKind))
    actor_id: int | None = Field(default=None, sa_column=fk_column("users.id", nullable=True))
    changed_count: int = Field(
        default=0, sa_column=sa.Column(sa.Integer, nullable=False, default=0)
    )
    created_at: datetime = Field(sa_column=time_column())
    # the input as the client gave it (GraphQL names and ids), and what the call did
    # (BulkResult.to_json); null for operations recorded before they were kept
    options: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    result: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))


class Event(SQLModel, table=True):
    """The append-only log of status changes and activities; numbers are gapless per
    sequence. A status change has a ``to_status``; an activity (a message sent, a
    provider's report) has an ``activity`` kind and ``activity_id`` instead, its step in
    ``to_step``."""

    __tablename__ = "events"
    __table_args__ = (
        sa.UniqueConstraint("sequence_id", "number", name="uq_events_sequence_number"),
        # an enrollment's events, and those of one operation (what an undo looks up)
        sa.Index("ix_events_enrollment_operation", "enrollment_id", "bulk_operation_id", "id"),
        sa.Index("ix_events_bulk_operation", "bulk_operation_id", "id"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    # workspace, sequence, actor and operation ids carry no foreign keys: 5 checks per row
    # made a 100,000-row bulk action's event INSERT three times slower
    workspace_id: int = Field(sa_column=ref_column())
    sequence_id: int = Field(sa_column=ref_column())
    number: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    enrollment_id: int = Field(sa_column=fk_column("enrollments.id"))
    from_status: EnrollmentStatus | None = Field(
        default=None, sa_column=enum_column(EnrollmentStatus, nullable=True)
    )
    from_reason: StatusReason | None = Field(
        default=None, sa_column=enum_column(StatusReason, nullable=True)
    )
    to_status: EnrollmentStatus | None = Field(
        default=None, sa_column=enum_column(EnrollmentStatus, nullable=True)
    )
    to_reason: StatusReason | None = Field(
        default=None, sa_column=enum_column(StatusReason, nullable=True)
    )
    actor_id: int | None = Field(default=None, sa_column=ref_column(nullable=True))
    bulk_operation_id: int | None = Field(default=None, sa_column=ref_column(nullable=True))
    at: datetime = Field(sa_column=time_column())
    # the step before and after (a step move changes only these), the resume date and
    # outcome before, and the enrollment's version after: what undoing the change needs
    # (null for events written before they were kept)
    from_step: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))
    to_step: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))
    from_resume_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    from_outcome: Outcome | None = Field(
        default=None, sa_column=enum_column(Outcome, nullable=True)
    )
    version: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))
    # the sequence rule that made the change (domain.rules), if one did
    rule: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    # an activity's event: its kind and row (activities.id; no foreign key, like the ids
    # above)
    activity: ActivityKind | None = Field(
        default=None, sa_column=enum_column(ActivityKind, nullable=True)
    )
    activity_id: int | None = Field(default=None, sa_column=ref_column(nullable=True))


class SenderDay(SQLModel, table=True):
    """Steps sent per sequence, sender and day: what a sequence's daily limit counts.

    Kept only for sequences with a limit. ``sender_id`` is the enrolling user (0 when the
    enrollment has none); ``day`` is the date in the sequence's time zone."""

    __tablename__ = "sender_days"

    sequence_id: int = Field(sa_column=fk_column("sequences.id", primary_key=True))
    sender_id: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True))
    day: date = Field(sa_column=sa.Column(sa.Date, primary_key=True))
    sent: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, default=0))


class IdempotencyKey(SQLModel, table=True):
    """The first result of a bulk call made with an idempotency key."""

    __tablename__ = "idempotency_keys"

    workspace_id: int = Field(sa_column=fk_column("workspaces.id", primary_key=True))
    key: str = Field(sa_column=sa.Column(sa.String(200), primary_key=True))
    operation: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    request_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    response: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    created_at: datetime = Field(sa_column=time_column())


class InboundMessage(SQLModel, table=True):
    """An email read from the mailbox or posted to the inbound webhook, once per workspace
    and Message-ID (a message read again changes nothing), with what was decided."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "message_key", name="uq_inbound_messages_key"),
        sa.Index("ix_inbound_messages_enrollment", "enrollment_id"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    workspace_id: int = Field(sa_column=fk_column("workspaces.id"))
    # SHA-256 (hex) of the Message-ID, or of the whole message when it has none
    message_key: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    message_id: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    received_at: datetime = Field(sa_column=time_column())
    source: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))  # IMAP, WEBHOOK
    sender: str | None = Field(default=None, sa_column=sa.Column(sa.String(320)))
    subject: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    kind: InboundKind = Field(sa_column=enum_column(InboundKind))
    enrollment_id: int | None = Field(
        default=None, sa_column=fk_column("enrollments.id", nullable=True)
    )
    # APPLIED (status changed), RECORDED (activity only), UNMATCHED, IGNORED
    decision: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    detail: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # evidence, matching


class ProviderEvent(SQLModel, table=True):
    """An event an email provider's webhook posted (SendGrid, Mailgun), once per workspace,
    provider and the provider's event id (a retry changes nothing twice), with what was
    decided. Mailgun's signature token is kept too: one seen before is a replay."""

    __tablename__ = "provider_events"
    __table_args__ = (
        sa.UniqueConstraint(
            "workspace_id", "provider", "event_id", name="uq_provider_events_event_id"
        ),
        sa.UniqueConstraint("workspace_id", "provider", "token", name="uq_provider_events_token"),
        sa.Index("ix_provider_events_enrollment", "enrollment_id"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    workspace_id: int = Field(sa_column=fk_column("workspaces.id"))
    provider: EmailProvider = Field(sa_column=enum_column(EmailProvider))
    event_id: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    token: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    event: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))  # the provider's name
    received_at: datetime = Field(sa_column=time_column())
    occurred_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    enrollment_id: int | None = Field(
        default=None, sa_column=fk_column("enrollments.id", nullable=True)
    )
    decision: ReportDecision = Field(sa_column=enum_column(ReportDecision))
    detail: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # evidence, matching


class InboundCursor(SQLModel, table=True):
    """How far the IMAP poller has read a mailbox: its UIDVALIDITY and the last UID read."""

    __tablename__ = "inbound_cursors"

    mailbox: str = Field(sa_column=sa.Column(sa.String(400), primary_key=True))
    uid_validity: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    last_uid: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    updated_at: datetime = Field(sa_column=time_column())


class WebhookEndpoint(SQLModel, table=True):
    """Where a workspace's events are sent (Standard Webhooks), and with what secret."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (sa.Index("ix_webhook_endpoints_workspace_id_id", "workspace_id", "id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    workspace_id: int = Field(sa_column=fk_column("workspaces.id"))
    url: str = Field(sa_column=sa.Column(sa.String(2000), nullable=False))
    # the event types sent (domain.webhooks.WebhookEventType values)
    event_types: list[str] = Field(sa_column=sa.Column(sa.JSON, nullable=False))
    # the sequences whose events are sent (their ids); null: every sequence of the
    # workspace, those created later included
    sequence_ids: list[int] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON(none_as_null=True), nullable=True)
    )
    # kept as is: it signs every message (whsec_...)
    secret: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    # the secret before the last rotation, signing beside it until previous_secret_until
    previous_secret: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    previous_secret_until: datetime | None = Field(
        default=None, sa_column=time_column(nullable=True)
    )
    enabled: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False))
    disabled_reason: DisabledReason | None = Field(
        default=None, sa_column=enum_column(DisabledReason, nullable=True)
    )
    disabled_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    # the first failed attempt since the last success (null: the last attempt succeeded)
    failing_since: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    created_at: datetime = Field(sa_column=time_column())
    updated_at: datetime = Field(sa_column=time_column())


class WebhookLane(SQLModel, table=True):
    """An endpoint's place in one sequence's event log: the events up to ``number`` are
    delivered (or not for it); the next one is sent when ``next_attempt_at`` has come
    (null: at once) by the worker holding the lane until ``lease_until``."""

    __tablename__ = "webhook_lanes"

    endpoint_id: int = Field(sa_column=fk_column("webhook_endpoints.id", primary_key=True))
    sequence_id: int = Field(sa_column=fk_column("sequences.id", primary_key=True, index=True))
    number: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False))
    # failed attempts of the event after ``number``
    attempts: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    lease_until: datetime | None = Field(default=None, sa_column=time_column(nullable=True))
    lease_owner: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))


class WebhookDelivery(SQLModel, table=True):
    """One attempt to deliver one event to one endpoint, and what came of it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (sa.Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),)

    id: int | None = Field(default=None, sa_column=id_column())
    workspace_id: int = Field(sa_column=ref_column())
    endpoint_id: int = Field(sa_column=fk_column("webhook_endpoints.id"))
    sequence_id: int = Field(sa_column=ref_column())
    event_number: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    event_type: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    message_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    attempt: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    status: DeliveryStatus = Field(sa_column=enum_column(DeliveryStatus))
    status_code: int | None = Field(default=None, sa_column=sa.Column(sa.Integer))
    latency_ms: float | None = Field(default=None, sa_column=sa.Column(sa.Float))
    # the start of the receiver's answer (at most 1 KB), or what went wrong before one
    response: str | None = Field(default=None, sa_column=sa.Column(sa.String(1024)))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    attempted_at: datetime = Field(sa_column=time_column())
    # when the next attempt is due (null: none; delivered, given up or endpoint disabled)
    next_attempt_at: datetime | None = Field(default=None, sa_column=time_column(nullable=True))


def _table(model: type[SQLModel]) -> sa.Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


workspaces = _table(Workspace)
users = _table(User)
api_tokens = _table(ApiToken)
contacts = _table(Contact)
groups = _table(Group)
group_members = _table(GroupMember)
sequences = _table(Sequence)
steps = _table(Step)
enrollments = _table(Enrollment)
activities = _table(Activity)
bulk_operations = _table(BulkOperation)
events = _table(Event)
idempotency_keys = _table(IdempotencyKey)
sender_days = _table(SenderDay)
inbound_messages = _table(InboundMessage)
inbound_cursors = _table(InboundCursor)
provider_events = _table(ProviderEvent)
webhook_endpoints = _table(WebhookEndpoint)
webhook_lanes = _table(WebhookLane)
webhook_deliveries = _table(WebhookDelivery)
