"""The Redis broker restarted under two live `seqgql serve` replicas (a redis-server of the
test's own): a subscriber on one replica sees every change made through the other once
and in order — those published while the broker was down included, delivered by the
listener's catch-up once it is back (polling is 60 s, so nothing else could)."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers.bulk import ids_of
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import mutate
from tests.helpers.processes import PrivateRedis, Replica
from tests.helpers.subscriptions import receive_changes
from tests.helpers.workspace import Workspace

pytestmark = [pytest.mark.postgres_only, pytest.mark.faults]


async def test_a_redis_restart_loses_nothing_and_duplicates_nothing(
    two_replicas: list[Replica], redis_server: PrivateRedis, workspace: Workspace, db, clock
) -> None:
    writer, reader = two_replicas
    seq, ids = await make_enrolled(db, clock, workspace.actor, 6)
    sequence = gid("Sequence", seq)

    async def act(name: str, pks: list[int]) -> None:
        async with writer.gql(workspace.token) as gql:
            payload = await mutate(gql, name, {"selection": ids_of(pks)})
        assert payload["changedCount"] == len(pks), payload

    expected = 12  # 6 pauses, then 6 resumes
    listening = asyncio.create_task(
        receive_changes(reader.http, workspace.token, sequence, expected, seconds=20)
    )
    await asyncio.sleep(1.0)
    await act("pauseEnrollments", ids[:3])
    redis_server.stop()  # the broker goes away while subscribers listen
    await act("pauseEnrollments", ids[3:])  # published into the void
    await asyncio.sleep(0.5)
    redis_server.start()  # back: the listener reconnects and catches up from the log
    await asyncio.sleep(1.0)
    await act("resumeEnrollments", ids)
    changes = await asyncio.wait_for(listening, 30)
    numbers = [c["number"] for c in changes]
    assert len(numbers) == len(set(numbers)) == expected
    assert numbers == list(range(numbers[0], numbers[0] + expected))
    assert [c["toStatus"] for c in changes] == ["PAUSED"] * 6 + ["ACTIVE"] * 6

    # a client that reconnects with its last cursor gets what it missed, nothing more
    await act("pauseEnrollments", ids[:2])
    resumed = await receive_changes(
        reader.http, workspace.token, sequence, 2, since=changes[-1]["cursor"], seconds=20
    )
    assert [c["number"] for c in resumed] == [numbers[-1] + 1, numbers[-1] + 2]
