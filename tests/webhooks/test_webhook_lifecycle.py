"""An endpoint over time: failing for the whole retry window (about three days) it is
disabled, visibly (FAILING), and enabled again it gets what it missed, in order; a
rotated secret signs at once, the previous one beside it for the grace period only;
replays send events again from a moment or after an event, with their webhook-ids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from seqgql.clock import FrozenClock
from seqgql.domain.webhooks import RETRY_SCHEDULE
from seqgql.persistence.database import Database
from seqgql.webhooks.dispatcher import Dispatcher
from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.webhooks import (
    ENDPOINTS,
    WITH_SECRET,
    WITHOUT_SECRET,
    create_endpoint,
    deliveries,
    receiver,
)
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.isolated_clock
REPLAYED = "eventCount webhookEndpoint { id } userErrors { field code message }"


async def pause(gql: GraphQLClient, ids: list[int]) -> None:
    paused = await mutate(gql, "pauseEnrollments", {"selection": {"ids": gids("Enrollment", ids)}})
    assert paused["changedCount"] == len(ids), paused


async def test_an_endpoint_failing_for_three_days_is_disabled_then_catches_up(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 3)
    async with receiver(status=500) as hooks:
        endpoint_id, secret = await create_endpoint(local_gql, hooks.url)
        await pause(local_gql, ids[:1])
        started = clock.now()
        for wait in RETRY_SCHEDULE:
            clock.advance(wait)
            assert await dispatcher.run_until_idle() == 1
        assert clock.now() - started > timedelta(days=3)
        clock.advance(timedelta(days=1))
        assert await dispatcher.run_until_idle() == 0  # disabled: nothing more
        (endpoint,) = [
            e["node"] for e in (await local_gql.execute(ENDPOINTS))["webhookEndpoints"]["edges"]
        ]
        assert endpoint["enabled"] is False and endpoint["disabledReason"] == "FAILING"
        assert endpoint["failingSince"] == started.isoformat()
        attempts = await deliveries(local_gql, endpoint_id)
        assert [d["attempt"] for d in attempts] == list(range(1, len(RETRY_SCHEDULE) + 1))
        assert attempts[-1]["nextAttemptAt"] is None and attempts[-2]["nextAttemptAt"] is not None
        assert len(set(hooks.ids())) == 1  # one event, its id on every attempt

        await pause(local_gql, ids[1:])  # while it is disabled
        hooks.status = 200
        enabled = await mutate(
            local_gql, "enableWebhookEndpoint", {"id": endpoint_id}, WITHOUT_SECRET
        )
        assert enabled["webhookEndpoint"]["failingSince"] is None
        assert await dispatcher.run_until_idle() == 3
    numbers = [r.verified(secret)["data"]["number"] for r in hooks.received[-3:]]
    assert numbers == sorted(numbers) and hooks.received[-3].id == hooks.received[0].id


async def test_a_rotated_secret_signs_at_once_and_the_old_one_only_for_the_grace(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 3)
    async with receiver() as hooks:
        endpoint_id, old = await create_endpoint(local_gql, hooks.url)
        rotated = await mutate(local_gql, "rotateWebhookSecret", {"id": endpoint_id}, WITH_SECRET)
        new = rotated["secret"]
        assert new.startswith("whsec_") and new != old
        grace_end = rotated["webhookEndpoint"]["previousSecretExpiresAt"]
        assert grace_end == (clock.now() + timedelta(hours=24)).isoformat()
        await pause(local_gql, ids[:1])
        await dispatcher.run_until_idle()
        during = hooks.received[-1]
        assert during.verified(new) and during.verified(old)
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        clock.advance(timedelta(hours=24, seconds=1))
        await pause(local_gql, ids[1:2])
        await dispatcher.run_until_idle()
        after = hooks.received[-1]
        assert after.verified(new)
        with pytest.raises(WebhookVerificationError):
            after.verified(old)
        # a forged signature is refused by the receiver's verifier
        forged = {**after.headers, "webhook-signature": "v1,Zm9yZ2Vk"}
        with pytest.raises(WebhookVerificationError):
            type(after)(after.path, forged, after.body, after.at).verified(new)


async def test_replay_sends_events_again_since_a_moment_or_after_an_event(
    local_gql: GraphQLClient,
    db: Database,
    clock: FrozenClock,
    workspace: Workspace,
    dispatcher: Dispatcher,
) -> None:
    sequence, ids = await make_enrolled(db, clock, workspace.actor, 3)
    async with receiver() as hooks:
        endpoint_id, secret = await create_endpoint(local_gql, hooks.url)
        before = clock.now()
        for pk in ids:
            clock.advance(timedelta(minutes=1))
            await pause(local_gql, [pk])
        assert await dispatcher.run_until_idle() == 3
        first = [r.verified(secret)["data"] for r in hooks.received]

        replayed = await mutate(
            local_gql,
            "replayWebhookEvents",
            {"endpointId": endpoint_id, "since": (before + timedelta(minutes=2)).isoformat()},
            REPLAYED,
        )
        assert replayed["userErrors"] == [] and replayed["eventCount"] == 2
        assert await dispatcher.run_until_idle() == 2
        assert hooks.ids()[3:] == hooks.ids()[1:3]  # the same webhook-ids, in order

        replayed = await mutate(
            local_gql,
            "replayWebhookEvents",
            {"endpointId": endpoint_id, "sinceCursor": first[0]["cursor"]},
            REPLAYED,
        )
        assert replayed["eventCount"] == 2
        assert await dispatcher.run_until_idle() == 2
        assert hooks.ids()[5:] == hooks.ids()[1:3]
        assert all(r.verified(secret) for r in hooks.received)

        for change, expected in [
            ({}, (["input", "since"], "INVALID")),
            (
                {"since": before.isoformat(), "sinceCursor": first[0]["cursor"]},
                (["input", "since"], "INVALID"),
            ),
            ({"sinceCursor": "bad"}, (["input", "sinceCursor"], "INVALID")),
            ({"since": "2026-01-01T00:00:00"}, (["input", "since"], "INVALID")),
        ]:
            refused = await mutate(
                local_gql, "replayWebhookEvents", {"endpointId": endpoint_id, **change}, REPLAYED
            )
            assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [expected], change
        refused = await mutate(
            local_gql,
            "replayWebhookEvents",
            {"endpointId": gid("WebhookEndpoint", 987654321), "since": before.isoformat()},
            REPLAYED,
        )
        assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]
        assert await dispatcher.run_until_idle() == 0
    assert sequence
