"""Restarting contacts: the contacts of removed or finished enrollments start over at
step 1 of a clone (a new one, or an existing sequence)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.kinds import BulkActionKind
from seqgql.domain.selection import Selection
from seqgql.domain.sequence import check_name
from seqgql.domain.status import Action, transition
from seqgql.persistence.tables import enrollments
from seqgql.services.enrollments.bulk_action import BulkAction
from seqgql.services.enrollments.enroll import enroll_in
from seqgql.services.enrollments.operation import BulkOperation
from seqgql.services.enrollments.resolution import collect_skips, resolve_selection, status_counts
from seqgql.services.enrollments.results import BulkResult, Skips
from seqgql.services.enrollments.transitions import lock_sequences
from seqgql.services.sequences.catalog import require_sequence
from seqgql.services.sequences.cloning import clone_in

e = enrollments.c


@dataclass(frozen=True, slots=True)
class RestartOptions:
    selection: Selection
    target_sequence_id: int | None = None  # an existing sequence; else a new clone
    new_sequence_name: str | None = None  # the new clone's name


async def _restart(op: BulkOperation, options: RestartOptions) -> BulkResult:
    target_id, new_name = options.target_sequence_id, options.new_sequence_name
    if target_id is not None and new_name is not None:
        raise InputErrors(
            [
                error(
                    ["input", "targetSequenceId"],
                    ErrorCode.INVALID,
                    "give either targetSequenceId or newSequenceName, not both",
                )
            ]
        )
    clean_name = None
    if new_name is not None:
        clean_name, name_errors = check_name(new_name, ["input", "newSequenceName"])
        if name_errors:
            raise InputErrors(name_errors)
    resolved = await resolve_selection(op.conn, op.actor, options.selection)
    if target_id is not None:
        path = ["input", "targetSequenceId"]
        await require_sequence(op.conn, op.actor, target_id, path, not_archived=True)
    elif len(resolved.sequence_ids) != 1:
        raise InputErrors(
            [
                error(
                    ["input", "selection"],
                    ErrorCode.INVALID_SELECTION,
                    "to restart in a new clone, select enrollments of one sequence",
                )
            ]
        )
    # The source sequences too (with the target, in id order): the contacts to restart
    # are read from them more than once, and a change there in between (a re-enrolment,
    # say) would enroll contacts in the target without their events.
    await lock_sequences(op.conn, [*resolved.sequence_ids, *([target_id] if target_id else [])])
    if target_id is not None:
        target = target_id
    else:
        source = resolved.sequence_ids[0]
        target = await clone_in(op.conn, op.actor, op.change.now, source, clean_name)
    counts = await status_counts(op.conn, resolved.predicate)
    skips = Skips()
    await collect_skips(op.conn, resolved.predicate, counts, Action.RESTART, skips)
    eligible = sa.and_(
        resolved.predicate, e.status.in_(sorted(transition(Action.RESTART).allowed_from))
    )
    contact_ids = sa.select(e.contact_id).where(eligible).correlate(None)
    changed, enroll_skips = await enroll_in(op, target, contact_ids)
    for group in enroll_skips.groups():
        skips.add(group.reason, group.count, group.ids, kind=group.kind)
    return BulkResult(changed_count=changed, skipped=skips.groups(), sequence_id=target)


restart = BulkAction(BulkActionKind.RESTART, RestartOptions, _restart)
