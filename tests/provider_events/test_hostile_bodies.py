"""Hostile and large bodies at the provider hooks, signed with the right key (the signature
is no defence against a provider's own oddities): answered with a 4xx or a 200 whose
events are applied whole or not at all, never an internal error; a big batch is applied
in one go."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments
from seqgql.services.enrollments import add_contacts
from tests.helpers.factories import make_contacts, make_sequence
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.inbound import enrolled_contact, enrollment_view, status_events
from tests.helpers.provider_events import (
    SendGridKey,
    activity_count,
    activity_log,
    credentials,
    kept_events,
    mailgun_event,
    mailgun_signature,
    post_mailgun,
    post_sendgrid,
    sendgrid_event,
)
from tests.helpers.workspace import Workspace

ADA = "ada@acme.example.com"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json", 400, "BAD_REQUEST"),
        (b"[{\"event\": \"bounce\"\x00}]", 400, "BAD_REQUEST"),
        (b"\xff\xfe[]", 400, "BAD_REQUEST"),
        (b"", 400, "BAD_REQUEST"),
        (b'{"event": "bounce"}', 400, "BAD_REQUEST"),
        (b'"bounce"', 400, "BAD_REQUEST"),
        (b"[" + b"{}," * 10_000 + b"{}]", 413, "TOO_MANY_EVENTS"),
    ],
    ids=["not JSON", "a NUL byte", "not UTF-8", "empty", "an object", "a string",
         "10,001 events"],
)  # fmt: skip
async def test_a_body_that_is_no_batch_is_refused(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    sendgrid_key: SendGridKey, body: bytes, status: int, code: str,
) -> None:  # fmt: skip
    response = await post_sendgrid(http, workspace, sendgrid_key, body, clock.now())
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert await kept_events(db, workspace) == []


async def test_ten_thousand_real_events_are_refused_whole(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    batch = [sendgrid_event("open", ADA, ada, clock.now()) for _ in range(10_000)]
    response = await post_sendgrid(http, workspace, sendgrid_key, batch, clock.now())
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_EVENTS"
    assert await activity_log(db, ada) == []


async def test_a_body_over_the_limit_is_refused_before_it_is_read(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    body = b"[" + b" " * 5_000_001 + b"]"
    for hook in ("sendgrid", "mailgun"):
        response = await http.post(
            f"/hooks/{hook}", content=body,
            headers={"content-type": "application/json",
                     "authorization": credentials(workspace.token)},
        )  # fmt: skip
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_form_is_not_taken(
    clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient, sendgrid_key: SendGridKey
) -> None:
    response = await post_sendgrid(
        http, workspace, sendgrid_key, b"event=bounce", clock.now(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert response.status_code == 415


async def test_events_that_cannot_be_read_leave_the_others_be(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    """Wrong types, NUL characters, ids too long, timestamps out of range, Message-IDs past
    any id: each event is read for what it says (or not read), the good ones applied."""
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    _, bob = await enrolled_contact(db, clock, workspace.actor, email="bob@acme.example.com")
    now = clock.now()
    batch: list[Any] = [
        sendgrid_event("bounce", ADA, ada, now, type="bounce", reason="550 no\x00 such user"),
        "a string",
        None,
        [1, 2],
        {"event": 5, "sg_event_id": "e1"},
        {"event": "bounce", "sg_event_id": ["e2"]},
        {"event": "bounce", "sg_event_id": "x" * 201},
        {"event": "bounce", "sg_event_id": "\x00\x00"},
        {"event": "\x00", "sg_event_id": "e3"},
        # read, though little of it can be: no address, no id of ours, no moment
        {"event": "spamreport", "sg_event_id": "e4", "email": {"a": 1}, "timestamp": "soon",
         "smtp-id": 42},
        {"event": "unsubscribe", "sg_event_id": "e5", "email": "bob@acme.example.com",
         "timestamp": 1e300, "smtp-id": "<seqgql.99999999999999999999.1.0@x.example>"},
        {"event": "delivered", "sg_event_id": "e6", "email": ADA, "timestamp": True,
         "smtp-id": ["<seqgql.1.1.0@x.example>"], "response": {"250": "OK"}},
        sendgrid_event("click", ADA, ada, now + timedelta(days=365), url="https://x.example"),
    ]  # fmt: skip
    response = await post_sendgrid(http, workspace, sendgrid_key, batch, now)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["invalid"] == 8 and answer["received"] == 13, answer
    assert (answer["applied"], answer["recorded"], answer["unmatched"]) == (2, 2, 1)
    assert "event 1: not a JSON object" in answer["problems"]
    view = await enrollment_view(gql, ada)
    assert view["status"] == "BOUNCED"
    assert [a["kind"] for a in view["activities"]] == ["BOUNCED", "DELIVERED", "CLICKED"]
    assert view["activities"][0]["detail"].startswith("sendgrid bounce: 550 no such user;")
    assert (await enrollment_view(gql, bob))["status"] == "OPTED_OUT"
    assert await status_events(db, ada) == [("ACTIVE", "BOUNCED", None)]
    assert len(await kept_events(db, workspace)) == 5


async def test_mailgun_bodies_that_are_no_event(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    mailgun_key: str,
) -> None:  # fmt: skip
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    for body, status in [(b"not json", 400), (b"[]", 400), (b"\x00", 400), (b"{}", 403)]:
        assert (await post_mailgun(http, workspace, body)).status_code == status
    for data in (None, "complained", [mailgun_event("complained", ADA, ada, clock.now())]):
        signed = mailgun_signature(mailgun_key, clock.now())
        response = await post_mailgun(http, workspace, {"signature": signed, "event-data": data})
        assert response.status_code == 200, response.text
        assert response.json()["invalid"] == 1
    event = mailgun_event("complained", ADA, ada, clock.now(), id={"no": "id"})
    signed = mailgun_signature(mailgun_key, clock.now())
    response = await post_mailgun(http, workspace, {"signature": signed, "event-data": event})
    assert response.json()["problems"] == ["event-data: no id (a string of at most 200 characters)"]
    assert await activity_log(db, ada) == []
    assert await kept_events(db, workspace) == []


async def test_a_batch_of_a_thousand_events_is_applied_in_one_go(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    actor = workspace.actor
    sequence = await make_sequence(db, clock, actor)
    contacts = await make_contacts(db, clock, actor, 100, prefix="Bulk")
    assert not (await add_contacts(db, clock, actor, sequence, contacts)).errors
    async with db.read() as conn:
        ids = list(
            (
                await conn.execute(
                    sa.select(enrollments.c.id)
                    .where(enrollments.c.sequence_id == sequence)
                    .order_by(enrollments.c.contact_id)
                )
            ).scalars()
        )
    t = clock.now() - timedelta(minutes=20)
    kinds = ["processed", "delivered", "open", "click", "open", "click", "open", "click",
             "deferred", "open"]  # fmt: skip
    batch = [
        sendgrid_event(kind, f"bulk{i}@example.com", pk, t + timedelta(seconds=n))
        for i, pk in enumerate(ids)
        for n, kind in enumerate(kinds)
    ]
    batch[5::50] = [
        sendgrid_event("bounce", f"bulk{i}@example.com", ids[i], t, type="bounce")
        for i in range(0, 100, 5)
    ]
    started = time.perf_counter()
    response = await post_sendgrid(http, workspace, sendgrid_key, batch, clock.now())
    took = time.perf_counter() - started
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["received"], answer["applied"], answer["ignored"]) == (1000, 20, 100)
    assert answer["recorded"] == 880
    assert await activity_count(db, workspace) == 900
    print(f"1,000 SendGrid events applied in {took:.2f} s")
    assert took < 30


async def test_nul_characters_in_credentials_are_refused(
    clock: FrozenClock, http: httpx.AsyncClient, sendgrid_key: SendGridKey
) -> None:
    body = orjson.dumps([])
    response = await http.post(
        "/hooks/sendgrid?x=%00", content=body,
        headers={"content-type": "application/json", "authorization": "Basic AAAA"},
    )  # fmt: skip
    assert response.status_code in (400, 401)
