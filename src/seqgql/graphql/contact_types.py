"""The Contact and Group nodes, and the connection that lists contacts."""

from __future__ import annotations

from datetime import datetime

import strawberry

from seqgql.graphql.context import Context
from seqgql.graphql.enums import PhoneType
from seqgql.graphql.node import ContextInfo, Node
from seqgql.graphql.relay import Connection, global_id, listing_connection
from seqgql.persistence.types import Row
from seqgql.services.contacts.groups import group_contact_listing
from seqgql.services.contacts.roster import contact_listing
from seqgql.services.reads import Listing


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


@strawberry.type
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


@strawberry.type(name="Group", description="A named set of contacts.")
class GroupType(Node):
    name: str
    pk: strawberry.Private[int]

    @strawberry.field(description="The group's contacts, in the order they were created.")
    async def contacts(
        self, info: ContextInfo, first: int | None = None, after: str | None = None
    ) -> ContactConnection:
        ctx = info.context
        return await contact_page(
            ctx, group_contact_listing(ctx.workspace_id, self.pk), first, after
        )

    @classmethod
    def from_row(cls, row: Row) -> GroupType:
        return cls(id=global_id("Group", row.id), name=row.name, pk=row.id)
