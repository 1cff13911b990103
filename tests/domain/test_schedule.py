"""Sending windows and step waits (DESIGN.md section 4), with expected instants written out.

Calendar used below (2025): Jan 6 is a Monday. New York springs forward on Sun Mar 9
(02:00 EST -> 03:00 EDT) and falls back on Sun Nov 2 (02:00 EDT -> 01:00 EST). Paris
springs forward on Sun Mar 30 (02:00 CET -> 03:00 CEST) and falls back on Sun Oct 26
(03:00 CEST -> 02:00 CET).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from seqgql.domain.kinds import Weekday
from seqgql.domain.schedule import next_send_time, step_due
from seqgql.domain.sequence import SendingWindow

W = Weekday
WEEKDAYS = (W.MONDAY, W.TUESDAY, W.WEDNESDAY, W.THURSDAY, W.FRIDAY)
EVERY_DAY = (*WEEKDAYS, W.SATURDAY, W.SUNDAY)

NEW_YORK = "America/New_York"
PARIS = "Europe/Paris"
OFFICE_HOURS_NY = SendingWindow(days=WEEKDAYS, start="09:00", end="17:00", time_zone=NEW_YORK)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def window(
    start: str, end: str, zone: str = NEW_YORK, days: tuple[Weekday, ...] = EVERY_DAY
) -> SendingWindow:
    return SendingWindow(days=days, start=start, end=end, time_zone=zone)


# --- the window in ordinary weeks -----------------------------------------------------------


def test_inside_the_window_is_unchanged() -> None:
    due = utc(2025, 1, 6, 15, 37)  # Mon 10:37 EST
    result = next_send_time(due, OFFICE_HOURS_NY, None)
    assert result == utc(2025, 1, 6, 15, 37)
    assert result.tzinfo is UTC


def test_exactly_at_the_start_is_inside() -> None:
    assert next_send_time(utc(2025, 1, 6, 14), OFFICE_HOURS_NY, None) == utc(2025, 1, 6, 14)


def test_one_minute_before_the_end_is_inside() -> None:
    due = utc(2025, 1, 6, 21, 59)  # Mon 16:59 EST
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 1, 6, 21, 59)


def test_before_opening_waits_for_todays_start() -> None:
    due = utc(2025, 1, 6, 12)  # Mon 07:00 EST
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 1, 6, 14)  # Mon 09:00 EST


def test_the_end_is_exclusive() -> None:
    due = utc(2025, 1, 6, 22)  # Mon 17:00 EST
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 1, 7, 14)  # Tue 09:00 EST


def test_after_closing_waits_for_the_next_allowed_day() -> None:
    due = utc(2025, 1, 6, 23, 30)  # Mon 18:30 EST
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 1, 7, 14)


def test_the_local_date_counts_not_the_utc_date() -> None:
    due = utc(2025, 1, 7, 3)  # already Tuesday in UTC, still Mon 22:00 EST
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 1, 7, 14)  # Tue 09:00 EST


def test_friday_evening_skips_the_weekend() -> None:
    due = utc(2025, 1, 10, 23)  # Fri 18:00 EST
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 1, 13, 14)  # Mon 09:00


@pytest.mark.parametrize(
    "due",
    [
        utc(2025, 1, 11, 5),  # Sat 00:00 EST
        utc(2025, 1, 11, 16),  # Sat 11:00 EST, would be inside on a weekday
        utc(2025, 1, 12, 16),  # Sun 11:00 EST
        utc(2025, 1, 13, 4, 59),  # Sun 23:59 EST
    ],
)
def test_weekend_days_are_skipped(due: datetime) -> None:
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 1, 13, 14)


def test_only_the_named_days_are_used() -> None:
    tuesdays_and_thursdays = window("10:00", "11:00", days=(W.THURSDAY, W.TUESDAY))
    due = utc(2025, 1, 7, 16, 30)  # Tue 11:30 EST, just after closing
    assert next_send_time(due, tuesdays_and_thursdays, None) == utc(2025, 1, 9, 15)  # Thu 10:00
    due = utc(2025, 1, 9, 16)  # Thu 11:00 EST, the end
    assert next_send_time(due, tuesdays_and_thursdays, None) == utc(2025, 1, 14, 15)  # Tue


def test_a_single_day_window_waits_a_week() -> None:
    mondays = window("09:00", "10:00", days=(W.MONDAY,))
    due = utc(2025, 1, 6, 15)  # Mon 10:00 EST
    assert next_send_time(due, mondays, None) == utc(2025, 1, 13, 14)


def test_summer_opening_is_an_hour_earlier_in_utc() -> None:
    due = utc(2025, 7, 7, 11)  # Mon 07:00 EDT
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 7, 7, 13)  # Mon 09:00 EDT


def test_aware_input_in_another_zone_comes_back_in_utc() -> None:
    due = datetime(2025, 1, 6, 10, 0, tzinfo=ZoneInfo(NEW_YORK))
    result = next_send_time(due, OFFICE_HOURS_NY, None)
    assert result == utc(2025, 1, 6, 15)
    assert result.tzinfo is UTC
    early = datetime(2025, 1, 6, 7, 0, tzinfo=ZoneInfo(NEW_YORK))
    assert next_send_time(early, OFFICE_HOURS_NY, None) == utc(2025, 1, 6, 14)


# --- whose time zone ------------------------------------------------------------------------


def test_the_contacts_zone_wins_over_the_windows() -> None:
    due = utc(2025, 1, 6, 7)  # Mon 08:00 in Paris, 02:00 in New York
    assert next_send_time(due, OFFICE_HOURS_NY, PARIS) == utc(2025, 1, 6, 8)  # 09:00 CET
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 1, 6, 14)  # 09:00 EST


def test_inside_for_the_contact_though_outside_for_the_window_zone() -> None:
    due = utc(2025, 1, 6, 10)  # Mon 11:00 in Paris, 05:00 in New York
    assert next_send_time(due, OFFICE_HOURS_NY, PARIS) == utc(2025, 1, 6, 10)
    late = utc(2025, 1, 6, 20)  # Mon 15:00 in New York, 21:00 in Paris
    assert next_send_time(late, OFFICE_HOURS_NY, None) == utc(2025, 1, 6, 20)
    assert next_send_time(late, OFFICE_HOURS_NY, PARIS) == utc(2025, 1, 7, 8)  # Tue 09:00 CET


def test_an_empty_contact_zone_means_the_windows() -> None:
    due = utc(2025, 1, 6, 7)
    assert next_send_time(due, OFFICE_HOURS_NY, "") == utc(2025, 1, 6, 14)


def test_the_contacts_weekend_is_the_one_skipped() -> None:
    tokyo = "Asia/Tokyo"  # UTC+9, no daylight saving
    due = utc(2025, 1, 10, 20)  # Fri 15:00 in New York, already Sat 05:00 in Tokyo
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 1, 10, 20)
    assert next_send_time(due, OFFICE_HOURS_NY, tokyo) == utc(2025, 1, 13, 0)  # Mon 09:00 JST


# --- daylight saving ------------------------------------------------------------------------


def test_new_york_spring_forward_day() -> None:
    due = utc(2025, 3, 8, 23)  # Sat 18:00 EST
    # Sun 09:00 EDT; 24 hours after Saturday's 09:00 EST opening would be 14:00 UTC.
    assert next_send_time(due, window("09:00", "17:00"), None) == utc(2025, 3, 9, 13)


def test_new_york_spring_forward_over_a_weekend() -> None:
    due = utc(2025, 3, 7, 22, 30)  # Fri 17:30 EST
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 3, 10, 13)  # Mon 09:00 EDT


def test_new_york_fall_back_day() -> None:
    due = utc(2025, 11, 1, 22)  # Sat 18:00 EDT
    assert next_send_time(due, window("09:00", "17:00"), None) == utc(2025, 11, 2, 14)  # EST


def test_new_york_fall_back_over_a_weekend() -> None:
    due = utc(2025, 10, 31, 21, 30)  # Fri 17:30 EDT
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 11, 3, 14)  # Mon 09:00 EST


def test_new_york_end_of_window_moves_with_the_clock() -> None:
    spring = window("09:00", "17:00")
    assert next_send_time(utc(2025, 3, 9, 20, 59), spring, None) == utc(2025, 3, 9, 20, 59)
    assert next_send_time(utc(2025, 3, 9, 21), spring, None) == utc(2025, 3, 10, 13)  # 17:00


def test_paris_spring_forward_day() -> None:
    due = utc(2025, 3, 29, 17)  # Sat 18:00 CET
    assert next_send_time(due, window("09:00", "17:00", PARIS), None) == utc(2025, 3, 30, 7)


def test_paris_fall_back_day() -> None:
    due = utc(2025, 10, 25, 17)  # Sat 19:00 CEST
    assert next_send_time(due, window("09:00", "17:00", PARIS), None) == utc(2025, 10, 26, 8)


def test_paris_contact_on_a_new_york_window_across_both_transitions() -> None:
    # Between Mar 9 and Mar 30 New York is already on summer time, Paris not yet.
    due = utc(2025, 3, 14, 17)  # Fri 18:00 CET, 13:00 EDT
    assert next_send_time(due, OFFICE_HOURS_NY, None) == utc(2025, 3, 14, 17)
    assert next_send_time(due, OFFICE_HOURS_NY, PARIS) == utc(2025, 3, 17, 8)  # Mon 09:00 CET


# --- start or end in a gap or in the repeated hour ------------------------------------------


def test_start_in_the_gap_opens_when_the_gap_ends_new_york() -> None:
    due = utc(2025, 3, 9, 6)  # Sun 01:00 EST; 02:30 does not exist that day
    assert next_send_time(due, window("02:30", "10:00"), None) == utc(2025, 3, 9, 7)  # 03:00 EDT


def test_start_in_the_gap_opens_when_the_gap_ends_paris() -> None:
    due = utc(2025, 3, 30, 0, 30)  # Sun 01:30 CET
    paris = window("02:30", "10:00", PARIS)
    assert next_send_time(due, paris, None) == utc(2025, 3, 30, 1)  # 03:00 CEST


def test_start_in_the_gap_on_an_ordinary_day_is_unaffected() -> None:
    due = utc(2025, 3, 10, 5)  # Mon 01:00 EDT
    assert next_send_time(due, window("02:30", "10:00"), None) == utc(2025, 3, 10, 6, 30)


def test_just_after_the_gap_with_a_start_in_it_is_inside() -> None:
    due = utc(2025, 3, 9, 7, 10)  # Sun 03:10 EDT
    assert next_send_time(due, window("02:30", "10:00"), None) == utc(2025, 3, 9, 7, 10)


def test_end_in_the_gap_closes_when_the_gap_ends() -> None:
    night = window("00:00", "02:30")
    assert next_send_time(utc(2025, 3, 9, 6, 59), night, None) == utc(2025, 3, 9, 6, 59)
    # 07:00 UTC is 03:00 EDT: closed; next opening is Mon 00:00 EDT.
    assert next_send_time(utc(2025, 3, 9, 7), night, None) == utc(2025, 3, 10, 4)


def test_a_window_wholly_inside_the_gap_does_not_open_that_day() -> None:
    due = utc(2025, 3, 9, 5)  # Sun 00:00 EST
    assert next_send_time(due, window("02:00", "02:45"), None) == utc(2025, 3, 10, 6)  # Mon EDT


def test_start_in_the_repeated_hour_uses_the_first_occurrence() -> None:
    due = utc(2025, 11, 2, 4)  # Sun 00:00 EDT
    # 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST); the first one counts.
    assert next_send_time(due, window("01:30", "10:00"), None) == utc(2025, 11, 2, 5, 30)


def test_start_in_the_repeated_hour_paris() -> None:
    due = utc(2025, 10, 25, 23)  # Sun 01:00 CEST
    # 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
    paris = window("02:30", "10:00", PARIS)
    assert next_send_time(due, paris, None) == utc(2025, 10, 26, 0, 30)


def brute_force(due: datetime, sending: SendingWindow, zone: str) -> datetime:
    """Walk forward until the wall clock is inside the window.

    Steps to the next quarter hour: the windows tested have quarter-hour bounds and the
    zones whole-hour offsets, so nothing in between can be the first moment inside.
    """
    tz = ZoneInfo(zone)
    allowed = {list(Weekday).index(d) for d in sending.days}
    moment = due
    while True:
        local = moment.astimezone(tz)
        hhmm = local.strftime("%H:%M")
        if local.weekday() in allowed and sending.start <= hhmm < sending.end:
            return moment
        moment = moment.replace(second=0) + timedelta(minutes=15 - moment.minute % 15)


@pytest.mark.parametrize(
    ("zone", "first"),
    [
        (NEW_YORK, utc(2025, 3, 5, 0)),
        (NEW_YORK, utc(2025, 10, 29, 0)),
        (PARIS, utc(2025, 3, 26, 0)),
        (PARIS, utc(2025, 10, 22, 0)),
    ],
)
def test_agrees_with_a_walk_along_the_clock_around_transitions(zone: str, first: datetime) -> None:
    sending = window("08:30", "17:15", NEW_YORK, WEEKDAYS)
    for step in range(0, 10 * 24 * 60, 37):  # ten days, at odd offsets
        due = first + timedelta(minutes=step)
        assert next_send_time(due, sending, zone) == brute_force(due, sending, zone), due


# --- no window, bad input -------------------------------------------------------------------


def test_no_window_is_due_itself() -> None:
    due = utc(2025, 1, 11, 3, 17)  # a Saturday night
    assert next_send_time(due, None, None) == utc(2025, 1, 11, 3, 17)
    assert next_send_time(due, None, PARIS) == utc(2025, 1, 11, 3, 17)


def test_no_window_normalises_to_utc() -> None:
    due = datetime(2025, 1, 6, 10, 0, tzinfo=ZoneInfo(PARIS))
    result = next_send_time(due, None, None)
    assert result == utc(2025, 1, 6, 9)
    assert result.tzinfo is UTC


def test_naive_due_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_send_time(datetime(2025, 1, 6, 15), OFFICE_HOURS_NY, None)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_send_time(datetime(2025, 1, 6, 15), None, None)


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "America", "", "../etc/passwd", "utc "])
def test_unknown_time_zones_are_rejected(name: str) -> None:
    due = utc(2025, 1, 6, 15)
    with pytest.raises(ValueError, match="not a known IANA time zone"):
        next_send_time(due, window("09:00", "17:00", name or "Nowhere/Land"), None)
    if name:
        with pytest.raises(ValueError, match="not a known IANA time zone"):
            next_send_time(due, OFFICE_HOURS_NY, name)


@pytest.mark.parametrize(
    "bad",
    [
        window("17:00", "09:00"),
        window("09:00", "09:00"),
        window("9:00", "17:00"),
        window("09:00", "24:00"),
        window("09:00", "17:00", days=()),
    ],
)
def test_malformed_windows_are_rejected(bad: SendingWindow) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several distinct messages
        next_send_time(utc(2025, 1, 6, 15), bad, None)


# --- step waits -----------------------------------------------------------------------------


def test_step_due_adds_the_wait() -> None:
    assert step_due(utc(2025, 1, 6, 15), 90) == utc(2025, 1, 6, 16, 30)
    assert step_due(utc(2025, 1, 6, 15), 0) == utc(2025, 1, 6, 15)


def test_step_due_is_plain_elapsed_time_across_daylight_saving() -> None:
    before = datetime(2025, 3, 8, 12, 0, tzinfo=ZoneInfo(NEW_YORK))  # 17:00 UTC
    result = step_due(before, 24 * 60)
    assert result == utc(2025, 3, 9, 17)  # 13:00 EDT local: 24 real hours, not "same time"
    assert result.tzinfo is UTC


def test_step_due_rejects_naive_and_negative() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        step_due(datetime(2025, 1, 6, 15), 10)
    with pytest.raises(ValueError, match="negative"):
        step_due(utc(2025, 1, 6, 15), -1)
