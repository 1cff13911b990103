"""A client that stops reading, against a real uvicorn server and real websocket clients.

The server runs in this process (so the test can look at its feed hub) on 127.0.0.1.
Two clients share one subscription: a fast one that reads everything, and a slow one
that subscribes and then reads nothing: its `websockets` client stops reading the socket
once it holds a frame, and its socket's receive buffer is small, so the server's writes
to it stop (the server's socket buffers are kept small too). One bulk pause of hundreds
of enrollments then makes hundreds of changes. The slow subscriber falls behind and is
dropped (closed with 4413) without holding anything up; it resubscribes with its last
cursor and misses nothing. While they keep up, the feed writes both subscribers' frames
to their connections itself (``compat.ws_transport``); falling behind is noticed there.
"""

from __future__ import annotations

import asyncio

import pytest

from seqgql.app import create_app
from seqgql.domain.selection import Selection
from seqgql.events.log import EventCursor
from seqgql.graphql import feeds, mailbox
from seqgql.graphql.feeds import FeedHub
from seqgql.services.enrollments import pause
from seqgql.settings import Settings
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.raw_websockets import (
    consecutive,
    open_client,
    read_changes,
    read_until_closed,
    serving,
    subscribe,
)
from tests.helpers.waiting import eventually
from tests.helpers.workspace import Workspace

ENROLLED = 600  # one bulk pause, this many changes (about 250 fill the buffers)
MAX_PENDING = 50


async def test_a_client_that_stops_reading_is_dropped_and_resumes_from_its_cursor(
    database_url: str, workspace: Workspace, log_readers, monkeypatch: pytest.MonkeyPatch,
    db, clock, transport,
) -> None:  # fmt: skip
    monkeypatch.setattr(mailbox, "MAX_PENDING", MAX_PENDING)
    seq, enrolled = await make_enrolled(db, clock, workspace.actor, ENROLLED)
    app = create_app(
        Settings(database_url=database_url, broadcast_url="memory://", auto_migrate=False,
                 allowed_origins=[], run_engine=False),
        clock=clock, transport=transport,
    )  # fmt: skip
    hub: FeedHub = app.state.feeds
    variables = {"seq": gid("Sequence", seq)}
    async with serving(app) as port:
        fast = await open_client(port, workspace.token)
        slow = await open_client(port, workspace.token, slow=True)
        try:
            await subscribe(fast, "fast", variables)
            await subscribe(slow, "slow", variables)
            await eventually(
                lambda: (
                    hub.subscriber_count == 2
                    and all(feed.task in log_readers for feed in hub.feeds.values())
                ),
                seconds=10.0,
            )
            assert len(hub.feeds) == 1
            [feed] = hub.feeds.values()  # written directly while nothing is queued
            await eventually(lambda: all(m.direct for m in feed.mailboxes), seconds=10.0)

            peak = 0
            sampling = True

            async def sample() -> None:
                nonlocal peak
                while sampling:
                    peak = max([peak, *hub.pending()])
                    await asyncio.sleep(0.002)

            sampler = asyncio.create_task(sample())
            reader = asyncio.create_task(read_changes(fast, "fast", ENROLLED))
            result = await pause(app.state.db, clock, workspace.actor, Selection(sequence_id=seq))
            assert result.changed_count == ENROLLED
            everything = await asyncio.wait_for(reader, 60)
            sampling = False
            await sampler

            # the fast client: every change once, in order, while the slow one read nothing
            numbers = consecutive(everything)
            assert {c["enrollment"]["id"] for c in everything} == {
                gid("Enrollment", pk) for pk in enrolled
            }
            assert {(c["fromStatus"], c["toStatus"]) for c in everything} == {("ACTIVE", "PAUSED")}
            # nobody was ever more than MAX_PENDING behind; the slow one is gone from the hub
            assert 0 < peak <= MAX_PENDING
            assert hub.subscriber_count == 1, "the slow subscriber was not dropped"
            assert hub.pending() == [0]
            assert len(hub.feeds) == 1

            # the slow client reads again: what was on its way, then the close (4413)
            got = await read_until_closed(slow, "slow")
            assert slow.close_code == feeds.FELL_BEHIND, (slow.close_code, slow.close_reason)
            assert "since" in (slow.close_reason or "")
            assert len(got) < ENROLLED
            if got:
                assert consecutive(got)[0] == numbers[0]
                assert got == everything[: len(got)]
        finally:
            await fast.close()
            await slow.close()

        # it resubscribes with its last cursor: the rest is replayed, nothing twice
        again = await open_client(port, workspace.token)
        try:
            since = got[-1]["cursor"] if got else EventCursor(seq, numbers[0] - 1).encode()
            await subscribe(again, "again", {**variables, "since": since})
            rest = await asyncio.wait_for(read_changes(again, "again", ENROLLED - len(got)), 60)
            assert got + rest == everything
        finally:
            await again.close()
        await eventually(lambda: not hub.feeds, seconds=10.0)
