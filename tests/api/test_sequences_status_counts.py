"""`sequencesStatusCounts`: the counts per status of many sequences on one subscription
(the sequences list of a dashboard), over a websocket through the ASGI app."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx_ws import AsyncWebSocketSession
from starlette.applications import Starlette

from seqgql.domain.selection import Selection
from seqgql.graphql import subscription_args
from seqgql.services.enrollments import pause
from tests.helpers.factories import gid, gids, make_enrolled, make_sequence
from tests.helpers.subscriptions import (
    MESSAGE_SECONDS,
    ack,
    connect,
    next_data,
    slowly_polling_app,
    subscribe,
)
from tests.helpers.workspace import Workspace, make_workspace

MANY_COUNTS = """
subscription($seqs: [ID!]) {
  sequencesStatusCounts(sequenceIds: $seqs) { sequenceId total counts { status count } }
}"""


def counts_of(message: dict[str, Any]) -> dict[str, int]:
    return {c["status"]: c["count"] for c in message["counts"]}


async def next_counts(ws: AsyncWebSocketSession) -> dict[str, Any]:
    return (await next_data(ws))["sequencesStatusCounts"]  # type: ignore[no-any-return]


async def refusal(ws: AsyncWebSocketSession, variables: dict[str, Any]) -> dict[str, Any]:
    """The one error the subscription is answered with (and no data)."""
    await subscribe(ws, "bad", MANY_COUNTS, variables)
    message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
    assert message["type"] in ("error", "next"), message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    if message["type"] == "next":
        assert message["payload"].get("data") is None, message
    assert len(errors) == 1, errors
    return errors[0]  # type: ignore[no-any-return]


async def test_fifty_sequences_on_one_subscription_then_only_the_one_that_changed(
    app: Starlette, workspace: Workspace, db, clock
) -> None:
    actor = workspace.actor
    busy, enrolled = await make_enrolled(db, clock, actor, 3)
    other, other_enrolled = await make_enrolled(db, clock, actor, 2)
    quiet = [await make_sequence(db, clock, actor, name=f"Quiet {i}") for i in range(48)]
    followed = [*quiet[:20], busy, *quiet[20:], other]
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        # the same sequence twice is followed once
        await subscribe(ws, "many", MANY_COUNTS, {"seqs": gids("Sequence", [*followed, busy])})
        initial = [await next_counts(ws) for _ in followed]
        assert [m["sequenceId"] for m in initial] == gids("Sequence", followed)
        by_id = {m["sequenceId"]: m for m in initial}
        assert counts_of(by_id[gid("Sequence", busy)])["ACTIVE"] == 3
        assert by_id[gid("Sequence", other)]["total"] == 2
        assert all(by_id[gid("Sequence", q)]["total"] == 0 for q in quiet)

        await pause(db, clock, actor, Selection(ids=tuple(enrolled[:2])))
        changed = await next_counts(ws)
        assert changed["sequenceId"] == gid("Sequence", busy)
        assert counts_of(changed)["PAUSED"] == 2 and counts_of(changed)["ACTIVE"] == 1

        # the next message is the next change: nothing was sent again for the others
        await pause(db, clock, actor, Selection(ids=(other_enrolled[0],)))
        changed = await next_counts(ws)
        assert changed["sequenceId"] == gid("Sequence", other)
        assert counts_of(changed)["PAUSED"] == 1


async def test_a_change_in_any_sequence_followed_wakes_the_subscriber_at_once(
    database_url: str, workspace: Workspace, db, clock
) -> None:
    """Not at its next poll (30 s here): the commit's notification of that sequence."""
    actor = workspace.actor
    sequences = [await make_enrolled(db, clock, actor, 2) for _ in range(3)]
    app = slowly_polling_app(database_url, clock)
    async with app.router.lifespan_context(app), connect(app, workspace.token) as ws:
        await ack(ws)
        followed = [seq for seq, _ in sequences]
        await subscribe(ws, "many", MANY_COUNTS, {"seqs": gids("Sequence", followed)})
        assert [(await next_counts(ws))["total"] for _ in followed] == [2, 2, 2]
        for seq, enrolled in reversed(sequences):
            # through the app's own database: its commits notify the app's subscribers
            await pause(app.state.db, clock, actor, Selection(ids=(enrolled[0],)))
            changed = await next_counts(ws)
            assert changed["sequenceId"] == gid("Sequence", seq)
            assert counts_of(changed)["PAUSED"] == 1


async def test_a_bulk_change_is_one_message_not_one_per_enrollment(
    app: Starlette, workspace: Workspace, db, clock
) -> None:
    actor = workspace.actor
    big, enrolled = await make_enrolled(db, clock, actor, 150)
    small, small_enrolled = await make_enrolled(db, clock, actor, 1)
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "many", MANY_COUNTS, {"seqs": gids("Sequence", [big, small])})
        assert [(await next_counts(ws))["total"] for _ in range(2)] == [150, 1]
        await pause(db, clock, actor, Selection(ids=tuple(enrolled)))
        changed = await next_counts(ws)
        assert changed["sequenceId"] == gid("Sequence", big)
        assert counts_of(changed)["PAUSED"] == 150
        await pause(db, clock, actor, Selection(ids=tuple(small_enrolled)))
        assert (await next_counts(ws))["sequenceId"] == gid("Sequence", small)


async def test_without_ids_every_sequence_of_the_workspace_and_no_other(
    app: Starlette, workspace: Workspace, db, clock
) -> None:
    actor = workspace.actor
    first, enrolled = await make_enrolled(db, clock, actor, 2)
    second = await make_sequence(db, clock, actor, name="Second")
    stranger = await make_workspace(db, clock)
    await make_enrolled(db, clock, stranger.actor, 1)
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "all", MANY_COUNTS, {})
        initial = [(await next_counts(ws))["sequenceId"] for _ in range(2)]
        assert initial == gids("Sequence", [first, second])
        # had the stranger's sequence been followed, its message would come before this one
        await pause(db, clock, actor, Selection(ids=(enrolled[0],)))
        changed = await next_counts(ws)
        assert changed["sequenceId"] == gid("Sequence", first)
        assert counts_of(changed)["PAUSED"] == 1


async def test_without_ids_a_workspace_over_the_limit_is_told_to_name_them(
    app: Starlette, workspace: Workspace, db, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subscription_args, "MAX_FOLLOWED_SEQUENCES", 2)
    for i in range(3):
        await make_sequence(db, clock, workspace.actor, name=f"S{i}")
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        error = await refusal(ws, {})
    assert error["extensions"] == {"code": "TOO_MANY", "argument": "sequenceIds"}
    assert "at most 2" in error["message"]


NAMED = {"argument": "sequenceIds"}


def forged_ids(own: str, foreign: str) -> dict[str, tuple[Any, str, str]]:
    """Hostile values of `sequenceIds`: (value, code, a word of the message)."""
    return {
        "empty": ([], "BAD_USER_INPUT", "at least one"),
        "too many": ([own] * 101, "TOO_MANY", "101 given"),
        "huge": (["x" * 100_000], "INVALID_ID", "sequenceIds[0]"),
        "not base64": (["../../etc/passwd"], "INVALID_ID", "sequenceIds[0]"),
        "another type": ([gid("Contact", 1)], "INVALID_ID", "not of a Sequence"),
        "a number": ([own, 7], "INVALID_ID", "sequenceIds[1]"),
        "missing": ([own, gid("Sequence", 2**62)], "NOT_FOUND", "sequenceIds[1]"),
        "another workspace's": ([own, foreign], "NOT_FOUND", "sequenceIds[1]"),
    }


async def test_hostile_ids_are_refused_with_a_code_naming_the_argument(
    app: Starlette, workspace: Workspace, db, clock
) -> None:
    own = gid("Sequence", await make_sequence(db, clock, workspace.actor))
    stranger = await make_workspace(db, clock)
    foreign = gid("Sequence", await make_sequence(db, clock, stranger.actor))
    messages = {}
    for name, (value, code, words) in forged_ids(own, foreign).items():
        async with connect(app, workspace.token) as ws:
            await ack(ws)
            error = await refusal(ws, {"seqs": value})
        assert error["extensions"] == {"code": code, **NAMED}, name
        assert words in error["message"], (name, error)
        messages[name] = error["message"]
    # another workspace's sequence is answered exactly like a missing one
    assert messages["another workspace's"] == messages["missing"]
    # text with NUL bytes is refused before any resolver (as everywhere in the API)
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        error = await refusal(ws, {"seqs": [own, own + "\x00"]})
    assert error["extensions"] == {"code": "INVALID_TEXT", "field": "variables.seqs.1"}


async def test_a_value_of_the_wrong_type_is_a_graphql_error(
    app: Starlette, workspace: Workspace
) -> None:
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        error = await refusal(ws, {"seqs": {"id": 1}})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "$seqs" in error["message"]
