"""How a bulk action is declared: once, as data.

A ``BulkAction`` names what it is recorded as (``kind``), the options it takes (a frozen
dataclass: the request its idempotency key stands for) and its work, which runs inside
the frame of ``operation.run_bulk`` (one transaction, dry runs, idempotency). A
``transition`` action is the common shape: resolve the selection, lock its sequences,
report what the domain's transition table skips and why, change the rest.

Calling an action runs it: ``await pause(db, clock, actor, selection, resume_at=...)``
builds ``PauseOptions(selection, resume_at=...)`` and runs the work with it."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from seqgql.clock import Clock
from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.kinds import BulkActionKind
from seqgql.domain.selection import Selection
from seqgql.domain.status import Action, StatusReason, transition
from seqgql.persistence.database import Database
from seqgql.persistence.tables import steps
from seqgql.services.actor import Actor
from seqgql.services.enrollments.operation import BulkOperation, run_bulk
from seqgql.services.enrollments.resolution import (
    ResolvedSelection,
    collect_skips,
    resolve_selection,
    status_counts,
)
from seqgql.services.enrollments.results import BulkResult, Skips
from seqgql.services.enrollments.transitions import change_status, lock_sequences

OptionsT = TypeVar("OptionsT")


@dataclass(frozen=True, slots=True)
class BulkAction(Generic[OptionsT]):
    """One bulk action, described once (see the module)."""

    kind: BulkActionKind
    options: Callable[..., OptionsT]
    work: Callable[[BulkOperation, OptionsT], Awaitable[BulkResult]]

    async def __call__(
        self,
        db: Database,
        clock: Clock,
        actor: Actor,
        *args: Any,
        dry_run: bool = False,
        idempotency_key: str | None = None,
        **kwargs: Any,
    ) -> BulkResult:
        """Run with the options built from ``args`` and ``kwargs``."""
        options = self.options(*args, **kwargs)
        return await self.run(
            db, clock, actor, options, dry_run=dry_run, idempotency_key=idempotency_key
        )

    async def run(
        self,
        db: Database,
        clock: Clock,
        actor: Actor,
        options: OptionsT,
        *,
        dry_run: bool = False,
        idempotency_key: str | None = None,
        described: Mapping[str, Any] | None = None,
    ) -> BulkResult:
        """Run with these options (see ``operation.run_bulk``); ``described`` is the
        input as the caller wrote it, kept with the operation's record."""

        async def work(op: BulkOperation) -> BulkResult:
            return await self.work(op, options)

        return await run_bulk(
            db,
            clock,
            actor,
            self.kind,
            work,
            request=request_of(options),
            dry_run=dry_run,
            idempotency_key=idempotency_key,
            described=described,
        )


def request_of(options: Any) -> Mapping[str, Any]:
    """What an idempotency key stands for: the options (but for those not compared: a
    transport, say), or what their ``idempotency_request()`` says."""
    if hasattr(options, "idempotency_request"):
        return dict(options.idempotency_request())
    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options) if f.compare}


@dataclass(frozen=True, slots=True)
class Selected:
    """The options of an action that takes nothing but a selection."""

    selection: Selection


Values = Callable[[Any, datetime], Mapping[str, Any]]
Check = Callable[[Any, datetime], None]


def transition_action(
    kind: BulkActionKind,
    options: Callable[..., OptionsT],
    action: Action,
    *,
    values: Values | None = None,
    reason: Callable[[Any], StatusReason] | None = None,
    checks: Sequence[Check] = (),
) -> BulkAction[OptionsT]:
    """The common shape: the selected enrollments ``action`` applies to move as the
    domain's transition table says (to ``reason(options)`` when given, with
    ``values(options, now)`` set); the others are reported as skipped, by reason."""

    async def work(op: BulkOperation, opts: Any) -> BulkResult:
        for check in checks:
            check(opts, op.change.now)
        return await apply_transition(
            op,
            opts.selection,
            action,
            values=values(opts, op.change.now) if values else None,
            reason=reason(opts) if reason else None,
        )

    return BulkAction(kind, options, work)


async def apply_transition(
    op: BulkOperation,
    selection: Selection,
    action: Action,
    *,
    values: Mapping[str, Any] | None = None,
    reason: StatusReason | None = None,
) -> BulkResult:
    """Validate, lock, count what is skipped, change the rest."""
    resolved, skips, locked = await select_for(op, selection, action)
    rule = transition(action)
    assert rule.to_status is not None
    changed = await change_status(
        op.conn,
        op.change,
        sequence_ids=resolved.sequence_ids,
        where=resolved.predicate,
        allowed_from=rule.allowed_from,
        to=rule.to_status,
        reason=reason or rule.to_reason,
        values=values,
        locked=locked,
    )
    return BulkResult(changed_count=changed, skipped=skips.groups())


async def select_for(
    op: BulkOperation, selection: Selection, action: Action
) -> tuple[ResolvedSelection, Skips, dict[int, int]]:
    """Check the selection, lock its sequences, and count what ``action`` skips (by the
    transition table's reasons); with the sequences' last event numbers as locked (for
    ``change_status``'s ``locked``, while no event is written for them)."""
    resolved = await resolve_selection(op.conn, op.actor, selection)
    locked = await lock_sequences(op.conn, resolved.sequence_ids)
    counts = await status_counts(op.conn, resolved.predicate)
    skips = Skips()
    await collect_skips(op.conn, resolved.predicate, counts, action, skips)
    return resolved, skips, locked


def in_future(attribute: str, field: str) -> Check:
    """A check that an optional moment among the options lies in the future."""

    def check(options: Any, now: datetime) -> None:
        moment = getattr(options, attribute)
        if moment is not None and moment <= now:
            raise InputErrors(
                [error(["input", field], ErrorCode.IN_THE_PAST, "must be a moment in the future")]
            )

    return check


async def check_step(op: BulkOperation, sequence_ids: list[int], step: int, field: str) -> None:
    """``step`` must be a step (a position) of every sequence in ``sequence_ids``."""
    fewest = (
        await op.conn.execute(
            sa.select(sa.func.max(steps.c.position))
            .where(steps.c.sequence_id.in_(sequence_ids))
            .group_by(steps.c.sequence_id)
            .order_by(sa.func.max(steps.c.position))
            .limit(1)
        )
    ).scalar()
    if step < 1 or fewest is None or step > fewest:
        raise InputErrors(
            [
                error(
                    ["input", field],
                    ErrorCode.OUT_OF_RANGE,
                    f"must be a step of the sequence: 1 to {fewest or 0} ({step} given)",
                )
            ]
        )
