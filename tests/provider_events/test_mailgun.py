"""POST /hooks/mailgun end to end, signed as Mailgun signs (HMAC-SHA256 of the timestamp
and the token with the webhook signing key): each kind of event does to its enrollment
what the README's table says; a retried event changes nothing twice; a signature whose
token was used before is a replay, refused; a request not signed with the key changes
nothing; a forged Message-ID counts for nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.inbound import enrolled_contact, enrollment_view, status_events
from tests.helpers.provider_events import (
    activity_log,
    kept_events,
    mailgun_event,
    mailgun_signature,
    post_mailgun,
)
from tests.helpers.workspace import Workspace

ADA = "ada@acme.example.com"
NOT_THERE = {"code": 550, "message": "5.1.1 The email account that you tried to reach does "
             "not exist", "description": ""}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "fields", "status", "activity", "decision", "evidence"),
    [
        ("delivered", {"delivery-status": {"code": 250, "message": "OK"}}, "ACTIVE",
         "DELIVERED", "RECORDED", "mailgun delivered: 250 OK"),
        ("opened", {}, "ACTIVE", "OPENED", "RECORDED", "mailgun opened"),
        ("clicked", {"url": "https://acme.example.com/demo"}, "ACTIVE", "CLICKED", "RECORDED",
         "mailgun clicked: https://acme.example.com/demo"),
        ("failed", {"severity": "permanent", "reason": "bounce", "delivery-status": NOT_THERE},
         "BOUNCED", "BOUNCED", "APPLIED", "mailgun failed: (permanent) reason bounce 550 "
         "5.1.1 The email account that you tried to reach does not exist"),
        ("failed", {"severity": "temporary", "reason": "generic",
                    "delivery-status": {"code": 452, "message": "mailbox full"}},
         "ACTIVE", "DEFERRED", "RECORDED", "mailgun failed: (temporary) reason generic 452 "
         "mailbox full"),
        ("failed", {"severity": "permanent", "reason": "suppress-unsubscribe"}, "OPTED_OUT",
         "OPTED_OUT", "APPLIED", "mailgun failed: (permanent) reason suppress-unsubscribe"),
        ("failed", {"severity": "permanent", "reason": "suppress-bounce"}, "BOUNCED",
         "BOUNCED", "APPLIED", "mailgun failed: (permanent) reason suppress-bounce"),
        ("rejected", {"reject": {"reason": "Sandbox subdomains are for test purposes only"}},
         "FAILED", "FAILED", "APPLIED",
         "mailgun rejected: Sandbox subdomains are for test purposes only"),
        ("complained", {}, "OPTED_OUT", "OPTED_OUT", "APPLIED", "mailgun complained"),
        ("unsubscribed", {}, "OPTED_OUT", "OPTED_OUT", "APPLIED", "mailgun unsubscribed"),
        ("accepted", {}, "ACTIVE", None, "IGNORED", None),
        ("stored", {}, "ACTIVE", None, "IGNORED", None),
    ],
)  # fmt: skip
async def test_each_kind_of_event_does_what_the_table_says(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, mailgun_key: str, name: str, fields: dict[str, object], status: str,
    activity: str | None, decision: str, evidence: str | None,
) -> None:  # fmt: skip
    _, enrollment = await enrolled_contact(db, clock, workspace.actor)
    event = mailgun_event(name, ADA, enrollment, clock.now() - timedelta(seconds=30), **fields)
    body = {"signature": mailgun_signature(mailgun_key, clock.now()), "event-data": event}
    response = await post_mailgun(http, workspace, body)
    assert response.status_code == 200, response.text
    assert response.json()[decision.lower()] == 1
    view = await enrollment_view(gql, enrollment)
    assert view["status"] == status
    assert view["contact"]["optedOut"] is (status == "OPTED_OUT")
    assert [a["kind"] for a in view["activities"]] == ([activity] if activity else [])
    if activity:
        assert view["activities"][0]["detail"] == (
            f"{evidence}; matched by Message-ID of enrollment {enrollment}, its contact the "
            "recipient"
        )
    assert await activity_log(db, enrollment) == ([activity] if activity else [])
    changed = [("ACTIVE", status, None)] if status != "ACTIVE" else []
    assert await status_events(db, enrollment) == changed
    assert await kept_events(db, workspace) == [("MAILGUN", name, decision)]


async def test_a_retried_event_changes_nothing_twice(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, mailgun_key: str,
) -> None:  # fmt: skip
    """The same event again, signed anew or as it was: answered as a duplicate."""
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    event = mailgun_event("failed", ADA, ada, clock.now(), severity="permanent")
    first = {"signature": mailgun_signature(mailgun_key, clock.now()), "event-data": event}
    assert (await post_mailgun(http, workspace, first)).json()["applied"] == 1
    clock.advance(timedelta(minutes=3))
    resigned = {"signature": mailgun_signature(mailgun_key, clock.now()), "event-data": event}
    for body in (resigned, first):
        answer = (await post_mailgun(http, workspace, body)).json()
        assert (answer["duplicates"], answer["applied"]) == (1, 0), answer
    assert await activity_log(db, ada) == ["BOUNCED"]
    assert await status_events(db, ada) == [("ACTIVE", "BOUNCED", None)]


async def test_a_used_token_signs_nothing_else(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    mailgun_key: str,
) -> None:  # fmt: skip
    """Mailgun's signature does not cover the body: a captured one put on another event
    is a replay, refused, and changes nothing."""
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    signature = mailgun_signature(mailgun_key, clock.now())
    opened = {"signature": signature, "event-data": mailgun_event("opened", ADA, ada, clock.now())}
    assert (await post_mailgun(http, workspace, opened)).status_code == 200
    forged = mailgun_event("unsubscribed", ADA, ada, clock.now())
    response = await post_mailgun(http, workspace, {"signature": signature, "event-data": forged})
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "REPLAYED"
    assert await activity_log(db, ada) == ["OPENED"]
    assert await status_events(db, ada) == []


@pytest.mark.parametrize(
    "forgery",
    ["another key", "signature changed", "stale", "future", "no signature",
     "signature not an object", "numbers for strings", "NUL in the token"],
)  # fmt: skip
async def test_a_request_not_signed_with_the_key_changes_nothing(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    mailgun_key: str, forgery: str,
) -> None:  # fmt: skip
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    now = clock.now()
    signature: object = {
        "another key": mailgun_signature("key-another", now),
        "signature changed": {**mailgun_signature(mailgun_key, now), "signature": "0" * 64},
        "stale": mailgun_signature(mailgun_key, now - timedelta(minutes=11)),
        "future": mailgun_signature(mailgun_key, now + timedelta(minutes=6)),
        "no signature": None,
        "signature not an object": ["timestamp", "token", "signature"],
        "numbers for strings": {"timestamp": 1, "token": 2, "signature": 3},
        "NUL in the token": mailgun_signature(mailgun_key, now, token="tok\x00en"),
    }[forgery]
    event = mailgun_event("complained", ADA, ada, now)
    body = {"event-data": event} | ({"signature": signature} if signature is not None else {})
    response = await post_mailgun(http, workspace, body)
    assert response.status_code == 403, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_SIGNATURE"
    assert await activity_log(db, ada) == []
    assert await status_events(db, ada) == []
    assert await kept_events(db, workspace) == []


async def test_a_forged_message_id_counts_for_nothing(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, mailgun_key: str,
) -> None:  # fmt: skip
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    _, bob = await enrolled_contact(db, clock, workspace.actor, email="bob@acme.example.com")
    event = mailgun_event("complained", "bob@acme.example.com", ada, clock.now())
    body = {"signature": mailgun_signature(mailgun_key, clock.now()), "event-data": event}
    assert (await post_mailgun(http, workspace, body)).json()["applied"] == 1
    assert (await enrollment_view(gql, ada))["status"] == "ACTIVE"
    assert (await enrollment_view(gql, bob))["status"] == "OPTED_OUT"
    assert await activity_log(db, ada) == []
