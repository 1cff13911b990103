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
from seqgql.domain.kinds import BulkActionKind, InboundKind
from seqgql.domain.status import ACTIVE_ELSEWHERE
from seqgql.inbound.classify import Classification, classify
from seqgql.persistence.database import Database
from seqgql.persistence.tables import contacts, enrollments, inbound_messages
from seqgql.services.actor import Actor
from seqgql.services.enrollments.operation import BulkOperation, run_bulk
from seqgql.services.enrollments.provider_reports import ReportOptions, apply_report
from seqgql.services.enrollments.results import BulkResult

# the most of an activity's detail (evidence and a reply's text)
MAX_DETAIL_CHARS = 5_000
_REPORTS = (InboundKind.BOUNCE, InboundKind.DELAYED)
e = enrollments.c
m = inbound_messages.c


class Source(enum.StrEnum):
    IMAP = "IMAP"
    WEBHOOK = "WEBHOOK"


class Decision(enum.StrEnum):
    APPLIED = "APPLIED"  # the enrollment's status changed
    RECORDED = "RECORDED"  # an activity was recorded; the status stayed (see the detail)
    UNMATCHED = "UNMATCHED"  # no enrollment matched: nothing changed
    IGNORED = "IGNORED"  # not a reply (an automated message): nothing changed


@dataclass(frozen=True, slots=True)
class InboundResult:
    kind: InboundKind
    decision: Decision
    enrollment_id: int | None
    detail: str  # the evidence, how it was matched, what was done
    duplicate: bool = False  # read before: this is what was decided then


@dataclass(frozen=True, slots=True)
class Match:
    enrollment_id: int
    how: str  # e.g. "In-Reply-To/References <seqgql.4.1.0@…> from the contact's address"


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
            decision = Decision.UNMATCHED if match is None else Decision.IGNORED
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
            .values(**row, decision=Decision.RECORDED, detail=activity)
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
        decision = Decision.APPLIED if result.changed_count else Decision.RECORDED
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
                inbound_messages.insert().values(**row, decision=Decision.IGNORED, detail=detail)
            )
        return InboundResult(classified.kind, Decision.IGNORED, match.enrollment_id, detail)
    return InboundResult(
        classified.kind, outcome["decision"], match.enrollment_id, outcome["detail"]
    )


async def match_enrollment(
    conn: AsyncConnection, workspace_id: int, classified: Classification
) -> tuple[Match | None, list[str]]:
    """The enrollment the message is about, and notes on ids that did not count."""
    reporting = classified.kind in _REPORTS
    wanted = classified.failed_recipients if reporting else (classified.sender,)
    addresses = [a for a in wanted if a]
    role = "a recipient it failed for" if reporting else "the sender"
    notes: list[str] = []
    ids = list(dict.fromkeys(r.enrollment_id for r in classified.references))[:20]
    if ids:
        rows = await conn.execute(
            sa.select(e.id, sa.func.lower(contacts.c.email).label("email"))
            .join(contacts, contacts.c.id == e.contact_id)
            .where(e.id.in_(ids), e.workspace_id == workspace_id)
        )
        emails = {r.id: r.email for r in rows}
        for pk in ids:
            if pk in emails and emails[pk] in addresses:
                return Match(pk, f"Message-ID of enrollment {pk}, its contact {role}"), notes
        if emails:
            notes.append(
                f"Message-ID of enrollment {', '.join(map(str, emails))} not counted: its "
                f"contact is not {role}"
            )
    if not addresses:
        return None, notes
    found = (
        await conn.execute(
            sa.select(e.id, contacts.c.email)
            .join(contacts, contacts.c.id == e.contact_id)
            .where(
                e.workspace_id == workspace_id,
                contacts.c.workspace_id == workspace_id,
                sa.func.lower(contacts.c.email).in_(addresses),
                e.status.in_(ACTIVE_ELSEWHERE),
            )
            .order_by(e.enrolled_at.desc(), e.id.desc())
            .limit(1)
        )
    ).first()
    if found is None:
        return None, notes
    how = f"{role} {found.email.lower()}: the contact's most recent enrollment still going"
    return Match(found.id, how), notes


def _detail(
    classified: Classification, match: Match | None, notes: list[str], decision: Decision | None
) -> str:
    lines = [classified.evidence]
    if match is not None:
        lines.append(f"matched by {match.how}")
    lines.extend(notes)
    if decision is Decision.UNMATCHED:
        lines.append("no enrollment matched: nothing changed")
    elif decision is Decision.IGNORED:
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
        InboundKind(row.kind), Decision(row.decision), row.enrollment_id, row.detail, True
    )
