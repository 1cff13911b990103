"""Bulk actions on selected enrollments: pause, resume, finish, remove, add to group."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from seqgql.clock import Clock
from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.kinds import BulkActionKind
from seqgql.domain.selection import Selection
from seqgql.domain.status import Action, EnrollmentStatus, FinishReason, SkipReason, transition
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments, group_members, groups
from seqgql.services.actor import Actor
from seqgql.services.bulk import BulkOperation, BulkResult, Skips, run_bulk
from seqgql.services.selection import collect_skips, resolve_selection, status_counts
from seqgql.services.status_changes import change_status, lock_sequences

e = enrollments.c


async def _apply(
    op: BulkOperation,
    selection: Selection,
    action: Action,
    *,
    values: dict[str, Any] | None = None,
    reason: Any = None,
) -> BulkResult:
    """The common shape: validate, lock, count what is skipped, change the rest."""
    resolved = await resolve_selection(op.conn, op.actor, selection)
    await lock_sequences(op.conn, resolved.sequence_ids)
    counts = await status_counts(op.conn, resolved.predicate)
    skips = Skips()
    await collect_skips(op.conn, resolved.predicate, counts, action, skips)
    rule = transition(action)
    assert rule.to_status is not None
    changed = await change_status(
        op.conn,
        op.change,
        resolved.sequence_ids,
        resolved.predicate,
        rule.allowed_from,
        rule.to_status,
        reason or rule.to_reason,
        values,
    )
    return BulkResult(changed_count=changed, skipped=skips.groups())


def _require_future(moment: datetime | None, now: datetime, field: str) -> None:
    if moment is not None and moment <= now:
        raise InputErrors(
            [error(["input", field], ErrorCode.IN_THE_PAST, "must be a moment in the future")]
        )


async def pause(
    db: Database,
    clock: Clock,
    actor: Actor,
    selection: Selection,
    *,
    resume_at: datetime | None = None,
    dry_run: bool = False,
    idempotency_key: str | None = None,
) -> BulkResult:
    async def work(op: BulkOperation) -> BulkResult:
        _require_future(resume_at, op.change.now, "resumeAt")
        return await _apply(op, selection, Action.PAUSE, values={"resume_at": resume_at})

    return await run_bulk(
        db,
        clock,
        actor,
        BulkActionKind.PAUSE,
        work,
        request={"selection": selection, "resume_at": resume_at},
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )


async def resume(
    db: Database,
    clock: Clock,
    actor: Actor,
    selection: Selection,
    *,
    resume_at: datetime | None = None,
    dry_run: bool = False,
    idempotency_key: str | None = None,
) -> BulkResult:
    """Resume now (PAUSED -> ACTIVE), or set when paused enrollments resume by themselves."""

    async def work(op: BulkOperation) -> BulkResult:
        _require_future(resume_at, op.change.now, "resumeAt")
        if resume_at is None:
            return await _apply(
                op,
                selection,
                Action.RESUME,
                values={"resume_at": None, "next_run_at": op.change.now},
            )
        return await _schedule_resume(op, selection, resume_at)

    return await run_bulk(
        db,
        clock,
        actor,
        BulkActionKind.RESUME,
        work,
        request={"selection": selection, "resume_at": resume_at},
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )


async def _schedule_resume(
    op: BulkOperation, selection: Selection, resume_at: datetime
) -> BulkResult:
    """Set or replace the auto-resume moment: a paused enrollment keeps its status; one
    whose step was not sent is paused until then (PAUSED(MANUAL), resuming by itself)."""
    resolved = await resolve_selection(op.conn, op.actor, selection)
    await lock_sequences(op.conn, resolved.sequence_ids)
    counts = await status_counts(op.conn, resolved.predicate)
    skips = Skips()
    await collect_skips(op.conn, resolved.predicate, counts, Action.RESUME, skips)
    paused = sa.and_(resolved.predicate, e.status == EnrollmentStatus.PAUSED)
    result = await op.conn.execute(
        enrollments.update()
        .where(paused)
        .values(resume_at=resume_at, version=e.version + 1, updated_at=op.change.now)
    )
    rule = transition(Action.PAUSE)
    assert rule.to_status is not None
    held = await change_status(
        op.conn, op.change, resolved.sequence_ids, resolved.predicate,
        [EnrollmentStatus.NOT_SENT], rule.to_status, rule.to_reason, {"resume_at": resume_at},
    )  # fmt: skip
    return BulkResult(changed_count=result.rowcount + held, skipped=skips.groups())


async def finish(
    db: Database,
    clock: Clock,
    actor: Actor,
    selection: Selection,
    *,
    reason: FinishReason,
    dry_run: bool = False,
    idempotency_key: str | None = None,
) -> BulkResult:
    async def work(op: BulkOperation) -> BulkResult:
        return await _apply(
            op,
            selection,
            Action.FINISH,
            reason=reason.status_reason,
            values={"resume_at": None},
        )

    return await run_bulk(
        db,
        clock,
        actor,
        BulkActionKind.FINISH,
        work,
        request={"selection": selection, "reason": reason},
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )


async def remove(
    db: Database,
    clock: Clock,
    actor: Actor,
    selection: Selection,
    *,
    dry_run: bool = False,
    idempotency_key: str | None = None,
) -> BulkResult:
    async def work(op: BulkOperation) -> BulkResult:
        return await _apply(op, selection, Action.REMOVE, values={"resume_at": None})

    return await run_bulk(
        db,
        clock,
        actor,
        BulkActionKind.REMOVE,
        work,
        request={"selection": selection},
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )


async def add_to_group(
    db: Database,
    clock: Clock,
    actor: Actor,
    selection: Selection,
    *,
    group_id: int,
    dry_run: bool = False,
    idempotency_key: str | None = None,
) -> BulkResult:
    """Add the contacts of the selected enrollments to a group (no status change)."""

    async def work(op: BulkOperation) -> BulkResult:
        conn = op.conn
        found = (
            await conn.execute(
                sa.select(groups.c.id).where(
                    groups.c.id == group_id, groups.c.workspace_id == op.actor.workspace_id
                )
            )
        ).first()
        if found is None:
            raise InputErrors([error(["input", "groupId"], ErrorCode.NOT_FOUND, "no such group")])
        resolved = await resolve_selection(conn, op.actor, selection)
        member = sa.exists().where(
            group_members.c.group_id == group_id, group_members.c.contact_id == e.contact_id
        )
        already = sa.and_(resolved.predicate, member)
        skips = Skips()
        skipped_count = (await conn.execute(sa.select(sa.func.count()).where(already))).scalar_one()
        if skipped_count:
            sample = await conn.execute(sa.select(e.id).where(already).order_by(e.id).limit(100))
            skips.add(SkipReason.ALREADY_IN_GROUP, skipped_count, [r.id for r in sample])
        new_members = (
            sa.select(
                sa.literal(group_id, sa.BigInteger),
                e.contact_id,
                sa.literal(op.change.now, group_members.c.added_at.type),
            )
            .where(resolved.predicate, ~member)
            .distinct()
        )
        inserted = await conn.execute(
            group_members.insert().from_select(["group_id", "contact_id", "added_at"], new_members)
        )
        return BulkResult(changed_count=inserted.rowcount, skipped=skips.groups())

    return await run_bulk(
        db,
        clock,
        actor,
        BulkActionKind.ADD_TO_GROUP,
        work,
        request={"selection": selection, "group_id": group_id},
        dry_run=dry_run,
        idempotency_key=idempotency_key,
    )
