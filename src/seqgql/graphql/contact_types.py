"""The Contact and Group nodes, and the connection that lists contacts."""

from __future__ import annotations

from datetime import datetime

import strawberry

from seqgql.graphql.context import Context
from seqgql.graphql.enums import PhoneType
from seqgql.graphql.node import ContextInfo, Node
from seqgql.graphql.relay import After, Connection, First, global_id, listing_connection
from seqgql.persistence.types import Row
from seqgql.services.contacts.groups import group_contact_listing
from seqgql.services.contacts.roster import contact_listing
from seqgql.services.reads import Listing


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

    @strawberry.field(description="First and last name.")
    def name(self) -> str:
        return f"{self.first_name} {self.last_name or ''}".strip()

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
        )


@strawberry.type(description="Contacts, a page at a time, in the order they were created.")
class ContactConnection(Connection[ContactType]):
    pass


async def contact_page(
    ctx: Context, listing: Listing, first: int | None, after: str | None
) -> ContactConnection:
    return await listing_connection(
        ContactConnection, ctx.db, listing, first, after, ContactType.from_row
    )


async def contact_list(
    ctx: Context, search: str | None, first: int | None, after: str | None
) -> ContactConnection:
    return await contact_page(ctx, contact_listing(ctx.workspace_id, search), first, after)


@strawberry.type(
    name="Group",
    description="A named set of contacts, to filter enrollments by (`groupId`) or to "
    "gather contacts in (addEnrollmentsToGroup).",
)
class GroupType(Node):
    name: str = strawberry.field(description="Its name, unique in the workspace.")
    pk: strawberry.Private[int]

    @strawberry.field(description="The group's contacts, in the order they were created.")
    async def contacts(
        self, info: ContextInfo, first: First = None, after: After = None
    ) -> ContactConnection:
        ctx = info.context
        return await contact_page(
            ctx, group_contact_listing(ctx.workspace_id, self.pk), first, after
        )

    @classmethod
    def from_row(cls, row: Row) -> GroupType:
        return cls(id=global_id("Group", row.id), name=row.name, pk=row.id)
