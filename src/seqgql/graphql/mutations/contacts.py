"""Contact and group mutations."""

from __future__ import annotations

import strawberry

from seqgql.graphql.inputs import CreateContactsInput, CreateGroupInput
from seqgql.graphql.payloads import CreateContactsPayload, GroupPayload, user_errors
from seqgql.graphql.types import ContactType, ContextInfo, GroupType
from seqgql.services import contacts
from seqgql.services.contacts import ContactSpec


@strawberry.type
class ContactMutations:
    @strawberry.mutation(description="Create up to 1,000 contacts: all of them, or none.")
    async def create_contacts(
        self, info: ContextInfo, input: CreateContactsInput
    ) -> CreateContactsPayload:
        ctx = info.context
        specs = [
            ContactSpec(
                first_name=c.first_name,
                last_name=c.last_name,
                email=c.email,
                phone=c.phone,
                phone_type=c.phone_type,
                time_zone=c.time_zone,
                opted_out=c.opted_out,
            )
            for c in input.contacts
        ]
        result = await contacts.create_contacts(ctx.db, ctx.clock, ctx.actor, specs)
        rows = await ctx.loaders.contacts.load_many(result.ids)
        return CreateContactsPayload(
            contacts=[ContactType.from_row(r) for r in rows if r is not None],
            user_errors=user_errors(result.errors),
        )

    @strawberry.mutation
    async def create_group(self, info: ContextInfo, input: CreateGroupInput) -> GroupPayload:
        ctx = info.context
        result = await contacts.create_group(ctx.db, ctx.clock, ctx.actor, input.name)
        group = None
        if result.group_id is not None:
            row = await ctx.loaders.groups.load(result.group_id)
            group = GroupType.from_row(row) if row else None
        return GroupPayload(group=group, user_errors=user_errors(result.errors))
