"""The sequence rule `maxMessagesPerContactPerDay`: a step waits for the next day once its
contact was sent that many messages today (UTC), by any sequence.

Today's count is the contact's SENT activities of the day plus its messages in flight (a
step another worker has taken and is sending: ``sending_key`` set, recorded as SENT in the
same transaction that clears it), read in two grouped statements per batch, only when a
claimed row's sequence has the rule, plus what this batch takes. On PostgreSQL a batch
first takes a transaction lock per capped contact (in id order, so workers never
deadlock): workers sending to the same contact at once take turns, and the cap holds
across them. SQLite has one writer at a time, which does the same."""

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

# pg_advisory_xact_lock(namespace, key): the namespace keeps these locks apart from any
# other advisory lock; ids beyond 32 bits share a key (a wait, never a wrong count)
_LOCK_NAMESPACE = 0x5E9C
_LOCK_CONTACTS = sa.text(
    "SELECT count(pg_advisory_xact_lock(:ns, CAST(c % 2147483647 AS integer))) "
    "FROM unnest(CAST(:ids AS bigint[])) AS c"
)


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
        """Lock the contacts of the capped rows and read what they were sent today."""
        batch = list(rows)
        contacts = sorted({r.contact_id for r in batch if _cap(r) is not None})
        if not contacts:
            return
        if conn.dialect.name == "postgresql":
            await conn.execute(_LOCK_CONTACTS, {"ns": _LOCK_NAMESPACE, "ids": contacts})
        e, a = enrollments.c, activities.c
        sent_today = (
            sa.select(e.contact_id)
            .select_from(activities.join(enrollments, e.id == a.enrollment_id))
            .where(
                e.contact_id.in_(contacts),
                a.kind == ActivityKind.SENT,
                a.at >= start_of_day(self.now),
            )
        )
        in_flight = sa.select(e.contact_id).where(
            e.contact_id.in_(contacts),
            e.sending_key.is_not(None),
            e.id.not_in([r.id for r in batch]),  # a lapsed lease of this batch: retaken
        )
        # one statement, one snapshot: a send recorded meanwhile is counted once, either
        # still in flight or already SENT
        both = sa.union_all(sent_today, in_flight).subquery()
        counted = await conn.execute(
            sa.select(both.c.contact_id, sa.func.count()).group_by(both.c.contact_id)
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
