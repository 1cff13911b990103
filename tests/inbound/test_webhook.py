"""POST /hooks/inbound-email end to end: a provider posts an email, the enrollment it
answers changes as GraphQL then shows (status, activities with the evidence), with its
events; the same email twice changes nothing twice; forged Message-IDs count for nothing;
hostile bodies are answered, never with an internal error, and change nothing."""

from __future__ import annotations

import json

import httpx
import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.domain.rules import Ruleset
from seqgql.graphql.relay import to_global_id
from seqgql.persistence.database import Database
from seqgql.persistence.tables import inbound_messages
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.inbound import (
    corpus_message,
    enrolled_contact,
    enrollment_view,
    post_email,
    status_events,
)
from tests.helpers.workspace import Workspace, make_workspace


async def kept_messages(db: Database, workspace: Workspace) -> list[tuple[str, str]]:
    """The inbound messages kept for the workspace: (kind, decision), in order."""
    m = inbound_messages.c
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(m.kind, m.decision)
            .where(m.workspace_id == workspace.actor.workspace_id)
            .order_by(m.id)
        )
        return [(str(r.kind), r.decision) for r in rows]


async def test_a_reply_finishes_the_enrollment_with_its_text(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient,
) -> None:  # fmt: skip
    _, enrollment = await enrolled_contact(db, clock, workspace.actor)
    raw = corpus_message("reply_gmail.eml", enrollment, "ada@acme.example.com")
    response = await post_email(http, workspace.token, raw)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["kind"] == "REPLY" and answer["decision"] == "APPLIED"
    assert answer["enrollmentId"] == to_global_id("Enrollment", enrollment)
    assert answer["duplicate"] is False
    view = await enrollment_view(gql, enrollment)
    assert (view["status"], view["reason"]) == ("FINISHED", "REPLIED")
    [replied] = [a for a in view["activities"] if a["kind"] == "REPLIED"]
    assert replied["detail"] == (
        "reply: no automatic header or subject, not a delivery notice; matched by Message-ID "
        f"of enrollment {enrollment}, its contact the sender\n\n"
        "Sounds good, let's talk on Tuesday at 10."
    )
    assert await status_events(db, enrollment) == [("ACTIVE", "FINISHED", "REPLIED")]
    assert await kept_messages(db, workspace) == [("REPLY", "APPLIED")]


async def test_the_same_email_twice_changes_nothing_twice(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient,
) -> None:  # fmt: skip
    """A provider's retry (here with the token as Basic credentials, as a webhook URL
    with credentials sends it) is answered as the first post and changes nothing."""
    _, enrollment = await enrolled_contact(db, clock, workspace.actor)
    raw = corpus_message("ooo_fr_date.eml", enrollment, "ada@acme.example.com")
    first = (await post_email(http, workspace.token, raw)).json()
    again = await post_email(http, workspace.token, raw, basic=True)
    assert again.status_code == 200
    assert again.json() == {**first, "duplicate": True}
    view = await enrollment_view(gql, enrollment)
    assert (view["status"], view["reason"]) == ("PAUSED", "OUT_OF_OFFICE")
    assert view["resumeAt"] == "2026-12-07T00:00:00+00:00"
    assert [a["kind"] for a in view["activities"]] == ["OUT_OF_OFFICE"]
    assert await status_events(db, enrollment) == [("ACTIVE", "PAUSED", "OUT_OF_OFFICE")]


@pytest.mark.parametrize(
    ("name", "status", "reason", "activity", "decision"),
    [
        ("gmail_bounce.eml", "BOUNCED", None, "BOUNCED", "APPLIED"),
        ("exim_bounce.eml", "BOUNCED", None, "BOUNCED", "APPLIED"),
        ("postfix_delayed.eml", "ACTIVE", None, "DEFERRED", "RECORDED"),
        ("exim_delayed.eml", "ACTIVE", None, "DEFERRED", "RECORDED"),  # matched by recipient
        ("unsubscribe_reply.eml", "OPTED_OUT", None, "OPTED_OUT", "APPLIED"),
        ("ooo_en_exchange_nodate.eml", "PAUSED", "OUT_OF_OFFICE", "OUT_OF_OFFICE", "APPLIED"),
        ("automated_ticket.eml", "ACTIVE", None, None, "UNMATCHED"),  # not from Ada
    ],
)
async def test_each_kind_of_email_does_what_it_says(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, name: str, status: str, reason: str | None, activity: str | None,
    decision: str,
) -> None:  # fmt: skip
    _, enrollment = await enrolled_contact(db, clock, workspace.actor)
    response = await post_email(
        http, workspace.token, corpus_message(name, enrollment, "ada@acme.example.com")
    )
    assert response.status_code == 200, response.text
    assert response.json()["decision"] == decision
    view = await enrollment_view(gql, enrollment)
    assert (view["status"], view["reason"]) == (status, reason)
    assert [a["kind"] for a in view["activities"]] == ([activity] if activity else [])
    if activity:
        evidence = view["activities"][0]["detail"]
        assert evidence.startswith(("bounce: ", "delayed: ", "unsubscribe: ", "auto-reply: "))
    assert view["contact"]["optedOut"] is (status == "OPTED_OUT")


async def test_an_absence_without_a_date_pauses_the_sequences_default_days(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient,
) -> None:  # fmt: skip
    rules = Ruleset(out_of_office_default_days=5)
    _, enrollment = await enrolled_contact(db, clock, workspace.actor, rules=rules)
    raw = corpus_message("ooo_de_nodate.eml", enrollment, "ada@acme.example.com")
    assert (await post_email(http, workspace.token, raw)).json()["decision"] == "APPLIED"
    view = await enrollment_view(gql, enrollment)
    assert (view["status"], view["reason"]) == ("PAUSED", "OUT_OF_OFFICE")
    assert view["resumeAt"] == "2026-12-05T00:00:00+00:00"  # 30 November + 5 days
    assert "no return date found" in view["activities"][0]["detail"]


async def test_forged_message_ids_count_for_nothing(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient,
) -> None:  # fmt: skip
    """A reply naming Ada's message but sent by Bob is Bob's (matched by his address); a
    notice naming Ada's message but another recipient matches nobody."""
    _, ada = await enrolled_contact(db, clock, workspace.actor, email="ada@acme.example.com")
    _, bob = await enrolled_contact(db, clock, workspace.actor, email="bob@acme.example.com")
    forged = corpus_message("reply_gmail.eml", ada, "bob@acme.example.com")
    answer = (await post_email(http, workspace.token, forged)).json()
    assert answer["enrollmentId"] == to_global_id("Enrollment", bob)
    assert f"Message-ID of enrollment {ada} not counted" in answer["detail"]
    assert "matched by the sender bob@acme.example.com" in answer["detail"]
    notice = corpus_message("postfix_bounce.eml", ada, "carol@elsewhere.example.org")
    answer = (await post_email(http, workspace.token, notice)).json()
    assert (answer["decision"], answer["enrollmentId"]) == ("UNMATCHED", None)
    assert (await enrollment_view(gql, ada))["status"] == "ACTIVE"
    assert (await enrollment_view(gql, bob))["status"] == "FINISHED"


async def test_another_workspaces_enrollment_is_never_matched(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient,
) -> None:  # fmt: skip
    other = await make_workspace(db, clock)
    _, theirs = await enrolled_contact(db, clock, other.actor)
    raw = corpus_message("reply_gmail.eml", theirs, "ada@acme.example.com")
    answer = (await post_email(http, workspace.token, raw)).json()
    assert (answer["decision"], answer["enrollmentId"]) == ("UNMATCHED", None)
    assert (await enrollment_view(GraphQLClient(http, other.token), theirs))["status"] == "ACTIVE"


async def test_an_email_matching_nothing_is_kept_and_changes_nothing(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient
) -> None:
    await enrolled_contact(db, clock, workspace.actor)
    raw = corpus_message("unmatched.eml", 1, "ada@acme.example.com")
    answer = (await post_email(http, workspace.token, raw)).json()
    assert answer["decision"] == "UNMATCHED"
    assert "no enrollment matched: nothing changed" in answer["detail"]
    assert await kept_messages(db, workspace) == [("REPLY", "UNMATCHED")]


async def test_the_hook_needs_a_token_that_may_write(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient
) -> None:
    raw = corpus_message("reply_gmail.eml", 1, "ada@acme.example.com")
    for token in (None, "sqg_not_a_token"):
        response = await post_email(http, token, raw)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await post_email(http, "sqg_not_a_token", raw, basic=True)).status_code == 401
    viewer = await make_workspace(db, clock, Role.VIEWER)
    assert (await post_email(http, viewer.token, raw)).status_code == 403
    assert (await http.get("/hooks/inbound-email")).status_code == 405
    assert await kept_messages(db, workspace) == []


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"", "message/rfc822", 400, "INVALID_EMAIL"),
        (b"   \r\n  ", "message/rfc822", 400, "INVALID_EMAIL"),
        (b"\x00\x01garbage \xff\xfe not an email", "message/rfc822", 400, "INVALID_EMAIL"),
        (b"x" * 10_000_001, "message/rfc822", 413, "PAYLOAD_TOO_LARGE"),
        (b"\x89PNG\r\n", "image/png", 415, "UNSUPPORTED_MEDIA"),
        (b'{"Subject": "no raw email"}', "application/json", 400, "INVALID_EMAIL"),
        (b"{not json", "application/json", 400, "BAD_REQUEST"),
        (b"--x\r\nContent-Disposition: form-data; name=other\r\n\r\nv\r\n--x--\r\n",
         "multipart/form-data; boundary=x", 400, "INVALID_EMAIL"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x", 400, None),
    ],
)  # fmt: skip
async def test_hostile_bodies_are_refused_and_change_nothing(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, body: bytes, content_type: str, status: int, code: str | None,
) -> None:  # fmt: skip
    _, enrollment = await enrolled_contact(db, clock, workspace.actor)
    response = await post_email(http, workspace.token, body, content_type=content_type)
    assert response.status_code == status, response.text
    if code is not None:
        assert response.json()["errors"][0]["extensions"]["code"] == code
    assert (await enrollment_view(gql, enrollment))["status"] == "ACTIVE"
    assert await kept_messages(db, workspace) == []


@pytest.mark.parametrize("name", ["broken_charset.eml", "reply_german.eml"])
async def test_nul_bytes_and_broken_charsets_are_read_and_stored_clean(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, name: str,
) -> None:  # fmt: skip
    _, enrollment = await enrolled_contact(db, clock, workspace.actor)
    raw = corpus_message(name, enrollment, "ada@acme.example.com")
    raw = raw.replace(b"Subject: ", b"Subject: \x00", 1).replace(b"\n\n", b"\n\n\x00\x00", 1)
    response = await post_email(http, workspace.token, raw)
    assert response.status_code == 200, response.text
    view = await enrollment_view(gql, enrollment)
    assert view["status"] == "FINISHED"
    assert "\x00" not in view["activities"][0]["detail"]


async def test_the_shapes_providers_post(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient,
) -> None:  # fmt: skip
    """SendGrid Inbound Parse (a form field `email`), a Mailgun route to a URL ending in
    `mime` (a form field `body-mime`), Postmark (JSON with `RawEmail`)."""
    headers = {"authorization": f"Bearer {workspace.token}"}
    shapes = ["sendgrid", "mailgun", "postmark"]
    for shape in shapes:
        _, enrollment = await enrolled_contact(
            db, clock, workspace.actor, email=f"{shape}@acme.example.com"
        )
        raw = corpus_message("reply_outlook.eml", enrollment, f"{shape}@acme.example.com")
        raw = raw.replace(b"Message-ID: <", f"Message-ID: <{shape}".encode())
        if shape == "sendgrid":
            sent = await http.post(
                "/hooks/inbound-email",
                headers=headers,
                data={"email": raw.decode(), "to": "outreach@example.com"},
            )
        elif shape == "mailgun":
            sent = await http.post(
                "/hooks/inbound-email/mime",
                headers=headers,
                files={"body-mime": ("message.mime", raw, "message/rfc822")},
                data={"recipient": "outreach@example.com"},
            )
        else:
            sent = await http.post(
                "/hooks/inbound-email",
                headers={**headers, "content-type": "application/json"},
                content=json.dumps({"From": f"{shape}@acme.example.com", "RawEmail": raw.decode()}),
            )
        assert sent.status_code == 200, (shape, sent.text)
        assert sent.json()["decision"] == "APPLIED", shape
        assert (await enrollment_view(gql, enrollment))["reason"] == "REPLIED"
