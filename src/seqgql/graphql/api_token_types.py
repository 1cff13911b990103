"""The ApiToken node, the connection that lists a workspace's tokens, and the admins' query
of it (``ApiTokenQueries``, a part of the Query root)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from seqgql.domain.kinds import Role as RoleValue
from seqgql.graphql.context import Context
from seqgql.graphql.enums import Role
from seqgql.graphql.node import ContextInfo, Node
from seqgql.graphql.public_errors import PublicError
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
from seqgql.graphql.user_types import UserType
from seqgql.persistence.types import Row
from seqgql.services.api_tokens import token_listing, tokens_by_ids


@strawberry.type(
    name="ApiToken",
    description="A token that authenticates requests as one user of the workspace "
    "(`Authorization: Bearer sqg_…`). Its secret is shown once, when it is created; "
    "afterwards only its `prefix` identifies it. Visible to admins only.",
)
class ApiTokenType(Node):
    name: str | None = strawberry.field(
        description="What the token is for, as its creator named it (null for tokens "
        "made before tokens had names, or on the command line without `--name`)."
    )
    prefix: str | None = strawberry.field(
        description="The first characters of the secret (`sqg_` and 8 more): enough to "
        "recognise the token, never enough to use it. Null for tokens made before "
        "prefixes were kept."
    )
    role: Role = strawberry.field(
        description="The most the token may do. Its user's role caps it: the token acts "
        "with the lower of the two, so a VIEWER token of an admin cannot change anything."
    )
    created_at: datetime = strawberry.field(description="When the token was created.")
    last_used_at: datetime | None = strawberry.field(
        description="When a request last used the token, to the minute (null: never used "
        "since this was recorded)."
    )
    expires_at: datetime | None = strawberry.field(
        description="From this moment on the token is refused (null: it does not expire)."
    )
    revoked_at: datetime | None = strawberry.field(
        description="When the token was revoked (null: it was not). A revoked token is "
        "refused within a second on every server, and its open websockets are closed "
        "with code 4403."
    )
    user_pk: strawberry.Private[int]

    @strawberry.field(description="The user the token acts for.")
    async def user(self, info: ContextInfo) -> UserType:
        row = await info.context.loaders.users.load(self.user_pk)
        assert row is not None  # a token's user is in the token's workspace
        return UserType.from_row(row)

    @classmethod
    def from_row(cls, row: Row) -> ApiTokenType:
        return cls(
            id=global_id("ApiToken", row.id),
            name=row.name,
            prefix=row.prefix,
            role=RoleValue(row.role),
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            user_pk=row.user_id,
        )


@strawberry.type(description="A page of the workspace's API tokens, oldest first.")
class ApiTokenConnection(Connection[ApiTokenType]):
    pass


def is_admin(ctx: Context) -> bool:
    """Whether the caller acts as an admin (a token scoped down to a lower role does not)."""
    return ctx.actor.role is RoleValue.ADMIN


async def api_token_node(ctx: Context, pk: int) -> ApiTokenType | None:
    """The token with this id, for an admin of its workspace; None for anyone else."""
    if not is_admin(ctx):
        return None
    row = (await tokens_by_ids(ctx.db, ctx.workspace_id, [pk])).get(pk)
    return ApiTokenType.from_row(row) if row is not None else None


@strawberry.type
class ApiTokenQueries:
    @strawberry.field(
        description="The workspace's API tokens, revoked and expired ones included, oldest "
        "first (never their secrets). Admins only: anyone else gets an error with code "
        "FORBIDDEN."
    )
    async def api_tokens(
        self,
        info: ContextInfo,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ApiTokenConnection:
        ctx = info.context
        if not is_admin(ctx):
            raise PublicError("only admins can see the API tokens", code="FORBIDDEN")
        return await listing_connection(
            ApiTokenConnection,
            ctx.db,
            token_listing(ctx.workspace_id),
            page_request(first, after, last, before),
            ApiTokenType.from_row,
        )
