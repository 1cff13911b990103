"""POST /hooks/sendgrid end to end, signed as SendGrid signs (ECDSA P-256 over the
timestamp and the body, with a key pair of the test's own): each kind of event does to its
enrollment what the README's table says (status, activities with the evidence, events of
the log); a batch is applied in the order its events happened; a retried batch changes
nothing twice, also when both deliveries arrive at once; forged Message-IDs count for
nothing; a request not signed with the configured key changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import orjson
import pytest

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.graphql.relay import to_global_id
from seqgql.outbound.transport import RecordingTransport
from seqgql.persistence.database import Database
from seqgql.settings import Settings
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.inbound import enrolled_contact, enrollment_view, status_events
from tests.helpers.provider_events import (
    SendGridKey,
    activity_count,
    activity_log,
    credentials,
    kept_events,
    post_sendgrid,
    sendgrid_event,
)
from tests.helpers.tokens import token_cache
from tests.helpers.workspace import Workspace, make_workspace

ADA = "ada@acme.example.com"


@pytest.mark.parametrize(
    ("name", "fields", "status", "activity", "decision", "evidence"),
    [
        ("delivered", {"response": "250 OK"}, "ACTIVE", "DELIVERED", "RECORDED",
         "sendgrid delivered: 250 OK"),
        ("deferred", {"response": "400 try again later", "attempt": "5"}, "ACTIVE", "DEFERRED",
         "RECORDED", "sendgrid deferred: 400 try again later (attempt 5)"),
        ("open", {"useragent": "Mozilla/5.0"}, "ACTIVE", "OPENED", "RECORDED", "sendgrid open"),
        ("click", {"url": "https://acme.example.com/pricing"}, "ACTIVE", "CLICKED", "RECORDED",
         "sendgrid click: https://acme.example.com/pricing"),
        ("bounce", {"type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 user unknown"},
         "BOUNCED", "BOUNCED", "APPLIED", "sendgrid bounce: 5.1.1 550 5.1.1 user unknown"),
        ("bounce", {"type": "blocked", "status": "5.7.1", "reason": "554 rejected as spam"},
         "FAILED", "FAILED", "APPLIED", "sendgrid bounce: (blocked) 5.7.1 554 rejected as spam"),
        ("dropped", {"reason": "Bounced Address"}, "BOUNCED", "BOUNCED", "APPLIED",
         "sendgrid dropped: Bounced Address"),
        ("dropped", {"reason": "Invalid"}, "BOUNCED", "BOUNCED", "APPLIED",
         "sendgrid dropped: Invalid"),
        ("dropped", {"reason": "Unsubscribed Address"}, "OPTED_OUT", "OPTED_OUT", "APPLIED",
         "sendgrid dropped: Unsubscribed Address"),
        ("dropped", {"reason": "Spam Reporting Address"}, "OPTED_OUT", "OPTED_OUT", "APPLIED",
         "sendgrid dropped: Spam Reporting Address"),
        ("dropped", {"reason": "Spam Content (if spam checker app enabled)"}, "FAILED",
         "FAILED", "APPLIED", "sendgrid dropped: Spam Content (if spam checker app enabled)"),
        ("spamreport", {}, "OPTED_OUT", "OPTED_OUT", "APPLIED", "sendgrid spamreport"),
        ("unsubscribe", {}, "OPTED_OUT", "OPTED_OUT", "APPLIED", "sendgrid unsubscribe"),
        ("group_unsubscribe", {"asm_group_id": 10}, "OPTED_OUT", "OPTED_OUT", "APPLIED",
         "sendgrid group_unsubscribe"),
        ("processed", {}, "ACTIVE", None, "IGNORED", None),
        ("group_resubscribe", {}, "ACTIVE", None, "IGNORED", None),
        ("a_future_event", {"x": 1}, "ACTIVE", None, "IGNORED", None),
    ],
)  # fmt: skip
async def test_each_kind_of_event_does_what_the_table_says(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, sendgrid_key: SendGridKey, name: str, fields: dict[str, object],
    status: str, activity: str | None, decision: str, evidence: str | None,
) -> None:  # fmt: skip
    _, enrollment = await enrolled_contact(db, clock, workspace.actor)
    at = clock.now() - timedelta(minutes=3)
    event = sendgrid_event(name, ADA, enrollment, at, **fields)
    response = await post_sendgrid(http, workspace, sendgrid_key, [event], clock.now())
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["received"] == 1 and answer[decision.lower()] == 1, answer
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
    assert await kept_events(db, workspace) == [("SENDGRID", name, decision)]


async def test_a_batch_is_applied_in_the_order_its_events_happened(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    """SendGrid's batches are not in time order: the activities are, and the status
    changes follow them (an unsubscribe, then a bounce that finds the enrollment no longer
    going); another contact's events in the same batch go to its own enrollment; the
    activity's moment is the event's."""
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    _, bob = await enrolled_contact(db, clock, workspace.actor, email="bob@acme.example.com")
    t = clock.now() - timedelta(minutes=30)
    batch = [
        sendgrid_event("bounce", ADA, ada, t + timedelta(minutes=20), type="bounce",
                       reason="550 mailbox full for good"),
        sendgrid_event("open", ADA, ada, t + timedelta(minutes=10)),
        sendgrid_event("delivered", "bob@acme.example.com", bob, t, response="250 OK"),
        sendgrid_event("processed", ADA, ada, t - timedelta(minutes=1)),
        sendgrid_event("delivered", ADA, ada, t + timedelta(minutes=1)),
        sendgrid_event("unsubscribe", ADA, ada, t + timedelta(minutes=15)),
    ]  # fmt: skip
    response = await post_sendgrid(http, workspace, sendgrid_key, batch, clock.now())
    assert response.status_code == 200, response.text
    assert response.json() == {
        "received": 6, "applied": 1, "recorded": 4, "unmatched": 0, "ignored": 1,
        "duplicates": 0, "invalid": 0, "problems": [],
    }  # fmt: skip
    view = await enrollment_view(gql, ada)
    assert view["status"] == "OPTED_OUT"
    kinds = ["DELIVERED", "OPENED", "OPTED_OUT", "BOUNCED"]
    assert [a["kind"] for a in view["activities"]] == kinds
    assert await activity_log(db, ada) == kinds
    decisions = [k[2] for k in await kept_events(db, workspace)]  # in the batch's order
    assert decisions == ["RECORDED", "RECORDED", "RECORDED", "IGNORED", "RECORDED", "APPLIED"]
    assert await status_events(db, ada) == [("ACTIVE", "OPTED_OUT", None)]
    assert [a["kind"] for a in (await enrollment_view(gql, bob))["activities"]] == ["DELIVERED"]
    data = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Enrollment { "
        "activities(first: 10) { edges { node { kind at } } } } } }",
        {"id": to_global_id("Enrollment", ada)},
    )
    moments = [e["node"]["at"] for e in data["node"]["activities"]["edges"]]
    assert moments[0] == (t + timedelta(minutes=1)).isoformat()


async def test_a_retried_batch_changes_nothing_twice(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    """SendGrid retries a batch it is not sure arrived, signed anew; an event twice in one
    batch counts once."""
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    at = clock.now() - timedelta(minutes=5)
    delivered = sendgrid_event("delivered", ADA, ada, at)
    batch = [delivered, sendgrid_event("bounce", ADA, ada, at, type="bounce"), delivered]
    first = await post_sendgrid(http, workspace, sendgrid_key, batch, clock.now())
    assert first.json()["duplicates"] == 1 and first.json()["applied"] == 1
    clock.advance(timedelta(minutes=2))
    again = await post_sendgrid(http, workspace, sendgrid_key, batch, clock.now(), basic=False)
    assert again.status_code == 200
    assert again.json() == {
        "received": 3, "applied": 0, "recorded": 0, "unmatched": 0, "ignored": 0,
        "duplicates": 3, "invalid": 0, "problems": [],
    }  # fmt: skip
    view = await enrollment_view(gql, ada)
    assert [a["kind"] for a in view["activities"]] == ["DELIVERED", "BOUNCED"]
    assert await status_events(db, ada) == [("ACTIVE", "BOUNCED", None)]
    assert len(await kept_events(db, workspace)) == 2


async def test_two_deliveries_of_a_batch_at_once_apply_it_once(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    enrollments = [
        (await enrolled_contact(db, clock, workspace.actor, email=f"c{i}@acme.example.com"))[1]
        for i in range(5)
    ]
    at = clock.now() - timedelta(minutes=1)
    batch = [
        sendgrid_event(kind, f"c{i}@acme.example.com", pk, at)
        for i, pk in enumerate(enrollments)
        for kind in ("delivered", "spamreport")
    ]
    answers = await asyncio.gather(
        *(post_sendgrid(http, workspace, sendgrid_key, batch, clock.now()) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert sorted(a.json()["applied"] for a in answers) == [0, 0, 5]
    for pk in enrollments:
        assert await activity_log(db, pk) == ["DELIVERED", "OPTED_OUT"]
        assert await status_events(db, pk) == [("ACTIVE", "OPTED_OUT", None)]
    assert await activity_count(db, workspace) == 10


async def test_a_forged_message_id_counts_for_nothing(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    """An event naming Ada's message for Bob's address is Bob's (matched by his address);
    one for an address no contact has matches nobody and changes nothing."""
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    _, bob = await enrolled_contact(db, clock, workspace.actor, email="bob@acme.example.com")
    at = clock.now() - timedelta(minutes=1)
    batch = [
        sendgrid_event("bounce", "Bob@Acme.example.com", ada, at, type="bounce"),
        sendgrid_event("unsubscribe", "eve@elsewhere.example.com", ada, at),
    ]
    answer = (await post_sendgrid(http, workspace, sendgrid_key, batch, clock.now())).json()
    assert (answer["applied"], answer["unmatched"]) == (1, 1)
    assert (await enrollment_view(gql, ada))["status"] == "ACTIVE"
    assert await activity_log(db, ada) == []
    view = await enrollment_view(gql, bob)
    assert view["status"] == "BOUNCED"
    assert view["activities"][0]["detail"] == (
        "sendgrid bounce; matched by the recipient bob@acme.example.com: the contact's most "
        f"recent enrollment still going; Message-ID of enrollment {ada} not counted: its "
        "contact is not the recipient"
    )
    assert [k[2] for k in await kept_events(db, workspace)] == ["APPLIED", "UNMATCHED"]


async def test_another_workspaces_enrollment_is_not_reached(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    other = await make_workspace(db, clock)
    _, theirs = await enrolled_contact(db, clock, other.actor)
    event = sendgrid_event("bounce", ADA, theirs, clock.now(), type="bounce")
    answer = (await post_sendgrid(http, workspace, sendgrid_key, [event], clock.now())).json()
    assert answer["unmatched"] == 1
    assert await activity_log(db, theirs) == []
    assert await status_events(db, theirs) == []


@pytest.mark.parametrize(
    "forgery",
    ["no headers", "another key", "body changed", "timestamp changed", "stale", "future",
     "not base64", "empty signature"],
)  # fmt: skip
async def test_a_request_not_signed_with_the_key_changes_nothing(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    sendgrid_key: SendGridKey, forgery: str,
) -> None:  # fmt: skip
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    events = [sendgrid_event("bounce", ADA, ada, clock.now(), type="bounce")]
    now = clock.now()
    stamp, raw = str(int(now.timestamp())), orjson.dumps(events)
    post = {
        "no headers": lambda: http.post(
            "/hooks/sendgrid", json=events,
            headers={"authorization": credentials(workspace.token)},
        ),
        "another key": lambda: post_sendgrid(http, workspace, SendGridKey.generate(), events, now),
        "body changed": lambda: post_sendgrid(
            http, workspace, sendgrid_key, raw.replace(b"bounce", b"spamreport"), now,
            signature=sendgrid_key.sign(stamp, raw),
        ),
        "timestamp changed": lambda: post_sendgrid(
            http, workspace, sendgrid_key, events, now, timestamp=str(int(now.timestamp()) - 1)
        ),
        "stale": lambda: post_sendgrid(
            http, workspace, sendgrid_key, events, now - timedelta(minutes=11)
        ),
        "future": lambda: post_sendgrid(
            http, workspace, sendgrid_key, events, now + timedelta(minutes=6)
        ),
        "not base64": lambda: post_sendgrid(
            http, workspace, sendgrid_key, events, now, signature="%%%not-base64%%%"
        ),
        "empty signature": lambda: post_sendgrid(
            http, workspace, sendgrid_key, events, now, signature=""
        ),
    }[forgery]  # fmt: skip
    response = await post()
    assert response.status_code == 403, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_SIGNATURE"
    assert await activity_log(db, ada) == []
    assert await status_events(db, ada) == []
    assert await kept_events(db, workspace) == []


async def test_a_signature_within_ten_minutes_is_taken(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    events = [sendgrid_event("delivered", ADA, ada, clock.now() - timedelta(minutes=9))]
    signed_at = clock.now() - timedelta(minutes=9, seconds=50)
    response = await post_sendgrid(http, workspace, sendgrid_key, events, signed_at)
    assert response.status_code == 200, response.text


async def test_who_may_post(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    """A valid signature is not enough: the URL's credentials say which workspace the
    events are for, and a VIEWER's token may not change anything."""
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    events = [sendgrid_event("bounce", ADA, ada, clock.now(), type="bounce")]
    anonymous = Workspace(workspace.name, "", workspace.actor)
    unknown = Workspace(workspace.name, "sqg_not-a-token", workspace.actor)
    viewer = await make_workspace(db, clock, Role.VIEWER)
    expected = [(anonymous, 401), (unknown, 401), (viewer, 403)]
    for who, status in expected:
        response = await post_sendgrid(http, who, sendgrid_key, events, clock.now())
        assert response.status_code == status, response.text
    assert (await http.get("/hooks/sendgrid")).status_code == 405
    assert await activity_log(db, ada) == []


async def test_without_a_key_nothing_is_taken(
    database_url: str, db: Database, clock: FrozenClock, workspace: Workspace,
    sendgrid_key: SendGridKey,
) -> None:  # fmt: skip
    settings = Settings(database_url=database_url, auto_migrate=False, run_engine=False)
    app = create_app(settings, clock=clock, transport=RecordingTransport())
    token_cache(app).clock = clock
    _, ada = await enrolled_contact(db, clock, workspace.actor)
    events = [sendgrid_event("bounce", ADA, ada, clock.now(), type="bounce")]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as http,
    ):
        for hook in ("sendgrid", "mailgun"):
            response = await http.post(
                f"/hooks/{hook}", json=events,
                headers={"authorization": credentials(workspace.token)},
            )  # fmt: skip
            assert response.status_code == 403
            error = response.json()["errors"][0]
            assert error["extensions"]["code"] == "NOT_CONFIGURED"
            assert f"{hook.upper()}_WEBHOOK_" in error["message"]
    assert await activity_log(db, ada) == []


def test_a_key_that_is_no_key_stops_the_app(database_url: str) -> None:
    settings = Settings(database_url=database_url, sendgrid_webhook_public_key="bm90IGEga2V5")
    with pytest.raises(ValueError, match="SENDGRID_WEBHOOK_PUBLIC_KEY is not an ECDSA"):
        create_app(settings, transport=RecordingTransport())
