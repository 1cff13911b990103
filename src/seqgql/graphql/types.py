"""The node types. Each is built from a database row; related objects come from the
request's batch loaders, so a page of N rows costs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from seqgql.domain.sequence import SendingWindow as SendingWindowSpec
from seqgql.events.log import EventCursor
from seqgql.graphql.context import Context
from seqgql.graphql.enums import (
    ActivityKind,
    EnrollmentStatus,
    PhoneType,
    Role,
    StatusReason,
    StepChannel,
    Weekday,
)
from seqgql.graphql.fastpath import KNOWN_VALUE
from seqgql.graphql.ids import to_global_id
from seqgql.persistence.types import Row
from seqgql.services.enrollment_queries import PAGE_COLUMNS

# the layout from_page_rows unpacks (checked against the query's columns at import)
_PAGE_LAYOUT = (
    "id", "sequence_id", "contact_id", "status", "reason", "current_step", "enrolled_by_id",
    "enrolled_at", "resume_at", "next_run_at", "finished_at", "updated_at",
    "contact__id", "contact__first_name", "contact__last_name", "contact__email",
    "contact__phone", "contact__phone_type", "contact__time_zone", "contact__opted_out",
    "contact__created_at",
    "enrolled_by__id", "enrolled_by__name", "enrolled_by__email", "enrolled_by__role",
)  # fmt: skip
_PAGE_WIDTH = len(_PAGE_LAYOUT)
if tuple(c.name for c in PAGE_COLUMNS) != _PAGE_LAYOUT:  # pragma: no cover
    raise RuntimeError("EnrollmentType.from_page_rows does not match PAGE_COLUMNS")

if TYPE_CHECKING:
    from seqgql.graphql.connections import ActivityConnection, ContactConnection


ContextInfo = Info[Context, None]


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type(description="The number of enrollments in one status.")
class StatusCount:
    status: EnrollmentStatus
    count: int


def status_count_list(counts: dict[EnrollmentStatus, int]) -> list[StatusCount]:
    """Every status, in the model's order, zero where none."""
    return [StatusCount(status=s, count=counts.get(s, 0)) for s in EnrollmentStatus]


@strawberry.type(name="User", description="A member of the workspace.")
class UserType(Node):
    name: str
    email: str
    role: Role

    @classmethod
    def from_row(cls, row: Row) -> UserType:
        return cls(id=strawberry.ID(to_global_id("User", row.id)), name=row.name,
                   email=row.email, role=row.role)  # fmt: skip


@strawberry.type(name="Contact", description="A person reached by sequences.")
class ContactType(Node):
    first_name: str
    last_name: str | None
    email: str | None
    phone: str | None
    phone_type: PhoneType
    time_zone: str | None
    opted_out: bool = strawberry.field(description="Opted out of all messages (global).")
    created_at: datetime

    @strawberry.field(description="First and last name.")
    def name(self) -> str:
        return f"{self.first_name} {self.last_name or ''}".strip()

    @classmethod
    def from_row(cls, row: Row) -> ContactType:
        return cls(
            id=strawberry.ID(to_global_id("Contact", row.id)),
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            phone=row.phone,
            phone_type=row.phone_type,
            time_zone=row.time_zone,
            opted_out=row.opted_out,
            created_at=row.created_at,
        )


@strawberry.type(name="Group", description="A named set of contacts.")
class GroupType(Node):
    name: str
    pk: strawberry.Private[int]

    @strawberry.field
    async def contacts(
        self, info: ContextInfo, first: int | None = None, after: str | None = None
    ) -> Annotated[ContactConnection, strawberry.lazy("seqgql.graphql.connections")]:
        from seqgql.graphql.connections import group_contacts

        return await group_contacts(info.context, self.pk, first, after)

    @classmethod
    def from_row(cls, row: Row) -> GroupType:
        return cls(id=strawberry.ID(to_global_id("Group", row.id)), name=row.name, pk=row.id)


@strawberry.type(description="One touch of a sequence.")
class Step:
    position: int
    channel: StepChannel
    wait_minutes: int = strawberry.field(description="How long after the previous step.")
    subject: str | None
    body: str

    @classmethod
    def from_row(cls, row: Row) -> Step:
        return cls(position=row.position, channel=row.channel, wait_minutes=row.wait_minutes,
                   subject=row.subject, body=row.body)  # fmt: skip


@strawberry.type(description="When steps may be sent, in the contact's time zone.")
class SendingWindow:
    days: list[Weekday]
    start: str
    end: str
    time_zone: str = strawberry.field(description="For contacts without a time zone.")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SendingWindow:
        spec = SendingWindowSpec.from_json(data)
        return cls(days=list(spec.days), start=spec.start, end=spec.end,
                   time_zone=spec.time_zone)  # fmt: skip


@strawberry.type(name="Sequence", description="An ordered list of steps contacts go through.")
class SequenceType(Node):
    name: str
    archived: bool
    reply_window_minutes: int = strawberry.field(
        description="After the last step, how long to wait for a reply before finishing."
    )
    sending_window: SendingWindow | None
    daily_limit_per_sender: int | None = strawberry.field(
        description="Steps sent per sender per day at most (null: no limit)."
    )
    created_at: datetime
    event_cursor: str = strawberry.field(
        description="The position of the sequence's latest status change: read it with a "
        "page of enrollments, then subscribe with `since` to miss nothing in between."
    )
    pk: strawberry.Private[int]
    cloned_from_pk: strawberry.Private[int | None]

    @strawberry.field
    async def cloned_from(self, info: ContextInfo) -> SequenceType | None:
        if self.cloned_from_pk is None:
            return None
        row = await info.context.loaders.sequences.load(self.cloned_from_pk)
        return SequenceType.from_row(row) if row else None

    @strawberry.field
    async def steps(self, info: ContextInfo) -> list[Step]:
        rows = await info.context.loaders.steps.load(self.pk) or []
        return [Step.from_row(r) for r in rows]

    @strawberry.field(description="Enrollments per status, every status listed.")
    async def status_counts(self, info: ContextInfo) -> list[StatusCount]:
        counts = await info.context.loaders.sequence_counts.load(self.pk) or {}
        return status_count_list(counts)

    @classmethod
    def from_row(cls, row: Row) -> SequenceType:
        return cls(
            id=strawberry.ID(to_global_id("Sequence", row.id)),
            name=row.name,
            archived=row.archived,
            reply_window_minutes=row.reply_window_minutes,
            sending_window=SendingWindow.from_json(row.sending_window)
            if row.sending_window
            else None,
            daily_limit_per_sender=row.daily_limit_per_sender,
            created_at=row.created_at,
            event_cursor=EventCursor(row.id, row.last_event_number).encode(),
            pk=row.id,
            cloned_from_pk=row.cloned_from_id,
        )


@strawberry.type(name="Activity", description="Something sent to or heard from a contact.")
class ActivityType(Node):
    kind: ActivityKind
    step: int | None
    at: datetime
    detail: str | None

    @classmethod
    def from_row(cls, row: Row) -> ActivityType:
        return cls(id=strawberry.ID(to_global_id("Activity", row.id)), kind=row.kind,
                   step=row.step, at=row.at, detail=row.detail)  # fmt: skip


@strawberry.type(name="Enrollment", description="One contact in one sequence.")
class EnrollmentType(Node):
    status: EnrollmentStatus
    reason: StatusReason | None
    current_step: int | None = strawberry.field(description="The position of the next step.")
    enrolled_at: datetime
    resume_at: datetime | None = strawberry.field(description="When a pause ends by itself.")
    next_run_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    pk: strawberry.Private[int]
    contact_pk: strawberry.Private[int]
    sequence_pk: strawberry.Private[int]
    enrolled_by_pk: strawberry.Private[int | None]
    # filled when the row came with its contact and user (a page of enrollments)
    known_contact: strawberry.Private[ContactType | None] = None
    known_enrolled_by: strawberry.Private[UserType | None] = None

    # Plain (not async) resolvers: a page already holds its contacts and users, and
    # returning them directly spares ~100 asyncio tasks per page. Other rows return an
    # awaitable, which GraphQL awaits.
    @strawberry.field(metadata={KNOWN_VALUE: "known_contact"})
    def contact(self, info: ContextInfo) -> ContactType:
        if self.known_contact is not None:
            return self.known_contact
        return self._load_contact(info)  # type: ignore[return-value]

    async def _load_contact(self, info: ContextInfo) -> ContactType:
        row = await info.context.loaders.contacts.load(self.contact_pk)
        assert row is not None
        return ContactType.from_row(row)

    @strawberry.field
    async def sequence(self, info: ContextInfo) -> SequenceType:
        row = await info.context.loaders.sequences.load(self.sequence_pk)
        assert row is not None
        return SequenceType.from_row(row)

    @strawberry.field(metadata={KNOWN_VALUE: "known_enrolled_by"})
    def enrolled_by(self, info: ContextInfo) -> UserType | None:
        if self.known_enrolled_by is not None or self.enrolled_by_pk is None:
            return self.known_enrolled_by
        return self._load_enrolled_by(info)  # type: ignore[return-value]

    async def _load_enrolled_by(self, info: ContextInfo) -> UserType | None:
        assert self.enrolled_by_pk is not None
        row = await info.context.loaders.users.load(self.enrolled_by_pk)
        return UserType.from_row(row) if row else None

    @strawberry.field(description="What was sent and what came back, oldest first.")
    async def activities(
        self, info: ContextInfo, first: int | None = None, after: str | None = None
    ) -> Annotated[ActivityConnection, strawberry.lazy("seqgql.graphql.connections")]:
        from seqgql.graphql.connections import enrollment_activities

        return await enrollment_activities(info.context, self.pk, first, after)

    @classmethod
    def from_page_rows(cls, rows: Sequence[Row]) -> list[EnrollmentType]:
        """From rows of ``enrollment_queries.PAGE_COLUMNS``: each node holds its contact
        and its enrolling user (one object per user of the page). The rows are read by
        position (a row's attributes cost ~1 µs each; a page reads 1,250 of them)."""
        nodes = []
        users: dict[int, UserType] = {}
        for row in rows:
            (pk, sequence_id, contact_id, status, reason, current_step, enrolled_by_id,
             enrolled_at, resume_at, next_run_at, finished_at, updated_at,
             c_pk, first_name, last_name, c_email, phone, phone_type, time_zone, opted_out,
             c_created_at, u_pk, u_name, u_email, u_role) = row[:_PAGE_WIDTH]  # fmt: skip
            user = None
            if u_pk is not None:
                user = users.get(u_pk)
                if user is None:
                    user = users[u_pk] = UserType(
                        id=strawberry.ID(to_global_id("User", u_pk)),
                        name=u_name,
                        email=u_email,
                        role=u_role,
                    )
            contact = ContactType(
                id=strawberry.ID(to_global_id("Contact", c_pk)),
                first_name=first_name,
                last_name=last_name,
                email=c_email,
                phone=phone,
                phone_type=phone_type,
                time_zone=time_zone,
                opted_out=opted_out,
                created_at=c_created_at,
            )
            nodes.append(
                cls(
                    id=strawberry.ID(to_global_id("Enrollment", pk)),
                    status=status,
                    reason=reason,
                    current_step=current_step,
                    enrolled_at=enrolled_at,
                    resume_at=resume_at,
                    next_run_at=next_run_at,
                    finished_at=finished_at,
                    updated_at=updated_at,
                    pk=pk,
                    contact_pk=contact_id,
                    sequence_pk=sequence_id,
                    enrolled_by_pk=enrolled_by_id,
                    known_contact=contact,
                    known_enrolled_by=user,
                )
            )
        return nodes

    @classmethod
    def from_row(cls, row: Row) -> EnrollmentType:
        return cls(
            id=strawberry.ID(to_global_id("Enrollment", row.id)),
            status=row.status,
            reason=row.reason,
            current_step=row.current_step,
            enrolled_at=row.enrolled_at,
            resume_at=row.resume_at,
            next_run_at=row.next_run_at,
            finished_at=row.finished_at,
            updated_at=row.updated_at,
            pk=row.id,
            contact_pk=row.contact_id,
            sequence_pk=row.sequence_id,
            enrolled_by_pk=row.enrolled_by_id,
        )
