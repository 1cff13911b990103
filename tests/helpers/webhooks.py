"""A real HTTP server receiving webhooks (asyncio, HTTP/1.1 with keep-alive) on
127.0.0.1, as an integrator's endpoint would: it records each POST, answers the statuses
it is told (then 200), optionally after a delay; and verifies what it got with the
Standard Webhooks reference verifier."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook

from seqgql.webhooks.dispatcher import Dispatcher
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.processes import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it was read

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return json.loads(self.body)

    def verified(self, secret: str) -> Any:
        """The body, verified with ``secret`` (raises WebhookVerificationError if not)."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    """``statuses``: the answers to the next requests, in order (then ``status``);
    ``delay``: seconds before each answer; ``body``: what each answer holds;
    ``headers``: extra answer headers; ``raw``: the bytes of every answer instead (the
    connection closed after them when ``close``); ``tls``: served over TLS (the URL's
    host is then ``localhost``); ``idle_timeout``: seconds after which it closes a
    connection that sends nothing (as servers' keep-alive timeouts do)."""

    statuses: list[int] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    close: bool = False
    tls: ssl.SSLContext | None = None
    idle_timeout: float | None = None
    received: list[Received] = field(default_factory=list)
    connections: int = 0  # connections opened to it
    port: int = 0
    _server: asyncio.Server | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        if self.tls is not None:
            return f"https://localhost:{self.port}/hooks/seqgql"
        return f"http://127.0.0.1:{self.port}/hooks/seqgql"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.idle_timeout)
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.received.append(Received(path, headers, body, time.monotonic()))
                self._arrived.set()
                status = self.statuses.pop(0) if self.statuses else self.status
                if self.delay:
                    await asyncio.sleep(self.delay)
                if self.raw is not None:
                    writer.write(self.raw)
                    await writer.drain()
                    if self.close:
                        break
                    continue
                lines = [f"HTTP/1.1 {status} X", f"content-length: {len(self.body)}"]
                lines += [f"{k}: {v}" for k, v in self.headers.items()]
                writer.write("\r\n".join([*lines, "", ""]).encode() + self.body)
                await writer.drain()
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            asyncio.LimitOverrunError,
            ssl.SSLError,
            TimeoutError,
        ):
            pass
        except asyncio.CancelledError:  # the server closed while it slept: a dropped answer
            pass
        finally:
            writer.close()

    async def wait_for(self, count: int, seconds: float = 10) -> None:
        """Until ``count`` requests arrived (fails after ``seconds``)."""
        deadline = time.monotonic() + seconds
        while len(self.received) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"{len(self.received)} of {count} webhooks arrived"
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    def ids(self) -> list[str]:
        return [r.id for r in self.received]


@asynccontextmanager
async def receiver(**options: Any) -> AsyncIterator[Receiver]:
    server = Receiver(**options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused."""
    return f"http://127.0.0.1:{free_port()}/hooks"


@asynccontextmanager
async def running(dispatcher: Dispatcher, idle_seconds: float = 0.05) -> AsyncIterator[None]:
    """The dispatcher's loop in a task, stopped (and waited for) at the end."""
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run_forever(stop, idle_seconds))
    try:
        yield
    finally:
        stop.set()
        await task


ENDPOINT = (
    "id url eventTypes sequenceIds enabled disabledReason disabledAt failingSince "
    "previousSecretExpiresAt createdAt updatedAt"
)
WITH_SECRET = f"webhookEndpoint {{ {ENDPOINT} }} secret userErrors {{ field code message }}"
WITHOUT_SECRET = f"webhookEndpoint {{ {ENDPOINT} }} userErrors {{ field code message }}"
ENDPOINTS = f"{{ webhookEndpoints(first: 100) {{ totalCount edges {{ node {{ {ENDPOINT} }} }} }} }}"
DELIVERIES = """query($id: ID!, $status: WebhookDeliveryStatus) {
  webhookDeliveries(endpointId: $id, status: $status, first: 100) {
    totalCount edges { node { id webhookId eventType sequenceId eventNumber attempt status
      statusCode latencyMs response error attemptedAt nextAttemptAt } } } }"""
STATUS_CHANGED = "ENROLLMENT_STATUS_CHANGED"


async def create_endpoint(
    gql: GraphQLClient, url: str, *, sequence_ids: list[str] | None = None,
    event_types: list[str] | None = None,
) -> tuple[str, str]:  # fmt: skip
    """A new endpoint through createWebhookEndpoint: its global id and its secret."""
    created = await mutate(
        gql,
        "createWebhookEndpoint",
        {"url": url, "eventTypes": event_types or [STATUS_CHANGED], "sequenceIds": sequence_ids},
        WITH_SECRET,
    )
    assert created["userErrors"] == [], created
    return created["webhookEndpoint"]["id"], created["secret"]


async def deliveries(gql: GraphQLClient, endpoint_id: str, status: str | None = None) -> list[Any]:
    data = await gql.execute(DELIVERIES, {"id": endpoint_id, "status": status})
    return [e["node"] for e in data["webhookDeliveries"]["edges"]]
