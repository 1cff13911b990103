"""scheduledSends: the sends of a period in time order, computed with the engine's own
window rules; the engine, run on an injected clock, then sends each at exactly that
moment, not before (issue 12, point 6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Weekday
from seqgql.domain.sequence import SendingWindow
from seqgql.services.contacts import ContactSpec, create_contacts
from seqgql.services.enrollments import add_contacts
from seqgql.services.sequences import set_sequence_active
from tests.helpers.bulk import moment
from tests.helpers.engine import EMAILS, Delivery, ScriptedTransport
from tests.helpers.factories import gid
from tests.helpers.graphql_client import GraphQLClient

pytestmark = pytest.mark.isolated_clock

SCHEDULED = """
query($seq: ID!, $from: DateTime!, $to: DateTime!, $first: Int, $after: String) {
  scheduledSends(sequenceId: $seq, from: $from, to: $to, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { at step channel enrollment { id contact { timeZone } } } }
  }
}"""
WINDOW = SendingWindow(
    days=(Weekday.MONDAY, Weekday.TUESDAY), start="09:00", end="17:00", time_zone="UTC"
)
ZONES = ["Asia/Tokyo", None, "America/New_York", "Europe/Paris", None]


async def scheduled(gql: GraphQLClient, seq: int, **variables: Any) -> dict[str, Any]:
    data = await gql.execute(SCHEDULED, {"seq": gid("Sequence", seq), **variables})
    return data["scheduledSends"]  # type: ignore[no-any-return]


async def test_the_engine_sends_each_scheduled_step_at_its_time(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    saturday = clock.now() + timedelta(days=5, hours=1)  # the clock starts on a Monday 09:00
    assert saturday.weekday() == 5
    clock.set(saturday)
    seq = await delivery.sequence(EMAILS, window=WINDOW)
    specs = [
        ContactSpec(first_name=f"Z{i}", email=f"z{i}@example.com", time_zone=zone)
        for i, zone in enumerate(ZONES)
    ]
    specs.append(ContactSpec(first_name="Out", email="out@example.com", opted_out=True))
    specs.append(ContactSpec(first_name="Nomail"))
    created = await create_contacts(delivery.db, clock, delivery.actor, specs)
    await add_contacts(delivery.db, clock, delivery.actor, seq, created.ids)
    period = {"from": saturday.isoformat(), "to": (saturday + timedelta(days=7)).isoformat()}

    # paged two at a time, in time order; the opted-out and the unreachable not listed
    listed: list[dict[str, Any]] = []
    after = None
    while True:
        page = await scheduled(gql, seq, first=2, after=after, **period)
        listed += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert page["totalCount"] == len(ZONES) == len(listed)
    times = [moment(n["at"]) for n in listed]
    assert times == sorted(times) and all(n["step"] == 1 for n in listed)
    # Monday 09:00 in each contact's zone (Tokyo's comes first, New York's last)
    assert listed[0]["enrollment"]["contact"]["timeZone"] == "Asia/Tokyo"
    assert listed[-1]["enrollment"]["contact"]["timeZone"] == "America/New_York"

    transport = ScriptedTransport()
    engine = delivery.engine(transport)
    await engine.run_until_idle()  # Saturday: nothing goes
    assert transport.accepted == []  # (other tests' rows are never due on this clock)
    by_time: dict[datetime, set[str]] = {}
    for node, at in zip(listed, times, strict=True):
        assert at is not None
        by_time.setdefault(at, set()).add(node["enrollment"]["id"])
    sent: set[str] = set()
    for at, expected in sorted(by_time.items()):
        clock.set(at - timedelta(seconds=1))
        await engine.run_until_idle()
        assert {gid("Enrollment", m.enrollment_id) for m in transport.accepted} == sent
        clock.set(at)
        await engine.run_until_idle()
        sent |= expected
        assert {gid("Enrollment", m.enrollment_id) for m in transport.accepted} == sent


async def test_a_period_and_a_sequence_that_cannot_be_previewed(
    delivery: Delivery, gql: GraphQLClient, clock: FrozenClock
) -> None:
    seq, _ = await delivery.enrolled(2)
    now = clock.now()
    for variables, argument, code in [
        ({"from": now.isoformat(), "to": now.isoformat()}, "to", "BAD_USER_INPUT"),
        ({"from": now.isoformat(), "to": (now + timedelta(days=32)).isoformat()}, "to",
         "BAD_USER_INPUT"),
        ({"from": "soon", "to": now.isoformat()}, None, None),
    ]:  # fmt: skip
        errors = await gql.errors(SCHEDULED, {"seq": gid("Sequence", seq), **variables})
        if argument is not None:
            assert errors[0]["extensions"] == {"code": code, "argument": argument}
        else:
            assert errors[0]["extensions"]["code"] in (
                "BAD_USER_INPUT",
                "GRAPHQL_VALIDATION_FAILED",
            )
    errors = await gql.errors(SCHEDULED, {
        "seq": gid("Sequence", 2**62), "from": now.isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    })  # fmt: skip
    assert errors[0]["extensions"] == {"code": "NOT_FOUND", "argument": "sequenceId"}
    # a sequence turned off sends nothing
    period = {"from": now.isoformat(), "to": (now + timedelta(days=1)).isoformat()}
    assert (await scheduled(gql, seq, **period))["totalCount"] == 2
    await set_sequence_active(delivery.db, clock, delivery.actor, seq, active=False)
    assert (await scheduled(gql, seq, **period))["totalCount"] == 0
