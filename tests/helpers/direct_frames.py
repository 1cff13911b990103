"""Shared by the tests of frames written straight to websocket connections
(tests/events/test_direct_frames.py, test_lean_connections.py): the app they serve and
the wait until every subscriber is written to by one feed."""

from __future__ import annotations

from typing import Any

from seqgql.app import create_app
from seqgql.graphql.feeds import FeedHub
from seqgql.settings import Settings
from tests.helpers.waiting import eventually


def app_for(database_url: str, clock: Any, transport: Any) -> Any:
    settings = Settings(
        database_url=database_url, broadcast_url="memory://", auto_migrate=False,
        allowed_origins=[], run_engine=False,
    )  # fmt: skip
    return create_app(settings, clock=clock, transport=transport)


async def live_on_one_feed(hub: FeedHub, log_readers: set[Any], subscribers: int) -> None:
    """Wait until ``subscribers`` are on one feed that reads the log, each written to by
    the feed itself (nothing queued)."""
    await eventually(
        lambda: (
            hub.subscriber_count == subscribers
            and all(feed.task in log_readers for feed in hub.feeds.values())
        ),
        seconds=10.0,
    )
    assert len(hub.feeds) == 1
    [feed] = hub.feeds.values()
    await eventually(lambda: all(m.direct for m in feed.mailboxes), seconds=10.0)
