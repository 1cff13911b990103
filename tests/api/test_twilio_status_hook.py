"""POST /hooks/twilio/status end to end: an SMS step sent by the engine through the
local Twilio server asked for a StatusCallback; Twilio's reports, posted there signed with
the Auth Token, show over GraphQL (delivered, failed, a landline), once however often they
come; a report not signed right, or not a report, is refused and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from tests.helpers.bulk import snapshot
from tests.helpers.engine import TEXTS, Delivery, engine_for
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.twilio import (
    PUBLIC_BASE_URL,
    FakeTwilio,
    enrollment,
    post_signed,
    signature,
    status_fields,
)
from tests.helpers.workspace import Workspace

# The engine serves every workspace: a clock of its own keeps other tests' rows from being due.
pytestmark = pytest.mark.isolated_clock


@dataclass
class Sent:
    sequence_id: int
    enrollment_id: int
    callback: str  # the StatusCallback's path and query
    sid: str


@pytest.fixture
async def sent(
    twilio_app: Starlette, fake_twilio: FakeTwilio, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> Sent:  # fmt: skip
    """Step 1 of a two-text sequence sent by the engine to one contact."""
    delivery = Delivery(db, clock, workspace.actor)
    seq, [pk] = await delivery.enrolled(1, TEXTS)
    await engine_for(db, clock, twilio_app.state.transport).run_until_idle()
    [received] = [r for r in fake_twilio.accepted if r.fields["StatusCallback"].endswith(
        f"message={pk}.1.0")]  # fmt: skip
    assert received.sid is not None
    return Sent(seq, pk, received.fields["StatusCallback"].removeprefix(PUBLIC_BASE_URL),
                received.sid)  # fmt: skip


async def report(
    http: httpx.AsyncClient, sent: Sent, status: str, code: int | None = None
) -> httpx.Response:
    return await post_signed(http, sent.callback, status_fields(sent.sid, status, code))


async def test_delivered_is_recorded_once_however_often_it_comes(
    twilio_http: httpx.AsyncClient, twilio_gql: GraphQLClient, sent: Sent
) -> None:
    for status in ("queued", "sent", "delivered", "delivered"):
        assert (await report(twilio_http, sent, status)).status_code == 204

    got = await enrollment(twilio_gql, sent.enrollment_id)
    assert (got["status"], got["currentStep"]) == ("ACTIVE", 2)
    assert got["activities"] == [("SENT", 1, "Quick text"), ("DELIVERED", 1, "Twilio: delivered")]


async def test_undelivered_fails_the_enrollment_once(
    twilio_http: httpx.AsyncClient, twilio_gql: GraphQLClient, sent: Sent, db: Database,
    workspace: Workspace,
) -> None:  # fmt: skip
    assert (await report(twilio_http, sent, "undelivered", 30003)).status_code == 204
    after_first = await snapshot(db, workspace.actor.workspace_id)
    assert (await report(twilio_http, sent, "undelivered", 30003)).status_code == 204

    assert await snapshot(db, workspace.actor.workspace_id) == after_first
    got = await enrollment(twilio_gql, sent.enrollment_id)
    assert (got["status"], got["reason"]) == ("FAILED", None)
    assert got["activities"] == [
        ("SENT", 1, "Quick text"), ("FAILED", 1, "Twilio: undelivered, error 30003"),
    ]  # fmt: skip


@pytest.mark.parametrize("code", [30006, 21614])
async def test_a_landline_makes_the_phone_a_landline_and_the_step_not_sent(
    twilio_http: httpx.AsyncClient, twilio_gql: GraphQLClient, sent: Sent, db: Database,
    clock: FrozenClock, twilio_app: Starlette, fake_twilio: FakeTwilio, code: int,
) -> None:  # fmt: skip
    assert (await report(twilio_http, sent, "undelivered", code)).status_code == 204
    assert (await report(twilio_http, sent, "undelivered", code)).status_code == 204

    got = await enrollment(twilio_gql, sent.enrollment_id)
    assert (got["status"], got["reason"], got["currentStep"]) == (
        "NOT_SENT", "BLOCKED_BY_RULE", 1,
    )  # fmt: skip
    assert got["contact"]["phoneType"] == "LANDLINE"
    assert got["activities"] == [
        ("SENT", 1, "Quick text"), ("FAILED", 1, f"Twilio: undelivered, error {code}"),
    ]  # fmt: skip
    # nothing more goes to a landline
    sent_before = len(fake_twilio.accepted)
    await engine_for(db, clock, twilio_app.state.transport).run_until_idle()
    assert len(fake_twilio.accepted) == sent_before


async def test_the_status_change_is_an_event(
    twilio_http: httpx.AsyncClient, sent: Sent, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    await report(twilio_http, sent, "failed", 30007)
    changes = await Delivery(db, clock, workspace.actor).status_changes(sent.sequence_id)
    assert changes == [(sent.enrollment_id, "ACTIVE", None, "FAILED", None)]


@pytest.mark.parametrize(
    "forge",
    ["missing", "another token", "another message", "another status", "another host"],
)
async def test_a_report_not_signed_right_is_refused_and_changes_nothing(
    twilio_http: httpx.AsyncClient, sent: Sent, db: Database, workspace: Workspace, forge: str
) -> None:
    fields = status_fields(sent.sid, "undelivered", 30006)
    url = PUBLIC_BASE_URL + sent.callback
    path = sent.callback
    signed = {
        "missing": "",
        "another token": signature(url, fields, token="f" * 32),
        # a signature Twilio made for another message's URL, or other fields
        "another message": signature(url, fields),
        "another status": signature(url, {**fields, "MessageStatus": "delivered"}),
        "another host": signature("https://evil.example.com" + path, fields),
    }[forge]
    if forge == "another message":
        path = path.replace(f"message={sent.enrollment_id}.", f"message={sent.enrollment_id + 1}.")
    before = await snapshot(db, workspace.actor.workspace_id)

    response = await post_signed(twilio_http, path, fields, signed=signed)

    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await snapshot(db, workspace.actor.workspace_id) == before


async def test_hostile_requests_get_4xx_and_change_nothing(
    twilio_http: httpx.AsyncClient, sent: Sent, db: Database, workspace: Workspace
) -> None:
    before = await snapshot(db, workspace.actor.workspace_id)
    good = status_fields(sent.sid, "undelivered", 30003)
    url = PUBLIC_BASE_URL + sent.callback

    async def signed_raw(path: str, body: bytes, signed_fields: dict[str, str]) -> int:
        sig = signature(PUBLIC_BASE_URL + path, signed_fields)
        response = await twilio_http.post(
            path, content=body,
            headers={"content-type": "application/x-www-form-urlencoded",
                     "X-Twilio-Signature": sig},
        )  # fmt: skip
        return response.status_code

    async def signed(path: str, fields: dict[str, str]) -> int:
        return (await post_signed(twilio_http, path, fields)).status_code

    hook = "/hooks/twilio/status"
    json_post = await twilio_http.post(
        sent.callback, json=good, headers={"X-Twilio-Signature": signature(url, good)}
    )
    statuses = {
        "huge": await signed_raw(sent.callback, b"Body=" + b"x" * 200_000, {}),
        "nul": await signed(sent.callback, {**good, "To": "+1\x00"}),
        "not utf-8": await signed_raw(sent.callback, b"MessageSid=\xff\xfe", {}),
        "no status": await signed(sent.callback, {"MessageSid": sent.sid}),
        "no sid": await signed(sent.callback, {"MessageStatus": "failed"}),
        "bad code": await signed(sent.callback, {**good, "ErrorCode": "3e4"}),
        "bad key": await signed(f"{hook}?message=1;DROP", good),
        "no key": await signed(hook, good),
        "huge key": await signed(f"{hook}?message={'9' * 40}", good),
        "unknown enrollment": await signed(f"{hook}?message=987654321.1.0", good),
        "json": json_post.status_code,
        "get": (await twilio_http.get(sent.callback)).status_code,
    }
    assert statuses == {
        "huge": 413, "nul": 400, "not utf-8": 400, "no status": 400, "no sid": 400,
        "bad code": 400, "bad key": 400, "no key": 400, "huge key": 400,
        "unknown enrollment": 404, "json": 415, "get": 405,
    }  # fmt: skip
    assert await snapshot(db, workspace.actor.workspace_id) == before


async def test_without_an_auth_token_the_hooks_are_not_served(http: httpx.AsyncClient) -> None:
    fields = status_fields("SM" + "c" * 32, "delivered")
    for path in ("/hooks/twilio/status?message=1.1.0", "/hooks/twilio/any/inbound"):
        response = await http.post(path, data=fields, headers={"X-Twilio-Signature": "x"})
        assert response.status_code == 404
