"""What became of each message a batch handed to the transport, recorded: sent (the
activity, the next step scheduled), refused (BOUNCED for an email, FAILED for an SMS), a
transient failure (tried again later with backoff; FAILED after the last attempt), our own
settings wrong (the step waits), or not tried because the worker is stopping (left due).
A step that did not go out gives its place under the daily limit back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.kinds import ActivityKind, WaitingFor
from seqgql.domain.status import Action
from seqgql.engine.changes import change_claimed
from seqgql.engine.claims import DueRow
from seqgql.engine.limits import DailyLimits
from seqgql.engine.recording import record_sent
from seqgql.engine.stats import BatchStats
from seqgql.outbound.sending import Outcome, Result, failure_kind
from seqgql.outbound.transport import OutboundMessage
from seqgql.persistence.tables import enrollments
from seqgql.services.enrollments.activity_log import NewActivity, record_activities
from seqgql.services.enrollments.transitions import ChangeContext

e = enrollments.c
# a message of the batch, and what came of it
Done = tuple[DueRow, OutboundMessage, Result]
# Each statement that records an outcome also clears the step's key (``engine.intents``):
# a row updated twice in one transaction has its foreign keys checked again, which waits
# for a sequence a bulk action holds.
_SETTLED = {"sending_key": None, "sending_until": None}
# outcomes whose statements leave the key: the status change writes events, not the key
_KEY_LEFT = frozenset({Outcome.NOT_ATTEMPTED, Outcome.REFUSED})
# the keys left once the outcomes are recorded: one statement (one prepared statement)
# whatever the number of rows, unlike an IN list of one parameter per row
_SETTLE_REST_PG = sa.text("""
    UPDATE enrollments SET sending_key = NULL, sending_until = NULL
    WHERE id = ANY(CAST(:ids AS bigint[])) AND sending_key IS NOT NULL
""")


@dataclass(frozen=True, slots=True)
class RetryRules:
    max_send_attempts: int = 8
    retry_after_minutes: int = 5  # doubles with each transient failure of the step


def writes_events(item: Done) -> bool:
    """Whether recording this outcome writes events (and so needs its sequence's lock):
    sent or deferred (an activity), refused (a status change and an activity)."""
    return item[2].outcome in _LOGGED


_LOGGED = frozenset({Outcome.SENT, Outcome.RETRY, Outcome.REFUSED})


def changes_status(item: Done, rules: RetryRules) -> bool:
    """Whether recording this outcome changes the enrollment's status: refused, or the
    last transient failure allowed."""
    row, _, result = item
    if result.outcome is Outcome.REFUSED:
        return True
    return result.outcome is Outcome.RETRY and row.send_attempts + 1 >= rules.max_send_attempts


async def record_outcomes(
    conn: AsyncConnection,
    ctx: ChangeContext,
    done: Sequence[Done],
    rules: RetryRules,
    stats: BatchStats,
    aside: dict[int, float],
) -> None:
    """Record what became of each message (in the transaction of ``conn``)."""
    if not done:
        return
    by_outcome: dict[Outcome, list[Done]] = defaultdict(list)
    limits = DailyLimits(ctx.now)
    for item in done:
        by_outcome[item[2].outcome].append(item)
        if item[2].outcome is not Outcome.SENT:
            limits.give_back(item[0])
    await limits.save(conn)

    sent = by_outcome[Outcome.SENT]
    advanced = await record_sent(conn, ctx.now, [(row, message) for row, message, _ in sent])
    stats.sent += len(sent)
    stats.not_attempted += len(by_outcome[Outcome.NOT_ATTEMPTED])
    waiting = [row.id for row, _, _ in by_outcome[Outcome.MISCONFIGURED]]
    if waiting:
        later = ctx.now + timedelta(minutes=rules.retry_after_minutes)
        await conn.execute(
            enrollments.update()
            .where(e.id.in_(waiting))
            .values(next_run_at=later, waiting_for=WaitingFor.TRANSPORT_UNAVAILABLE, **_SETTLED)
        )
        stats.rescheduled += len(waiting)

    given_up: list[Done] = []
    retry = []
    deferred: list[NewActivity] = []
    for item in by_outcome[Outcome.RETRY]:
        row = item[0]
        if changes_status(item, rules):
            given_up.append(item)
        else:
            backoff = rules.retry_after_minutes * 2**row.send_attempts
            retry.append({"eid": row.id, "at": ctx.now + timedelta(minutes=backoff)})
            deferred.append(_activity(row, ActivityKind.DEFERRED, ctx, item[2]))
    if retry:
        await conn.execute(
            enrollments.update()
            .where(e.id == sa.bindparam("eid"))
            .values(
                next_run_at=sa.bindparam("at"),
                send_attempts=e.send_attempts + 1,
                waiting_for=WaitingFor.RETRY_BACKOFF,
                **_SETTLED,
            ),
            retry,
        )
        stats.retried += len(retry)
        await record_activities(conn, deferred)
    # refused for good: an email bounced, an SMS failed; never got through: failed
    bounced: list[Done] = []
    failed = list(given_up)  # given up after transient failures, then refused SMS
    for item in by_outcome[Outcome.REFUSED]:
        channel = item[1].channel
        kind = failure_kind(Outcome.REFUSED, channel)
        (bounced if kind is ActivityKind.BOUNCED else failed).append(item)
    await _refuse(conn, ctx, bounced, Action.BOUNCE, stats, aside)
    await _refuse(conn, ctx, failed, Action.FAIL, stats, aside)
    # the rest (not tried, refused, or moved to another step meanwhile): only the key goes
    ids = [row.id for row, _, result in done if result.outcome in _KEY_LEFT]
    if advanced != len(sent):  # some were moved meanwhile (or the driver cannot tell)
        ids += [row.id for row, _, _ in sent]
    ids += [row.id for row, _, _ in given_up]
    if not ids:
        return
    if conn.dialect.name == "postgresql":
        await conn.execute(_SETTLE_REST_PG, {"ids": ids})
        return
    await conn.execute(
        enrollments.update().where(e.id.in_(ids), e.sending_key.is_not(None)).values(**_SETTLED)
    )


async def _refuse(
    conn: AsyncConnection,
    ctx: ChangeContext,
    refused: list[Done],
    action: Action,
    stats: BatchStats,
    aside: dict[int, float],
) -> None:
    """BOUNCED (an email) or FAILED: the status change, and the answer as activity."""
    if not refused:
        return
    changed, deferred = await change_claimed(
        conn, ctx, action, None, [row for row, _, _ in refused], aside
    )
    stats.deferred += deferred
    kind = ActivityKind.BOUNCED if action is Action.BOUNCE else ActivityKind.FAILED
    activity = [
        _activity(row, kind, ctx, result) for row, _, result in refused if row.id in changed
    ]
    await record_activities(conn, activity)
    if action is Action.BOUNCE:
        stats.bounced += len(activity)
    else:
        stats.failed += len(activity)


def _activity(row: DueRow, kind: ActivityKind, ctx: ChangeContext, result: Result) -> NewActivity:
    detail = (result.detail or "")[:500]
    return NewActivity(
        row.workspace_id, row.sequence_id, row.id, kind, ctx.now, row.current_step, detail
    )
