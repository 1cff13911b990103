"""When a sequence step may be sent: its wait, then the sending window (DESIGN.md section 4).

Pure functions on aware datetimes; results are always in UTC.

The window on one calendar date is the span of real time from the wall-clock ``start`` to
the wall-clock ``end`` on that date, in the contact's time zone (the window's own zone when
the contact has none). A wall-clock time is turned into an instant like this:

* in the repeated hour when clocks go back, the first occurrence is used (``fold=0``);
* a time that does not exist because clocks go forward maps to the first valid instant
  after the gap (02:30 on the spring-forward day in New York is 03:00 EDT).

So on a fall-back day a window whose bounds lie in the repeated hour covers only the span
between their first occurrences, and a window lying wholly inside a gap does not open that
day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from seqgql.domain import validation
from seqgql.domain.kinds import Weekday
from seqgql.domain.sequence import SendingWindow

_WEEKDAY_NUMBER: dict[Weekday, int] = {
    Weekday.MONDAY: 0,
    Weekday.TUESDAY: 1,
    Weekday.WEDNESDAY: 2,
    Weekday.THURSDAY: 3,
    Weekday.FRIDAY: 4,
    Weekday.SATURDAY: 5,
    Weekday.SUNDAY: 6,
}

# How many calendar dates to look ahead for an opening. One week always suffices for a
# window with at least one day; the margin covers zones that once skipped a whole date.
_LOOKAHEAD_DAYS = 15


def next_send_time(
    due: datetime, window: SendingWindow | None, contact_time_zone: str | None
) -> datetime:
    """The first moment >= due (aware UTC datetimes in and out) at which a step may be sent:
    inside the window's days and [start, end) hours, as wall-clock time in the contact's time
    zone (the window's time_zone when the contact has none). No window: `due` itself."""
    due = _as_utc(due, "due")
    if window is None:
        return due
    zone = _zone(contact_time_zone or window.time_zone)
    start = _time_of_day(window.start, "start")
    end = _time_of_day(window.end, "end")
    if start >= end:
        raise ValueError(f"the window's end {window.end} must be later than its start")
    days = {_WEEKDAY_NUMBER[Weekday(d)] for d in window.days}
    if not days:
        raise ValueError("the window names no day")

    # The day before is included because, exceptionally, a window's end can resolve to an
    # instant on the next local date (an end time inside a gap that spans midnight).
    first = due.astimezone(zone).date() - timedelta(days=1)
    for offset in range(_LOOKAHEAD_DAYS + 1):
        day = first + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        opens = _instant(day, start, zone)
        closes = _instant(day, end, zone)
        if due < closes and opens < closes:
            return max(due, opens)
    raise ValueError(f"the window never opens in the {_LOOKAHEAD_DAYS} days after {due}")


def step_due(previous: datetime, wait_minutes: int) -> datetime:
    """When a step falls due: `wait_minutes` after `previous` (plain elapsed time)."""
    if wait_minutes < 0:
        raise ValueError(f"wait_minutes must not be negative, got {wait_minutes}")
    return _as_utc(previous, "previous") + timedelta(minutes=wait_minutes)


def _as_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"{name!r} is not a known IANA time zone") from exc


def _time_of_day(value: str, what: str) -> time:
    try:
        validation.time_of_day(value)
    except validation.Invalid as exc:
        raise ValueError(f"window {what}: {exc}") from exc
    return time.fromisoformat(value)


def _instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``zone``.

    Repeated times take their first occurrence; a time skipped by a forward transition maps
    to the first valid instant after the gap, i.e. the transition itself.
    """
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(first, zone) == wall:
        return first
    # In a gap, the two folds use the offsets either side of the transition, so the
    # transition lies between them. Find it: the first whole second whose wall clock is
    # past ``wall`` (transitions in the tz database fall on whole seconds).
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low = int(min(first, other).timestamp())  # wall clock before ``wall``
    high = int(max(first, other).timestamp())  # wall clock past ``wall``
    while high - low > 1:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), zone) > wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)
