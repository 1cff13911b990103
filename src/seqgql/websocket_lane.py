"""Websockets to /graphql go from the server straight to the GraphQL view, past Starlette's
middleware and router.

A websocket lives for as long as its client stays subscribed, and every layer it passed
keeps a suspended coroutine frame (and closures) for that long: Starlette's error and
exception middleware, the request ids, CORS, the router, its route, the /graphql gate,
~4 KiB a connection that 10,000 idle subscribers paid for nothing (bench.fanout --heap).
None of them does anything for it but the request id: CORS and the error pages are
HTTP's, the router only matched the path, the gate sends websockets on to the view (they
authenticate in ``connection_init``). So ``App`` takes a websocket whose path is
``/graphql`` to the view itself, having done what the stack did for it: the request id
(``observability.request_ids``: on the log lines the connection writes, and on the
handshake's answer) and the direct frame writer (``compat.ws_transport``). Every other
request and websocket goes through the stack as before."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from seqgql.compat.ws_transport import attach_frames
from seqgql.graphql.view import GraphQLView
from seqgql.observability.metrics import WEBSOCKETS
from seqgql.observability.request_ids import HEADER, current, request_id_of

GRAPHQL_PATH = "/graphql"


class _IdOnAccept:
    """A websocket's ``send`` that puts its request id on the handshake's answer (what
    ``RequestIds`` does, without a coroutine frame kept for the connection's life)."""

    __slots__ = ("request_id", "send")

    def __init__(self, send: Send, request_id: str) -> None:
        self.send = send
        self.request_id = request_id

    async def __call__(self, message: Message) -> None:
        if message["type"] == "websocket.accept":
            MutableHeaders(scope=message)[HEADER] = self.request_id
        await self.send(message)


class App(Starlette):
    """Starlette, with websockets to /graphql taken to ``graphql_websockets`` directly
    (see the module); ``None`` sends them through the stack like the rest."""

    graphql_websockets: GraphQLView | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self.graphql_websockets
        if lane is not None and scope["type"] == "websocket" and scope["path"] == GRAPHQL_PATH:
            scope["app"] = self
            attach_frames(scope, send)
            request_id = request_id_of(scope)
            current.set(request_id)  # the connection's task has a context of its own
            # what the view's __call__ does with a websocket, one coroutine frame fewer
            with WEBSOCKETS.track_inprogress():
                await lane.run_websocket(WebSocket(scope, receive, _IdOnAccept(send, request_id)))
            return
        await super().__call__(scope, receive, send)
