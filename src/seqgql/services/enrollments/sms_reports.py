"""What an SMS provider's webhooks need: whose a report is (the workspace named in a
webhook's URL, the workspace of the enrollment a status report is about), which
enrollments a contact's text answers, and what the carrier keywords do.

A text belongs to every contact of the workspace with that phone number; for each, it
answers their latest enrollment still going (ACTIVE, PAUSED, NOT_SENT) in a sequence with
an SMS step, or else their latest one in such a sequence (so that it is in the history).

* Opt-out (STOP...): the contacts are opted out, and every one of their enrollments, in
  every sequence, becomes OPTED_OUT where the transition table allows it (with events);
  an OPTED_OUT activity on each one that changed and on each answered enrollment.
* Opt-in (START...): the contacts are no longer opted out. Their OPTED_OUT enrollments
  stay so (no transition leaves OPTED_OUT but finish and remove); they can be added to
  sequences again. A NOTE activity on each answered enrollment.
* Help (HELP, INFO): a NOTE activity on each answered enrollment, nothing else.

Replies are recorded by ``provider_reports.record_delivery_event`` (REPLIED) on each
answered enrollment."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.kinds import ActivityKind, BulkActionKind, Role, StepChannel
from seqgql.domain.sms import Keyword
from seqgql.domain.status import ACTIVE_ELSEWHERE, Action, EnrollmentStatus, transition
from seqgql.persistence.database import Database
from seqgql.persistence.tables import (
    activities,
    contacts,
    enrollments,
    events,
    steps,
    workspaces,
)
from seqgql.services.actor import Actor
from seqgql.services.enrollments.activity_log import NewActivity, record_activities
from seqgql.services.enrollments.bulk_action import BulkAction
from seqgql.services.enrollments.operation import BulkOperation
from seqgql.services.enrollments.results import BulkResult
from seqgql.services.enrollments.transitions import change_status

e = enrollments.c
c = contacts.c


def provider_actor(workspace_id: int) -> Actor:
    """Who acts for a provider's report: no user (the events name no actor)."""
    return Actor(workspace_id, None, Role.ADMIN)


async def workspace_named(db: Database, name: str) -> int | None:
    async with db.read() as conn:
        query = sa.select(workspaces.c.id).where(workspaces.c.name == name)
        return (await conn.execute(query)).scalar()


async def workspace_of_enrollment(db: Database, enrollment_id: int) -> int | None:
    async with db.read() as conn:
        query = sa.select(e.workspace_id).where(e.id == enrollment_id)
        return (await conn.execute(query)).scalar()


async def has_contact_with_phone(db: Database, workspace_id: int, phone: str) -> bool:
    async with db.read() as conn:
        query = sa.select(c.id).where(c.workspace_id == workspace_id, c.phone == phone).limit(1)
        return (await conn.execute(query)).first() is not None


async def answered_enrollments(db: Database, workspace_id: int, phone: str) -> list[int]:
    """The enrollments a text from ``phone`` answers: one per contact with that phone."""
    async with db.read() as conn:
        return await _answered(conn, workspace_id, phone)


async def _answered(conn: AsyncConnection, workspace_id: int, phone: str) -> list[int]:
    with_sms = sa.exists().where(
        steps.c.sequence_id == e.sequence_id, steps.c.channel == StepChannel.SMS
    )
    last_activity = (
        sa.select(sa.func.max(activities.c.id))
        .where(activities.c.enrollment_id == e.id)
        .scalar_subquery()
    )
    going = e.status.in_(sorted(ACTIVE_ELSEWHERE))
    rows = await conn.execute(
        sa.select(e.id, e.contact_id)
        .join(contacts, c.id == e.contact_id)
        .where(
            c.workspace_id == workspace_id,
            c.phone == phone,
            e.status != EnrollmentStatus.REMOVED,
            with_sms,
        )
        .order_by(
            e.contact_id,
            sa.case((going, 0), else_=1),
            sa.func.coalesce(last_activity, 0).desc(),
            e.id.desc(),
        )
    )
    chosen: dict[int, int] = {}
    for row in rows:
        chosen.setdefault(row.contact_id, row.id)
    return sorted(chosen.values())


@dataclass(frozen=True, slots=True)
class KeywordText:
    phone: str
    keyword: Keyword
    body: str


async def _apply_keyword(op: BulkOperation, options: KeywordText) -> BulkResult:
    """What a carrier keyword does (see the module)."""
    phone_contacts = sa.select(c.id).where(
        c.workspace_id == op.actor.workspace_id, c.phone == options.phone
    )
    answered = await _answered(op.conn, op.actor.workspace_id, options.phone)
    if options.keyword is Keyword.HELP:
        await _note(op, answered, ActivityKind.NOTE, f"texted {options.body.strip()!r}")
        return BulkResult()
    if options.keyword is Keyword.OPT_IN:
        await op.conn.execute(
            contacts.update().where(c.id.in_(phone_contacts)).values(opted_out=False)
        )
        await _note(op, answered, ActivityKind.NOTE, f"opted back in: {options.body.strip()!r}")
        return BulkResult()
    await op.conn.execute(contacts.update().where(c.id.in_(phone_contacts)).values(opted_out=True))
    theirs = e.contact_id.in_(phone_contacts)
    sequence_ids = [
        r[0] for r in await op.conn.execute(sa.select(e.sequence_id).where(theirs).distinct())
    ]
    rule = transition(Action.OPT_OUT)
    changed = await change_status(
        op.conn,
        op.change,
        sequence_ids=sequence_ids,
        where=theirs,
        allowed_from=rule.allowed_from,
        to=rule.to_status,
        reason=rule.to_reason,
        values={"resume_at": None},
    )
    opted = [
        r[0]
        for r in await op.conn.execute(
            sa.select(events.c.enrollment_id).where(
                events.c.bulk_operation_id == op.change.bulk_operation_id
            )
        )
    ]
    await _note(op, sorted({*answered, *opted}), ActivityKind.OPTED_OUT, options.body.strip())
    return BulkResult(changed_count=changed)


async def _note(op: BulkOperation, ids: list[int], kind: ActivityKind, detail: str) -> None:
    """The activity of ``kind`` on each of these enrollments (and its event)."""
    found = await op.conn.execute(sa.select(e.id, e.sequence_id).where(e.id.in_(ids)))
    await record_activities(
        op.conn,
        [
            NewActivity(
                op.actor.workspace_id, sequence_id, pk, kind, op.change.now, None, detail[:500]
            )
            for pk, sequence_id in sorted(found.all())
        ],
    )


apply_keyword = BulkAction(BulkActionKind.DELIVERY_EVENT, KeywordText, _apply_keyword)
