"""The websocket handlers. graphql-transport-ws: shareable subscriptions run once per
distinct subscription (``graphql.feeds``); everything else runs as Strawberry runs it.

Each subscription is charged to its token's rate limits (``rate_limiting``) once
measured (``operation_limits``); one refused gets the protocol's "error" message
(``RATE_LIMITED``, ``QUERY_TOO_COSTLY``) and the connection stays.

On both protocols (and the legacy graphql-ws), a ``connection_init`` that cannot be
checked because the database is out of reach is closed with 1013 (try again later),
logged in one line; an operation whose connection went away ends without a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any, Protocol

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from seqgql.compat.ws_transport import forget_headers, frames_of
from seqgql.events.log import BadCursor, EventCursor
from seqgql.graphql.context import Context
from seqgql.graphql.feeds import FELL_BEHIND, Feed, FeedHub, Shape, encode, payload_of, shape
from seqgql.graphql.mailbox import Closed, Mailbox
from seqgql.graphql.operation_limits import Refused, check_operation
from seqgql.graphql.persisted import PersistedQueries
from seqgql.graphql.positions import FeedPosition, follow
from seqgql.graphql.rate_limiting import Metering
from seqgql.graphql.ws_socket import SEND_FAILURES, retry_later_if_unavailable
from seqgql.persistence.database import first_line, is_unavailable
from seqgql.services.actor import Actor

log = logging.getLogger("seqgql.graphql")
# Fields whose subscribers resuming with `since` catch up, then join the shared feed.
CATCH_UP = frozenset({"enrollmentStatusChanged"})
# How long closing the connection of a subscriber that fell behind may take.
CLOSE_TIMEOUT_SECONDS = 5.0


# what the view acknowledges a connection with (its on_ws_connect returns None)
ACK: dict[str, object] = {"type": "connection_ack", "payload": None}


class FeedSource(Protocol):
    """What the handler needs of the view that created it (the view implements it)."""

    feeds: FeedHub
    persisted: PersistedQueries
    metering: Metering
    ack_frame: bytes  # ``ACK`` as the view encodes it, in one text frame

    def context_for(self, actor: Actor) -> Context: ...


class SharingTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """A shared subscription has a task only while it has something to send through
    ASGI: its operation's task joins the feed, sends what is queued (a newcomer's latest
    counts, say) and ends once the feed can write to the connection itself
    (``mailbox``); a sender task is started again when the mailbox queues a payload (a
    slow client) or the feed ends (``_wake_sender``). 10,000 idle subscribers hold no
    task and no coroutine frames of their own."""

    _closing: asyncio.Task[None] | None = None  # closing a connection that fell behind
    _joined: dict[str, tuple[Feed, Mailbox]] | None = None  # by operation id

    async def cleanup_operation(self, operation_id: str) -> None:
        """Strawberry's (the operation's task cancelled), and first its mailbox out of its
        feed at once, so that the feed writes nothing more for an operation the client
        completed or a connection that closed, and its sender task, if one runs, ended."""
        joined = self._joined.get(operation_id) if self._joined else None
        if joined is not None:
            self._leave(operation_id, *joined)
            sender, joined[1].sender = joined[1].sender, None
            if sender is not None and sender is not asyncio.current_task():
                sender.cancel()
        await super().cleanup_operation(operation_id)

    def _leave(self, operation_id: str, feed: Feed, mailbox: Mailbox) -> None:
        mailbox.on_wake = None
        mailbox.direct = False
        feed.leave(mailbox)
        if self._joined is not None and self._joined.get(operation_id) == (feed, mailbox):
            del self._joined[operation_id]

    _init_deadline: asyncio.TimerHandle | None = None  # until connection_init arrives

    def on_request_accepted(self) -> None:
        """connection_init's deadline as a timer; a task is made only if it passes
        (Strawberry starts a task per connection that sleeps until it, then cancels it:
        ~5% of opening a subscription)."""
        delay = self.connection_init_wait_timeout.total_seconds()
        self._init_deadline = asyncio.get_running_loop().call_later(delay, self._init_expired)

    def _init_expired(self) -> None:
        self._init_deadline = None
        if not self.connection_init_received:
            task = asyncio.get_running_loop().create_task(self._close_for_timeout())
            self.connection_init_timeout_task = task

    async def _close_for_timeout(self) -> None:
        """What Strawberry's deadline task does once it wakes (the protocol's 4408)."""
        if self.connection_init_received:
            return
        self.connection_timed_out = True
        with contextlib.suppress(*SEND_FAILURES):
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")

    def _no_init_deadline(self) -> None:
        if self._init_deadline is not None:
            self._init_deadline.cancel()
            self._init_deadline = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        self._no_init_deadline()
        await retry_later_if_unavailable(self.websocket, super().handle_connection_init(message))

    async def send_message(self, message: Any) -> None:
        """Strawberry's; a plain ``connection_ack`` is written as one frame made once (the
        same bytes), straight to the connection when it can take it now (as a feed
        writes), instead of through JSON, ASGI and websockets' framing: ~5% of opening a
        subscription."""
        if message == ACK:
            socket = self.context.socket
            frames = frames_of(socket.scope) if socket is not None else None
            view: FeedSource = self.view  # type: ignore[assignment]
            if frames is not None and frames.write(view.ack_frame):
                return
        await super().send_message(message)

    async def shutdown(self) -> None:
        self._no_init_deadline()
        await super().shutdown()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Strawberry's; then the message emptied: the operation holds what it needs of
        it, and Strawberry's receive loop keeps the last message it handled (the
        document's text and the variables, ~1 KiB) for as long as the connection idles."""
        await super().handle_subscribe(message)
        message.clear()  # type: ignore[attr-defined]

    async def handle_task_exception(self, error: Exception) -> None:
        """What Strawberry does when an operation fails: log it in full, except when the
        connection is gone (the send failed because the client left) or the database is
        out of reach (one line)."""
        socket = self.context.socket
        gone = socket is not None and WebSocketState.DISCONNECTED in (
            socket.client_state,
            socket.application_state,
        )
        if gone and isinstance(error, SEND_FAILURES):
            return
        if is_unavailable(error):
            log.warning(
                "a websocket operation failed: the database is unavailable: %s", first_line(error)
            )
            return
        await super().handle_task_exception(error)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        view: FeedSource = self.view  # type: ignore[assignment]
        document = check_operation(view.feeds, operation.query, operation.variables, view.persisted)
        if isinstance(document, Refused):
            await self._refuse(operation, document)
            return
        if isinstance(document, GraphQLError):
            # the protocol's answer to a document that does not parse
            self.operations.pop(operation.id, None)
            await self.websocket.close(code=4400, reason=document.message)
            return
        charge = await view.metering.charge(
            self.context.actor, document, operation.variables, operation.operation_name
        )
        if charge.refusal is not None:  # RATE_LIMITED or QUERY_TOO_COSTLY
            await self._refuse(operation, charge.refusal)
            return
        self.context.rate_limit = charge.allowance  # what a query's `rateLimit` tells
        found = shape(document, operation.operation_name, operation.variables)
        variables = dict(operation.variables or {})
        since = (
            variables.pop(found.since_variable, None) if found and found.since_variable else None
        )
        if found is None or (found.replays and (since is None or found.field not in CATCH_UP)):
            await super().run_operation(operation)
            return
        await self._share(operation, view, found, variables, since)

    async def _share(
        self,
        operation: Operation[Context, None],
        view: FeedSource,
        found: Shape,
        variables: dict[str, Any],
        since: Any,
    ) -> None:
        """Take the payloads of the feed everyone asking the same shares (its key leaves
        `since` out); with `since`, catch up on one's own first (``positions``). Returns
        once the feed writes to the connection itself (see the class)."""
        feed, mailbox = self._join(operation, view, found, variables)
        if self._joined is None:
            self._joined = {}
        self._joined[operation.id] = (feed, mailbox)
        if found.replays:
            joined_at = feed.published  # what the feed had published before this one
            try:
                caught_up = await self._catch_up(
                    operation, view, feed, joined_at, since, mailbox.prefix
                )
            except (WebSocketDisconnect, RuntimeError):
                caught_up = False  # the client went away; the handler cleans up
            if not caught_up:
                self._leave(operation.id, feed, mailbox)
                if caught_up is None:  # it cannot join the feed: it runs alone
                    await super().run_operation(operation)
                return
        if self._joined.get(operation.id) != (feed, mailbox):
            return  # completed by the client meanwhile
        # what only running it needed: the feed's copy of the document, not one each
        operation.query, operation.variables = feed.key[1], None
        mailbox.on_wake = self._wake_sender
        await self._sending(operation, feed, mailbox)

    def _wake_sender(self, mailbox: Mailbox) -> None:
        """The mailbox has something to send through ASGI (or its end to tell) and no
        task waits on it: start one, unless one runs. (Its operation is found among the
        connection's, at most ``max_subscriptions_per_connection``: a mailbox holds no
        reference to it, ~0.2 KiB a subscriber.)"""
        joined = (self._joined or {}).items()
        found = next(((i, feed) for i, (feed, box) in joined if box is mailbox), None)
        if found is None:
            return
        operation_id, feed = found
        operation = self.operations.get(operation_id)
        if operation is None or (mailbox.sender is not None and not mailbox.sender.done()):
            return
        mailbox.sender = asyncio.get_running_loop().create_task(
            self._sending(operation, feed, mailbox)
        )

    async def _sending(
        self, operation: Operation[Context, None], feed: Feed, mailbox: Mailbox
    ) -> None:
        """Send what the mailbox holds through ASGI until the feed can write directly
        again (then return), the feed ends (its end told) or the client goes away."""
        me = asyncio.current_task()
        mailbox.sender = me
        socket = self.context.socket
        assert socket is not None  # set by the view for every websocket
        prefix = mailbox.prefix
        try:
            while True:
                mailbox.deliver_directly()  # when nothing is queued, the feed writes
                if mailbox.direct:
                    return
                try:
                    payload = await mailbox.get()
                except Closed as closed:
                    self._leave(operation.id, feed, mailbox)
                    await self._closed(operation, closed)
                    return
                await socket.send_text((prefix + payload + b"}").decode())
        except (WebSocketDisconnect, RuntimeError):
            self._leave(operation.id, feed, mailbox)  # the client went away
        except Exception as error:
            self._leave(operation.id, feed, mailbox)
            await self.handle_task_exception(error)
        finally:
            if mailbox.sender is me:
                mailbox.sender = None

    def _join(
        self,
        operation: Operation[Context, None],
        view: FeedSource,
        found: Shape,
        variables: dict[str, Any],
    ) -> tuple[Feed, Mailbox]:
        """Join the feed of this subscription (started here when there is none). What only
        starting a feed needs is made then, and not kept by the subscriber."""
        context = self.context
        socket = context.socket
        assert socket is not None  # set by the view for every websocket
        query, name = operation.query, operation.operation_name
        key = FeedHub.key(context.workspace_id, query, variables, name)
        actor = context.actor

        def starter() -> tuple[Callable[[], Awaitable[Any]], FeedPosition | None]:
            feed_context = view.context_for(actor)
            position = follow(feed_context) if found.field in CATCH_UP else None

            def stream() -> Awaitable[Any]:
                return self.schema.stream(
                    query, variable_values=variables, context_value=feed_context,
                    operation_name=name,
                )  # fmt: skip

            return stream, position

        prefix = ('{"id":' + json.dumps(operation.id) + ',"type":"next","payload":').encode()
        frames = frames_of(socket.scope)
        if frames is not None:
            frames.forget_handshake()  # accepted long ago: what it kept is not needed
        forget_headers(socket)  # read at the handshake, not again
        return view.feeds.subscribe(key, found, starter, prefix=prefix, frames=frames)

    async def _catch_up(
        self,
        operation: Operation[Context, None],
        view: FeedSource,
        feed: Feed,
        joined_at: int | None,
        since: Any,
        prefix: bytes,
    ) -> bool | None:
        """Send the changes after ``since`` up to where the feed is for this subscriber:
        True when done, False when the run ended it (an error was sent), None when it
        cannot join the feed (a cursor ahead of it, or not one at all)."""
        try:
            after = EventCursor.decode(since).number if isinstance(since, str) else None
        except BadCursor:
            after = None
        if after is None or feed.position is None:
            return None
        if joined_at is None:  # joined before the feed's first payload: it is all ahead
            if not await feed.wait_started():
                return None
            joined_at = feed.position.start
        if joined_at is None or after > joined_at:
            return None
        run_context = view.context_for(self.context.actor)
        follow(run_context, until=joined_at)
        stream = await self.schema.stream(
            operation.query,
            variable_values=operation.variables,
            context_value=run_context,
            operation_name=operation.operation_name,
        )
        socket = self.context.socket
        assert socket is not None
        async with aclosing(stream):
            async for result in stream:
                if isinstance(result, PreExecutionError):
                    await self._refuse(operation, *(result.errors or []))
                    return False
                if not isinstance(result, ExecutionResult):
                    continue
                payload = encode(payload_of(result))
                await socket.send_text((prefix + payload + b"}").decode())
                if result.errors:
                    await operation.send_operation_message({"id": operation.id, "type": "complete"})
                    return False
        return True

    async def _refuse(self, operation: Operation[Context, None], *errors: Any) -> None:
        """The protocol's "error" message for this operation; the connection stays."""
        with contextlib.suppress(Exception):
            await operation.send_initial_errors(list(errors))

    async def _closed(self, operation: Operation[Context, None], closed: Closed) -> None:
        if closed.kind == "behind":
            self.operations.pop(operation.id, None)
            self._closing = asyncio.get_running_loop().create_task(self._close_slow())
        elif closed.kind == "error":
            # the protocol's "error" message (a syntax error never gets here: see above)
            await self._refuse(operation, *closed.payload)  # type: ignore[misc]
        else:
            await operation.send_operation_message({"id": operation.id, "type": "complete"})

    async def _close_slow(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.websocket.close(FELL_BEHIND, "fell behind; resubscribe with `since`"),
                CLOSE_TIMEOUT_SECONDS,
            )
