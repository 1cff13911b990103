"""sendMessage over GraphQL with the app configured for Twilio: the text reaches the local
Twilio server (To, Body, From, a StatusCallback naming the message), its delivery report
shows in the enrollment's activity, and a number Twilio refuses is recorded as FAILED."""

from __future__ import annotations

import httpx

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from tests.helpers.factories import gids, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.twilio import (
    FROM_NUMBER,
    PUBLIC_BASE_URL,
    Answer,
    FakeTwilio,
    enrollment,
    post_signed,
    status_fields,
)
from tests.helpers.workspace import Workspace

SENT = "sentCount userErrors { field code message }"


async def test_a_text_reaches_twilio_and_its_delivery_is_reported(
    twilio_gql: GraphQLClient, twilio_http: httpx.AsyncClient, fake_twilio: FakeTwilio,
    db: Database, clock: FrozenClock, workspace: Workspace,
) -> None:  # fmt: skip
    _, [pk] = await make_enrolled(db, clock, workspace.actor, 1, phone="+14155550111")

    payload = await mutate(
        twilio_gql, "sendMessage",
        {"selection": {"ids": gids("Enrollment", [pk])}, "body": "Free for a call?"}, SENT,
    )  # fmt: skip

    assert payload == {"sentCount": 1, "userErrors": []}
    [received] = fake_twilio.accepted
    callback = received.fields.pop("StatusCallback")
    assert received.fields == {"To": "+14155550111", "Body": "Free for a call?",
                               "From": FROM_NUMBER}  # fmt: skip
    assert callback.startswith(f"{PUBLIC_BASE_URL}/hooks/twilio/status?message={pk}.message.")
    assert received.sid is not None
    reported = await post_signed(
        twilio_http, callback.removeprefix(PUBLIC_BASE_URL),
        status_fields(received.sid, "delivered"),
    )  # fmt: skip
    assert reported.status_code == 204
    got = await enrollment(twilio_gql, pk)
    assert got["activities"] == [
        ("SENT", None, "Free for a call?"), ("DELIVERED", None, "Twilio: delivered"),
    ]  # fmt: skip


async def test_a_number_twilio_refuses_is_recorded_failed(
    twilio_gql: GraphQLClient, fake_twilio: FakeTwilio, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    _, [pk] = await make_enrolled(db, clock, workspace.actor, 1, phone="+14155550112")
    fake_twilio.refuse["+14155550112"] = Answer(
        400, 21610, "Attempt to send to unsubscribed recipient"
    )

    payload = await mutate(
        twilio_gql, "sendMessage",
        {"selection": {"ids": gids("Enrollment", [pk])}, "body": "Still there?"}, SENT,
    )  # fmt: skip

    assert payload == {"sentCount": 1, "userErrors": []}
    assert fake_twilio.accepted == []
    got = await enrollment(twilio_gql, pk)
    [sent, failed] = got["activities"]
    assert sent == ("SENT", None, "Still there?")
    assert failed[0] == "FAILED" and "21610" in failed[2] and "unsubscribed" in failed[2]
