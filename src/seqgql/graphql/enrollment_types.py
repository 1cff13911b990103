"""The Enrollment and Contact nodes, which point at each other (an enrollment is one
contact in one sequence; a contact lists its enrollments), and their plain connections."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from seqgql.graphql.activity_types import ActivityConnection, ActivityType
from seqgql.graphql.context import loaded
from seqgql.graphql.enums import EnrollmentOutcome, EnrollmentStatus, PhoneType, StatusReason
from seqgql.graphql.next_send_types import NextSend, Schedule, next_send
from seqgql.graphql.node import KNOWN_VALUE, ContextInfo, Node
from seqgql.graphql.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    Lazy,
    edges,
    global_id,
    listing_connection,
    page_info,
    page_request,
    paged,
)
from seqgql.graphql.sequence_types import SequenceType
from seqgql.graphql.user_types import UserType
from seqgql.persistence.types import Row
from seqgql.services.enrollments.history import activity_counts, activity_page
from seqgql.services.enrollments.memberships import contact_enrollment_listing
from seqgql.services.enrollments.page_read import PageRow


@strawberry.type(
    name="Contact",
    description="A person reached by sequences: the addresses steps go to, and the time "
    "zone their sending windows are read in.",
)
class ContactType(Node):
    first_name: str = strawberry.field(description="Given name.")
    last_name: str | None = strawberry.field(description="Family name; null if none.")
    email: str | None = strawberry.field(
        description="Email address (normalised); null if none, and then email steps are "
        "NOT_SENT (MISSING_EMAIL)."
    )
    phone: str | None = strawberry.field(
        description="Phone number in E.164 form (`+15551234567`); null if none, and then "
        "SMS steps are NOT_SENT (MISSING_PHONE)."
    )
    phone_type: PhoneType = strawberry.field(
        description="Whether the phone can receive SMS (a LANDLINE cannot)."
    )
    time_zone: str | None = strawberry.field(
        description="IANA time zone (e.g. `America/New_York`) in which sending windows are "
        "read for this contact; null: the window's own time zone."
    )
    opted_out: bool = strawberry.field(
        description="Opted out of all messages (global): no sequence sends to the contact, "
        "new enrollments are OMITTED and sendMessage skips them."
    )
    created_at: datetime = strawberry.field(description="When the contact was created.")
    pk: strawberry.Private[int]

    @strawberry.field(description="First and last name.")
    def name(self) -> str:
        return f"{self.first_name} {self.last_name or ''}".strip()

    @strawberry.field(
        description="The sequences the contact is in: their enrollments across the "
        "workspace, in the order they were made."
    )
    async def enrollments(
        self,
        info: ContextInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        include_removed: Annotated[
            bool,
            strawberry.argument(description="Include the enrollments that were REMOVED."),
        ] = False,
    ) -> ContactEnrollmentConnection:
        ctx = info.context
        listing = contact_enrollment_listing(ctx.workspace_id, self.pk, include_removed)
        request = page_request(first, after, last, before)
        return await listing_connection(
            ContactEnrollmentConnection, ctx.db, listing, request, EnrollmentType.from_row
        )

    @classmethod
    def from_row(cls, row: Row) -> ContactType:
        return cls(
            id=global_id("Contact", row.id),
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            phone=row.phone,
            phone_type=row.phone_type,
            time_zone=row.time_zone,
            opted_out=row.opted_out,
            created_at=row.created_at,
            pk=row.id,
        )


@strawberry.type(description="Contacts, a page at a time, in the order they were created.")
class ContactConnection(Connection[ContactType]):
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
    outcome: EnrollmentOutcome | None = strawberry.field(
        description="How it ended, once FINISHED: RESPONDED, NO_RESPONSE or STOPPED (a "
        "user's finish); null in other statuses."
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
    status_changed_at: datetime = strawberry.field(
        description="When its status last changed (enrolled, paused, finished, ...); a step "
        "move, a new resume date or a sent step does not count."
    )
    pk: strawberry.Private[int]
    contact_pk: strawberry.Private[int]
    sequence_pk: strawberry.Private[int]
    enrolled_by_pk: strawberry.Private[int | None]
    moved_to_pk: strawberry.Private[int | None] = None
    schedule: strawberry.Private[Schedule | None] = None
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

    @strawberry.field(
        description="The next step to be sent, when, and what it waits for (the sending "
        "window, a daily limit, a retry, the transport, a pause, the sequence turned off); "
        "null when nothing is to be sent (finished, removed, every step sent...)."
    )
    async def next_send(self, info: ContextInfo) -> NextSend | None:
        assert self.schedule is not None
        return await next_send(info, self.schedule)

    @strawberry.field(
        description="REMOVED with reason MOVED: the enrollment in the sequence it was moved "
        "to; null otherwise."
    )
    async def moved_to(self, info: ContextInfo) -> EnrollmentType | None:
        return await loaded(
            info.context.loaders.enrollments, self.moved_to_pk, EnrollmentType.from_row
        )

    @strawberry.field(description="What was sent and what came back, oldest first.")
    async def activities(
        self,
        info: ContextInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ActivityConnection:
        ctx = info.context
        request = page_request(first, after, last, before)
        page = await paged(activity_page(ctx.db, ctx.workspace_id, self.pk, request))
        return ActivityConnection(
            edges=edges(page, ActivityType.from_row),
            page_info=page_info(page),
            count=Lazy(lambda: activity_counts(ctx.db, ctx.workspace_id, self.pk)),
        )

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
            outcome=row.outcome,
            current_step=row.current_step,
            enrolled_at=row.enrolled_at,
            resume_at=row.resume_at,
            next_run_at=row.next_run_at,
            finished_at=row.finished_at,
            updated_at=row.updated_at,
            status_changed_at=row.status_changed_at,
            pk=row.id,
            contact_pk=row.contact_id,
            sequence_pk=row.sequence_id,
            enrolled_by_pk=row.enrolled_by_id,
            moved_to_pk=row.moved_to_id,
            schedule=Schedule(
                status=row.status,
                sequence_pk=row.sequence_id,
                current_step=row.current_step,
                next_run_at=row.next_run_at,
                waiting_for=row.waiting_for,
                resume_at=row.resume_at,
                paused_at=row.paused_at,
                paused_due_at=row.paused_due_at,
            ),
            known_contact=known_contact,
            known_enrolled_by=known_enrolled_by,
        )


@strawberry.type(description="A contact's enrollments, a page at a time, oldest first.")
class ContactEnrollmentConnection(Connection[EnrollmentType]):
    pass
