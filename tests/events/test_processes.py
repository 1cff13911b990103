"""Two API processes (real `seqgql serve` replicas) sharing PostgreSQL and a broker: a
subscriber on one, over a real socket, receives the changes made through the other.

Polling is set to 60 s (the `two_replicas` fixture): only the broker can deliver within
the test's time. The broker restarted, and a replica killed, are in tests/faults/."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers.bulk import ids_of
from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.graphql_client import mutate
from tests.helpers.processes import Replica
from tests.helpers.subscriptions import receive_changes
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.postgres_only


@pytest.mark.parametrize("broker", ["redis", "postgres"], indirect=True)
async def test_a_change_through_one_process_reaches_a_subscriber_on_the_other(
    two_replicas: list[Replica], workspace: Workspace, db, clock
) -> None:
    writer, reader = two_replicas
    seq, ids = await make_enrolled(db, clock, workspace.actor, 4)
    listening = asyncio.create_task(
        receive_changes(reader.http, workspace.token, gid("Sequence", seq), 4, seconds=20)
    )
    await asyncio.sleep(1.0)  # subscribed and waiting
    async with writer.gql(workspace.token) as gql:
        paused = await mutate(gql, "pauseEnrollments", {"selection": ids_of(ids)})
    assert paused["changedCount"] == 4, paused
    changes = await asyncio.wait_for(listening, 20)
    assert sorted(c["enrollment"]["id"] for c in changes) == sorted(gids("Enrollment", ids))
    assert {c["toStatus"] for c in changes} == {"PAUSED"}
    numbers = [c["number"] for c in changes]
    assert numbers == list(range(numbers[0], numbers[0] + 4))
