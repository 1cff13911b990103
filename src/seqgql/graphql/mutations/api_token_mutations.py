"""API token mutations (admins only): create one, its secret shown once; revoke one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from seqgql.graphql.api_token_types import ApiTokenType
from seqgql.graphql.enums import Role
from seqgql.graphql.inputs import IdDecoder, require_aware
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.payloads import Payload, UserError
from seqgql.graphql.permissions import AdminAccess
from seqgql.services import api_tokens
from seqgql.services.api_tokens import tokens_by_ids

USER_ERRORS = "Why nothing was done, each naming the input field at fault; empty when it was done."


@strawberry.input(description="A new API token.")
class CreateApiTokenInput:
    name: str = strawberry.field(
        description="What the token is for, e.g. the integration using it: one line, at "
        "most 200 characters."
    )
    role: Role | None = strawberry.field(
        default=None,
        description="The most the token may do: at most its user's role (a higher one is "
        "refused). Null: its user's role now.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="From this moment on the token is refused: a moment in the future, "
        'with its offset (e.g. "2027-01-01T00:00:00Z"). Null: it does not expire.',
    )
    user_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The user of the workspace the token acts for. Null: the caller.",
    )


@strawberry.type(description="The new API token and its secret, or why none was made.")
class CreateApiTokenPayload(Payload):
    api_token: ApiTokenType | None = strawberry.field(
        default=None, description="The new token (null when it was refused)."
    )
    secret: str | None = strawberry.field(
        default=None,
        description="The token itself, to send as `Authorization: Bearer <secret>`. "
        "Shown this once: only its hash is kept, so store it now.",
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.input(description="The API token to revoke.")
class RevokeApiTokenInput:
    id: strawberry.ID = strawberry.field(description="The token's global id (`ApiToken.id`).")


@strawberry.type(description="The revoked API token, or why none was revoked.")
class RevokeApiTokenPayload(Payload):
    api_token: ApiTokenType | None = strawberry.field(
        default=None,
        description="The token, with its `revokedAt` (null when the id was not found).",
    )
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


async def _token(info: ContextInfo, token_id: int | None) -> ApiTokenType | None:
    if token_id is None:
        return None
    ctx = info.context
    row = (await tokens_by_ids(ctx.db, ctx.workspace_id, [token_id])).get(token_id)
    return ApiTokenType.from_row(row) if row is not None else None


@strawberry.type
class ApiTokenMutations:
    @strawberry.mutation(
        extensions=[AdminAccess()],
        description="Create an API token for a user of the workspace; its secret is in the "
        "answer and nowhere else. Admins only (anyone else: a FORBIDDEN user error).",
    )
    async def create_api_token(
        self,
        info: ContextInfo,
        input: Annotated[
            CreateApiTokenInput,
            strawberry.argument(description="The token's name, role, expiry and user."),
        ],
    ) -> CreateApiTokenPayload:
        ctx = info.context
        ids = IdDecoder()
        user_id = ids.optional(input.user_id, "User", ["input", "userId"])
        require_aware(input.expires_at, ["input", "expiresAt"], ids)
        if ids.errors:
            return CreateApiTokenPayload.refused(ids.errors)
        result = await api_tokens.create_token(
            ctx.db,
            ctx.clock,
            ctx.actor,
            user_id=user_id,
            name=input.name,
            role=input.role,
            expires_at=input.expires_at,
        )
        if result.errors:
            return CreateApiTokenPayload.refused(result.errors)
        return CreateApiTokenPayload(
            api_token=await _token(info, result.token_id), secret=result.secret, user_errors=[]
        )

    @strawberry.mutation(
        extensions=[AdminAccess()],
        description="Revoke an API token of the workspace: within a second every server "
        "refuses it (HTTP 401) and closes its open websockets (code 4403). Revoking it "
        "again changes nothing. Admins only (anyone else: a FORBIDDEN user error).",
    )
    async def revoke_api_token(
        self,
        info: ContextInfo,
        input: Annotated[
            RevokeApiTokenInput, strawberry.argument(description="Which token to revoke.")
        ],
    ) -> RevokeApiTokenPayload:
        ctx = info.context
        ids = IdDecoder()
        token_id = ids.one(input.id, "ApiToken", ["input", "id"])
        if ids.errors:
            return RevokeApiTokenPayload.refused(ids.errors)
        result = await api_tokens.revoke_token(ctx.db, ctx.clock, ctx.actor, token_id)
        if result.errors:
            return RevokeApiTokenPayload.refused(result.errors)
        return RevokeApiTokenPayload(api_token=await _token(info, result.token_id), user_errors=[])
