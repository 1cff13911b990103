"""Sequence mutations: create, update, clone, archive, turn on and off."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types.unset import UnsetType

from seqgql.domain.errors import UserError
from seqgql.graphql.context import Context
from seqgql.graphql.inputs import IdDecoder
from seqgql.graphql.node import ContextInfo
from seqgql.graphql.payloads import SequencePayload, user_errors
from seqgql.graphql.permissions import WriteAccess
from seqgql.graphql.record_inputs import (
    ActivateSequenceInput,
    ArchiveSequenceInput,
    CloneSequenceInput,
    CreateSequenceInput,
    DeactivateSequenceInput,
    UpdateSequenceInput,
    chosen_daily_limit,
)
from seqgql.graphql.sequence_types import SequenceType
from seqgql.services import sequences
from seqgql.services.sequences.definitions import UNSET, SequenceResult


async def _payload(ctx: Context, result: SequenceResult) -> SequencePayload:
    sequence = None
    if result.sequence_id is not None and not result.errors:
        ctx.loaders.forget(result.sequence_id, "sequences", "steps")
        row = await ctx.loaders.sequences.load(result.sequence_id)
        sequence = SequenceType.from_row(row) if row else None
    return SequencePayload(sequence=sequence, user_errors=user_errors(result.errors))


def _sequence_pk(sequence_id: str) -> int | SequencePayload:
    """The database id of ``input.sequenceId``, or the payload that refuses it."""
    ids = IdDecoder()
    pk = ids.one(sequence_id, "Sequence", ["input", "sequenceId"])
    return SequencePayload.refused(ids.errors) if ids.errors else pk


@strawberry.type
class SequenceMutations:
    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Create a sequence: its steps, and optionally a sending window, a reply "
        "window and a daily limit per sender.",
    )
    async def create_sequence(
        self,
        info: ContextInfo,
        input: Annotated[CreateSequenceInput, strawberry.argument(description="The new sequence.")],
    ) -> SequencePayload:
        ctx = info.context
        given = input.daily_limit_per_sender  # null: none (for a new sequence, as if left out)
        limit = chosen_daily_limit(strawberry.UNSET if given is None else given, input.rules)
        if isinstance(limit, UserError):
            return SequencePayload.refused([limit])
        result = await sequences.create_sequence(
            ctx.db,
            ctx.clock,
            ctx.actor,
            name=input.name,
            step_specs=[s.to_spec() for s in input.steps],
            window=input.sending_window.to_spec() if input.sending_window else None,
            reply_window_minutes=input.reply_window_minutes,
            daily_limit_per_sender=None if isinstance(limit, UnsetType) else limit,
            rules=input.rules.to_spec() if input.rules else None,
        )
        return await _payload(ctx, result)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Change a sequence: only the fields given change; `steps` replaces all "
        "its steps.",
    )
    async def update_sequence(
        self,
        info: ContextInfo,
        input: Annotated[
            UpdateSequenceInput, strawberry.argument(description="The sequence and its changes.")
        ],
    ) -> SequencePayload:
        ctx = info.context
        pk = _sequence_pk(input.sequence_id)
        if isinstance(pk, SequencePayload):
            return pk
        window = input.sending_window
        limit = chosen_daily_limit(input.daily_limit_per_sender, input.rules)
        if isinstance(limit, UserError):
            return SequencePayload.refused([limit])
        result = await sequences.update_sequence(
            ctx.db,
            ctx.clock,
            ctx.actor,
            pk,
            name=input.name,
            step_specs=[s.to_spec() for s in input.steps] if input.steps is not None else None,
            window=UNSET if window is strawberry.UNSET else (window.to_spec() if window else None),
            reply_window_minutes=input.reply_window_minutes,
            daily_limit_per_sender=UNSET if isinstance(limit, UnsetType) else limit,
            rules=input.rules.to_spec() if input.rules else None,
        )
        return await _payload(ctx, result)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Copy a sequence: its steps, sending window, reply window and daily limit "
        "(to restart contacts in it). The copy has no enrollments.",
    )
    async def clone_sequence(
        self,
        info: ContextInfo,
        input: Annotated[
            CloneSequenceInput, strawberry.argument(description="The sequence to copy.")
        ],
    ) -> SequencePayload:
        ctx = info.context
        pk = _sequence_pk(input.sequence_id)
        if isinstance(pk, SequencePayload):
            return pk
        result = await sequences.clone_sequence(ctx.db, ctx.clock, ctx.actor, pk, name=input.name)
        return await _payload(ctx, result)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Archive a sequence (the engine stops sending its steps; contacts cannot "
        "be added to it), or restore it with `archived: false`.",
    )
    async def archive_sequence(
        self,
        info: ContextInfo,
        input: Annotated[ArchiveSequenceInput, strawberry.argument(description="The sequence.")],
    ) -> SequencePayload:
        ctx = info.context
        pk = _sequence_pk(input.sequence_id)
        if isinstance(pk, SequencePayload):
            return pk
        result = await sequences.archive_sequence(
            ctx.db, ctx.clock, ctx.actor, pk, archived=input.archived
        )
        return await _payload(ctx, result)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Turn a sequence on again: the engine sends its steps and resumes its "
        "contacts from now on (steps that fell due while it was off go at once).",
    )
    async def activate_sequence(
        self,
        info: ContextInfo,
        input: Annotated[ActivateSequenceInput, strawberry.argument(description="The sequence.")],
    ) -> SequencePayload:
        return await _set_active(info, input.sequence_id, active=True)

    @strawberry.mutation(
        extensions=[WriteAccess()],
        description="Turn the entire sequence off without touching its contacts' statuses "
        '(Apollo\'s "turning off the entire sequence"): the engine sends nothing and changes '
        "no status, auto-resumes included, until activateSequence. Contacts can still be "
        "added to it.",
    )
    async def deactivate_sequence(
        self,
        info: ContextInfo,
        input: Annotated[DeactivateSequenceInput, strawberry.argument(description="The sequence.")],
    ) -> SequencePayload:
        return await _set_active(info, input.sequence_id, active=False)


async def _set_active(info: ContextInfo, sequence_id: str, *, active: bool) -> SequencePayload:
    ctx = info.context
    pk = _sequence_pk(sequence_id)
    if isinstance(pk, SequencePayload):
        return pk
    result = await sequences.set_sequence_active(ctx.db, ctx.clock, ctx.actor, pk, active=active)
    return await _payload(ctx, result)
