"""Keyset pagination of `enrollments`, its argument errors, and the number of SQL
statements a page costs (no N+1)."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from starlette.applications import Starlette

from seqgql.clock import FrozenClock
from seqgql.domain.selection import EnrollmentFilter, Selection
from seqgql.graphql.relay import parse_global_id
from seqgql.persistence.database import Database
from seqgql.persistence.tables import sequences
from seqgql.services.actor import Actor
from seqgql.services.auth import issue_token
from seqgql.services.enrollments import pause, remove
from tests.helpers.factories import enroll_names, gid, make_sequence
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.workspace import Workspace, make_workspace

PAGE = """
query($seq: ID!, $first: Int, $after: String, $order: EnrollmentOrder, $filter: EnrollmentFilter) {
  enrollments(sequenceId: $seq, first: $first, after: $after, orderBy: $order, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id enrolledAt contact { firstName lastName } } }
  }
}"""

# First names: unsorted, mixed case, exact duplicates, none a prefix of another (so that
# every collation orders "first last" the same way).
FIRST_NAMES = [
    "mia",
    "Zoe",
    "Liam",
    "ella",
    "Noah",
    "zack",
    "Olga",
    "Mia",
    "Ivan",
    "Bea",
    "Ugo",
    "Kurt",
    "Ezra",
    "Bea",
    "Dora",
    "xena",
    "Hugo",
    "Rita",
    "Carl",
    "wade",
    "Yuri",
    "Fred",
    "Pia",
]


@pytest.fixture
async def roster(db: Database, clock: FrozenClock, workspace: Workspace) -> int:
    """23 enrollments made in three batches a minute apart (ties within a batch)."""
    seq = await make_sequence(db, clock, workspace.actor)
    for batch in (FIRST_NAMES[:8], FIRST_NAMES[8:15], FIRST_NAMES[15:]):
        await enroll_names(db, clock, workspace.actor, seq, batch)
        clock.advance(timedelta(minutes=1))
    return seq


def pk(node: dict[str, Any]) -> int:
    return parse_global_id(node["id"])[1]


def order_key(field: str, node: dict[str, Any]) -> Any:
    if field == "ENROLLED_AT":
        return (datetime.fromisoformat(node["enrolledAt"]), pk(node))
    contact = node["contact"]
    return (f"{contact['firstName']} {contact['lastName'] or ''}".strip().lower(), pk(node))


async def page(gql: GraphQLClient, seq: int, **variables: Any) -> dict[str, Any]:
    data = await gql.execute(PAGE, {"seq": gid("Sequence", seq), **variables})
    return data["enrollments"]  # type: ignore[no-any-return]


async def walk(gql: GraphQLClient, seq: int, first: int, **variables: Any) -> list[dict[str, Any]]:
    """Every node over all pages, checking each page's pageInfo on the way."""
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(100):
        result = await page(gql, seq, first=first, after=after, **variables)
        edges, info = result["edges"], result["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if edges:
            assert info["startCursor"] == edges[0]["cursor"]
            assert info["endCursor"] == edges[-1]["cursor"]
        nodes += [e["node"] for e in edges]
        if not info["hasNextPage"]:
            return nodes
        assert len(edges) == first, "a page short of `first` said more would follow"
        after = info["endCursor"]
    raise AssertionError("pagination never ended")


ORDERS = [
    (None, "ENROLLED_AT", True),  # the default: newest first
    ({"field": "ENROLLED_AT", "direction": "DESC"}, "ENROLLED_AT", True),
    ({"field": "ENROLLED_AT", "direction": "ASC"}, "ENROLLED_AT", False),
    ({"field": "CONTACT_NAME", "direction": "ASC"}, "CONTACT_NAME", False),
    ({"field": "CONTACT_NAME", "direction": "DESC"}, "CONTACT_NAME", True),
]


@pytest.mark.parametrize(("order", "field", "descending"), ORDERS)
@pytest.mark.parametrize("first", [1, 4, 7])
async def test_walking_all_pages_returns_every_row_once_in_order(
    gql: GraphQLClient,
    roster: int,
    order: dict[str, str] | None,
    field: str,
    descending: bool,
    first: int,
) -> None:
    nodes = await walk(gql, roster, first, order=order)
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids)) == len(FIRST_NAMES)
    keys = [order_key(field, n) for n in nodes]
    assert keys == sorted(keys, reverse=descending)
    # the same order as one big page
    whole = await page(gql, roster, first=100, order=order)
    assert [e["node"]["id"] for e in whole["edges"]] == ids
    assert whole["totalCount"] == len(FIRST_NAMES) and not whole["pageInfo"]["hasNextPage"]


async def test_contact_name_order_is_alphabetical_ignoring_case(
    gql: GraphQLClient, roster: int
) -> None:
    order = {"field": "CONTACT_NAME", "direction": "ASC"}
    listed = [n["contact"]["firstName"] for n in await walk(gql, roster, 5, order=order)]
    assert [n.lower() for n in listed] == sorted(n.lower() for n in FIRST_NAMES)
    assert listed[:3] == ["Bea", "Bea", "Carl"]


async def test_default_order_is_newest_first(gql: GraphQLClient, roster: int) -> None:
    nodes = (await page(gql, roster, first=100))["edges"]
    newest = {e["node"]["contact"]["firstName"] for e in nodes[:8]}
    assert newest == set(FIRST_NAMES[15:])
    oldest = {e["node"]["contact"]["firstName"] for e in nodes[-8:]}
    assert oldest == set(FIRST_NAMES[:8])


@pytest.mark.parametrize(("order", "field", "descending"), ORDERS)
async def test_pages_are_stable_when_rows_are_added_between_them(
    gql: GraphQLClient,
    roster: int,
    workspace: Workspace,
    db: Database,
    clock: FrozenClock,
    order: dict[str, str] | None,
    field: str,
    descending: bool,
) -> None:
    original = [e["node"]["id"] for e in (await page(gql, roster, first=100, order=order))["edges"]]
    first_page = await page(gql, roster, first=6, order=order)
    seen = [e["node"]["id"] for e in first_page["edges"]]
    assert seen == original[:6]

    # new contacts arrive: names on both sides of the cursor, at the same moment as
    # the newest rows and later
    clock.advance(timedelta(seconds=-60))
    await enroll_names(db, clock, workspace.actor, roster, ["Aaron", "Nora"])
    clock.advance(timedelta(minutes=5))
    await enroll_names(db, clock, workspace.actor, roster, ["Abel", "Kai", "Zane"])
    # and one row of page 1 leaves the list
    await remove(db, clock, workspace.actor, Selection(ids=(pk(first_page["edges"][2]["node"]),)))

    after = first_page["pageInfo"]["endCursor"]
    rest: list[dict[str, Any]] = []
    while after:
        result = await page(gql, roster, first=6, after=after, order=order)
        rest += [e["node"] for e in result["edges"]]
        after = result["pageInfo"]["endCursor"] if result["pageInfo"]["hasNextPage"] else None
    rest_ids = [n["id"] for n in rest]
    assert len(rest_ids) == len(set(rest_ids))
    assert not set(seen) & set(rest_ids), "page 2 repeated rows of page 1"
    assert [i for i in rest_ids if i in original] == original[6:], "original rows skipped"
    boundary = order_key(field, first_page["edges"][-1]["node"])
    for node in rest:  # whatever was added after the cursor sorts after it
        assert (
            (order_key(field, node) < boundary)
            if descending
            else (order_key(field, node) > boundary)
        )


async def test_first_above_100_is_an_error_naming_first(gql: GraphQLClient, roster: int) -> None:
    errors = await gql.errors(PAGE, {"seq": gid("Sequence", roster), "first": 101})
    assert len(errors) == 1
    assert errors[0]["extensions"]["argument"] == "first"
    assert "first" in errors[0]["message"] and "100" in errors[0]["message"]
    negative = await gql.errors(PAGE, {"seq": gid("Sequence", roster), "first": -1})
    assert negative[0]["extensions"]["argument"] == "first"
    # 100 itself is fine
    assert len((await page(gql, roster, first=100))["edges"]) == len(FIRST_NAMES)
    # the default page is 50
    assert (await page(gql, roster))["totalCount"] == len(FIRST_NAMES)


def _forged(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


GARBAGE_CURSORS = [
    "garbage",
    "!!!",
    "",
    _forged({"not": "a list"}),
    _forged(["2026-11-23T09:00:00+00:00"]),
    _forged(["2026-11-23T09:00:00+00:00", 5, 6]),
    _forged(["not a moment", 5]),
    _forged([12345, 5]),
    _forged(["2026-11-23T09:00:00+00:00", "five"]),
    _forged(["2026-11-23T09:00:00+00:00", None]),
]


@pytest.mark.parametrize(
    "cursor", GARBAGE_CURSORS, ids=[f"cursor{i}" for i in range(len(GARBAGE_CURSORS))]
)
async def test_a_garbage_after_is_an_error_naming_after(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock, cursor: str
) -> None:
    seq = await make_sequence(db, clock, workspace.actor)
    await enroll_names(db, clock, workspace.actor, seq, ["Solo"])
    errors = await gql.errors(PAGE, {"seq": gid("Sequence", seq), "after": cursor, "first": 5})
    assert errors[0].get("extensions", {}).get("argument") == "after", errors
    assert "after" in errors[0]["message"]


@pytest.mark.parametrize(
    ("given_by", "used_with"),
    [
        (
            {"field": "CONTACT_NAME", "direction": "ASC"},
            {"field": "ENROLLED_AT", "direction": "DESC"},
        ),
        (
            {"field": "ENROLLED_AT", "direction": "DESC"},
            {"field": "CONTACT_NAME", "direction": "ASC"},
        ),
    ],
)
async def test_a_cursor_of_another_order_is_an_error_naming_after(
    gql: GraphQLClient,
    roster: int,
    given_by: dict[str, str],
    used_with: dict[str, str],
) -> None:
    cursor = (await page(gql, roster, first=3, order=given_by))["pageInfo"]["endCursor"]
    errors = await gql.errors(
        PAGE, {"seq": gid("Sequence", roster), "first": 3, "after": cursor, "order": used_with}
    )
    assert errors[0].get("extensions", {}).get("argument") == "after", errors


NPLUSONE = """
query($seq: ID!, $first: Int) {
  enrollments(sequenceId: $seq, first: $first) {
    totalCount
    statusCounts { status count }
    edges { node {
      id status
      contact { firstName email }
      sequence { name }
      enrolledBy { name }
    } }
  }
}"""


async def test_a_page_costs_the_same_few_statements_whatever_its_size(
    app: Starlette, gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    actor = workspace.actor
    second = await issue_token(
        db, clock, email=f"other@{workspace.name}.test", workspace=workspace.name
    )
    colleague = Actor(second.workspace_id, second.user_id, actor.role)
    seq = await make_sequence(db, clock, actor, name="Big one")
    await enroll_names(db, clock, actor, seq, [f"Admin{i}" for i in range(30)])
    await enroll_names(db, clock, colleague, seq, [f"Other{i}" for i in range(30)])
    await pause(
        db, clock, actor, Selection(sequence_id=seq, filter=EnrollmentFilter(search="admin1"))
    )

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        text = statement.strip().upper()
        if text.startswith(("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SELECT 1")):
            return
        if "API_TOKENS" in text:  # authentication, not the query
            return
        statements.append(statement)

    engine = app.state.db.engine.sync_engine
    await gql.execute(NPLUSONE, {"seq": gid("Sequence", seq), "first": 1})  # warm up
    event.listen(engine, "before_cursor_execute", count)
    try:
        costs = {}
        for size in (5, 50):
            statements.clear()
            data = (await gql.execute(NPLUSONE, {"seq": gid("Sequence", seq), "first": size}))[
                "enrollments"
            ]
            assert len(data["edges"]) == size
            assert data["totalCount"] == 60
            assert {e["node"]["sequence"]["name"] for e in data["edges"]} == {"Big one"}
            assert all(e["node"]["contact"]["email"] for e in data["edges"])
            assert all(e["node"]["enrolledBy"]["name"] for e in data["edges"])
            costs[size] = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(costs[50]) == len(costs[5]), costs
    assert 1 <= len(costs[50]) <= 8, costs[50]
    # the page shows both users' enrollments, so the user loader really batched two ids
    names = {e["node"]["enrolledBy"]["name"] for e in data["edges"]}
    assert len(names) == 2


async def test_enrollments_of_another_workspace_or_a_missing_sequence_are_not_found(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    other = await make_workspace(db, clock)
    foreign = await make_sequence(db, clock, other.actor)
    async with db.read() as conn:
        top = (await conn.execute(sa.select(sa.func.max(sequences.c.id)))).scalar_one()
    missing = top + 1000
    answers = []
    for seq in (foreign, missing):
        errors = await gql.errors(PAGE, {"seq": gid("Sequence", seq)})
        assert errors[0]["extensions"]["argument"] == "sequenceId"
        answers.append((errors[0]["message"], errors[0]["extensions"]["code"]))
    assert answers[0] == answers[1], "a foreign id must answer like a missing one"
