"""The graphql-transport-ws handler: shareable subscriptions run once per distinct
subscription (``graphql.feeds``); everything else runs as Strawberry runs it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any, Protocol

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

from seqgql.domain.validation import nul_in
from seqgql.graphql.context import Context
from seqgql.graphql.feeds import (
    FELL_BEHIND,
    MAX_DOCUMENT_CHARS,
    Closed,
    FeedHub,
    TooManyTokens,
    shape,
)
from seqgql.services.actor import Actor

# How long closing the connection of a subscriber that fell behind may take.
CLOSE_TIMEOUT_SECONDS = 5.0


class FeedSource(Protocol):
    """What the handler needs of the view that created it (the view implements it)."""

    feeds: FeedHub

    def context_for(self, actor: Actor) -> Context: ...

    def encode_json_string(self, data: object) -> str: ...


class SharingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    _closing: asyncio.Task[None] | None = None  # closing a connection that fell behind

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        view: FeedSource = self.view  # type: ignore[assignment]
        if len(operation.query) > MAX_DOCUMENT_CHARS:
            await self._refuse(
                operation,
                GraphQLError(
                    f"the document is over {MAX_DOCUMENT_CHARS:,} characters",
                    extensions={"code": "DOCUMENT_TOO_LARGE"},
                ),
            )
            return
        if (where := nul_in({"variables": operation.variables or {}})) is not None:
            error = f"{where} holds a NUL character (\\u0000), which no text may hold"
            code = {"code": "INVALID_TEXT", "field": where}
            await self._refuse(operation, GraphQLError(error, extensions=code))
            return
        document = view.feeds.parse(operation.query)
        if isinstance(document, TooManyTokens):
            await self._refuse(operation, document)
            return
        if isinstance(document, GraphQLError):
            # the protocol's answer to a document that does not parse
            self.operations.pop(operation.id, None)
            await self.websocket.close(code=4400, reason=document.message)
            return
        found = shape(document, operation.operation_name, operation.variables)
        if found is None or found.replays:
            await super().run_operation(operation)
            return
        context = self.context
        key = FeedHub.key(
            context.workspace_id, operation.query, operation.variables, operation.operation_name
        )

        def start() -> Any:
            return self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=view.context_for(context.actor),
                operation_name=operation.operation_name,
            )

        feed, mailbox = view.feeds.subscribe(key, found, start, view.encode_json_string)
        prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'
        socket = context.socket
        assert socket is not None  # set by the view for every websocket
        try:
            while True:
                try:
                    payload = await mailbox.get()
                except Closed as closed:
                    await self._closed(operation, closed)
                    return
                await socket.send_text(prefix + payload + "}")
        except (WebSocketDisconnect, RuntimeError):
            return  # the client went away; the handler cleans up
        finally:
            feed.leave(mailbox)

    async def _refuse(self, operation: Operation[Context, None], error: GraphQLError) -> None:
        """The protocol's "error" message for this operation; the connection stays."""
        with contextlib.suppress(Exception):
            await operation.send_initial_errors([error])

    async def _closed(self, operation: Operation[Context, None], closed: Closed) -> None:
        if closed.kind == "behind":
            self.operations.pop(operation.id, None)
            self._closing = asyncio.get_running_loop().create_task(self._close_slow())
        elif closed.kind == "error":
            errors: Any = closed.payload
            # the protocol's "error" message (a syntax error never gets here: see above)
            with contextlib.suppress(Exception):
                await operation.send_initial_errors(errors)
        else:
            await operation.send_operation_message({"id": operation.id, "type": "complete"})

    async def _close_slow(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.websocket.close(FELL_BEHIND, "fell behind; resubscribe with `since`"),
                CLOSE_TIMEOUT_SECONDS,
            )
