"""The engine moves enrollments through the steps, and the step counts follow: its sends
change no status (no event), yet a `sequenceStepCounts` subscriber hears of each batch;
a refused first email is counted before the first step, and the reply window passing
finishes the others at the last step with NO_RESPONSE."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from seqgql.clock import FrozenClock
from seqgql.outbound.transport import PermanentFailure
from tests.helpers.engine import DAY, EMAILS, Delivery, ScriptedTransport, engine_for
from tests.helpers.factories import gid
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.subscriptions import ack, connect, next_data, subscribe
from tests.helpers.workspace import Workspace

# The engine serves every workspace: a clock of its own keeps other tests' rows from being due.
pytestmark = pytest.mark.isolated_clock

STEP_COUNTS = """subscription($seq: ID!) { sequenceStepCounts(sequenceId: $seq) {
  steps { position reached active awaitingReply finished { noResponse } bounced }
  endedBeforeFirstStep { bounced total } } }"""
QUERY = (
    STEP_COUNTS.replace("subscription", "query")
    .replace("sequenceStepCounts(sequenceId: $seq)", "sequence(id: $seq)")
    .replace("steps {", "stepCounts {")
)


def at(message: dict[str, Any]) -> list[tuple[int, int, int, int]]:
    """(reached, active, awaiting reply, finished with no response) per step."""
    return [
        (s["reached"], s["active"], s["awaitingReply"], s["finished"]["noResponse"])
        for s in message["steps"]
    ]


async def pushed_until(ws: Any, expected: list[tuple[int, int, int, int]]) -> dict[str, Any]:
    """The counts pushed next, skipping any that show a batch half recorded, until they
    are ``expected`` (each message within next_data's few seconds, or the test fails)."""
    while at(counts := (await next_data(ws))["sequenceStepCounts"]) != expected:
        pass
    return counts  # type: ignore[no-any-return]


async def test_the_engines_sends_are_pushed_and_read(
    app: Starlette, gql: GraphQLClient, clock: FrozenClock, workspace: Workspace
) -> None:
    # the engine on the app's own database: its commits reach the app's subscribers
    delivery = Delivery(app.state.db, clock, workspace.actor)
    seq, ids = await delivery.enrolled(4, EMAILS)  # two emails, a week apart
    transport = ScriptedTransport()
    transport.always[ids[3]] = PermanentFailure("5.1.1 No such user", code=550)
    engine = engine_for(app.state.db, clock, transport)
    variables = {"seq": gid("Sequence", seq)}
    async with connect(app, workspace.token) as ws:
        await ack(ws)
        await subscribe(ws, "steps", STEP_COUNTS, variables)
        assert at((await next_data(ws))["sequenceStepCounts"]) == [(0, 4, 0, 0), (0, 0, 0, 0)]

        await engine.run_until_idle()  # step 1 to three of them, the fourth refused
        counts = await pushed_until(ws, [(3, 0, 0, 0), (0, 3, 0, 0)])
        assert counts["endedBeforeFirstStep"] == {"bounced": 1, "total": 1}

        clock.advance(timedelta(minutes=7 * DAY))
        await engine.run_until_idle()  # step 2 sent: no status change, no event at all
        await pushed_until(ws, [(3, 0, 0, 0), (3, 0, 3, 0)])

        clock.advance(timedelta(days=4))  # past the reply window (3 days)
        await engine.run_until_idle()
        await pushed_until(ws, [(3, 0, 0, 0), (3, 0, 0, 3)])

    read = (await gql.execute(QUERY, variables))["sequence"]
    assert at({"steps": read["stepCounts"]}) == [(3, 0, 0, 0), (3, 0, 0, 3)]
    assert read["endedBeforeFirstStep"] == {"bounced": 1, "total": 1}
