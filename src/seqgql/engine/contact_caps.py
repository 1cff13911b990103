"""The sequence rule `maxMessagesPerContactPerDay`: a step waits for the next day once its
contact was sent that many messages today (UTC), by any sequence.

Today's count is read from the contact's SENT activities (one grouped statement per batch,
only when a claimed row's sequence has the rule), plus what this batch takes. Two workers
sending to the same contact at the same instant from different sequences may both pass:
the cap holds per worker, not across them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.kinds import ActivityKind
from seqgql.domain.rules import Ruleset
from seqgql.engine.claims import DueRow
from seqgql.persistence.tables import activities, enrollments


def _cap(row: DueRow) -> int | None:
    return Ruleset.from_json(row.rules).max_messages_per_contact_per_day if row.rules else None


def start_of_day(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time(0), UTC)


class ContactCaps:
    """What one batch may still send today, per contact, under its sequence's cap."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.sent: dict[int, int] = defaultdict(int)

    async def load(self, conn: AsyncConnection, rows: Iterable[DueRow]) -> None:
        """Read today's sends to the contacts of the capped rows."""
        contacts = sorted({r.contact_id for r in rows if _cap(r) is not None})
        if not contacts:
            return
        e, a = enrollments.c, activities.c
        counted = await conn.execute(
            sa.select(e.contact_id, sa.func.count())
            .select_from(activities.join(enrollments, e.id == a.enrollment_id))
            .where(
                e.contact_id.in_(contacts),
                a.kind == ActivityKind.SENT,
                a.at >= start_of_day(self.now),
            )
            .group_by(e.contact_id)
        )
        for contact_id, count in counted:
            self.sent[contact_id] = count

    def take(self, row: DueRow) -> bool:
        """Whether this row's step may go today (and count it if so)."""
        cap = _cap(row)
        if cap is None:
            self.sent[row.contact_id] += 1
            return True
        if self.sent[row.contact_id] >= cap:
            return False
        self.sent[row.contact_id] += 1
        return True

    def give_back(self, row: DueRow) -> None:
        """The step taken was not sent after all (another limit held it)."""
        self.sent[row.contact_id] -= 1

    def tomorrow(self) -> datetime:
        return start_of_day(self.now) + timedelta(days=1)
