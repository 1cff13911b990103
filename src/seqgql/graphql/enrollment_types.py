"""The Enrollment and Activity nodes, and their connections: the enrollments of a
sequence (the Contacts tab, with its status counts) and an enrollment's history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import strawberry

from seqgql.domain.selection import EnrollmentFilter
from seqgql.graphql.contact_types import ContactType
from seqgql.graphql.context import Context
from seqgql.graphql.enums import ActivityKind, EnrollmentStatus, StatusReason
from seqgql.graphql.node import KNOWN_VALUE, ContextInfo, Node
from seqgql.graphql.relay import (
    After,
    Connection,
    Edge,
    First,
    Lazy,
    edges,
    global_id,
    page_info,
    paged,
)
from seqgql.graphql.sequence_types import SequenceType, StatusCount, status_count_list
from seqgql.graphql.user_types import UserType
from seqgql.persistence.types import Row
from seqgql.services.enrollments.history import activity_counts, activity_page
from seqgql.services.enrollments.page import PageRow, status_counts, total_from_counts
from seqgql.services.pagination import Page


@strawberry.type(
    name="Activity",
    description="One entry of an enrollment's history: a message sent to the contact, or "
    "what came back (a provider's report, a failure).",
)
class ActivityType(Node):
    kind: ActivityKind = strawberry.field(description="What happened.")
    step: int | None = strawberry.field(
        description="The position of the step concerned: the step sent or refused, or, for "
        "a provider's report, the last step sent. Null for sendMessage messages."
    )
    at: datetime = strawberry.field(
        description="When it happened: a report's `occurredAt` when given, else when it was "
        "recorded."
    )
    detail: str | None = strawberry.field(
        description="Free text: a step's subject (or its body's first 200 characters), a "
        "sendMessage body, a report's `detail`, or why a message failed."
    )

    @classmethod
    def from_row(cls, row: Row) -> ActivityType:
        return cls(
            id=global_id("Activity", row.id),
            kind=row.kind,
            step=row.step,
            at=row.at,
            detail=row.detail,
        )


@strawberry.type(description="An enrollment's history, a page at a time, oldest first.")
class ActivityConnection(Connection[ActivityType]):
    pass


@strawberry.type(
    name="Enrollment",
    description="One contact in one sequence (a contact is enrolled at most once per "
    "sequence): where they stand, and what was sent and came back.",
)
class EnrollmentType(Node):
    status: EnrollmentStatus = strawberry.field(
        description="Where the enrollment stands (EnrollmentStatus says what sets each)."
    )
    reason: StatusReason | None = strawberry.field(
        description="Why it is in its status: set for PAUSED, FINISHED, NOT_SENT and "
        "OMITTED, null for the others."
    )
    current_step: int | None = strawberry.field(
        description="The position (from 1) of the step to send next; null once the last "
        "step was sent, and for OMITTED enrollments."
    )
    enrolled_at: datetime = strawberry.field(
        description="When the contact was enrolled, or last re-enrolled."
    )
    resume_at: datetime | None = strawberry.field(
        description="When a pause ends by itself: the engine makes the enrollment ACTIVE "
        "then. Null: no auto-resume."
    )
    next_run_at: datetime | None = strawberry.field(
        description="While ACTIVE, when the engine next acts: the current step falls due "
        "(and goes out at the sending window's next opening), or, after the last step, the "
        "reply window ends. Null in other statuses."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it last became FINISHED; cleared by re-enrollment."
    )
    updated_at: datetime = strawberry.field(
        description="When its status, step or resume time last changed."
    )
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
    @strawberry.field(metadata={KNOWN_VALUE: "known_contact"}, description="The contact enrolled.")
    def contact(self, info: ContextInfo) -> ContactType:
        if self.known_contact is not None:
            return self.known_contact
        return self._load_contact(info)  # type: ignore[return-value]

    async def _load_contact(self, info: ContextInfo) -> ContactType:
        row = await info.context.loaders.contacts.load(self.contact_pk)
        assert row is not None
        return ContactType.from_row(row)

    @strawberry.field(description="The sequence the contact is enrolled in.")
    async def sequence(self, info: ContextInfo) -> SequenceType:
        row = await info.context.loaders.sequences.load(self.sequence_pk)
        assert row is not None
        return SequenceType.from_row(row)

    @strawberry.field(
        metadata={KNOWN_VALUE: "known_enrolled_by"},
        description="The user who enrolled (or last re-enrolled) the contact: the sender "
        "the sequence's daily limit counts. Null if that user no longer exists.",
    )
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
        self, info: ContextInfo, first: First = None, after: After = None
    ) -> ActivityConnection:
        ctx = info.context
        page = await paged(
            activity_page(ctx.db, ctx.workspace_id, self.pk, first=first, after=after)
        )
        return ActivityConnection(
            edges=edges(page, ActivityType.from_row),
            page_info=page_info(page, after is not None),
            count=Lazy(lambda: activity_counts(ctx.db, ctx.workspace_id, self.pk)),
        )

    @classmethod
    def from_page_rows(cls, rows: Sequence[PageRow]) -> list[EnrollmentType]:
        """Each node holds its contact and its enrolling user (one object per user)."""
        nodes = []
        users: dict[int, UserType] = {}
        for row in rows:
            user = None
            user_pk = row.enrolled_by_id
            if user_pk is not None and row.enrolled_by_name is not None:
                user = users.get(user_pk)
                if user is None:
                    user = users[user_pk] = UserType(
                        id=global_id("User", user_pk),
                        name=row.enrolled_by_name,
                        email=row.enrolled_by_email,  # type: ignore[arg-type]
                        role=row.enrolled_by_role,  # type: ignore[arg-type]
                    )
            contact = ContactType(
                id=global_id("Contact", row.contact_id),
                first_name=row.contact_first_name,
                last_name=row.contact_last_name,
                email=row.contact_email,
                phone=row.contact_phone,
                phone_type=row.contact_phone_type,
                time_zone=row.contact_time_zone,
                opted_out=row.contact_opted_out,
                created_at=row.contact_created_at,
            )
            nodes.append(cls.from_row(row, known_contact=contact, known_enrolled_by=user))
        return nodes

    @classmethod
    def from_row(
        cls,
        row: Row | PageRow,
        *,
        known_contact: ContactType | None = None,
        known_enrolled_by: UserType | None = None,
    ) -> EnrollmentType:
        """From an enrollment's row (or a page row: the same names), with its contact
        and enrolling user when they came with it."""
        return cls(
            id=global_id("Enrollment", row.id),
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
            known_contact=known_contact,
            known_enrolled_by=known_enrolled_by,
        )


@strawberry.type(
    description="A page of a sequence's enrollments (the Contacts tab), with the counts per "
    "status its tab bar shows."
)
class EnrollmentConnection(Connection[EnrollmentType]):
    counts: strawberry.Private[Lazy]
    flt: strawberry.Private[EnrollmentFilter]

    @strawberry.field(description="How many match, over all pages.")
    async def total_count(self) -> int:
        counts: dict[EnrollmentStatus, int] = await self.counts.get()
        return total_from_counts(counts, self.flt)

    @strawberry.field(
        description="Counts per status for the same filter without its status part "
        "(removed included): the numbers of a status tab bar."
    )
    async def status_counts(self) -> list[StatusCount]:
        return status_count_list(await self.counts.get())


def enrollment_connection(
    ctx: Context,
    sequence_id: int,
    flt: EnrollmentFilter,
    page: Page[PageRow],
    had_cursor: bool,
    known_counts: dict[EnrollmentStatus, int] | None,
) -> EnrollmentConnection:
    """A page of the Contacts tab; its counts as given, else read when first asked for."""
    if known_counts is not None:
        counts = Lazy.of(known_counts)
    else:
        counts = Lazy(lambda: status_counts(ctx.db, ctx.actor, sequence_id, flt))
    nodes = EnrollmentType.from_page_rows(page.rows)
    return EnrollmentConnection(
        edges=[Edge(cursor=c, node=n) for n, c in zip(nodes, page.cursors, strict=True)],
        page_info=page_info(page, had_cursor),
        count=counts,
        counts=counts,
        flt=flt,
    )
