"""Inbound mail tests' fixtures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from seqgql.clock import FrozenClock
from tests.helpers.clocks import isolated_clock

# a little after the corpus's messages were sent
RECEIVED = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FrozenClock:
    """The afternoon the corpus's messages came, or a clock of the test's own where it is
    marked isolated_clock (tests that run the engine)."""
    if request.node.get_closest_marker("isolated_clock"):
        return isolated_clock()
    return FrozenClock(RECEIVED)
