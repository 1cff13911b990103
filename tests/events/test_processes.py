"""Two API processes (real uvicorn servers) sharing PostgreSQL and a Redis broker.

A subscriber on one process, speaking through the `gql` client over a real socket,
receives the changes made through the other. The broker is a private redis-server
started by the test, so it can be restarted while subscribers listen. Polling is set
to 60 s: only the broker can deliver within the test's time, or, after the restart, the
listener's catch-up.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.processes import free_port, wait_for_port
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.postgres_only

CHANGES = """
subscription($seq: ID!, $since: String) {
  enrollmentStatusChanged(sequenceId: $seq, since: $since) {
    cursor number fromStatus toStatus enrollment { id }
  }
}"""
PAUSE = """mutation($input: PauseEnrollmentsInput!) {
  pauseEnrollments(input: $input) { changedCount userErrors { code message } } }"""
RESUME = """mutation($input: ResumeEnrollmentsInput!) {
  resumeEnrollments(input: $input) { changedCount userErrors { code message } } }"""


class PrivateRedis:
    """A redis-server of the test's own, on a free port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    if not any(
        os.access(os.path.join(d, "redis-server"), os.X_OK)
        for d in os.environ.get("PATH", "").split(os.pathsep)
    ):
        if os.environ.get("CI"):
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@dataclass
class Api:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


@pytest.fixture(params=["redis"])
def broker(request: pytest.FixtureRequest, database_url: str, redis_server: PrivateRedis) -> str:
    """Where the API processes broadcast: the private Redis, or PostgreSQL itself."""
    return redis_server.url if request.param == "redis" else database_url


@pytest.fixture
def two_apis(database_url: str, broker: str) -> Iterator[list[Api]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BROADCAST_URL": broker,
        "AUTO_MIGRATE": "false",
        "SUBSCRIPTION_POLL_SECONDS": "60",
        "LOG_LEVEL": "warning",
    }
    apis = []
    for _ in range(2):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "seqgql.cli", "serve", "--port", str(port)], env=env
        )
        apis.append(Api(port, process))
    try:
        for api in apis:
            wait_for_port(api.port)
        yield apis
    finally:
        for api in apis:
            api.process.terminate()
        for api in apis:
            api.process.wait(10)


async def _mutate(api: Api, token: str, query: str, ids: list[int]) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            api.http,
            json={
                "query": query,
                "variables": {"input": {"selection": {"ids": gids("Enrollment", ids)}}},
            },
            headers={"authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    assert payload["userErrors"] == []


async def _collect(
    api: Api, token: str, sequence: str, count: int, since: str | None = None
) -> list[dict[str, Any]]:
    transport = WebsocketsTransport(
        url=api.ws, init_payload={"authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )  # fmt: skip
    received: list[dict[str, Any]] = []
    async with Client(transport=transport) as session:
        request = GraphQLRequest(CHANGES, variable_values={"seq": sequence, "since": since})
        async for result in session.subscribe(request):
            received.append(result["enrollmentStatusChanged"])
            if len(received) == count:
                break
    return received


@pytest.mark.parametrize("broker", ["redis", "postgres"], indirect=True)
async def test_a_change_through_one_process_reaches_a_subscriber_on_the_other(
    two_apis: list[Api], workspace: Workspace, db, clock
) -> None:
    writer, reader = two_apis
    seq, ids = await make_enrolled(db, clock, workspace.actor, 4)
    listening = asyncio.create_task(_collect(reader, workspace.token, gid("Sequence", seq), 4))
    await asyncio.sleep(1.0)  # subscribed and waiting
    await _mutate(writer, workspace.token, PAUSE, ids)
    changes = await asyncio.wait_for(listening, 20)
    assert sorted(c["enrollment"]["id"] for c in changes) == sorted(gids("Enrollment", ids))
    assert {c["toStatus"] for c in changes} == {"PAUSED"}
    numbers = [c["number"] for c in changes]
    assert numbers == list(range(numbers[0], numbers[0] + 4))


async def test_a_redis_restart_loses_nothing_and_duplicates_nothing(
    two_apis: list[Api], redis_server: PrivateRedis, workspace: Workspace, db, clock
) -> None:
    writer, reader = two_apis
    seq, ids = await make_enrolled(db, clock, workspace.actor, 6)
    expected = 12  # 6 pauses, then 6 resumes
    listening = asyncio.create_task(
        _collect(reader, workspace.token, gid("Sequence", seq), expected)
    )
    await asyncio.sleep(1.0)
    await _mutate(writer, workspace.token, PAUSE, ids[:3])
    redis_server.stop()  # the broker goes away while subscribers listen
    await _mutate(writer, workspace.token, PAUSE, ids[3:])  # published into the void
    await asyncio.sleep(0.5)
    redis_server.start()  # back: the listener reconnects and catches up from the log
    await asyncio.sleep(1.0)
    await _mutate(writer, workspace.token, RESUME, ids)
    changes = await asyncio.wait_for(listening, 30)
    numbers = [c["number"] for c in changes]
    assert len(numbers) == len(set(numbers)) == expected
    assert numbers == list(range(numbers[0], numbers[0] + expected))
    assert [c["toStatus"] for c in changes] == ["PAUSED"] * 6 + ["ACTIVE"] * 6

    # a client that reconnects with its last cursor gets what it missed, nothing more
    await _mutate(writer, workspace.token, PAUSE, ids[:2])
    resumed = await asyncio.wait_for(
        _collect(reader, workspace.token, gid("Sequence", seq), 2, since=changes[-1]["cursor"]),
        20,
    )
    assert [c["number"] for c in resumed] == [numbers[-1] + 1, numbers[-1] + 2]
