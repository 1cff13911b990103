"""Shared subscriptions: the work is done once per distinct subscription, and everyone who
shares it gets the same bytes.

Subscribers with the same workspace, document, variables and operation name see the same
results, so one *feed* runs the subscription (one event-log read and one execution per
change) and encodes each result's payload once. Every subscriber has a small bounded
*mailbox* of payloads still to send; the feed writes each message's frame straight to
the subscriber's connection while it keeps up, else its own task sends them (``mailbox``),
so a slow client delays nobody else. A subscriber that falls more than ``max_pending`` payloads
behind is dropped and its connection closed with code 4413 ("fell behind"): a client then
resubscribes with its last cursor (``since``) and the event log replays what it missed.
Counts subscribers only ever need the latest payload, so their mailbox holds one.

A change subscription with ``since`` catches up on its own from its cursor to where the
feed is, then joins it (``positions``); ``shape`` says which subscriptions can share.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    ValueNode,
    VariableNode,
    parse,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError

from seqgql.caching import LRU
from seqgql.compat.ws_transport import Frames
from seqgql.graphql.mailbox import Closed, Mailbox
from seqgql.graphql.positions import FeedPosition

log = logging.getLogger(__name__)

# Root fields whose latest message is all a subscriber needs (sent again to a newcomer).
LATEST_ONLY = frozenset({"sequenceStatusCounts"})
SHAREABLE_FIELDS = frozenset({"enrollmentStatusChanged", "sequenceStatusCounts"})
FELL_BEHIND = 4413


@dataclass(frozen=True, slots=True)
class Shape:
    """What a subscription document asks for, as far as sharing is concerned."""

    field: str
    replays: bool  # has a `since`: replays from its own position first
    since_variable: str | None = None  # the variable `since` is given by, if one


# A subscription document longer than this is refused before it is parsed.
MAX_DOCUMENT_CHARS = 100_000


class TooManyTokens(GraphQLError):
    """A document over the token limit (parsing stopped there)."""


def parse_document(query: str, max_tokens: int) -> DocumentNode | GraphQLError:
    """The document, or why it is refused: its syntax error, or ``TooManyTokens`` (the
    parser stops at ``max_tokens``, whatever the document's length)."""
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLError as exc:
        if "more than" in exc.message and "tokens" in exc.message:
            return TooManyTokens(
                f"the document has more than {max_tokens} tokens",
                extensions={"code": "TOO_MANY_TOKENS"},
            )
        return exc


def shape(
    document: DocumentNode, operation_name: str | None, variables: dict[str, Any] | None
) -> Shape | None:
    """The shape of a subscription we know how to share, or None (then it runs alone)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.SUBSCRIPTION:
        return None
    selections = operations[0].selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    field = selections[0]
    if field.name.value not in SHAREABLE_FIELDS:
        return None
    replays = False
    since_variable = None
    defaults = {
        d.variable.name.value: d.default_value for d in operations[0].variable_definitions or ()
    }
    for argument in field.arguments or ():
        if argument.name.value != "since":
            continue
        value: ValueNode | None = argument.value
        if isinstance(value, VariableNode):
            name = since_variable = value.name.value
            if variables is not None and name in variables:
                replays = variables[name] is not None
                continue
            value = defaults.get(name)  # not sent: the variable's default, if any
        replays = value is not None and not isinstance(value, NullValueNode)
    return Shape(field.name.value, replays, since_variable)


Key = tuple[int, str, str, str | None]


class Feed:
    """One running subscription and the mailboxes of everyone who shares it."""

    def __init__(self, hub: FeedHub, key: Key, latest_only: bool) -> None:
        self.hub = hub
        self.key = key
        self.latest_only = latest_only
        self.mailboxes: set[Mailbox] = set()
        self.latest: bytes | None = None
        self.task: asyncio.Task[None] | None = None
        # a change feed: where its run is, and the number of the change last published
        self.position: FeedPosition | None = None
        self.published: int | None = None

    async def wait_started(self) -> bool:
        """Wait until the feed's run knows where it starts; False if it ended first."""
        if self.position is None or self.task is None:
            return False
        started = asyncio.ensure_future(self.position.started.wait())
        try:
            await asyncio.wait({started, self.task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            started.cancel()
        return self.position.started.is_set()

    def join(self, prefix: bytes = b"", frames: Frames | None = None) -> Mailbox:
        mailbox = Mailbox(self.latest_only, prefix, frames)
        if self.latest_only and self.latest is not None:
            mailbox.put(self.latest)
        self.mailboxes.add(mailbox)
        return mailbox

    def leave(self, mailbox: Mailbox) -> None:
        self.mailboxes.discard(mailbox)
        if not self.mailboxes:
            self.hub.forget(self)

    def publish(self, payload: bytes) -> None:
        if self.latest_only:
            self.latest = payload
        framed: dict[bytes, bytes] = {}  # the message's frame, by operation id
        behind = [m for m in self.mailboxes if not m.put(payload, framed)]
        for mailbox in behind:
            mailbox.close(Closed("behind"))
            self.mailboxes.discard(mailbox)

    def end(self, reason: Closed) -> None:
        for mailbox in self.mailboxes:
            mailbox.close(reason)
        self.hub.forget(self)

    async def run(self, stream: Callable[[], Awaitable[Any]]) -> None:
        try:
            source = await stream()
            first = True
            async with aclosing(source):
                async for result in source:
                    if first and isinstance(result, PreExecutionError):
                        self.end(Closed("error", result.errors))
                        return
                    first = False
                    if not isinstance(result, ExecutionResult):
                        continue
                    if self.position is not None:
                        self.published = self.position.current
                    self.publish(encode(payload_of(result)))
            self.end(Closed("complete"))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a shared subscription failed")
            self.end(Closed("complete"))


def payload_of(result: ExecutionResult) -> dict[str, object]:
    payload: dict[str, object] = {"data": result.data}
    if result.errors:
        payload["errors"] = [e.formatted for e in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


def encode(payload: dict[str, object]) -> bytes:
    """A payload as JSON (UTF-8), by orjson; by the standard library for what orjson does
    not write (an int over 64 bits, say)."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        return json.dumps(payload).encode()


class FeedHub:
    """The feeds of one process, by (workspace, document, variables, operation name)."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens
        self.feeds: dict[Key, Feed] = {}
        # subscription documents seen lately, parsed (or their syntax errors)
        self._documents: LRU[str, DocumentNode | GraphQLError] = LRU(maxsize=256)

    def parse(self, query: str) -> DocumentNode | GraphQLError:
        """The document (or its syntax error), parsed once while it is in use."""
        return self._documents.get_or_make(query, lambda: parse_document(query, self.max_tokens))

    @staticmethod
    def key(
        workspace_id: int, query: str, variables: dict[str, Any] | None, operation: str | None
    ) -> Key:
        return workspace_id, query, json.dumps(variables or {}, sort_keys=True), operation

    def subscribe(
        self,
        key: Key,
        shape: Shape,
        starter: Callable[[], tuple[Callable[[], Awaitable[Any]], FeedPosition | None]],
        *,
        prefix: bytes = b"",
        frames: Frames | None = None,
    ) -> tuple[Feed, Mailbox]:
        """Join the feed of ``key``; when there is none, ``starter()`` gives what starts
        it and the position its run reports to (or None). The mailbox's messages start
        with ``prefix`` and are written with ``frames`` when it can (``mailbox``)."""
        feed = self.feeds.get(key)
        if feed is None:
            stream, position = starter()
            feed = self.feeds[key] = Feed(self, key, shape.field in LATEST_ONLY)
            feed.position = position
            mailbox = feed.join(prefix, frames)
            feed.task = asyncio.create_task(feed.run(stream), name="seqgql-feed")
        else:
            mailbox = feed.join(prefix, frames)
        return feed, mailbox

    def forget(self, feed: Feed) -> None:
        if self.feeds.get(feed.key) is feed:
            del self.feeds[feed.key]
        task = feed.task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()

    @property
    def subscriber_count(self) -> int:
        return sum(len(f.mailboxes) for f in self.feeds.values())

    def pending(self) -> list[int]:
        """How many payloads each subscriber has waiting (for tests and diagnostics)."""
        return [len(m) for f in self.feeds.values() for m in f.mailboxes]

    async def close(self) -> None:
        for feed in list(self.feeds.values()):
            self.forget(feed)
            if feed.task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await feed.task
