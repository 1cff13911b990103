"""Email provider events (``seqgql.provider_events``), matched to their enrollments and
applied: once per workspace, provider and event id.

A batch is one transaction: the events seen before are answered as they were decided and
change nothing (a provider retries what it is not sure arrived); the others are matched
(``message_matching``: by the Message-ID of ours the event names, counted only when the
event's recipient is that enrollment's contact; else by the recipient's address) and what
they report applied through ``provider_reports.apply_reports`` (activities and status
changes, with their events), in the order they happened; each is kept in
``provider_events`` with what was decided, whose unique key decides two deliveries of the
same event at once. An event that could not be read, or one the service refuses, leaves
the others be. Mailgun's signature token is taken once: a request whose token was seen
with another event is a replay (``Replayed``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain.kinds import BulkActionKind, EmailProvider, ReportDecision
from seqgql.persistence.database import Database
from seqgql.persistence.tables import provider_events
from seqgql.provider_events.events import ProviderEvent
from seqgql.services.actor import Actor
from seqgql.services.enrollments.operation import BulkOperation, run_bulk
from seqgql.services.enrollments.provider_reports import (
    ReportOptions,
    ReportOutcome,
    apply_reports,
)
from seqgql.services.enrollments.results import BulkResult
from seqgql.services.message_matching import Clues, Matched, match_enrollments

_CHUNK = 1_000
p = provider_events.c


class Replayed(Exception):
    """A signature token already taken by another event: the request is a replay."""


@dataclass(frozen=True, slots=True)
class EventResult:
    event_id: str
    name: str
    decision: ReportDecision
    enrollment_id: int | None
    detail: str  # the evidence, how it was matched, what was done
    duplicate: bool = False  # seen before: this is what was decided then


async def process_provider_events(
    db: Database,
    clock: Clock,
    actor: Actor,
    provider: EmailProvider,
    events: Sequence[ProviderEvent],
    *,
    token: str | None = None,
) -> list[EventResult]:
    """Match and apply ``events`` for ``actor``'s workspace (see the module); one result
    per event, in order. Raises ``Replayed`` for a ``token`` seen with another event."""
    for attempt in range(2):
        async with db.read() as conn:
            earlier = await _earlier(conn, actor.workspace_id, provider, events, token)
        if all(e.event_id in earlier for e in events):
            return [earlier[e.event_id] for e in events]
        try:
            return await _apply(db, clock, actor, provider, events, token)
        except sa.exc.IntegrityError:
            # the same events delivered twice at once: the other delivery decided them
            if attempt:
                raise
    raise AssertionError("unreachable")


async def _apply(
    db: Database,
    clock: Clock,
    actor: Actor,
    provider: EmailProvider,
    events: Sequence[ProviderEvent],
    token: str | None,
) -> list[EventResult]:
    results: dict[int, EventResult] = {}

    async def work(op: BulkOperation) -> BulkResult:
        ws = actor.workspace_id
        earlier = await _earlier(op.conn, ws, provider, events, token)
        first: dict[str, int] = {}  # each event id: its first position
        for i, event in enumerate(events):
            if event.event_id in earlier:
                results[i] = earlier[event.event_id]
            else:
                first.setdefault(event.event_id, i)  # the same id twice in one batch: once
        fresh = [events[i] for i in first.values()]
        matched = await match_enrollments(op.conn, ws, [_clues(e) for e in fresh])
        decided = await _decide(op, fresh, matched)
        now = op.change.now
        rows = [
            {
                "workspace_id": ws,
                "provider": provider,
                "event_id": event.event_id,
                "token": token,
                "event": event.name,
                "received_at": now,
                "occurred_at": event.occurred_at,
                "enrollment_id": result.enrollment_id,
                "decision": result.decision,
                "detail": result.detail,
            }
            for event, result in zip(fresh, decided, strict=True)
        ]
        if rows:
            await op.conn.execute(provider_events.insert(), rows)
        for index, result in zip(first.values(), decided, strict=True):
            results[index] = result
        for i, event in enumerate(events):
            if i not in results:
                results[i] = _again(results[first[event.event_id]])
        changed = sum(r.decision is ReportDecision.APPLIED for r in decided)
        return BulkResult(changed_count=changed)

    await run_bulk(
        db,
        clock,
        actor,
        BulkActionKind.DELIVERY_EVENT,
        work,
        request={},
        described={"source": f"{provider.value.lower()} event webhook", "events": len(events)},
    )
    return [results[i] for i in range(len(events))]


def _clues(event: ProviderEvent) -> Clues:
    addresses = [event.recipient] if event.recipient else []
    return Clues(event.enrollment_ids, addresses, "the recipient")


async def _decide(
    op: BulkOperation, events: list[ProviderEvent], matched: list[Matched]
) -> list[EventResult]:
    """What each event does, applied: its report, when it makes one about an enrollment."""
    now = op.change.now
    reports: list[tuple[int, ReportOptions]] = []
    activity: dict[int, str] = {}
    for i, (event, found) in enumerate(zip(events, matched, strict=True)):
        if event.kind is None or found.match is None:
            continue
        activity[i] = "; ".join([event.detail, f"matched by {found.match.how}", *found.notes])
        occurred = min(event.occurred_at, now) if event.occurred_at else None
        options = ReportOptions(
            found.match.enrollment_id, event.kind, occurred_at=occurred, detail=activity[i]
        )
        reports.append((i, options))
    reports.sort(key=lambda r: (r[1].occurred_at or now, r[0]))  # in the order they happened
    outcomes = await apply_reports(op, [options for _, options in reports])
    applied: dict[int, ReportOutcome] = {
        i: outcome for (i, _), outcome in zip(reports, outcomes, strict=True)
    }
    results = []
    for i, (event, found) in enumerate(zip(events, matched, strict=True)):
        enrollment = found.match.enrollment_id if found.match else None
        if i in applied:
            results.append(_applied(event, enrollment, activity[i], applied[i]))
            continue
        lines = [event.detail, *([f"matched by {found.match.how}"] if found.match else [])]
        lines.extend(found.notes)
        if event.kind is None:
            decision = ReportDecision.IGNORED
            lines.append("not a report we act on: nothing changed")
        else:
            decision = ReportDecision.UNMATCHED
            lines.append("no enrollment matched: nothing changed")
        detail = "; ".join(lines)
        results.append(EventResult(event.event_id, event.name, decision, enrollment, detail))
    return results


def _applied(
    event: ProviderEvent, enrollment: int | None, activity: str, outcome: ReportOutcome
) -> EventResult:
    decision, detail = ReportDecision.RECORDED, activity
    if outcome.error is not None:
        decision = ReportDecision.IGNORED
        detail = f"{activity}; not applied: {outcome.error.message}"
    elif outcome.changed:
        decision = ReportDecision.APPLIED
    elif outcome.skip is not None:
        detail = f"{activity}; status unchanged: {outcome.skip.value}"
    return EventResult(event.event_id, event.name, decision, enrollment, detail)


def _again(result: EventResult) -> EventResult:
    return EventResult(
        result.event_id, result.name, result.decision, result.enrollment_id, result.detail, True
    )


async def _earlier(
    conn: AsyncConnection,
    workspace_id: int,
    provider: EmailProvider,
    events: Sequence[ProviderEvent],
    token: str | None,
) -> dict[str, EventResult]:
    """The events seen before, as they were decided; raises ``Replayed`` when ``token``
    was taken by an event not among ``events``."""
    ids = sorted({e.event_id for e in events})
    found: dict[str, EventResult] = {}
    columns: list[Any] = [p.event_id, p.event, p.decision, p.enrollment_id, p.detail]
    mine = sa.and_(p.workspace_id == workspace_id, p.provider == provider)
    for start in range(0, len(ids), _CHUNK):
        rows = await conn.execute(
            sa.select(*columns).where(mine, p.event_id.in_(ids[start : start + _CHUNK]))
        )
        for r in rows:
            found[r.event_id] = EventResult(
                r.event_id, r.event, ReportDecision(r.decision), r.enrollment_id, r.detail, True
            )
    if token is not None:
        taken = (
            await conn.execute(sa.select(p.event_id).where(mine, p.token == token))
        ).scalar_one_or_none()
        if taken is not None and taken not in ids:
            raise Replayed("this signature's token was used before, for another event")
    return found
