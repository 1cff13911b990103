"""Recording sent steps: one SENT activity each (with its event in the sequence's log,
``services.enrollments.activity_log``), the step marked sent, the next one scheduled (or,
after the last, the reply window). On PostgreSQL the update is one statement over arrays,
whatever the batch size: an executemany costs a round of work per row. The caller holds
the sends' sequences (see ``engine.intents.take_back``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.kinds import ActivityKind, WaitingFor
from seqgql.domain.schedule import step_due
from seqgql.engine.claims import DueRow
from seqgql.outbound.transport import OutboundMessage
from seqgql.persistence.tables import enrollments
from seqgql.persistence.types import UTCDateTime
from seqgql.services.enrollments.activity_log import NewActivity, record_activities

e = enrollments.c

_ADVANCE_PG = sa.text("""
    UPDATE enrollments AS e
    SET last_sent_step = v.sent, current_step = v.next_step, next_run_at = v.at,
        send_attempts = 0, sending_key = NULL, sending_until = NULL, updated_at = :now,
        waiting_for = 'WAIT'
    FROM unnest(CAST(:ids AS bigint[]), CAST(:sent AS integer[]), CAST(:next AS integer[]),
                CAST(:at AS timestamptz[])) AS v(id, sent, next_step, at)
    WHERE e.id = v.id AND e.current_step = v.sent
""").bindparams(sa.bindparam("now", type_=UTCDateTime()))


async def record_sent(
    conn: AsyncConnection, now: datetime, sends: list[tuple[DueRow, OutboundMessage]]
) -> int | None:
    """Record each step as sent and schedule the next (unless the enrollment was moved
    to another step while the message was out). How many were advanced (their keys
    cleared with it) where the driver says (PostgreSQL), else None."""
    if not sends:
        return 0
    rows = [row for row, _ in sends]
    details = [message.subject or message.body[:200] for _, message in sends]
    updates = []
    for row in rows:
        assert row.current_step is not None
        last = row.current_step >= row.step_count
        # after the last step, wait the reply window, then finish with no response
        wait = row.reply_window_minutes if last else row.next_wait
        assert wait is not None  # a step that is not the last has a following one
        updates.append(
            {
                "eid": row.id,
                "sent": row.current_step,
                "next_step": None if last else row.current_step + 1,
                "at": step_due(now, wait),
            }
        )
    await record_activities(
        conn,
        [
            NewActivity(
                row.workspace_id, row.sequence_id, row.id, ActivityKind.SENT, now,
                row.current_step, detail,
            )
            for row, detail in zip(rows, details, strict=True)
        ],
    )  # fmt: skip
    if conn.dialect.name == "postgresql":
        advanced = await conn.execute(
            _ADVANCE_PG,
            {
                "ids": [u["eid"] for u in updates],
                "sent": [u["sent"] for u in updates],
                "next": [u["next_step"] for u in updates],
                "at": [u["at"] for u in updates],
                "now": now,
            },
        )
        return advanced.rowcount
    await conn.execute(
        enrollments.update()
        .where(e.id == sa.bindparam("eid"), e.current_step == sa.bindparam("sent"))
        .values(
            last_sent_step=sa.bindparam("sent"),
            current_step=sa.bindparam("next_step"),
            next_run_at=sa.bindparam("at"),
            send_attempts=0,
            sending_key=None,
            sending_until=None,
            updated_at=now,
            waiting_for=WaitingFor.WAIT,
        ),
        updates,
    )
    return None
