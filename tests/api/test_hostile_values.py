"""Values an integrator (or an attacker) can send that the API once answered with an
internal error: now each is refused with a code naming the field, and nothing changes."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from tests.helpers.bulk import snapshot, states
from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

FIELDS = "changedCount userErrors { field code message }"
PAGE = "query($seq: ID!, $filter: EnrollmentFilter, $after: String) { enrollments(sequenceId: $seq, filter: $filter, after: $after) { totalCount } }"  # noqa: E501
CONTACTS_PAGE = "query($after: String) { contacts(after: $after) { totalCount } }"
ORDERED_PAGE = "query($seq: ID!, $after: String) { enrollments(sequenceId: $seq, after: $after, orderBy: {field: CONTACT_NAME, direction: ASC}) { totalCount } }"  # noqa: E501


def cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def codes(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def argument_error(
    gql: GraphQLClient, query: str, variables: dict[str, Any]
) -> tuple[str, str]:
    [error] = await gql.errors(query, variables)
    return error["extensions"]["code"], error["extensions"]["argument"]


@pytest.fixture
async def board(db: Database, clock: FrozenClock, workspace: Workspace) -> tuple[int, list[int]]:
    return await make_enrolled(db, clock, workspace.actor, 3)


async def test_lists_past_the_drivers_parameters_are_too_many(
    gql: GraphQLClient, db: Database, workspace: Workspace, board: tuple[int, list[int]]
) -> None:
    seq, ids = board
    before = await snapshot(db, workspace.actor.workspace_id)
    base = {"sequenceId": gid("Sequence", seq)}
    many = gids("Enrollment", list(range(1, 40_001)))  # past 32,767 bind parameters
    payload = await mutate(
        gql, "pauseEnrollments", {"selection": {**base, "excludeIds": many}}, FIELDS
    )
    assert codes(payload) == [(["input", "selection", "excludeIds"], "TOO_MANY")]
    for key, values in (
        ("steps", list(range(1, 40_001))),
        ("enrolledByIds", gids("User", list(range(1, 1_002)))),
    ):
        selection = {**base, "filter": {key: values}}
        payload = await mutate(gql, "pauseEnrollments", {"selection": selection}, FIELDS)
        assert codes(payload) == [(["input", "selection", "filter", key], "TOO_MANY")]
        page = {"seq": gid("Sequence", seq), "filter": {key: values}}
        assert await argument_error(gql, PAGE, page) == ("TOO_MANY", f"filter.{key}")
    assert await snapshot(db, workspace.actor.workspace_id) == before
    assert set((await states(db, ids)).values()) == {("ACTIVE", None)}


async def test_a_bad_id_deep_in_a_page_filter_names_its_place(
    gql: GraphQLClient, board: tuple[int, list[int]]
) -> None:
    seq, _ = board
    bad = {"seq": gid("Sequence", seq), "filter": {"enrolledByIds": [gid("User", 1), "nope"]}}
    assert await argument_error(gql, PAGE, bad) == ("INVALID_ID", "filter.enrolledByIds.1")


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:30:00-05:00"])
async def test_moments_that_do_not_exist_in_utc_are_invalid(
    gql: GraphQLClient, db: Database, workspace: Workspace, board: tuple[int, list[int]],
    moment: str,
) -> None:  # fmt: skip
    seq, ids = board
    before = await snapshot(db, workspace.actor.workspace_id)
    payload = await mutate(
        gql,
        "recordDeliveryEvent",
        {"enrollmentId": gid("Enrollment", ids[0]), "kind": "REPLIED", "occurredAt": moment},
        "statusChanged userErrors { field code }",
    )
    assert payload == {
        "statusChanged": False,
        "userErrors": [{"field": ["input", "occurredAt"], "code": "INVALID"}],
    }
    payload = await mutate(
        gql,
        "pauseEnrollments",
        {"selection": {"ids": gids("Enrollment", ids)}, "resumeAt": moment},
        FIELDS,
    )
    assert codes(payload) == [(["input", "resumeAt"], "INVALID")]
    page = {"seq": gid("Sequence", seq), "filter": {"enrolledAfter": moment}}
    assert await argument_error(gql, PAGE, page) == ("INVALID", "filter.enrolledAfter")
    assert await snapshot(db, workspace.actor.workspace_id) == before


FORGED_ID_CURSORS = [
    cursor([10**30]),
    cursor([1e30]),
    cursor([-1]),
    base64.urlsafe_b64encode(b"[" * 100_000 + b"]" * 100_000).decode(),
    "A" * 5_000,
]


@pytest.mark.parametrize(
    "after", FORGED_ID_CURSORS, ids=["huge", "float", "negative", "deep", "long"]
)
async def test_forged_id_cursors_are_refused(gql: GraphQLClient, after: str) -> None:
    assert await argument_error(gql, CONTACTS_PAGE, {"after": after}) == ("BAD_USER_INPUT", "after")


@pytest.mark.parametrize(
    "after",
    [
        cursor(["ENROLLED_AT", "DESC", "9999-12-31T23:30:00-05:00", 1]),
        cursor(["ENROLLED_AT", "DESC", "0001-01-01T00:00:00+14:00", 1]),
        cursor(["ENROLLED_AT", "DESC", "2026-01-01T00:00:00+00:00", 10**30]),
    ],
    ids=["year-9999", "year-1", "huge-id"],
)
async def test_forged_page_cursors_are_refused(
    gql: GraphQLClient, board: tuple[int, list[int]], after: str
) -> None:
    seq, _ = board
    page = {"seq": gid("Sequence", seq), "after": after}
    assert await argument_error(gql, PAGE, page) == ("BAD_USER_INPUT", "after")


async def test_a_name_cursor_with_a_nul_is_refused(
    gql: GraphQLClient, board: tuple[int, list[int]]
) -> None:
    seq, _ = board
    after = cursor(["CONTACT_NAME", "ASC", "ada\u0000", 1])
    page = {"seq": gid("Sequence", seq), "after": after}
    assert await argument_error(gql, ORDERED_PAGE, page) == ("BAD_USER_INPUT", "after")


@pytest.mark.parametrize(
    "since",
    ["ev:{seq}:-99999999999999999999", "ev:{seq}:99999999999999999999", "ev:0:1", "ev:{seq}: 1"],
)
async def test_forged_event_cursors_are_refused(
    app: Any, gql: GraphQLClient, board: tuple[int, list[int]], since: str
) -> None:
    from tests.helpers.subscriptions import CHANGES, ack, connect, subscribe

    seq, _ = board
    token = gql.token
    forged = base64.urlsafe_b64encode(since.format(seq=seq).encode()).decode()
    async with connect(app, token) as ws:
        await ack(ws)
        await subscribe(ws, "s", CHANGES, {"seq": gid("Sequence", seq), "since": forged})
        message = await ws.receive_json()
        assert message["type"] in ("next", "error"), message
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert [e["extensions"]["code"] for e in errors] == ["INVALID_CURSOR"]


@pytest.mark.parametrize("name", ["Ada\nLovelace", "Ada\r\nBcc: x@y.z", "Tab\there"])
async def test_names_and_subjects_are_one_line(gql: GraphQLClient, name: str) -> None:
    payload = await mutate(
        gql,
        "createContacts",
        {"contacts": [{"firstName": name}]},
        "contacts { id } userErrors { field code }",
    )
    assert payload == {
        "contacts": [],
        "userErrors": [{"field": ["input", "contacts", "0", "firstName"], "code": "INVALID"}],
    }
    step = {"channel": "EMAIL", "waitMinutes": 0, "body": "Hello", "subject": name}
    payload = await mutate(
        gql,
        "createSequence",
        {"name": "S", "steps": [step]},
        "sequence { id } userErrors { field code }",
    )
    assert payload == {
        "sequence": None,
        "userErrors": [{"field": ["input", "steps", "0", "subject"], "code": "INVALID"}],
    }
