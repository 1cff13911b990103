"""What the subscriptions accept: the sequences they follow and where in a log they start,
checked (a clear error naming the argument) before the first message."""

from __future__ import annotations

from collections.abc import Sequence

from seqgql.events.log import BadCursor, EventCursor, last_number, last_numbers
from seqgql.graphql.context import Context
from seqgql.graphql.public_errors import PublicError
from seqgql.graphql.relay import InvalidId, from_global_id, id_argument
from seqgql.persistence.database import patiently

# How many sequences one subscription may follow (`sequencesStatusCounts`).
MAX_FOLLOWED_SEQUENCES = 100


async def sequence_of(ctx: Context, sequence_id: str) -> tuple[int, int]:
    """The sequence's database id and its last event number (NOT_FOUND outside the
    caller's workspace)."""
    pk = id_argument(sequence_id, "Sequence", "sequenceId")
    last = await patiently(lambda: last_number(ctx.db, ctx.workspace_id, pk))
    if last is None:
        raise PublicError("no such sequence", code="NOT_FOUND", argument="sequenceId")
    return pk, last


async def sequences_of(ctx: Context, sequence_ids: Sequence[str] | None) -> dict[int, int]:
    """The last event number of each sequence named (in the order named, once each), or of
    every sequence of the caller's workspace when none is named; at most
    MAX_FOLLOWED_SEQUENCES."""
    most = MAX_FOLLOWED_SEQUENCES
    if sequence_ids is None:
        found = await patiently(
            lambda: last_numbers(ctx.db, ctx.workspace_id, None, limit=most + 1)
        )
        if len(found) > most:
            message = f"the workspace has more than {most} sequences: name at most {most}"
            raise PublicError(message, code="TOO_MANY", argument="sequenceIds")
        return found
    if not sequence_ids:
        message = "name at least one sequence (or leave the argument out: all of them)"
        raise PublicError(message, code="BAD_USER_INPUT", argument="sequenceIds")
    if len(sequence_ids) > most:
        message = f"at most {most} sequences ({len(sequence_ids)} given)"
        raise PublicError(message, code="TOO_MANY", argument="sequenceIds")
    pks: dict[int, int] = {}  # pk -> its index in the list (the first one)
    for i, value in enumerate(sequence_ids):
        try:
            pks.setdefault(from_global_id(value, "Sequence"), i)
        except InvalidId as exc:
            message = f"sequenceIds[{i}]: {exc}"
            raise PublicError(message, code="INVALID_ID", argument="sequenceIds") from exc
    found = await patiently(lambda: last_numbers(ctx.db, ctx.workspace_id, list(pks)))
    for pk, i in pks.items():
        if pk not in found:
            message = f"sequenceIds[{i}]: no such sequence"
            raise PublicError(message, code="NOT_FOUND", argument="sequenceIds")
    return {pk: found[pk] for pk in pks}


def since_of(pk: int, position: int, since: str | None) -> int:
    """Where to start reading the sequence's log: after ``since``, else its last event."""
    if since is None:
        return position
    try:
        cursor = EventCursor.decode(since)
    except BadCursor as exc:
        raise PublicError(str(exc), code="INVALID_CURSOR", argument="since") from exc
    if cursor.sequence_id != pk or cursor.number > position:
        raise PublicError(
            "`since` is not a cursor of this sequence", code="INVALID_CURSOR", argument="since"
        )
    return cursor.number
