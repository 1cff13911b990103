"""Subscriptions over a websocket (graphql-transport-ws) through the ASGI app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

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


@asynccontextmanager
async def connect(app: Starlette, token: str | None) -> AsyncIterator[AsyncWebSocketSession]:
    async with (
        httpx.AsyncClient(
            transport=ASGIWebSocketTransport(app), base_url="http://testserver"
        ) as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-transport-ws"]) as ws,
    ):
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send_json({"type": "connection_init", "payload": payload})
        yield ws


async def ack(ws: AsyncWebSocketSession) -> None:
    assert (await asyncio.wait_for(ws.receive_json(), 5))["type"] == "connection_ack"


async def subscribe(
    ws: AsyncWebSocketSession, op_id: str, query: str, variables: dict[str, Any]
) -> None:
    await ws.send_json(
        {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
    )


async def next_data(ws: AsyncWebSocketSession) -> dict[str, Any]:
    while True:
        message = await asyncio.wait_for(ws.receive_json(), 5)
        if message["type"] == "ping":
            continue
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]  # type: ignore[no-any-return]
