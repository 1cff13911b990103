"""The Query root: thin resolvers over the read services."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry
from strawberry.types.nodes import SelectedField

from seqgql.graphql.activity_types import ActivityType
from seqgql.graphql.api_token_types import ApiTokenQueries, api_token_node
from seqgql.graphql.bulk_operation_types import BulkOperationType
from seqgql.graphql.contacts_tab import (
    EnrollmentConnection,
    enrollment_connection,
    page_arguments,
    read_page,
)
from seqgql.graphql.context import Context
from seqgql.graphql.enrollment_types import ContactConnection, ContactType, EnrollmentType
from seqgql.graphql.group_types import GroupConnection, GroupType, contact_list, group_list
from seqgql.graphql.inputs import EnrollmentFilter, EnrollmentOrder
from seqgql.graphql.node import ContextInfo, Node
from seqgql.graphql.public_errors import PublicError
from seqgql.graphql.rate_limit_types import RateLimitQueries
from seqgql.graphql.relay import (
    After,
    Before,
    First,
    InvalidId,
    Last,
    id_argument,
    listing_connection,
    page_request,
    parse_global_id,
)
from seqgql.graphql.scheduled_types import ScheduleQueries
from seqgql.graphql.sequence_types import SequenceConnection, SequenceType, sequence_list
from seqgql.graphql.user_types import UserConnection, UserType
from seqgql.graphql.webhook_types import WebhookQueries, webhook_node
from seqgql.services.enrollments.history import activity_by_id
from seqgql.services.users import user_listing

COUNT_FIELDS = frozenset({"totalCount", "statusCounts"})


def _selects(info: ContextInfo, names: frozenset[str]) -> bool:
    """Whether the field's selection set (fragments included) names one of these
    fields. Directives are not evaluated: a skipped field still counts."""
    pending = [child for field in info.selected_fields for child in field.selections]
    while pending:
        selection = pending.pop()
        if isinstance(selection, SelectedField):
            if selection.name in names:
                return True
        else:  # a fragment: its selections are the field's too
            pending.extend(selection.selections)
    return False


# How many ids one `nodes` call takes.
MAX_NODES = 100


async def _node(ctx: Context, type_name: str, pk: int) -> Node | None:
    loaders = ctx.loaders
    builders: dict[str, tuple[Any, Any]] = {
        "Enrollment": (loaders.enrollments, EnrollmentType.from_row),
        "Sequence": (loaders.sequences, SequenceType.from_row),
        "Contact": (loaders.contacts, ContactType.from_row),
        "Group": (loaders.groups, GroupType.from_row),
        "User": (loaders.users, UserType.from_row),
        "BulkOperation": (loaders.operations, BulkOperationType.from_row),
    }
    if type_name == "ApiToken":
        return await api_token_node(ctx, pk)
    if type_name in ("WebhookEndpoint", "WebhookDelivery"):
        return await webhook_node(ctx, type_name, pk)
    if type_name == "Activity":
        row = await activity_by_id(ctx.db, ctx.workspace_id, pk)
        return ActivityType.from_row(row) if row else None
    if type_name not in builders:
        return None
    loader, build = builders[type_name]
    row = await loader.load(pk)
    return build(row) if row is not None else None


@strawberry.type(
    description="What can be read; every read is confined to the workspace of the caller's "
    "API token (another workspace's object answers like a missing one)."
)
class Query(ApiTokenQueries, RateLimitQueries, ScheduleQueries, WebhookQueries):
    @strawberry.field(description="Any object by its global id; null when not found.")
    async def node(
        self,
        info: ContextInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="The global id of any node.")],
    ) -> Node | None:
        try:
            type_name, pk = parse_global_id(id)
        except InvalidId as exc:
            raise PublicError(str(exc), code="INVALID_ID", argument="id") from exc
        return await _node(info.context, type_name, pk)

    @strawberry.field(
        description=f"Objects by their global ids, in the order asked; null for one not "
        f"found (or another workspace's). At most {MAX_NODES} ids."
    )
    async def nodes(
        self,
        info: ContextInfo,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description=f"Global ids of any nodes, at most {MAX_NODES}."),
        ],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            message = f"at most {MAX_NODES} ids ({len(ids)} given)"
            raise PublicError(message, code="TOO_MANY", argument="ids")
        parsed = []
        for i, value in enumerate(ids):
            try:
                parsed.append(parse_global_id(value))
            except InvalidId as exc:
                raise PublicError(f"ids[{i}]: {exc}", code="INVALID_ID", argument="ids") from exc
        # one batched read per type (the loaders gather what is asked at once)
        found = await asyncio.gather(*(_node(info.context, t, pk) for t, pk in parsed))
        return list(found)

    @strawberry.field(
        description="One bulk operation (a payload's `bulkOperationId`); null when not found."
    )
    async def bulk_operation(
        self,
        info: ContextInfo,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="A BulkOperation's global id.")
        ],
    ) -> BulkOperationType | None:
        row = await info.context.loaders.operations.load(id_argument(id, "BulkOperation", "id"))
        return BulkOperationType.from_row(row) if row else None

    @strawberry.field(description="The user the API token belongs to.")
    async def viewer(self, info: ContextInfo) -> UserType:
        ctx = info.context
        assert ctx.actor.user_id is not None
        row = await ctx.loaders.users.load(ctx.actor.user_id)
        assert row is not None
        return UserType.from_row(row)

    @strawberry.field(description="The workspace's sequences, in the order they were created.")
    async def sequences(
        self,
        info: ContextInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        include_archived: Annotated[
            bool, strawberry.argument(description="Include archived sequences too.")
        ] = False,
    ) -> SequenceConnection:
        request = page_request(first, after, last, before)
        return await sequence_list(info.context, request, include_archived)

    @strawberry.field(description="One sequence; null when not found.")
    async def sequence(
        self,
        info: ContextInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="A Sequence's global id.")],
    ) -> SequenceType | None:
        row = await info.context.loaders.sequences.load(id_argument(id, "Sequence", "id"))
        return SequenceType.from_row(row) if row else None

    @strawberry.field(
        description="The enrollments of a sequence, a page at a time: the Contacts tab, with "
        "counts per status for its tab bar."
    )
    async def enrollments(
        self,
        info: ContextInfo,
        sequence_id: Annotated[
            strawberry.ID, strawberry.argument(description="The sequence (its global id).")
        ],
        filter: Annotated[
            EnrollmentFilter | None,
            strawberry.argument(
                description="Which enrollments; without one, all but the removed ones."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[
            EnrollmentOrder | None,
            strawberry.argument(description="The order; default: ENROLLED_AT, DESC."),
        ] = None,
    ) -> EnrollmentConnection:
        ctx = info.context
        arguments = page_arguments(sequence_id, filter, first, after, last, before, order_by)
        page, known_counts = await read_page(
            ctx, arguments, with_counts=_selects(info, COUNT_FIELDS)
        )
        return enrollment_connection(ctx, arguments.sequence_pk, arguments.flt, page, known_counts)

    @strawberry.field(
        description="The workspace's contacts, in the order they were created, optionally "
        "those matching a search."
    )
    async def contacts(
        self,
        info: ContextInfo,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Part of a first name, last name or email, in any case."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ContactConnection:
        request = page_request(first, after, last, before)
        return await contact_list(info.context, search, request)

    @strawberry.field(description="The workspace's groups, a page at a time, by name.")
    async def groups(
        self,
        info: ContextInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> GroupConnection:
        return await group_list(info.context, page_request(first, after, last, before))

    @strawberry.field(description="The workspace's users, a page at a time, by name.")
    async def users(
        self,
        info: ContextInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> UserConnection:
        ctx = info.context
        request = page_request(first, after, last, before)
        listing = user_listing(ctx.workspace_id)
        return await listing_connection(UserConnection, ctx.db, listing, request, UserType.from_row)
