"""Inbound email, matched to its enrollment and applied: once per workspace and
Message-ID.

A message is classified (``seqgql.inbound.classify``), then matched: first by the
Message-IDs of ours it answers (``In-Reply-To``/``References``; a notice's attached
original), which count only when the message comes from that enrollment's contact (a
reply, an absence, a request to stop) or names the contact's address as a recipient it
failed for (a delivery notice); else by that address: the contact's most recent
enrollment still going (ACTIVE, PAUSED, NOT_SENT). What it is becomes a delivery report
applied by ``provider_reports.apply_report`` (REPLIED, OUT_OF_OFFICE with its return date,
OPTED_OUT, BOUNCED, DEFERRED), its activity's detail the evidence, in the transaction that
remembers the message (``inbound_messages``): the same message read again (a re-poll, a
webhook's retry) is answered as the first time and changes nothing. A message matching
no enrollment, or that is no reply (AUTOMATED), is remembered and changes nothing."""

from __future__ import annotations

import asyncio
import enum
import hashlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain.kinds import BulkActionKind, InboundKind, ReportDecision
from seqgql.inbound.classify import Classification, classify
from seqgql.persistence.database import Database
from seqgql.persistence.tables import inbound_messages
from seqgql.services.actor import Actor
from seqgql.services.enrollments.operation import BulkOperation, run_bulk
from seqgql.services.enrollments.provider_reports import ReportOptions, apply_report
from seqgql.services.enrollments.results import BulkResult
from seqgql.services.message_matching import Clues, Match, match_enrollments

# the most of an activity's detail (evidence and a reply's text)
MAX_DETAIL_CHARS = 5_000
_REPORTS = (InboundKind.BOUNCE, InboundKind.DELAYED)
m = inbound_messages.c


class Source(enum.StrEnum):
    IMAP = "IMAP"
    WEBHOOK = "WEBHOOK"


@dataclass(frozen=True, slots=True)
class InboundResult:
    kind: InboundKind
    decision: ReportDecision
    enrollment_id: int | None
    detail: str  # the evidence, how it was matched, what was done
    duplicate: bool = False  # read before: this is what was decided then


async def process_inbound(
    db: Database, clock: Clock, actor: Actor, raw: bytes, *, source: Source
) -> InboundResult:
    """Classify, match and apply the email ``raw`` for ``actor``'s workspace (see the
    module). Raises ``inbound.classify.NotAMessage`` for bytes that are no email."""
    now = clock.now()
    classified = await asyncio.to_thread(classify, raw, received_at=now)
    key = _key(classified, raw)
    async with db.read() as conn:
        earlier = await _earlier(conn, actor.workspace_id, key)
        if earlier is not None:
            return earlier
        match, notes = await match_enrollment(conn, actor.workspace_id, classified)
    event = classified.kind.delivery_event
    row: dict[str, Any] = {
        "workspace_id": actor.workspace_id,
        "message_key": key,
        "message_id": classified.message_id,
        "received_at": now,
        "source": source.value,
        "sender": (classified.sender or "")[:320] or None,
        "subject": classified.subject or None,
        "kind": classified.kind,
        "enrollment_id": match.enrollment_id if match else None,
    }
    try:
        if match is None or event is None:
            decision = ReportDecision.UNMATCHED if match is None else ReportDecision.IGNORED
            detail = _detail(classified, match, notes, decision)
            async with db.write() as conn:
                await conn.execute(
                    inbound_messages.insert().values(**row, decision=decision, detail=detail)
                )
            return InboundResult(classified.kind, decision, row["enrollment_id"], detail)
        return await _apply(db, clock, actor, classified, match, notes, row)
    except sa.exc.IntegrityError:
        # read at the same moment by another poller or a webhook's retry: answered as it was
        async with db.read() as conn:
            again = await _earlier(conn, actor.workspace_id, key)
        if again is None:
            raise
        return again


async def _apply(
    db: Database,
    clock: Clock,
    actor: Actor,
    classified: Classification,
    match: Match,
    notes: list[str],
    row: dict[str, Any],
) -> InboundResult:
    """The report, applied in the transaction that remembers the message."""
    event = classified.kind.delivery_event
    assert event is not None
    activity = _detail(classified, match, notes, None)
    outcome: dict[str, Any] = {}

    async def work(op: BulkOperation) -> BulkResult:
        inserted = await op.conn.execute(
            inbound_messages.insert()
            .values(**row, decision=ReportDecision.RECORDED, detail=activity)
            .returning(m.id)
        )
        message_pk = inserted.scalar_one()
        options = ReportOptions(
            match.enrollment_id,
            event,
            return_date=classified.return_date,
            occurred_at=min(classified.sent_at, op.change.now),
            detail=activity,
        )
        result = await apply_report(op, options)
        decision = ReportDecision.APPLIED if result.changed_count else ReportDecision.RECORDED
        detail = activity
        if result.skipped:
            detail = f"{activity}\n\nstatus unchanged: {result.skipped[0].reason.value}"
        await op.conn.execute(
            inbound_messages.update()
            .where(m.id == message_pk)
            .values(decision=decision, detail=detail[:MAX_DETAIL_CHARS])
        )
        outcome.update(decision=decision, detail=detail)
        return result

    result = await run_bulk(
        db,
        clock,
        actor,
        BulkActionKind.DELIVERY_EVENT,
        work,
        request={},
        described={
            "source": f"inbound email ({row['source']})",
            "messageId": classified.message_id,
            "kind": event.value,
        },
    )
    if result.errors:  # a report the service refused: kept, unapplied, with why
        detail = f"{activity}\n\nnot applied: {result.errors[0].message}"
        async with db.write() as conn:
            await conn.execute(
                inbound_messages.insert().values(
                    **row, decision=ReportDecision.IGNORED, detail=detail
                )
            )
        return InboundResult(classified.kind, ReportDecision.IGNORED, match.enrollment_id, detail)
    return InboundResult(
        classified.kind, outcome["decision"], match.enrollment_id, outcome["detail"]
    )


async def match_enrollment(
    conn: AsyncConnection, workspace_id: int, classified: Classification
) -> tuple[Match | None, list[str]]:
    """The enrollment the message is about (``message_matching``: by the Message-IDs of
    ours it answers, counted only when their contact sent it or, for a delivery notice, is
    a recipient it failed for; else by that address), and notes on ids that did not count."""
    reporting = classified.kind in _REPORTS
    wanted = classified.failed_recipients if reporting else (classified.sender,)
    clues = Clues(
        [r.enrollment_id for r in classified.references],
        [a for a in wanted if a],
        "a recipient it failed for" if reporting else "the sender",
    )
    [matched] = await match_enrollments(conn, workspace_id, [clues])
    return matched.match, matched.notes


def _detail(
    classified: Classification,
    match: Match | None,
    notes: list[str],
    decision: ReportDecision | None,
) -> str:
    lines = [classified.evidence]
    if match is not None:
        lines.append(f"matched by {match.how}")
    lines.extend(notes)
    if decision is ReportDecision.UNMATCHED:
        lines.append("no enrollment matched: nothing changed")
    elif decision is ReportDecision.IGNORED:
        lines.append("not a reply: nothing changed")
    text = "; ".join(lines)
    if classified.reply_text:
        text += f"\n\n{classified.reply_text}"
    return text[:MAX_DETAIL_CHARS]


def _key(classified: Classification, raw: bytes) -> str:
    """What identifies the message: its Message-ID, else its bytes."""
    if classified.message_id:
        basis = classified.message_id.strip().strip("<>").strip().encode()
    else:
        basis = raw
    return hashlib.sha256(basis).hexdigest()


async def _earlier(conn: AsyncConnection, workspace_id: int, key: str) -> InboundResult | None:
    row = (
        await conn.execute(
            sa.select(m.kind, m.decision, m.enrollment_id, m.detail).where(
                m.workspace_id == workspace_id, m.message_key == key
            )
        )
    ).first()
    if row is None:
        return None
    return InboundResult(
        InboundKind(row.kind), ReportDecision(row.decision), row.enrollment_id, row.detail, True
    )
