"""Telling the other processes that a sequence's event log grew (BROADCAST_URL).

One backend subscription per process, started by the app's lifespan, wakes the local
subscribers through the EventBus. The message only says which sequences grew; the
subscribers read the changes from the event log, so a lost message costs at most one
poll interval and never a change. The listener is supervised: when the broker goes
away it reconnects with backoff, and after every (re)connection it wakes every local
subscriber so that they catch up on whatever was published meanwhile.

This replaces broadcaster 0.3.1, whose defects it would otherwise inherit: an unbounded
queue per subscriber, a race between two first subscribers of a channel, no reconnection,
LISTEN and NOTIFY on one PostgreSQL connection, and (with redis-py 8) a Redis listener
that starts before SUBSCRIBE completes and never delivers anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from urllib.parse import urlparse

import asyncpg
from redis import asyncio as aioredis

from seqgql.events.bus import EventBus
from seqgql.observability.metrics import BROADCAST_RECONNECTS

log = logging.getLogger("seqgql.broadcast")

CHANNEL = "seqgql_events"
LISTENER_NAME = "seqgql-listener"
MAX_BACKOFF_SECONDS = 5.0
# Publishes still in flight at most; past this, wake-ups rely on polling.
MAX_PENDING_PUBLISHES = 1_000


class Broadcast:
    """The in-process bus alone (``memory://``): one process, nothing to connect to."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.connected = asyncio.Event()
        self.connected.set()

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def committed(self, sequence_ids: set[int]) -> None:
        """Called once a transaction that wrote events has committed."""
        self.bus.notify(sequence_ids)


class _Supervised(Broadcast):
    """A broker-backed broadcast: publish after commit, listen in a supervised task."""

    def __init__(self, bus: EventBus, url: str) -> None:
        super().__init__(bus)
        self.url = url
        self.connected = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._supervise(), name="seqgql-broadcast")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        for task in list(self._pending):
            task.cancel()
        await self._close()

    def committed(self, sequence_ids: set[int]) -> None:
        self.bus.notify(sequence_ids)  # local subscribers need no round trip
        if len(self._pending) >= MAX_PENDING_PUBLISHES:
            return
        task = asyncio.create_task(self._publish_safely(sorted(sequence_ids)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish_safely(self, sequence_ids: list[int]) -> None:
        try:
            await self._publish(json.dumps(sequence_ids))
        except Exception as exc:  # the broker is down: others catch up by polling
            log.warning("could not publish to %s: %s", _redacted(self.url), exc)

    async def _supervise(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("broadcast listener lost %s: %s", _redacted(self.url), exc)
                BROADCAST_RECONNECTS.inc()
            self.connected.clear()
            await self._close()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _listening(self) -> None:
        """The subscription is in place: wake everyone to catch up on the gap."""
        self.connected.set()
        self.bus.notify_all()

    def _received(self, payload: str | bytes) -> None:
        try:
            ids = json.loads(payload)
            self.bus.notify(int(i) for i in ids)
        except (ValueError, TypeError):
            log.warning("ignored a malformed broadcast message: %r", payload)

    async def _listen(self) -> None:
        raise NotImplementedError

    async def _publish(self, message: str) -> None:
        raise NotImplementedError

    async def _close(self) -> None:
        pass


class RedisBroadcast(_Supervised):
    def __init__(self, bus: EventBus, url: str) -> None:
        super().__init__(bus, url)
        self._publisher: Any = aioredis.Redis.from_url(url)
        self._subscriber: Any = None

    async def _listen(self) -> None:
        self._subscriber = aioredis.Redis.from_url(self.url, health_check_interval=5)
        pubsub = self._subscriber.pubsub()
        await pubsub.subscribe(CHANNEL)  # completes before we start listening
        self._listening()
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
            if message is None:
                await pubsub.ping()  # notices a dead connection while idle
                continue
            if message.get("type") == "message":
                self._received(message["data"])

    async def _publish(self, message: str) -> None:
        await self._publisher.publish(CHANNEL, message)

    async def _close(self) -> None:
        if self._subscriber is not None:
            with contextlib.suppress(Exception):
                await self._subscriber.aclose()
            self._subscriber = None

    async def stop(self) -> None:
        await super().stop()
        with contextlib.suppress(Exception):
            await self._publisher.aclose()


class PostgresBroadcast(_Supervised):
    """LISTEN on one connection, NOTIFY on another."""

    def __init__(self, bus: EventBus, url: str) -> None:
        super().__init__(bus, _plain_postgres_url(url))
        self._listen_conn: asyncpg.Connection | None = None
        self._notify_conn: asyncpg.Connection | None = None
        self._notify_lock = asyncio.Lock()

    async def _listen(self) -> None:
        conn = self._listen_conn = await asyncpg.connect(
            self.url, server_settings={"application_name": LISTENER_NAME}
        )
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _c: lost.set())
        await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: self._received(payload))
        self._listening()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), 5.0)
            if not lost.is_set():
                await conn.execute("SELECT 1")  # notices a dead connection while idle
        raise ConnectionError("the LISTEN connection was closed")

    async def _publish(self, message: str) -> None:
        async with self._notify_lock:
            if self._notify_conn is None or self._notify_conn.is_closed():
                self._notify_conn = await asyncpg.connect(self.url)
            await self._notify_conn.execute("SELECT pg_notify($1, $2)", CHANNEL, message)

    async def _close(self) -> None:
        if self._listen_conn is not None:
            with contextlib.suppress(Exception):
                await self._listen_conn.close(timeout=2)
            self._listen_conn = None

    async def stop(self) -> None:
        await super().stop()
        if self._notify_conn is not None:
            with contextlib.suppress(Exception):
                await self._notify_conn.close(timeout=2)


def create_broadcast(url: str, bus: EventBus) -> Broadcast:
    scheme = urlparse(url).scheme
    if scheme == "memory":
        return Broadcast(bus)
    if scheme in ("redis", "rediss"):
        return RedisBroadcast(bus, url)
    if scheme in ("postgres", "postgresql", "postgresql+asyncpg"):
        return PostgresBroadcast(bus, url)
    raise ValueError(f"BROADCAST_URL: unsupported scheme {scheme!r} (memory, redis, postgres)")


def _plain_postgres_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _redacted(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.hostname}:{parsed.port or ''}"
