"""Invalid input: a userError naming the field with a code, and nothing changed."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from seqgql.services.auth import issue_token
from tests.helpers.bulk import enroll_input, ids_of, snapshot, states
from tests.helpers.clocks import START
from tests.helpers.factories import gid, gids, make_contacts, make_enrolled, make_sequence
from tests.helpers.graphql_client import BULK, GraphQLClient, mutate
from tests.helpers.workspace import Workspace, make_workspace

SEQUENCE = "sequence { id } userErrors { field code message }"
CONTACTS = "contacts { id } userErrors { field code message }"


def errors(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


@pytest.fixture
async def board(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> tuple[int, list[int]]:
    return await make_enrolled(db, clock, workspace.actor, 3)


async def unchanged(db: Database, workspace: Workspace, before: dict[str, Any]) -> bool:
    return await snapshot(db, workspace.actor.workspace_id) == before


# ---------------------------------------------------------------- ids


async def test_unknown_and_foreign_ids_are_not_found(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock,
    board: tuple[int, list[int]],
) -> None:  # fmt: skip
    seq, ids = board
    other = await make_workspace(db, clock)
    foreign_seq, foreign = await make_enrolled(db, clock, other.actor, 1)
    before = await snapshot(db, workspace.actor.workspace_id)
    selection = {
        "ids": [*gids("Enrollment", ids), gid("Enrollment", 10**9), gid("Enrollment", foreign[0])]
    }
    payload = await mutate(gql, "pauseEnrollments", {"selection": selection})
    assert payload["changedCount"] == 0
    assert errors(payload) == [
        (["input", "selection", "ids", "3"], "NOT_FOUND"),
        (["input", "selection", "ids", "4"], "NOT_FOUND"),
    ]
    assert await unchanged(db, workspace, before)  # the 3 valid ones were not paused
    assert await states(db, foreign) == {foreign[0]: ("ACTIVE", None)}

    payload = await mutate(
        gql, "finishEnrollments",
        {"selection": {"sequenceId": gid("Sequence", foreign_seq)}, "reason": "OTHER"},
    )  # fmt: skip
    assert errors(payload) == [(["input", "selection", "sequenceId"], "NOT_FOUND")]
    foreign_contact = await make_contacts(db, clock, other.actor, 1)
    payload = await mutate(gql, "addContactsToSequence", enroll_input(seq, foreign_contact))
    assert errors(payload) == [(["input", "contactIds", "0"], "NOT_FOUND")]
    mine = await make_contacts(db, clock, workspace.actor, 1, prefix="Mine")
    payload = await mutate(gql, "addContactsToSequence", enroll_input(foreign_seq, mine))
    assert errors(payload) == [(["input", "sequenceId"], "NOT_FOUND")]
    payload = await mutate(
        gql, "recordDeliveryEvent",
        {"enrollmentId": gid("Enrollment", foreign[0]), "kind": "REPLIED"},
        "enrollment { id } userErrors { field code }",
    )  # fmt: skip
    assert payload["enrollment"] is None
    assert errors(payload) == [(["input", "enrollmentId"], "NOT_FOUND")]
    payload = await mutate(
        gql,
        "updateSequence",
        {"sequenceId": gid("Sequence", foreign_seq), "name": "Mine"},
        SEQUENCE,
    )
    assert errors(payload) == [(["input", "sequenceId"], "NOT_FOUND")]
    assert await states(db, foreign) == {foreign[0]: ("ACTIVE", None)}


@pytest.mark.parametrize(
    "bad",
    [
        "not-an-id",
        base64.b64encode(b"Enrollment:abc").decode(),
        gid("Contact", 1),
        "",
        "RW5yb2xsbWVudDow",
    ],
)
async def test_malformed_ids_are_invalid_id(
    gql: GraphQLClient, workspace: Workspace, db: Database, board: tuple[int, list[int]], bad: str
) -> None:
    seq, ids = board
    before = await snapshot(db, workspace.actor.workspace_id)
    payload = await mutate(
        gql, "pauseEnrollments", {"selection": {"ids": [gid("Enrollment", ids[0]), bad]}}
    )
    assert errors(payload) == [(["input", "selection", "ids", "1"], "INVALID_ID")]
    payload = await mutate(
        gql, "removeEnrollments",
        {"selection": {"sequenceId": gid("Sequence", seq), "excludeIds": [bad]}},
    )  # fmt: skip
    assert errors(payload) == [(["input", "selection", "excludeIds", "0"], "INVALID_ID")]
    not_a_contact = gid("Group", 1) if bad == gid("Contact", 1) else bad
    payload = await mutate(
        gql, "addContactsToSequence", {"sequenceId": bad, "contactIds": [not_a_contact]}
    )
    assert errors(payload) == [
        (["input", "sequenceId"], "INVALID_ID"), (["input", "contactIds", "0"], "INVALID_ID"),
    ]  # fmt: skip
    payload = await mutate(gql, "addEnrollmentsToGroup", {"selection": ids_of(ids), "groupId": bad})
    assert errors(payload) == [(["input", "groupId"], "INVALID_ID")]
    assert await unchanged(db, workspace, before)


async def test_selection_needs_exactly_one_of_ids_or_sequence(
    gql: GraphQLClient, workspace: Workspace, db: Database, board: tuple[int, list[int]]
) -> None:
    seq, ids = board
    before = await snapshot(db, workspace.actor.workspace_id)
    for selection in (
        {**ids_of(ids), "sequenceId": gid("Sequence", seq)},
        {},
        {"filter": {"statuses": ["ACTIVE"]}},
    ):
        for name, extra in (
            ("pauseEnrollments", {}), ("finishEnrollments", {"reason": "OTHER"}),
            ("removeEnrollments", {}), ("resumeEnrollments", {}),
        ):  # fmt: skip
            payload = await mutate(gql, name, {"selection": selection, **extra})
            assert errors(payload) == [(["input", "selection"], "INVALID_SELECTION")], name
    assert await unchanged(db, workspace, before)


async def test_more_than_1000_ids_is_too_many(
    gql: GraphQLClient, workspace: Workspace, db: Database, board: tuple[int, list[int]]
) -> None:
    seq, ids = board
    before = await snapshot(db, workspace.actor.workspace_id)
    many = gids("Enrollment", [*ids, *range(10**8, 10**8 + 998)])  # 1,001 ids
    payload = await mutate(gql, "pauseEnrollments", {"selection": {"ids": many}})
    assert errors(payload) == [(["input", "selection", "ids"], "TOO_MANY")]
    contacts = gids("Contact", list(range(10**8, 10**8 + 1001)))
    payload = await mutate(
        gql, "addContactsToSequence", {"sequenceId": gid("Sequence", seq), "contactIds": contacts}
    )
    assert errors(payload) == [(["input", "contactIds"], "TOO_MANY")]
    assert await unchanged(db, workspace, before)


# ---------------------------------------------------------------- moments


@pytest.mark.parametrize("name", ["pauseEnrollments", "resumeEnrollments"])
async def test_resume_at_in_the_past_or_without_offset(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock,
    board: tuple[int, list[int]], name: str,
) -> None:  # fmt: skip
    _, ids = board
    if name == "resumeEnrollments":
        await mutate(gql, "pauseEnrollments", {"selection": ids_of(ids)})
    before = await snapshot(db, workspace.actor.workspace_id)
    for when in (START - timedelta(minutes=1), START):
        payload = await mutate(gql, name, {"selection": ids_of(ids), "resumeAt": when.isoformat()})
        assert errors(payload) == [(["input", "resumeAt"], "IN_THE_PAST")]
    payload = await mutate(gql, name, {"selection": ids_of(ids), "resumeAt": "2026-12-01T09:00:00"})
    assert errors(payload) == [(["input", "resumeAt"], "INVALID")]
    assert "offset" in payload["userErrors"][0]["message"]
    assert await unchanged(db, workspace, before)


# ---------------------------------------------------------------- sequences


async def test_bad_sequence_definitions(
    gql: GraphQLClient, workspace: Workspace, db: Database
) -> None:
    step = {"channel": "EMAIL", "waitMinutes": 0, "subject": "Hi", "body": "Hello"}
    window = {"days": ["MONDAY"], "start": "17:00", "end": "09:00", "timeZone": "UTC"}
    before = await snapshot(db, workspace.actor.workspace_id)
    cases: list[tuple[dict[str, Any], list[tuple[list[str], str]]]] = [
        ({"name": "   ", "steps": [step]}, [(["input", "name"], "REQUIRED")]),
        ({"name": "", "steps": [step]}, [(["input", "name"], "REQUIRED")]),
        ({"name": "No steps", "steps": []}, [(["input", "steps"], "REQUIRED")]),
        (
            {"name": "Text", "steps": [step, {"channel": "SMS", "waitMinutes": 5,
                                              "subject": "Nope", "body": "Hi"}]},
            [(["input", "steps", "1", "subject"], "INVALID")],
        ),
        ({"name": "Window", "steps": [step], "sendingWindow": window},
         [(["input", "sendingWindow", "end"], "INVALID")]),
        ({"name": "Window", "steps": [step], "sendingWindow": {**window, "end": "17:00"}},
         [(["input", "sendingWindow", "end"], "INVALID")]),
        ({"name": "Zone", "steps": [step],
          "sendingWindow": {**window, "end": "18:00", "timeZone": "Mars/Base"}},
         [(["input", "sendingWindow", "timeZone"], "INVALID_TIME_ZONE")]),
    ]  # fmt: skip
    for input, expected in cases:
        payload = await mutate(gql, "createSequence", input, SEQUENCE)
        assert payload["sequence"] is None
        assert errors(payload) == expected, input
    assert await unchanged(db, workspace, before)


async def test_bad_sequence_update_changes_nothing(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq = gid("Sequence", await make_sequence(db, clock, workspace.actor))
    before = await snapshot(db, workspace.actor.workspace_id)
    for input, expected in (
        ({"name": " "}, [(["input", "name"], "REQUIRED")]),
        ({"steps": []}, [(["input", "steps"], "REQUIRED")]),
        ({"name": "Fine", "steps": [{"channel": "SMS", "waitMinutes": 0, "subject": "x",
                                     "body": "y"}]},
         [(["input", "steps", "0", "subject"], "INVALID")]),
        ({"sendingWindow": {"days": ["FRIDAY"], "start": "10:00", "end": "10:00",
                            "timeZone": "UTC"}},
         [(["input", "sendingWindow", "end"], "INVALID")]),
    ):  # fmt: skip
        payload = await mutate(gql, "updateSequence", {"sequenceId": seq, **input}, SEQUENCE)
        assert errors(payload) == expected
    payload = await mutate(gql, "cloneSequence", {"sequenceId": seq, "name": ""}, SEQUENCE)
    assert errors(payload) == [(["input", "name"], "REQUIRED")]
    assert await unchanged(db, workspace, before)


# ---------------------------------------------------------------- contacts


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("email", "not-an-email", "INVALID_EMAIL"),
        ("email", "a@b@c.com", "INVALID_EMAIL"),
        ("phone", "12", "INVALID_PHONE"),
        ("phone", "call me maybe", "INVALID_PHONE"),
        ("timeZone", "Europe/Atlantis", "INVALID_TIME_ZONE"),
    ],
)
async def test_create_contacts_is_all_or_nothing(
    gql: GraphQLClient, workspace: Workspace, db: Database, field: str, value: str, code: str
) -> None:
    before = await snapshot(db, workspace.actor.workspace_id)
    specs = [
        {"firstName": "Good", "email": "good@example.com", "phone": "+14155550100"},
        {"firstName": "Bad", field: value},
        {"firstName": "Also good", "timeZone": "Europe/Paris"},
    ]
    payload = await mutate(gql, "createContacts", {"contacts": specs}, CONTACTS)
    assert payload["contacts"] == []
    assert errors(payload) == [(["input", "contacts", "1", field], code)]
    assert await unchanged(db, workspace, before)
    listing = await gql.execute("{ contacts(first: 10) { totalCount } }")
    assert listing["contacts"]["totalCount"] == 0


async def test_create_contacts_empty_first_name(gql: GraphQLClient) -> None:
    payload = await mutate(gql, "createContacts", {"contacts": [{"firstName": " "}]}, CONTACTS)
    assert errors(payload) == [(["input", "contacts", "0", "firstName"], "INVALID")]
    assert (await mutate(gql, "createContacts", {"contacts": []}, CONTACTS))["userErrors"]


# ---------------------------------------------------------------- other actions


async def test_other_invalid_bulk_inputs_change_nothing(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock,
    board: tuple[int, list[int]],
) -> None:  # fmt: skip
    seq, ids = board
    await mutate(gql, "finishEnrollments", {"selection": ids_of(ids), "reason": "OTHER"})
    other = await make_workspace(db, clock)
    group = await mutate(gql, "createGroup", {"name": "G"}, "group { id }")
    before = await snapshot(db, workspace.actor.workspace_id)
    sel = ids_of(ids)
    fields = "changedCount userErrors { field code }"
    cases: list[tuple[str, dict[str, Any], str, list[tuple[list[str], str]]]] = [
        ("restartEnrollments", {"selection": sel, "targetSequenceId": gid("Sequence", seq),
                                "newSequenceName": "X"}, fields,
         [(["input", "targetSequenceId"], "INVALID")]),
        ("restartEnrollments", {"selection": sel, "newSequenceName": "  "}, fields,
         [(["input", "newSequenceName"], "REQUIRED")]),
        ("addEnrollmentsToGroup", {"selection": sel, "groupId": gid("Group", 10**9)}, fields,
         [(["input", "groupId"], "NOT_FOUND")]),
        ("sendMessage", {"selection": sel, "body": "   "}, "userErrors { field code }",
         [(["input", "body"], "REQUIRED")]),
        ("sendMessage", {"selection": sel, "body": "Hi", "subject": "S"},
         "userErrors { field code }", [(["input", "subject"], "INVALID")]),
        ("recordDeliveryEvent", {"enrollmentId": gid("Enrollment", ids[0]), "kind": "REPLIED",
                                 "returnDate": "2026-12-01"}, "userErrors { field code }",
         [(["input", "returnDate"], "INVALID")]),
        ("recordDeliveryEvent", {"enrollmentId": gid("Enrollment", ids[0]), "kind": "OPENED",
                                 "occurredAt": (START + timedelta(days=1)).isoformat()},
         "userErrors { field code }", [(["input", "occurredAt"], "INVALID")]),
        ("pauseEnrollments", {"selection": sel, "idempotencyKey": "  "}, fields,
         [(["input", "idempotencyKey"], "REQUIRED")]),
        ("pauseEnrollments", {"selection": {"sequenceId": gid("Sequence", seq),
                                            "filter": {"groupId": gid("Group", 10**9)}}}, fields,
         [(["input", "selection", "filter", "groupId"], "NOT_FOUND")]),
        ("pauseEnrollments", {"selection": {"sequenceId": gid("Sequence", seq), "filter": {
            "enrolledByIds": [gid("User", other.actor.user_id)]}}}, fields,
         [(["input", "selection", "filter", "enrolledByIds", "0"], "NOT_FOUND")]),
    ]  # fmt: skip
    assert group["group"]["id"]
    for name, input, wanted, expected in cases:
        payload = await mutate(gql, name, input, wanted)
        assert errors(payload) == expected, (name, input)
    assert await unchanged(db, workspace, before)


async def test_malformed_requests_are_graphql_errors(
    gql: GraphQLClient, board: tuple[int, list[int]]
) -> None:
    _, ids = board
    query = (
        "mutation($input: FinishEnrollmentsInput!) "
        f"{{ finishEnrollments(input: $input) {{ {BULK} }} }}"
    )
    problems = await gql.errors(query, {"input": {"selection": ids_of(ids), "reason": "BORED"}})
    assert "BORED" in problems[0]["message"]


async def test_viewer_cannot_change_anything(
    http: httpx.AsyncClient, workspace: Workspace, db: Database, clock: FrozenClock,
    board: tuple[int, list[int]],
) -> None:  # fmt: skip
    _, ids = board
    viewer = await issue_token(
        db, clock, email=f"viewer@{workspace.name}.test", workspace=workspace.name, role=Role.VIEWER
    )
    client = GraphQLClient(http, viewer.token)
    before = await snapshot(db, workspace.actor.workspace_id)
    payload = await mutate(client, "pauseEnrollments", {"selection": ids_of(ids)})
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    payload = await mutate(
        client, "createSequence",
        {"name": "X", "steps": [{"channel": "SMS", "waitMinutes": 0, "body": "b"}]}, SEQUENCE,
    )  # fmt: skip
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    assert await snapshot(db, workspace.actor.workspace_id) == before
