"""Who may change what: one rule, declared on each mutation that changes data.

``@strawberry.mutation(extensions=[WriteAccess()])`` on a mutation means a VIEWER's call
runs nothing and answers the mutation's own payload with one ``FORBIDDEN`` user error
(an expected error is data, like any other refusal). ``AdminAccess()`` does the same for
everyone but admins. Services do not check roles."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.types.field import StrawberryField

from seqgql.domain.errors import ErrorCode, UserError
from seqgql.domain.kinds import Role
from seqgql.graphql.node import ContextInfo

FORBIDDEN = UserError((), ErrorCode.FORBIDDEN, "Viewers cannot change anything.")


class WriteAccess(FieldExtension):
    """Only users whose role may change data run the mutation (see the module)."""

    payload: Any

    def apply(self, field: StrawberryField) -> None:
        self.payload = field.type
        if not hasattr(self.payload, "refused"):
            raise TypeError(f"{field.python_name} must return a payload with `refused`")

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: ContextInfo, **kwargs: Any
    ) -> Any:
        if info.context.actor.can_mutate:
            return await next_(source, info, **kwargs)
        dry_run = bool(getattr(kwargs.get("input"), "dry_run", False))
        return self.payload.refused([FORBIDDEN], dry_run=dry_run)


ADMINS_ONLY = UserError((), ErrorCode.FORBIDDEN, "Only admins can do this.")


class AdminAccess(WriteAccess):
    """Only admins run the mutation (acting with an admin role: a token scoped down to
    MEMBER or VIEWER does not, whatever its user's role)."""

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: ContextInfo, **kwargs: Any
    ) -> Any:
        if info.context.actor.role is Role.ADMIN:
            return await next_(source, info, **kwargs)
        return self.payload.refused([ADMINS_ONLY])
