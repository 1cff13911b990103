"""Contact and group mutations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from seqgql.graphql.enrollment_types import ContactType
from seqgql.graphql.group_types import GroupType
from seqgql.graphql.inputs import IdDecoder
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.payloads import (
    ContactPayload,
    CreateContactsPayload,
    GroupPayload,
    user_errors,
)
from seqgql.graphql.permissions import WriteAccess
from seqgql.graphql.record_inputs import CreateContactsInput, CreateGroupInput, UpdateContactInput
from seqgql.services import contacts
from seqgql.services.contacts.profiles import EDITABLE, ContactSpec


@strawberry.type
class ContactMutations:
    @strawberry.mutation(
        extensions=[WriteAccess()], description="Create up to 1,000 contacts: all of them, or none."
    )
    async def create_contacts(
        self,
        info: ContextInfo,
        input: Annotated[
            CreateContactsInput, strawberry.argument(description="The contacts to create.")
        ],
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

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Change one contact: only the fields given change. Fixing an email or "
        "phone, then resuming, sends a step that was NOT_SENT.",
    )
    async def update_contact(
        self,
        info: ContextInfo,
        input: Annotated[
            UpdateContactInput, strawberry.argument(description="The contact and its changes.")
        ],
    ) -> ContactPayload:
        ctx = info.context
        ids = IdDecoder()
        pk = ids.one(input.contact_id, "Contact", ["input", "contactId"])
        if ids.errors:
            return ContactPayload(contact=None, user_errors=user_errors(ids.errors))
        changes = {
            a: getattr(input, a) for a in EDITABLE if getattr(input, a) is not strawberry.UNSET
        }
        result = await contacts.update_contact(ctx.db, ctx.actor, pk, changes)
        contact = None
        if result.contact_id is not None:
            row = await ctx.loaders.contacts.load(result.contact_id)
            contact = ContactType.from_row(row) if row else None
        return ContactPayload(contact=contact, user_errors=user_errors(result.errors))

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Create an empty group of contacts (fill it with addEnrollmentsToGroup).",
    )
    async def create_group(
        self,
        info: ContextInfo,
        input: Annotated[CreateGroupInput, strawberry.argument(description="The new group.")],
    ) -> GroupPayload:
        ctx = info.context
        result = await contacts.create_group(ctx.db, ctx.clock, ctx.actor, input.name)
        group = None
        if result.group_id is not None:
            row = await ctx.loaders.groups.load(result.group_id)
            group = GroupType.from_row(row) if row else None
        return GroupPayload(group=group, user_errors=user_errors(result.errors))
