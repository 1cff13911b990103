"""The tests' clocks: START for most tests, and clocks of their own for the engine's."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from seqgql.clock import FrozenClock

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# The database is shared by the run's tests and the engine serves every workspace. So that
# an engine sees only its own test's work, each test's clock starts eight weeks (a whole
# number of weeks: same weekday and hour) before the previous test's, long before the
# 2026 of the rest of the suite: nothing another test left behind is ever due. A test may
# move its clock forward by up to seven weeks.
_FIRST_START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
_GAP = timedelta(weeks=8)
_tests_so_far = itertools.count()


def isolated_clock() -> FrozenClock:
    return FrozenClock(_FIRST_START - next(_tests_so_far) * _GAP)
