"""The Group node, and the lists of contacts (the workspace's, a group's)."""

from __future__ import annotations

import strawberry

from seqgql.graphql.context import Context
from seqgql.graphql.enrollment_types import ContactConnection, ContactType
from seqgql.graphql.node import ContextInfo, Node
from seqgql.graphql.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    global_id,
    listing_connection,
    page_request,
)
from seqgql.persistence.types import Row
from seqgql.services.contacts.groups import group_contact_listing, group_listing
from seqgql.services.contacts.roster import contact_listing
from seqgql.services.pagination import PageRequest


async def contact_list(ctx: Context, search: str | None, request: PageRequest) -> ContactConnection:
    """The workspace's contacts (those matching ``search``), a page at a time."""
    listing = contact_listing(ctx.workspace_id, search)
    return await listing_connection(
        ContactConnection, ctx.db, listing, request, ContactType.from_row
    )


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
        self,
        info: ContextInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ContactConnection:
        ctx = info.context
        listing = group_contact_listing(ctx.workspace_id, self.pk)
        request = page_request(first, after, last, before)
        return await listing_connection(
            ContactConnection, ctx.db, listing, request, ContactType.from_row
        )

    @classmethod
    def from_row(cls, row: Row) -> GroupType:
        return cls(id=global_id("Group", row.id), name=row.name, pk=row.id)


@strawberry.type(description="Groups, a page at a time, by name.")
class GroupConnection(Connection[GroupType]):
    pass


async def group_list(ctx: Context, request: PageRequest) -> GroupConnection:
    """The workspace's groups, by name, a page at a time."""
    listing = group_listing(ctx.workspace_id)
    return await listing_connection(GroupConnection, ctx.db, listing, request, GroupType.from_row)
