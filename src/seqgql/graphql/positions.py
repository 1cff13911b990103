"""Where a change feed is in its sequence's event log.

The ``enrollmentStatusChanged`` resolver reports, through its context, where it starts
and the number of each change it yields; a shared feed keeps the number of the last one
it published. A subscriber that resumes with ``since`` then joins the shared feed at that
number ``P``: it first catches up on its own with the changes after its cursor up to
``P`` (a run told to stop there), then takes the feed's payloads, which are all after
``P``: nothing missed, nothing twice."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from seqgql.graphql.context import Context

_KEY = "seqgql.feed_position"


@dataclass(slots=True)
class FeedPosition:
    current: int | None = None  # where the run started, then the change last yielded
    start: int | None = None  # where the run started
    started: asyncio.Event = field(default_factory=asyncio.Event)
    until: int | None = None  # a catch-up run stops after this change number

    def report(self, number: int) -> None:
        if self.start is None:
            self.start = number
            self.started.set()
        self.current = number


def position_of(ctx: Context) -> FeedPosition | None:
    """The position a run reports to, if someone follows it."""
    found = ctx.extra.get(_KEY)
    return found if isinstance(found, FeedPosition) else None


def follow(ctx: Context, *, until: int | None = None) -> FeedPosition:
    """Have the run with this context report its position (and stop after ``until``)."""
    position = ctx.extra[_KEY] = FeedPosition(until=until)
    return position
