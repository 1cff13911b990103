"""Open websockets whose token is looked at again while they stay open: a revoked token
closes its connections with 4403, a changed role applies to what they subscribe to next.

One task for the whole process, not one per connection: every ``interval`` (as often as
the token cache forgets a token) it looks each distinct token up once, however many
connections use it (10,000 dashboards on one token: one read, not 10,000)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketState

from seqgql.graphql.context import Context
from seqgql.persistence.database import first_line, is_unavailable
from seqgql.services.auth import TokenCache

DISCONNECTED = WebSocketState.DISCONNECTED
REVOKED = 4403
log = logging.getLogger("seqgql.graphql.view")


def _gone(socket: WebSocket) -> bool:
    return DISCONNECTED in (socket.client_state, socket.application_state)


class AccessWatch:
    def __init__(self, tokens: TokenCache) -> None:
        self.tokens = tokens
        self._open: dict[str, dict[WebSocket, Context]] = {}  # by token
        self._task: asyncio.Task[None] | None = None

    def add(self, token: str, context: Context, socket: WebSocket) -> None:
        self._open.setdefault(token, {})[socket] = context
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="seqgql-ws-access")

    def __len__(self) -> int:
        return sum(len(c) for c in self._open.values())

    async def _run(self) -> None:
        interval = max(self.tokens.seconds, 0.1)
        while self._open:
            await asyncio.sleep(interval)
            for token in list(self._open):
                await self._check(token)

    async def _check(self, token: str) -> None:
        connections = self._open.get(token, {})
        for socket in [s for s in connections if _gone(s)]:
            del connections[socket]
        if not connections:
            self._open.pop(token, None)
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
            for socket in connections:
                with contextlib.suppress(Exception):
                    await socket.close(code=REVOKED, reason="the API token was revoked")
            return
        for context in connections.values():
            context.actor = actor

    async def close(self) -> None:
        self._open.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
