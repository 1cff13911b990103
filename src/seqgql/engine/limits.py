"""A sequence's per-sender daily limit: at most N steps a day from one sender.

The sender is the user who enrolled the contact (0 stands for "nobody"); the day is the
date in the sequence's time zone (its sending window's, UTC without a window). Counts live
in ``sender_days``, kept only for sequences with a limit. A worker locks the counter rows
it needs (in key order, so workers never deadlock), sends at most what is left, and adds
what it sent in the same transaction. A step over the limit waits for the next day's
window; its status does not change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.schedule import next_send_time
from seqgql.domain.sequence import SendingWindow
from seqgql.engine.claims import DueRow
from seqgql.persistence.tables import sender_days

d = sender_days.c
Key = tuple[int, int, date]  # sequence, sender, day


def _zone(row: DueRow) -> ZoneInfo:
    window = row.sending_window
    return ZoneInfo(window["timeZone"]) if window else ZoneInfo("UTC")


def _key(row: DueRow, now: datetime) -> Key:
    return row.sequence_id, row.enrolled_by_id or 0, now.astimezone(_zone(row)).date()


def next_day_opening(row: DueRow, now: datetime) -> datetime:
    """The first moment the step may go out on the sender's next day."""
    zone = _zone(row)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), zone)
    window = SendingWindow.from_json(row.sending_window) if row.sending_window else None
    return next_send_time(start, window, row.time_zone)


class DailyLimits:
    """What one batch may still send today, per (sequence, sender)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.left: dict[Key, int] = {}
        self.used: dict[Key, int] = defaultdict(int)

    async def load(self, conn: AsyncConnection, rows: Iterable[DueRow]) -> None:
        """Lock and read the counters of the limited rows' senders for today."""
        limits = {
            _key(r, self.now): r.daily_limit_per_sender
            for r in rows
            if r.daily_limit_per_sender is not None
        }
        if not limits:
            return
        keys = sorted(limits)
        values = [{"sequence_id": s, "sender_id": u, "day": day, "sent": 0} for s, u, day in keys]
        insert: Any = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert
        await conn.execute(insert(sender_days).on_conflict_do_nothing(), values)
        counted = await conn.execute(
            sa.select(d.sequence_id, d.sender_id, d.day, d.sent)
            .where(sa.tuple_(d.sequence_id, d.sender_id, d.day).in_(keys))
            .order_by(d.sequence_id, d.sender_id, d.day)
            .with_for_update()
        )
        for r in counted:
            key = (r.sequence_id, r.sender_id, r.day)
            self.left[key] = max(0, limits[key] - r.sent)
        # counters of days long gone are no longer needed
        await conn.execute(
            sender_days.delete().where(
                d.sequence_id.in_({k[0] for k in keys}),
                d.day < min(k[2] for k in keys) - timedelta(days=2),
            )
        )

    def take(self, row: DueRow) -> bool:
        """Whether this row's step may be sent now (and count it if so)."""
        if row.daily_limit_per_sender is None:
            return True
        key = _key(row, self.now)
        if self.left.get(key, 0) <= 0:
            return False
        self.left[key] -= 1
        self.used[key] += 1
        return True

    def give_back(self, row: DueRow) -> None:
        """The step taken was not sent after all."""
        if row.daily_limit_per_sender is not None:
            self.used[_key(row, self.now)] -= 1

    async def save(self, conn: AsyncConnection) -> None:
        """Add what was taken (less what was given back) to the counters."""
        spent = [
            {"s": s, "u": u, "on": day, "n": n} for (s, u, day), n in self.used.items() if n != 0
        ]
        if spent:
            await conn.execute(
                sender_days.update()
                .where(
                    d.sequence_id == sa.bindparam("s"),
                    d.sender_id == sa.bindparam("u"),
                    d.day == sa.bindparam("on"),
                )
                .values(sent=d.sent + sa.bindparam("n")),
                spent,
            )
