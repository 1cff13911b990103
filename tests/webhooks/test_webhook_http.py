"""The worker's HTTP/1.1 client against real servers: one kept-alive connection carries a
sequence's POSTs, an answer that closes (or HTTP/1.0, or a body ended by closing, or
one over 64 KB) is honoured with a new connection, as is a connection its server closed
while idle; answers in chunks, after a 100 Continue, are read; a broken answer (not
HTTP, cut short, closed, a head too large) is a failed attempt with its reason, never a
worker error. TLS is verified against the URL's host name (trustme's certificates)."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest
import trustme

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from seqgql.webhooks.dispatcher import Dispatcher
from seqgql.webhooks.http11 import Client
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.webhooks import create_endpoint, deliveries, receiver
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.isolated_clock

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


async def pause_all(gql: GraphQLClient, sequence_id: int) -> None:
    paused = await mutate(
        gql, "pauseEnrollments", {"selection": {"sequenceId": gid("Sequence", sequence_id)}}
    )
    assert paused["userErrors"] == [] and paused["changedCount"] > 0


async def test_a_kept_alive_connection_carries_the_posts_and_a_closing_answer_is_honoured(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    sequence, _ = await make_enrolled(db, clock, workspace.actor, 5)
    async with receiver() as kept, receiver(headers={"connection": "close"}) as closing:
        await create_endpoint(local_gql, kept.url)
        closing_id, _ = await create_endpoint(local_gql, closing.url)
        await pause_all(local_gql, sequence)
        assert await dispatcher.run_until_idle() == 10
    assert len(kept.received) == 5 and kept.connections == 1
    assert len(closing.received) == 5 and closing.connections == 5
    assert {d["status"] for d in await deliveries(local_gql, closing_id)} == {"SUCCEEDED"}


async def test_a_connection_its_server_closed_while_idle_is_not_used_again(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    """The server's keep-alive timeout (uvicorn's is 5 s) ran out between two events:
    the second goes over a new connection, delivered at its first attempt."""
    first, _ = await make_enrolled(db, clock, workspace.actor, 2)
    second, _ = await make_enrolled(db, clock, workspace.actor, 2)
    async with receiver(idle_timeout=0.1) as hooks:
        endpoint_id, _ = await create_endpoint(local_gql, hooks.url)
        await pause_all(local_gql, first)
        assert await dispatcher.run_until_idle() == 2
        await asyncio.sleep(0.4)
        await pause_all(local_gql, second)
        assert await dispatcher.run_until_idle() == 2
    assert len(hooks.received) == 4 and hooks.connections == 2
    listed = await deliveries(local_gql, endpoint_id)
    assert len(listed) == 4 and {d["status"] for d in listed} == {"SUCCEEDED"}


BIG = b"x" * 200_000
ANSWERS: dict[str, tuple[bytes, bool, str, Any, str | None, bool]] = {
    # name: (raw answer, closed after it, status, statusCode, response or error, reused)
    "chunked": (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n",
        False, "SUCCEEDED", 200, "hello", True,
    ),
    "after 100 Continue": (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        False, "SUCCEEDED", 204, None, True,
    ),
    "ended by closing": (b"HTTP/1.1 202 Accepted\r\n\r\nbye", True, "SUCCEEDED", 202, "bye", False),
    "HTTP/1.0": (b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", False, "SUCCEEDED", 200, "ok",
                 False),
    "over 64 KB": (b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(BIG), BIG), False,
                   "SUCCEEDED", 200, "x" * 1024, False),
    "a 500": (b"HTTP/1.1 500 Oops\r\ncontent-length: 4\r\n\r\noops", False, "FAILED", 500,
              "HTTP 500", True),
    "not HTTP": (b"220 smtp.example.com ESMTP\r\n\r\n", False, "FAILED", None,
                 "RemoteProtocolError: not an HTTP/1.1 answer", False),
    "nothing": (b"", True, "FAILED", None, "RemoteProtocolError: the server closed", False),
    "cut short": (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", True, "FAILED", None,
                  "RemoteProtocolError: the server closed", False),
    "a head too large": (b"HTTP/1.1 200 OK\r\nx-junk: " + b"a" * 100_000 + b"\r\n\r\n", False,
                         "FAILED", None, "RemoteProtocolError: an answer's head over", False),
}  # fmt: skip


@pytest.mark.parametrize("name", ANSWERS)
async def test_answers_are_read_whatever_their_framing_and_broken_ones_fail_cleanly(
    name: str,
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    raw, close, status, code, text, reused = ANSWERS[name]
    sequence, _ = await make_enrolled(db, clock, workspace.actor, 2)
    async with receiver(raw=raw, close=close) as hooks, receiver() as healthy:
        endpoint_id, _ = await create_endpoint(local_gql, hooks.url)
        await create_endpoint(local_gql, healthy.url)
        await pause_all(local_gql, sequence)
        await dispatcher.run_until_idle()
    assert len(healthy.received) == 2  # another endpoint is not disturbed
    listed = await deliveries(local_gql, endpoint_id)
    assert {d["status"] for d in listed} == {status}, listed
    assert {d["statusCode"] for d in listed} == {code}
    if status == "SUCCEEDED":
        assert len(listed) == len(hooks.received) == 2
        assert {d["response"] for d in listed} == {text}
        assert hooks.connections == (1 if reused else 2)
    else:  # one attempt, the next one in 5 s; the events after it wait
        (failed,) = listed
        assert text is not None and text in failed["error"], failed
        assert failed["nextAttemptAt"] is not None


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


def serving(authority: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*names).configure_cert(context)
    return context


async def test_tls_is_verified_against_the_urls_host_name(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    authority: trustme.CA,
) -> None:
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    worker = Dispatcher(
        db, clock, timeout=2.0, client=Client(allow_private=True, ssl_context=trusting)
    )
    sequence, _ = await make_enrolled(db, clock, workspace.actor, 1)
    try:
        async with (
            receiver(tls=serving(authority, "localhost")) as good,
            receiver(tls=serving(authority, "hooks.example.com")) as other_name,
            receiver(tls=serving(trustme.CA(), "localhost")) as unknown_authority,
        ):
            good_id, secret = await create_endpoint(local_gql, good.url)
            other_id, _ = await create_endpoint(local_gql, other_name.url)
            unknown_id, _ = await create_endpoint(local_gql, unknown_authority.url)
            await pause_all(local_gql, sequence)
            assert await worker.run_until_idle() == 3
        (delivered,) = await deliveries(local_gql, good_id)
        assert delivered["status"] == "SUCCEEDED" and len(good.received) == 1
        assert good.received[0].verified(secret)["type"] == "enrollment.status_changed"
        for refused_id in (other_id, unknown_id):
            (refused,) = await deliveries(local_gql, refused_id)
            assert refused["status"] == "FAILED" and "ConnectError" in refused["error"]
            assert "certificate verify failed" in refused["error"], refused
        assert other_name.received == unknown_authority.received == []
    finally:
        await worker.close()
