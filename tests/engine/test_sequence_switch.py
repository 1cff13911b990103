"""Turning a whole sequence off and on (deactivateSequence / activateSequence): while off,
the engine sends none of its steps and changes none of its statuses (auto-resumes and
the end of the reply window included), and contacts can still be enrolled; on again, it
picks up where it left off. Other sequences go on meanwhile."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.domain.selection import Selection
from seqgql.services.auth import issue_token
from seqgql.services.enrollments import pause
from tests.helpers.engine import Delivery, ScriptedTransport
from tests.helpers.factories import gid
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.isolated_clock

SWITCHED = "sequence { id active } userErrors { field code message }"
READ = "query($id: ID!) { sequence(id: $id) { active } }"


async def switch(gql: GraphQLClient, seq: int, on: bool) -> dict[str, object]:
    name = "activateSequence" if on else "deactivateSequence"
    return await mutate(gql, name, {"sequenceId": gid("Sequence", seq)}, SWITCHED)


async def test_an_inactive_sequence_sends_nothing_and_changes_no_status(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    off, (first, paused) = await delivery.enrolled(2)
    _, (other,) = await delivery.enrolled(1)
    await pause(delivery.db, clock, delivery.actor, Selection(ids=(paused,)),
                resume_at=clock.now() + timedelta(hours=1))  # fmt: skip
    answer = await switch(gql, off, on=False)
    assert answer == {"sequence": {"id": gid("Sequence", off), "active": False}, "userErrors": []}
    assert (await gql.execute(READ, {"id": gid("Sequence", off)}))["sequence"]["active"] is False
    changes_before = await delivery.status_changes(off)

    transport = ScriptedTransport()
    engine = delivery.engine(transport)
    clock.advance(timedelta(days=30))  # every step due, the auto-resume long past
    await engine.run_until_idle()
    assert await delivery.sent_steps([first, paused]) == []  # nothing from the one off
    assert await delivery.sent_steps([other]) == [(other, 1)]  # the other went on
    assert await delivery.status_changes(off) == changes_before  # no status changed
    states = await delivery.states([first, paused])
    assert (states[first].status, states[paused].status) == ("ACTIVE", "PAUSED")

    # enrolling into it is allowed
    (late,) = await delivery.enroll(off, 1, prefix="Late")
    assert (await delivery.states([late]))[late].status == "ACTIVE"

    # on again: the steps that fell due go, the auto-resume happens
    assert (await switch(gql, off, on=True))["sequence"] == {
        "id": gid("Sequence", off), "active": True,
    }  # fmt: skip
    await engine.run_until_idle()
    sent = await delivery.sent_steps([first, paused, late])
    assert sorted(sent) == sorted([(first, 1), (paused, 1), (late, 1)])
    assert (await delivery.states([paused]))[paused].status == "ACTIVE"
    changes = await delivery.status_changes(off)
    assert changes[len(changes_before) :] == [(paused, "PAUSED", "MANUAL", "ACTIVE", None)]


async def test_switching_is_refused_for_viewers_and_unknown_sequences(
    delivery: Delivery, gql: GraphQLClient, http: httpx.AsyncClient, workspace: Workspace
) -> None:
    seq, _ = await delivery.enrolled(1)
    viewer = await issue_token(
        delivery.db, delivery.clock, email=f"viewer@{workspace.name}.test",
        workspace=workspace.name, role=Role.VIEWER,
    )  # fmt: skip
    refused = await switch(GraphQLClient(http, viewer.token), seq, on=False)
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    assert (await gql.execute(READ, {"id": gid("Sequence", seq)}))["sequence"]["active"] is True
    for forged, code in ((gid("Sequence", 2**62), "NOT_FOUND"), ("garbage", "INVALID_ID")):
        answer = await mutate(gql, "deactivateSequence", {"sequenceId": forged}, SWITCHED)
        assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [
            (["input", "sequenceId"], code)
        ]
