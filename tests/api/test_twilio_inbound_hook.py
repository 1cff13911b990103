"""POST /hooks/twilio/{workspace}/inbound end to end: texts a contact sends to the Twilio
number, posted signed with the Auth Token as Twilio posts them, and what the API shows
after: STOP opts the contact out of everything, START opts them back in, HELP is noted,
anything else is a reply under each sequence's rules; the same text twice counts once;
another workspace's contacts are untouched; forged and hostile requests change nothing."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.rules import Ruleset
from seqgql.domain.sequence import StepSpec
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments
from seqgql.services.actor import Actor
from seqgql.services.enrollments import add_contacts
from seqgql.services.sequences import create_sequence
from tests.helpers.bulk import enrollment_of, snapshot
from tests.helpers.engine import EMAILS, TEXTS, Delivery
from tests.helpers.factories import make_contacts, make_sequence
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.twilio import (
    PUBLIC_BASE_URL,
    enrollment,
    inbound_fields,
    post_signed,
    signature,
)
from tests.helpers.workspace import Workspace, make_workspace

PHONE = "+14155550177"
OTHER_PHONE = "+14155550178"


@dataclass
class Enrolled:
    texts: int  # the contact's enrollment in a sequence of texts
    emails: int  # and in a sequence of emails only
    neighbour: int  # another contact's (another phone), in the sequence of texts
    elsewhere: int  # a contact with the same phone in another workspace


async def enroll(db: Database, clock: FrozenClock, actor: Actor, seq: int, phone: str) -> int:
    [contact] = await make_contacts(db, clock, actor, 1, prefix="Texter", phone=phone)
    assert (await add_contacts(db, clock, actor, seq, [contact])).changed_count == 1
    return await enrollment_of(db, seq, contact)


async def enroll_again(db: Database, clock: FrozenClock, actor: Actor, seq: int, pk: int) -> int:
    """The contact of enrollment ``pk`` enrolled in ``seq`` too."""
    async with db.read() as conn:
        contact = (
            await conn.execute(
                enrollments.select().with_only_columns(enrollments.c.contact_id)
                .where(enrollments.c.id == pk)
            )
        ).scalar_one()  # fmt: skip
    assert (await add_contacts(db, clock, actor, seq, [contact])).changed_count == 1
    return await enrollment_of(db, seq, contact)


async def enrolled(
    db: Database, clock: FrozenClock, workspace: Workspace, texts: list[StepSpec] = TEXTS,
    rules: Ruleset | None = None,
) -> Enrolled:  # fmt: skip
    actor = workspace.actor
    made = await create_sequence(db, clock, actor, name="Texts", step_specs=texts, rules=rules)
    assert made.sequence_id is not None
    emails = await make_sequence(db, clock, actor, name="Emails", steps=EMAILS)
    mine = await enroll(db, clock, actor, made.sequence_id, PHONE)
    other = await make_workspace(db, clock)
    other_seq = await make_sequence(db, clock, other.actor, name="Texts", steps=TEXTS)
    return Enrolled(
        texts=mine,
        emails=await enroll_again(db, clock, actor, emails, mine),
        neighbour=await enroll(db, clock, actor, made.sequence_id, OTHER_PHONE),
        elsewhere=await enroll(db, clock, other.actor, other_seq, PHONE),
    )


def inbound(workspace: Workspace) -> str:
    return f"/hooks/twilio/{workspace.name}/inbound"


async def text(
    http: httpx.AsyncClient, workspace: Workspace, body: str, *, sid: str | None = None,
    sender: str = PHONE,
) -> httpx.Response:  # fmt: skip
    response = await post_signed(http, inbound(workspace), inbound_fields(sender, body, sid))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert "<Response></Response>" in response.text
    return response


async def test_stop_opts_the_contact_out_of_every_sequence(
    twilio_http: httpx.AsyncClient, twilio_gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    ids = await enrolled(db, clock, workspace)

    await text(twilio_http, workspace, "Stop", sid="SM" + "a" * 32)

    for pk in (ids.texts, ids.emails):
        got = await enrollment(twilio_gql, pk)
        assert (got["status"], got["reason"]) == ("OPTED_OUT", None)
        assert got["contact"]["optedOut"] is True
        assert got["activities"] == [("OPTED_OUT", None, "Stop")]
    neighbour = await enrollment(twilio_gql, ids.neighbour)
    assert (neighbour["status"], neighbour["contact"]["optedOut"]) == ("ACTIVE", False)
    # the same text again (Twilio retrying) changes nothing
    before = await snapshot(db, workspace.actor.workspace_id)
    await text(twilio_http, workspace, "Stop", sid="SM" + "a" * 32)
    assert await snapshot(db, workspace.actor.workspace_id) == before


async def test_stop_writes_an_event_per_sequence(
    twilio_http: httpx.AsyncClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    ids = await enrolled(db, clock, workspace)
    await text(twilio_http, workspace, "UNSUBSCRIBE")
    delivery = Delivery(db, clock, workspace.actor)
    for pk in (ids.texts, ids.emails):
        seq = await _sequence_of(db, pk)
        assert (pk, "ACTIVE", None, "OPTED_OUT", None) in await delivery.status_changes(seq)


async def test_start_opts_back_in_and_the_enrollments_stay_opted_out(
    twilio_http: httpx.AsyncClient, twilio_gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    ids = await enrolled(db, clock, workspace)
    await text(twilio_http, workspace, "STOP")
    await text(twilio_http, workspace, "start")

    got = await enrollment(twilio_gql, ids.texts)
    assert (got["status"], got["contact"]["optedOut"]) == ("OPTED_OUT", False)
    assert got["activities"] == [("OPTED_OUT", None, "STOP"),
                                 ("NOTE", None, "opted back in: 'start'")]  # fmt: skip


async def test_help_is_noted_and_nothing_else(
    twilio_http: httpx.AsyncClient, twilio_gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    ids = await enrolled(db, clock, workspace)
    await text(twilio_http, workspace, "HELP")

    got = await enrollment(twilio_gql, ids.texts)
    assert (got["status"], got["contact"]["optedOut"]) == ("ACTIVE", False)
    assert got["activities"] == [("NOTE", None, "texted 'HELP'")]
    assert (await enrollment(twilio_gql, ids.emails))["activities"] == []


async def test_a_reply_finishes_the_sms_sequence_once(
    twilio_http: httpx.AsyncClient, twilio_gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    ids = await enrolled(db, clock, workspace)
    await text(twilio_http, workspace, "Stop by Tuesday?", sid="SM" + "b" * 32)
    await text(twilio_http, workspace, "Stop by Tuesday?", sid="SM" + "b" * 32)

    got = await enrollment(twilio_gql, ids.texts)
    assert (got["status"], got["reason"]) == ("FINISHED", "REPLIED")
    assert got["activities"] == [("REPLIED", None, "Stop by Tuesday?")]
    untouched = await enrollment(twilio_gql, ids.emails)  # no SMS step: not what it answers
    assert (untouched["status"], untouched["activities"]) == ("ACTIVE", [])


async def test_a_reply_under_finish_on_reply_off_is_recorded_and_the_steps_go_on(
    twilio_http: httpx.AsyncClient, twilio_gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    ids = await enrolled(db, clock, workspace, rules=Ruleset(finish_on_reply=False))
    await text(twilio_http, workspace, "Who is this?")

    got = await enrollment(twilio_gql, ids.texts)
    assert (got["status"], got["activities"]) == ("ACTIVE", [("REPLIED", None, "Who is this?")])


async def test_another_workspace_s_contacts_are_untouched(
    twilio_http: httpx.AsyncClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    ids = await enrolled(db, clock, workspace)
    other_ws = await _workspace_of(db, ids.elsewhere)
    before = await snapshot(db, other_ws)
    await text(twilio_http, workspace, "STOP")
    await text(twilio_http, workspace, "sounds good")
    assert await snapshot(db, other_ws) == before


async def test_a_text_from_an_unknown_number_changes_nothing(
    twilio_http: httpx.AsyncClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    await enrolled(db, clock, workspace)
    before = await snapshot(db, workspace.actor.workspace_id)
    await text(twilio_http, workspace, "hello?", sender="+14155550999")
    await text(twilio_http, workspace, "STOP", sender="+14155550999")
    assert await snapshot(db, workspace.actor.workspace_id) == before


@pytest.mark.parametrize("forge", ["missing", "another token", "another workspace", "edited"])
async def test_a_text_not_signed_right_is_refused_and_changes_nothing(
    twilio_http: httpx.AsyncClient, db: Database, clock: FrozenClock, workspace: Workspace,
    forge: str,
) -> None:  # fmt: skip
    ids = await enrolled(db, clock, workspace)
    fields = inbound_fields(PHONE, "STOP")
    url = PUBLIC_BASE_URL + inbound(workspace)
    signed = {
        "missing": "",
        "another token": signature(url, fields, token="e" * 32),
        "another workspace": signature(PUBLIC_BASE_URL + "/hooks/twilio/other/inbound", fields),
        "edited": signature(url, {**fields, "Body": "thanks"}),
    }[forge]
    watched = [workspace.actor.workspace_id, await _workspace_of(db, ids.elsewhere)]
    before = [await snapshot(db, ws) for ws in watched]

    response = await post_signed(twilio_http, inbound(workspace), fields, signed=signed)

    assert response.status_code == 403
    assert [await snapshot(db, ws) for ws in watched] == before


async def test_hostile_texts_get_4xx_and_change_nothing(
    twilio_http: httpx.AsyncClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    await enrolled(db, clock, workspace)
    before = await snapshot(db, workspace.actor.workspace_id)
    good = inbound_fields(PHONE, "STOP")

    async def signed(path: str, fields: dict[str, str]) -> int:
        return (await post_signed(twilio_http, path, fields)).status_code

    statuses = {
        "nul body": await signed(inbound(workspace), {**good, "Body": "STOP\x00"}),
        "nul sender": await signed(inbound(workspace), {**good, "From": PHONE + "\x00"}),
        "no sender": await signed(inbound(workspace), {**good, "From": ""}),
        "no sid": await signed(inbound(workspace), {k: v for k, v in good.items()
                                                    if k != "MessageSid"}),
        "odd sid": await signed(inbound(workspace), {**good, "MessageSid": "SM'; DROP"}),
        "long body": await signed(inbound(workspace), {**good, "Body": "x" * 5_000}),
        "unknown workspace": await signed("/hooks/twilio/no-such-workspace/inbound", good),
        "huge": (
            await twilio_http.post(
                inbound(workspace), content=b"Body=" + b"x" * 100_000,
                headers={"content-type": "application/x-www-form-urlencoded",
                         "X-Twilio-Signature": "x"},
            )
        ).status_code,
    }  # fmt: skip
    assert statuses == {
        "nul body": 400, "nul sender": 400, "no sender": 400, "no sid": 400, "odd sid": 400,
        "long body": 400, "unknown workspace": 404, "huge": 413,
    }  # fmt: skip
    assert await snapshot(db, workspace.actor.workspace_id) == before


async def _sequence_of(db: Database, pk: int) -> int:
    async with db.read() as conn:
        query = enrollments.select().with_only_columns(enrollments.c.sequence_id)
        return int((await conn.execute(query.where(enrollments.c.id == pk))).scalar_one())


async def _workspace_of(db: Database, pk: int) -> int:
    async with db.read() as conn:
        query = enrollments.select().with_only_columns(enrollments.c.workspace_id)
        return int((await conn.execute(query.where(enrollments.c.id == pk))).scalar_one())
