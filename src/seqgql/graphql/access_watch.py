"""Open websockets whose token is looked at again while they stay open: a revoked token
closes its connections with 4403, a changed role applies to what they subscribe to next.

One task for the whole process, not one per connection: every ``interval`` (as often as
the token cache forgets a token) it looks each distinct token up once, however many
connections use it (10,000 dashboards on one token: one read, not 10,000), and touches
the connections only when the answer changed (revoked, or another role). A connection
that ends is forgotten then (``forget``): one kept would keep its whole connection alive,
past the moment ``process.HeapKeeper`` reclaims what closed ones left; those a sweep every
``SWEEP_SECONDS`` finds closed are forgotten too (a walk over all of them: at 10,000 open
subscribers, walking them twice a second was 5% of a fan-out's CPU)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketState

from seqgql.graphql.context import Context
from seqgql.persistence.database import first_line, is_unavailable
from seqgql.services.actor import Actor
from seqgql.services.auth import TokenCache

DISCONNECTED = WebSocketState.DISCONNECTED
REVOKED = 4403
SWEEP_SECONDS = 10.0
log = logging.getLogger("seqgql.graphql.view")


def _gone(socket: WebSocket) -> bool:
    return DISCONNECTED in (socket.client_state, socket.application_state)


class AccessWatch:
    def __init__(self, tokens: TokenCache) -> None:
        self.tokens = tokens
        self._open: dict[str, dict[WebSocket, Context]] = {}  # by token
        self._actors: dict[str, Actor] = {}  # what each token was found to be last time
        self._token_of: dict[WebSocket, str] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, token: str, context: Context, socket: WebSocket) -> None:
        self._open.setdefault(token, {})[socket] = context
        self._token_of[socket] = token
        if self._actors.get(token) != context.actor:  # then every one is looked at again
            self._actors.pop(token, None)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="seqgql-ws-access")

    def forget(self, socket: WebSocket) -> None:
        """The connection ended: nothing of it is kept."""
        token = self._token_of.pop(socket, None)
        connections = self._open.get(token) if token is not None else None
        if connections is not None:
            connections.pop(socket, None)

    def __len__(self) -> int:
        return sum(len(c) for c in self._open.values())

    async def _run(self) -> None:
        interval = max(self.tokens.seconds, 0.1)
        loop = asyncio.get_running_loop()
        swept = loop.time()
        while self._open:
            await asyncio.sleep(interval)
            sweep = loop.time() - swept >= SWEEP_SECONDS
            if sweep:
                swept = loop.time()
            for token in list(self._open):
                await self._check(token, sweep)

    async def _check(self, token: str, sweep: bool) -> None:
        connections = self._open.get(token, {})
        if sweep:
            for socket in [s for s in connections if _gone(s)]:
                del connections[socket]
                self._token_of.pop(socket, None)
        if not connections:
            self._open.pop(token, None)
            self._actors.pop(token, None)
            return
        try:
            actor = await self.tokens.authenticate(token)
        except Exception as exc:  # keep the connections, look again
            if not is_unavailable(exc):
                log.exception("could not check a websocket's token")
            else:
                log.warning("could not check a websocket's token: %s", first_line(exc))
            return
        if actor is None:
            self._open.pop(token, None)
            self._actors.pop(token, None)
            for socket in connections:
                self._token_of.pop(socket, None)
                if not _gone(socket):
                    with contextlib.suppress(Exception):
                        await socket.close(code=REVOKED, reason="the API token was revoked")
            return
        if self._actors.get(token) != actor:
            for context in connections.values():
                context.actor = actor
            self._actors[token] = actor

    async def close(self) -> None:
        self._open.clear()
        self._actors.clear()
        self._token_of.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
