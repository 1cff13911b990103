"""A revoked token or a changed role takes effect within a second, over HTTP and on
open websockets (a revoked token's connection is closed with 4403, and what still runs on
it ends without a traceback)."""

from __future__ import annotations

import asyncio
import logging
import time
from types import SimpleNamespace
from typing import Any

import pytest
from httpx_ws import WebSocketDisconnect
from starlette.applications import Starlette
from starlette.websockets import WebSocketState

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.graphql import access_watch
from seqgql.persistence.database import Database
from seqgql.persistence.tables import api_tokens, users
from seqgql.services.auth import hash_token, issue_token
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.subscriptions import COUNTS, MESSAGE_SECONDS, ack, connect, next_data, subscribe
from tests.helpers.tokens import token_cache
from tests.helpers.waiting import eventually
from tests.helpers.workspace import Workspace

GROUP = "group { id } userErrors { code }"


async def revoke(db: Database, token: str) -> None:
    async with db.write() as conn:
        await conn.execute(api_tokens.delete().where(api_tokens.c.token_hash == hash_token(token)))


async def past_the_cache(app: Starlette) -> None:
    """Wait out the token cache's seconds (0.5 by default): a request sent after
    a change by more than that is answered by what the database holds now. Measured from
    the change, not from a request's answer, so a slow machine cannot fail it."""
    await asyncio.sleep(token_cache(app).seconds + 0.05)


async def test_a_revoked_token_is_refused_within_a_second(
    app: Starlette, gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    issued = await issue_token(db, clock, email="temp@example.com", workspace=workspace.name)
    assert (await gql.post("{ viewer { email } }", token=issued.token)).status_code == 200
    await revoke(db, issued.token)
    await past_the_cache(app)
    response = await gql.post("{ viewer { email } }", token=issued.token)
    assert response.status_code == 401, response.text


async def test_a_role_downgrade_stops_changes_within_a_second(
    app: Starlette, gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    issued = await issue_token(db, clock, email="member@example.com", workspace=workspace.name)
    member = GraphQLClient(gql.http, issued.token)
    payload = await mutate(member, "createGroup", {"name": "Before"}, GROUP)
    assert payload["userErrors"] == []
    async with db.write() as conn:
        await conn.execute(
            users.update().where(users.c.id == issued.user_id).values(role=Role.VIEWER)
        )
    await past_the_cache(app)
    payload = await mutate(member, "createGroup", {"name": "After"}, GROUP)
    assert payload["userErrors"] == [{"code": "FORBIDDEN"}]
    data = await gql.execute("{ groups { edges { node { name } } } }")
    assert [e["node"]["name"] for e in data["groups"]["edges"]] == ["Before"]


async def test_an_open_websocket_of_a_revoked_token_is_closed_with_4403(
    app: Starlette, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    issued = await issue_token(db, clock, email="watcher@example.com", workspace=workspace.name)
    async with connect(app, issued.token) as ws:
        await ack(ws)
        await subscribe(ws, "c", COUNTS, {"seq": gid("Sequence", seq)})
        assert (await next_data(ws))["sequenceStatusCounts"]["total"] == 1
        await revoke(db, issued.token)
        started = time.monotonic()
        code = None
        try:
            while True:
                message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
                assert message["type"] in ("ping", "next"), message
        except Exception as exc:  # the close arrives as the session ending
            code = getattr(exc, "code", None)
        assert code == 4403
        # the watcher looks every 0.5 s: closed within about 1 s; the bound leaves room
        # for a loaded machine, where the watcher's task waits for the CPU
        assert time.monotonic() - started < 3.0


# A subscription Strawberry runs alone (a fragment at the root: not a shared feed's shape).
ALONE = """
subscription($seq: ID!) { ...Changes }
fragment Changes on Subscription { enrollmentStatusChanged(sequenceId: $seq) { number } }"""


async def test_what_runs_on_a_closed_websocket_ends_without_a_traceback(
    app: Starlette,
    gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    log_readers: set[asyncio.Task[Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Once the server closed the connection (here 4403), a subscription still running on
    it that has a change to send ends quietly: nothing is sent, nothing is logged."""
    seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
    issued = await issue_token(db, clock, email="watcher@example.com", workspace=workspace.name)
    with caplog.at_level(logging.WARNING):
        async with connect(app, issued.token) as ws:
            await ack(ws)
            await subscribe(ws, "alone", ALONE, {"seq": gid("Sequence", seq)})
            await eventually(lambda: bool(log_readers))  # it follows the log from here
            await revoke(db, issued.token)
            with pytest.raises(WebSocketDisconnect) as closed:  # nothing came before it
                await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
            assert closed.value.code == 4403
            assert not any(task.done() for task in log_readers)  # it still runs
            selection = {"selection": {"ids": [gid("Enrollment", ids[0])]}}
            assert (await mutate(gql, "pauseEnrollments", selection))["changedCount"] == 1
            # it wakes, reads the change, cannot send it, and ends
            await eventually(lambda: all(task.done() for task in log_readers))
    assert "Traceback" not in caplog.text, caplog.text
    assert "Exception in worker task" not in caplog.text, caplog.text


async def test_a_websocket_that_ends_is_forgotten_at_once_not_at_the_next_sweep(
    app: Starlette, workspace: Workspace
) -> None:
    """A connection the watcher kept would keep all of it alive (the protocol, the
    handler, the scope) past the moment the heap is reclaimed (``process.HeapKeeper``):
    the view forgets it when its run ends, long before a sweep (10 s) would."""
    assert access_watch.SWEEP_SECONDS >= 10
    watch = app.graphql_websockets.access  # type: ignore[attr-defined]
    async with connect(app, workspace.token) as staying:
        await ack(staying)
        async with connect(app, workspace.token) as leaving:
            await ack(leaving)
            assert len(watch) == 2
        started = time.monotonic()
        await eventually(lambda: len(watch) == 1, seconds=access_watch.SWEEP_SECONDS / 2)
        assert time.monotonic() - started < access_watch.SWEEP_SECONDS / 2
        assert list(watch._token_of.values()) == [workspace.token]
        await staying.send_json({"type": "ping"})  # the other one kept, and served
        assert (await asyncio.wait_for(staying.receive_json(), MESSAGE_SECONDS))["type"] == "pong"


async def test_a_sweep_forgets_the_closed_connections_the_view_did_not_report() -> None:
    """The safety net: a connection found closed at a sweep is forgotten (its token too,
    once it has none left), without looking the token up; between sweeps it is kept."""

    class Socket:
        def __init__(self, state: WebSocketState) -> None:
            self.client_state = self.application_state = state

    class Tokens:
        seconds = 0.5
        looked: list[str] = []

        async def authenticate(self, token: str) -> object:
            self.looked.append(token)
            return "the same actor"

    tokens = Tokens()
    watch = access_watch.AccessWatch(tokens)  # type: ignore[arg-type]
    gone = Socket(WebSocketState.DISCONNECTED)
    watch._open["t"] = {gone: SimpleNamespace(actor=None)}  # type: ignore[dict-item]
    watch._token_of[gone] = "t"  # type: ignore[index]
    await watch._check("t", sweep=False)
    assert (len(watch), tokens.looked) == (1, ["t"])  # not a sweep: kept, looked at
    await watch._check("t", sweep=True)
    assert (len(watch), watch._open, watch._token_of, tokens.looked) == (0, {}, {}, ["t"])
