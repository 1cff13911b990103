"""Adding contacts to a sequence (enroll, re-enroll) and restarting them in a clone."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from seqgql.clock import Clock
from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.kinds import BulkActionKind, PhoneType, StepChannel
from seqgql.domain.selection import MAX_SELECTED_IDS, Selection
from seqgql.domain.sequence import check_name
from seqgql.domain.status import (
    ENROLLED_STATUSES,
    Action,
    EnrollmentStatus,
    SkipReason,
    StatusReason,
    transition,
)
from seqgql.persistence.database import Database
from seqgql.persistence.tables import contacts, enrollments, events, steps
from seqgql.services.actor import Actor
from seqgql.services.bulk import BulkOperation, BulkResult, Skips, run_bulk
from seqgql.services.selection import (
    collect_skips,
    require_sequence,
    resolve_selection,
    status_counts,
)
from seqgql.services.sequences import clone_in
from seqgql.services.status_changes import change_status, lock_sequences, record_new_enrollments

e = enrollments.c
c = contacts.c
S = EnrollmentStatus


async def add_contacts(
    db: Database,
    clock: Clock,
    actor: Actor,
    sequence_id: int,
    contact_ids: list[int],
    *,
    dry_run: bool = False,
    idempotency_key: str | None = None,
) -> BulkResult:
    async def work(op: BulkOperation) -> BulkResult:
        await require_sequence(
            op.conn, op.actor, sequence_id, ["input", "sequenceId"], not_archived=True
        )
        await _check_contacts(op, contact_ids)
        changed, skips = await enroll_in(op, sequence_id, contact_ids)
        return BulkResult(changed_count=changed, skipped=skips.groups())

    return await run_bulk(
        db,
        clock,
        actor,
        BulkActionKind.ENROLL,
        work,
        request={"sequence_id": sequence_id, "contact_ids": sorted(contact_ids)},
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )


async def _check_contacts(op: BulkOperation, contact_ids: list[int]) -> None:
    path = ["input", "contactIds"]
    if not contact_ids:
        raise InputErrors([error(path, ErrorCode.REQUIRED, "name at least one contact")])
    if len(contact_ids) > MAX_SELECTED_IDS:
        raise InputErrors(
            [error(path, ErrorCode.TOO_MANY, f"at most {MAX_SELECTED_IDS} contacts per call")]
        )
    rows = await op.conn.execute(
        sa.select(c.id).where(c.workspace_id == op.actor.workspace_id, c.id.in_(contact_ids))
    )
    found = {r.id for r in rows}
    missing = [
        error([*path, i], ErrorCode.NOT_FOUND, f"no contact with id {cid}")
        for i, cid in enumerate(contact_ids)
        if cid not in found
    ]
    if missing:
        raise InputErrors(missing)


async def enroll_in(
    op: BulkOperation,
    sequence_id: int,
    contact_ids: list[int] | sa.Select[tuple[int]],
) -> tuple[int, Skips]:
    """Enroll contacts (ids, or a subquery of ids) in a sequence, set-based.

    New contacts start ACTIVE at step 1, or OMITTED when opted out or when step 1 is an
    SMS and their phone is a landline. Removed or finished ones are re-enrolled at the
    first step not yet sent (nothing is sent twice); when every step was sent they are
    skipped. Enrolled ones are skipped."""
    conn, now, skips = op.conn, op.change.now, Skips()
    step_rows = (
        await conn.execute(
            sa.select(steps.c.position, steps.c.channel, steps.c.wait_minutes)
            .where(steps.c.sequence_id == sequence_id)
            .order_by(steps.c.position)
        )
    ).all()
    if not step_rows:
        raise InputErrors(
            [error(["input", "sequenceId"], ErrorCode.INVALID, "the sequence has no steps")]
        )
    step_count = len(step_rows)
    await lock_sequences(conn, [sequence_id])

    in_sequence = sa.and_(e.sequence_id == sequence_id, e.contact_id.in_(contact_ids))
    enrolled = sa.and_(in_sequence, e.status.in_(sorted(ENROLLED_STATUSES)))
    done = sa.and_(in_sequence, e.status.in_(sorted(transition(Action.REENROLL).allowed_from)))
    exhausted = sa.and_(done, e.last_sent_step >= step_count)
    await _skip(op, enrolled, SkipReason.ALREADY_ENROLLED, skips)
    await _skip(op, exhausted, SkipReason.ALL_STEPS_SENT, skips)

    # re-enrollment, by what the contact allows
    restartable = sa.and_(done, e.last_sent_step < step_count)
    opted_out = sa.exists().where(c.id == e.contact_id, c.opted_out.is_(True))
    next_is_sms_to_landline = sa.and_(
        sa.exists().where(c.id == e.contact_id, c.phone_type == PhoneType.LANDLINE),
        sa.exists().where(
            steps.c.sequence_id == e.sequence_id,
            steps.c.position == e.last_sent_step + 1,
            steps.c.channel == StepChannel.SMS,
        ),
    )
    common = {
        "enrolled_by_id": op.actor.user_id,
        "enrolled_at": now,
        "resume_at": None,
        "finished_at": None,
    }
    allowed = transition(Action.REENROLL).allowed_from
    omitted = {**common, "current_step": None}
    changed = await change_status(
        conn, op.change, [sequence_id], sa.and_(restartable, opted_out),
        allowed, S.OMITTED, StatusReason.OPTED_OUT, omitted,
    )  # fmt: skip
    changed += await change_status(
        conn, op.change, [sequence_id], sa.and_(restartable, ~opted_out, next_is_sms_to_landline),
        allowed, S.OMITTED, StatusReason.LANDLINE, omitted,
    )  # fmt: skip
    changed += await change_status(
        conn, op.change, [sequence_id], sa.and_(restartable, ~opted_out, ~next_is_sms_to_landline),
        allowed, S.ACTIVE, None,
        {**common, "current_step": e.last_sent_step + 1, "next_run_at": now},
    )  # fmt: skip

    # new enrollments
    first = step_rows[0]
    omit_opted_out = c.opted_out.is_(True)
    omit_landline = sa.and_(
        sa.literal(first.channel == StepChannel.SMS), c.phone_type == PhoneType.LANDLINE
    )
    active = sa.not_(sa.or_(omit_opted_out, omit_landline))
    new_rows = sa.select(
        c.workspace_id,
        sa.literal(sequence_id, sa.BigInteger),
        c.id,
        sa.case((active, S.ACTIVE.value), else_=S.OMITTED.value),
        sa.case(
            (omit_opted_out, StatusReason.OPTED_OUT.value),
            (omit_landline, StatusReason.LANDLINE.value),
            else_=None,
        ),
        sa.case((active, 1), else_=None),
        sa.literal(0),
        sa.literal(op.actor.user_id, sa.BigInteger),
        sa.literal(now, e.enrolled_at.type),
        sa.case(
            (active, sa.literal(now + timedelta(minutes=first.wait_minutes), e.next_run_at.type)),
            else_=None,
        ),
        sa.literal(now, e.updated_at.type),
        sa.literal(0),
    ).where(
        c.workspace_id == op.actor.workspace_id,
        c.id.in_(contact_ids),
        ~sa.exists().where(e.sequence_id == sequence_id, e.contact_id == c.id),
    )
    await conn.execute(
        enrollments.insert().from_select(
            [
                "workspace_id", "sequence_id", "contact_id", "status", "reason", "current_step",
                "last_sent_step", "enrolled_by_id", "enrolled_at", "next_run_at", "updated_at",
                "version",
            ],
            new_rows,
        )
    )  # fmt: skip
    base = (await lock_sequences(conn, [sequence_id]))[sequence_id]
    no_events_yet = ~sa.exists().where(events.c.enrollment_id == e.id)
    changed += await record_new_enrollments(
        conn, op.change, sequence_id, base, sa.and_(in_sequence, no_events_yet)
    )
    return changed, skips


async def _skip(
    op: BulkOperation, predicate: sa.ColumnElement[bool], reason: SkipReason, skips: Skips
) -> None:
    count = (await op.conn.execute(sa.select(sa.func.count()).where(predicate))).scalar_one()
    if count:
        sample = await op.conn.execute(
            sa.select(e.contact_id).where(predicate).order_by(e.contact_id).limit(100)
        )
        skips.add(reason, count, [r.contact_id for r in sample], kind="Contact")


async def restart(
    db: Database,
    clock: Clock,
    actor: Actor,
    selection: Selection,
    *,
    target_sequence_id: int | None = None,
    new_sequence_name: str | None = None,
    dry_run: bool = False,
    idempotency_key: str | None = None,
) -> BulkResult:
    """Enroll the contacts of removed or finished enrollments at step 1 of a clone: a new
    clone of their sequence, or an existing sequence (``target_sequence_id``)."""

    async def work(op: BulkOperation) -> BulkResult:
        if target_sequence_id is not None and new_sequence_name is not None:
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
        if new_sequence_name is not None:
            clean_name, name_errors = check_name(new_sequence_name, ["input", "newSequenceName"])
            if name_errors:
                raise InputErrors(name_errors)
        resolved = await resolve_selection(op.conn, op.actor, selection)
        if target_sequence_id is not None:
            await require_sequence(
                op.conn, op.actor, target_sequence_id, ["input", "targetSequenceId"],
                not_archived=True,
            )  # fmt: skip
            target = target_sequence_id
        else:
            if len(resolved.sequence_ids) != 1:
                raise InputErrors(
                    [
                        error(
                            ["input", "selection"],
                            ErrorCode.INVALID_SELECTION,
                            "to restart in a new clone, select enrollments of one sequence",
                        )
                    ]
                )
            target = await clone_in(
                op.conn, op.actor, op.change.now, resolved.sequence_ids[0], clean_name
            )
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

    return await run_bulk(
        db,
        clock,
        actor,
        BulkActionKind.RESTART,
        work,
        request={
            "selection": selection,
            "target": target_sequence_id,
            "name": new_sequence_name,
        },
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )
