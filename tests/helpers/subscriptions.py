"""Subscriptions over a websocket (graphql-transport-ws): through the ASGI app in process,
or to a real server over a socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import Clock
from seqgql.settings import Settings

# How long a test waits for a message it expects: generous, since a loaded machine is slow
# (waiting longer never lets a wrong answer pass).
MESSAGE_SECONDS = 20.0

CHANGES = """
subscription($seq: ID!, $since: String, $statuses: [EnrollmentStatus!]) {
  enrollmentStatusChanged(sequenceId: $seq, since: $since, statuses: $statuses) {
    cursor number fromStatus toStatus reason
    enrollment { id status }
    actor { email }
  }
}"""

COUNTS = """
subscription($seq: ID!) {
  sequenceStatusCounts(sequenceId: $seq) { total counts { status count } }
}"""


def slowly_polling_app(database_url: str, clock: Clock) -> Starlette:
    """An app whose subscribers look at the log by themselves only every 30 s: what they
    see sooner, a notification woke them to."""
    settings = Settings(
        database_url=database_url, auto_migrate=False, run_engine=False,
        subscription_poll_seconds=30,
    )  # fmt: skip
    return create_app(settings, clock=clock)


def in_process_client(app: Starlette) -> httpx.AsyncClient:
    """An httpx client calling ``app`` in this process, websockets included. The app gets
    15 s to accept a websocket (httpx-ws's 1 s default is missed on a loaded machine)."""
    transport = ASGIWebSocketTransport(app, initial_receive_timeout=15.0)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@asynccontextmanager
async def connect(app: Starlette | str, token: str | None) -> AsyncIterator[AsyncWebSocketSession]:
    """A websocket to ``app`` (the ASGI app, or a real server's http://…/graphql address),
    its connection_init sent with the token."""
    if isinstance(app, str):
        # plain http on loopback: no TLS context to build (that takes ~50 ms of CPU each)
        client, url = httpx.AsyncClient(verify=False), app
    else:
        client, url = in_process_client(app), "/graphql"
    async with (
        client,
        aconnect_ws(url, client, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send_json({"type": "connection_init", "payload": payload})
        yield ws


async def ack(ws: AsyncWebSocketSession) -> None:
    assert (await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS))["type"] == "connection_ack"


async def subscribe(
    ws: AsyncWebSocketSession, op_id: str, query: str, variables: dict[str, Any]
) -> None:
    await ws.send_json(
        {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
    )


async def next_data(ws: AsyncWebSocketSession, seconds: float = MESSAGE_SECONDS) -> dict[str, Any]:
    """The data of the next "next" message (pings skipped); fails after ``seconds``."""
    while True:
        message = await asyncio.wait_for(ws.receive_json(), seconds)
        if message["type"] == "ping":
            continue
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]  # type: ignore[no-any-return]


async def receive_changes(
    app: Starlette | str, token: str, sequence: str, count: int, *,
    since: str | None = None, seconds: float = MESSAGE_SECONDS,
) -> list[dict[str, Any]]:  # fmt: skip
    """Subscribe to ``sequence``'s changes (after ``since``) and take the next ``count``,
    each within ``seconds``."""
    async with connect(app, token) as ws:
        await ack(ws)
        await subscribe(ws, "changes", CHANGES, {"seq": sequence, "since": since})
        return [(await next_data(ws, seconds))["enrollmentStatusChanged"] for _ in range(count)]
