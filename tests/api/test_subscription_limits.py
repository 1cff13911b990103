"""A subscription document is measured before it is parsed: one that is too long or has
too many tokens gets the protocol's "error" message with a code, at once, and the
connection stays usable."""

from __future__ import annotations

import asyncio
from typing import Any

from httpx_ws import AsyncWebSocketSession, aconnect_ws
from starlette.applications import Starlette

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.subscriptions import (
    COUNTS,
    MESSAGE_SECONDS,
    ack,
    connect,
    in_process_client,
    next_data,
    subscribe,
)
from tests.helpers.workspace import Workspace


async def error_of(ws: AsyncWebSocketSession, op_id: str) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
    assert message["type"] == "error" and message["id"] == op_id, message
    [error] = message["payload"]
    return error  # type: ignore[no-any-return]


async def test_an_oversized_document_is_refused_before_parsing(
    app: Starlette, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    huge = "subscription { " + "a " * 1_000_000 + "}"  # ~2 MB: once froze the server
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "big", huge, {})
        error = await error_of(ws, "big")
        assert error["extensions"]["code"] == "DOCUMENT_TOO_LARGE"  # measured, not parsed
        assert "100,000 characters" in error["message"]
        # the connection still works
        await subscribe(ws, "ok", COUNTS, {"seq": gid("Sequence", seq)})
        assert (await next_data(ws))["sequenceStatusCounts"]["total"] == 1
    assert not app.state.feeds.feeds


async def test_a_document_over_the_token_limit_gets_an_error_not_a_bare_complete(
    app: Starlette, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    many = "subscription { " + "a " * 3_000 + "}"  # short, but 3,000 tokens
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        for op_id in ("t1", "t2"):  # the same again: refused again
            await subscribe(ws, op_id, many, {})
            error = await error_of(ws, op_id)
            assert error["extensions"]["code"] == "TOO_MANY_TOKENS"
            assert "2000 tokens" in error["message"]
        await subscribe(ws, "ok", COUNTS, {"seq": gid("Sequence", seq)})
        assert (await next_data(ws))["sequenceStatusCounts"]["total"] == 1


async def test_a_nul_character_in_subscription_variables_is_refused(
    app: Starlette, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "n", COUNTS, {"seq": gid("Sequence", seq) + "\u0000"})
        error = await error_of(ws, "n")
        assert error["extensions"] == {"code": "INVALID_TEXT", "field": "variables.seq"}
        await subscribe(ws, "ok", COUNTS, {"seq": gid("Sequence", seq)})
        assert (await next_data(ws))["sequenceStatusCounts"]["total"] == 1


async def test_the_legacy_graphql_ws_protocol_measures_documents_first_too(
    app: Starlette, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    refused = {
        "big": ("subscription { " + "a " * 1_000_000 + "}", {}, "DOCUMENT_TOO_LARGE"),
        "many": ("subscription { " + "a " * 3_000 + "}", {}, "TOO_MANY_TOKENS"),
        "nul": (COUNTS, {"seq": gid("Sequence", seq) + "\u0000"}, "INVALID_TEXT"),
    }
    async with (
        in_process_client(app) as client,
        aconnect_ws("/graphql", client, subprotocols=["graphql-ws"]) as ws,
    ):
        init = {"authorization": f"Bearer {workspace.token}"}
        await ws.send_json({"type": "connection_init", "payload": init})
        assert (await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS))[
            "type"
        ] == "connection_ack"
        for op_id, (query, variables, code) in refused.items():
            payload = {"query": query, "variables": variables}
            await ws.send_json({"id": op_id, "type": "start", "payload": payload})
            message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
            assert (message["type"], message["id"]) == ("error", op_id), message
            assert message["payload"]["extensions"]["code"] == code
        payload = {"query": COUNTS, "variables": {"seq": gid("Sequence", seq)}}
        await ws.send_json({"id": "ok", "type": "start", "payload": payload})
        message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
        assert message["type"] == "data", message
        assert message["payload"]["data"]["sequenceStatusCounts"]["total"] == 1


async def test_websocket_errors_carry_the_codes_http_errors_do(
    app: Starlette, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    invalid = "subscription { sequenceStatusCounts(sequenceId: 1) { nope } }"
    typed = "subscription($seq: ID!) { sequenceStatusCounts(sequenceId: $seq) { total } }"
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "v", invalid, {})
        assert (await error_of(ws, "v"))["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        await subscribe(ws, "b", typed, {"seq": {"not": "an id"}})
        assert (await error_of(ws, "b"))["extensions"]["code"] == "BAD_USER_INPUT"
        await subscribe(ws, "ok", COUNTS, {"seq": gid("Sequence", seq)})
        assert (await next_data(ws))["sequenceStatusCounts"]["total"] == 1
