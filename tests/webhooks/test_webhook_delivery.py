"""Events reach a real receiver, signed as Standard Webhooks sign (checked with the
reference verifier), in order per sequence, once each; a failed POST is tried again on
the schedule (the injected clock) under the same webhook-id and body, and the events
after it wait for it; each attempt is listed with its answer; what an endpoint gets is
filtered by its sequences."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from seqgql.webhooks.dispatcher import Dispatcher
from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.webhooks import Receiver, create_endpoint, deliveries, receiver
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.isolated_clock


async def pause(gql: GraphQLClient, sequence_id: int, ids: list[int] | None = None) -> str:
    """A bulk pause (of these enrollments, or of the whole sequence): its operation id."""
    selection: dict[str, Any] = (
        {"ids": gids("Enrollment", ids)} if ids else {"sequenceId": gid("Sequence", sequence_id)}
    )
    paused = await mutate(gql, "pauseEnrollments", {"selection": selection})
    assert paused["userErrors"] == [] and paused["changedCount"] > 0
    return str(paused["bulkOperationId"])


async def test_a_bulk_pause_reaches_the_receiver_signed_in_order_once_each(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    first, first_ids = await make_enrolled(db, clock, workspace.actor, 30)
    second, second_ids = await make_enrolled(db, clock, workspace.actor, 20)
    async with receiver() as hooks:
        endpoint_id, secret = await create_endpoint(local_gql, hooks.url)
        operation = await pause(local_gql, first)
        await pause(local_gql, second)
        assert await dispatcher.run_until_idle() == 50
        assert await dispatcher.run_until_idle() == 0  # nothing twice
    messages = [r.verified(secret) for r in hooks.received]
    assert len(set(hooks.ids())) == 50
    for sequence, ids in ((first, first_ids), (second, second_ids)):
        mine = [m["data"] for m in messages if m["data"]["sequenceId"] == gid("Sequence", sequence)]
        numbers = [m["number"] for m in mine]
        assert numbers == sorted(numbers) and len(numbers) == len(ids)
        assert sorted(m["enrollmentId"] for m in mine) == sorted(gids("Enrollment", ids))
    data = next(m for m in messages if m["data"]["sequenceId"] == gid("Sequence", first))["data"]
    assert data["fromStatus"] == "ACTIVE" and data["toStatus"] == "PAUSED"
    assert data["reason"] == "MANUAL" and data["bulkOperationId"] == operation
    assert data["actorId"] == gid("User", workspace.actor.user_id or 0)
    assert data["contactId"].startswith("Q29udGFjdD")  # "Contact:"
    sent = hooks.received[0]
    assert sent.id == f"evt_{first}_{data['number']}" or sent.id.startswith("evt_")
    assert sent.json()["type"] == "enrollment.status_changed"
    assert sent.headers["content-type"] == "application/json"
    listed = await deliveries(local_gql, endpoint_id)
    assert len(listed) == 50 and {d["status"] for d in listed} == {"SUCCEEDED"}
    assert {d["statusCode"] for d in listed} == {200} and listed[0]["response"] == "ok"


async def test_a_failed_post_is_retried_on_the_schedule_with_the_same_id_and_body(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    sequence, ids = await make_enrolled(db, clock, workspace.actor, 2)
    async with receiver(statuses=[500, 503]) as hooks:
        endpoint_id, secret = await create_endpoint(local_gql, hooks.url)
        await pause(local_gql, sequence, ids[:1])
        await pause(local_gql, sequence, ids[1:])
        assert await dispatcher.run_until_idle() == 1  # 500: the second waits for the first
        failed = await deliveries(local_gql, endpoint_id, "FAILED")
        assert [(d["attempt"], d["statusCode"]) for d in failed] == [(1, 500)]
        assert "HTTP 500" in failed[0]["error"]
        assert failed[0]["nextAttemptAt"] == (clock.now() + timedelta(seconds=5)).isoformat()
        clock.advance(timedelta(seconds=4))
        assert await dispatcher.run_until_idle() == 0  # not yet
        clock.advance(timedelta(seconds=1))
        assert await dispatcher.run_until_idle() == 1  # 503 this time: next in 5 minutes
        clock.advance(timedelta(minutes=5))
        assert await dispatcher.run_until_idle() == 2
    first, second, third, fourth = hooks.received
    assert first.id == second.id == third.id != fourth.id
    assert first.body == second.body == third.body
    assert [r.verified(secret)["data"]["number"] for r in (third, fourth)] == [
        third.json()["data"]["number"],
        third.json()["data"]["number"] + 1,
    ]
    attempts = await deliveries(local_gql, endpoint_id)
    assert [(d["webhookId"], d["attempt"], d["status"]) for d in attempts] == [
        (first.id, 1, "FAILED"),
        (first.id, 2, "FAILED"),
        (first.id, 3, "SUCCEEDED"),
        (fourth.id, 1, "SUCCEEDED"),
    ]
    assert attempts[1]["nextAttemptAt"] is not None and attempts[2]["nextAttemptAt"] is None
    assert all(d["latencyMs"] >= 0 for d in attempts)
    succeeded = await deliveries(local_gql, endpoint_id, "SUCCEEDED")
    assert len(succeeded) == 2


async def test_what_an_endpoint_gets_is_filtered_by_its_sequences(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    first, _ = await make_enrolled(db, clock, workspace.actor, 3)
    second, _ = await make_enrolled(db, clock, workspace.actor, 4)
    async with receiver() as only_first, receiver() as every:
        await create_endpoint(local_gql, only_first.url, sequence_ids=[gid("Sequence", first)])
        await create_endpoint(local_gql, every.url)
        await pause(local_gql, first)
        await pause(local_gql, second)
        # a sequence created after the endpoint: the one for every sequence gets it too
        third, _ = await make_enrolled(db, clock, workspace.actor, 2)
        await pause(local_gql, third)
        await dispatcher.run_until_idle()
    sequences = {r.json()["data"]["sequenceId"] for r in only_first.received}
    assert sequences == {gid("Sequence", first)} and len(only_first.received) == 3
    # the third's two enrollments were enrolled (2 events) after the endpoint, then paused
    assert len(every.received) == 3 + 4 + 2 + 2


async def test_an_answer_is_kept_to_1_kb_and_redirects_are_not_followed(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    sequence, ids = await make_enrolled(db, clock, workspace.actor, 1)
    async with (
        receiver(body=b"\x00" + "é".encode() * 4_000) as big,
        receiver(status=302, headers={"location": "http://127.0.0.1:9/elsewhere"}) as moved,
    ):
        big_id, _ = await create_endpoint(local_gql, big.url)
        moved_id, _ = await create_endpoint(local_gql, moved.url)
        await pause(local_gql, sequence, ids)
        await dispatcher.run_until_idle()
        (kept,) = await deliveries(local_gql, big_id)
        # the first KB, a NUL shown as a replacement character, no character cut in two
        assert kept["status"] == "SUCCEEDED" and kept["response"] == "\ufffd" + "é" * 511
        (refused,) = await deliveries(local_gql, moved_id)
        assert refused["status"] == "FAILED" and refused["statusCode"] == 302
        assert len(moved.received) == 1


async def test_deliveries_of_another_workspace_or_by_non_admins_are_not_shown(
    local_gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    from tests.helpers.workspace import make_workspace

    stranger = await make_workspace(db, clock)
    theirs, _ = await create_endpoint(
        GraphQLClient(local_gql.http, stranger.token), "http://127.0.0.1:9/"
    )
    query = "query($id: ID!) { webhookDeliveries(endpointId: $id) { totalCount } }"
    errors = await local_gql.errors(query, {"id": theirs})
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    errors = await local_gql.errors(query, {"id": "bad"})
    assert errors[0]["extensions"] == {"code": "INVALID_ID", "argument": "endpointId"}
    _ = Receiver


async def test_activities_are_event_types_an_endpoint_chooses(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
    async with receiver() as opens, receiver() as replies_and_changes:
        _, open_secret = await create_endpoint(
            local_gql, opens.url, event_types=["ENROLLMENT_ACTIVITY_OPENED"]
        )
        await create_endpoint(
            local_gql,
            replies_and_changes.url,
            event_types=["ENROLLMENT_ACTIVITY_REPLIED", "ENROLLMENT_STATUS_CHANGED"],
        )
        for pk, kind, detail in [
            (ids[0], "DELIVERED", None), (ids[0], "OPENED", "Apple Mail"),
            (ids[1], "REPLIED", "Sounds good"),
        ]:  # fmt: skip
            reported = await mutate(
                local_gql, "recordDeliveryEvent",
                {"enrollmentId": gid("Enrollment", pk), "kind": kind, "detail": detail},
                "userErrors { code }",
            )  # fmt: skip
            assert reported["userErrors"] == []
        await dispatcher.run_until_idle()
    (opened,) = [r.verified(open_secret) for r in opens.received]
    assert opened["type"] == "enrollment.activity.opened"
    data = opened["data"]
    assert (data["kind"], data["detail"], data["enrollmentId"]) == (
        "OPENED", "Apple Mail", gid("Enrollment", ids[0]),
    )  # fmt: skip
    assert data["activityId"].startswith("QWN0aXZpdHk6")  # "Activity:"
    assert opens.received[0].id == f"evt_{seq}_{data['number']}"
    # the reply: its activity, then the status change it made, in the log's order
    got = [(r.json()["type"], r.json()["data"]["number"]) for r in replies_and_changes.received]
    assert [t for t, _ in got] == ["enrollment.activity.replied", "enrollment.status_changed"]
    assert got[1][1] == got[0][1] + 1
