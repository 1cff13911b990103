"""Relay's backward paging (`last`/`before`) on every connection, the lists that became
connections (`groups`, `users`), and `Contact.enrollments`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.selection import Selection
from seqgql.graphql.relay import parse_global_id
from seqgql.persistence.database import Database
from seqgql.services.contacts import create_group
from seqgql.services.enrollments import add_contacts, remove
from tests.helpers.factories import enroll_names, gid, make_contacts, make_sequence
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.workspace import Workspace, make_workspace

NAMES = ["mia", "Zoe", "Liam", "ella", "Noah", "zack", "Olga", "Mia", "Ivan", "Bea", "Ugo"]

PAGE = """
query($seq: ID!, $first: Int, $after: String, $last: Int, $before: String,
      $order: EnrollmentOrder, $filter: EnrollmentFilter) {
  enrollments(sequenceId: $seq, first: $first, after: $after, last: $last, before: $before,
              orderBy: $order, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id contact { firstName } } }
  }
}"""

COUNTED = PAGE.replace("totalCount", "totalCount statusCounts { status count }")


@pytest.fixture
async def roster(db: Database, clock: FrozenClock, workspace: Workspace) -> int:
    """11 enrollments in three batches a minute apart (ties on time within a batch)."""
    seq = await make_sequence(db, clock, workspace.actor)
    for batch in (NAMES[:4], NAMES[4:8], NAMES[8:]):
        await enroll_names(db, clock, workspace.actor, seq, batch)
        clock.advance(timedelta(minutes=1))
    return seq


async def page(gql: GraphQLClient, seq: int, query: str = PAGE, **variables: Any) -> dict[str, Any]:
    data = await gql.execute(query, {"seq": gid("Sequence", seq), **variables})
    return data["enrollments"]  # type: ignore[no-any-return]


def ids(result: dict[str, Any]) -> list[str]:
    return [e["node"]["id"] for e in result["edges"]]


async def walk_backward(
    gql: GraphQLClient, seq: int, last: int, query: str = PAGE, **variables: Any
) -> list[str]:
    """Every id, read from the end a page at a time, put back in the list's order."""
    pages: list[list[str]] = []
    before = None
    for _ in range(100):
        result = await page(gql, seq, query, last=last, before=before, **variables)
        info = result["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        if result["edges"]:
            assert info["startCursor"] == result["edges"][0]["cursor"]
            assert info["endCursor"] == result["edges"][-1]["cursor"]
        pages.insert(0, ids(result))
        if not info["hasPreviousPage"]:
            return [i for p in pages for i in p]
        assert len(result["edges"]) == last, "a short page said more came before it"
        before = info["startCursor"]
    raise AssertionError("backward paging never reached the start")


ORDERS = [
    None,
    {"field": "ENROLLED_AT", "direction": "ASC"},
    {"field": "CONTACT_NAME", "direction": "ASC"},
    {"field": "CONTACT_NAME", "direction": "DESC"},
]


@pytest.mark.parametrize("order", ORDERS, ids=["default", "time-asc", "name-asc", "name-desc"])
@pytest.mark.parametrize("last", [1, 3, 5])
@pytest.mark.parametrize("query", [PAGE, COUNTED], ids=["page", "with-counts"])
async def test_paging_backward_lists_the_same_rows_in_the_same_order(
    gql: GraphQLClient, roster: int, order: dict[str, str] | None, last: int, query: str
) -> None:
    whole = ids(await page(gql, roster, first=100, order=order))
    assert len(whole) == len(NAMES)
    assert await walk_backward(gql, roster, last, query, order=order) == whole


async def test_backward_paging_keeps_the_filter_and_its_counts(
    gql: GraphQLClient, roster: int
) -> None:
    flt = {"search": "mia"}  # "mia" and "Mia"
    forward = await page(gql, roster, COUNTED, first=10, filter=flt)
    backward = await page(gql, roster, COUNTED, last=1, filter=flt)
    assert len(ids(forward)) == 2 and ids(backward) == ids(forward)[-1:]
    assert backward["totalCount"] == 2
    assert backward["statusCounts"] == forward["statusCounts"]
    assert backward["pageInfo"]["hasPreviousPage"] is True


async def test_a_window_between_two_cursors(gql: GraphQLClient, roster: int) -> None:
    whole = await page(gql, roster, first=100)
    cursors = [e["cursor"] for e in whole["edges"]]
    every = ids(whole)
    # after the 2nd and before the 8th: the 3rd to the 7th, from either end
    forward = await page(gql, roster, first=10, after=cursors[1], before=cursors[7])
    assert ids(forward) == every[2:7]
    assert forward["pageInfo"]["hasNextPage"] is False
    assert ids(await page(gql, roster, first=2, after=cursors[1], before=cursors[7])) == every[2:4]
    assert ids(await page(gql, roster, last=2, after=cursors[1], before=cursors[7])) == every[5:7]
    # `before` alone: the (up to 50) items just before it
    assert ids(await page(gql, roster, before=cursors[3])) == every[:3]
    # `last` alone: the end of the list
    tail = await page(gql, roster, last=4)
    assert ids(tail) == every[-4:]
    assert tail["pageInfo"]["hasNextPage"] is False and tail["pageInfo"]["hasPreviousPage"]
    assert ids(await page(gql, roster, last=0)) == []


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"first": 2, "last": 2}, "last"),
        ({"last": 101}, "last"),
        ({"last": -1}, "last"),
        ({"last": 2, "before": "garbage"}, "before"),
        ({"last": 2, "before": ""}, "before"),
        ({"last": 2, "before": "x" * 5_000}, "before"),
        ({"last": 2, "before": "WyJFTlJPTExFRF9BVCIsICJERVNDIiwgMSwgMl0="}, "before"),
    ],
)
async def test_bad_backward_arguments_are_errors_naming_them(
    gql: GraphQLClient, roster: int, variables: dict[str, Any], argument: str
) -> None:
    errors = await gql.errors(PAGE, {"seq": gid("Sequence", roster), **variables})
    assert len(errors) == 1, errors
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["extensions"]["argument"] == argument
    assert argument in errors[0]["message"]


async def test_a_before_cursor_of_another_order_is_refused(gql: GraphQLClient, roster: int) -> None:
    by_name = {"field": "CONTACT_NAME", "direction": "ASC"}
    cursor = (await page(gql, roster, first=3, order=by_name))["pageInfo"]["endCursor"]
    errors = await gql.errors(PAGE, {"seq": gid("Sequence", roster), "before": cursor})
    assert errors[0]["extensions"]["argument"] == "before"


LISTS = """
query($first: Int, $after: String, $last: Int, $before: String) {
  groups(first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name } }
  }
}"""
CONTACTS = """
query($after: String) { contacts(first: 1, after: $after) { edges { node { firstName } } } }
"""


async def test_groups_are_a_connection_by_name_paged_both_ways(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    names = ["delta", "Alpha", "charlie", "Echo", "bravo"]
    by_name = sorted(names, key=str.lower)
    for name in names:
        assert (await create_group(db, clock, workspace.actor, name)).group_id
    first = (await gql.execute(LISTS, {"first": 2}))["groups"]
    assert [e["node"]["name"] for e in first["edges"]] == by_name[:2]
    assert first["totalCount"] == 5 and first["pageInfo"]["hasNextPage"]
    rest = await gql.execute(LISTS, {"first": 10, "after": first["pageInfo"]["endCursor"]})
    assert [e["node"]["name"] for e in rest["groups"]["edges"]] == by_name[2:]
    last = (await gql.execute(LISTS, {"last": 2}))["groups"]
    assert [e["node"]["name"] for e in last["edges"]] == by_name[-2:]
    before = await gql.execute(LISTS, {"last": 10, "before": last["pageInfo"]["startCursor"]})
    assert [e["node"]["name"] for e in before["groups"]["edges"]] == by_name[:-2]
    # a group's cursor is not a contact's
    errors = await gql.errors(CONTACTS, {"after": last["pageInfo"]["startCursor"]})
    assert errors and errors[0]["extensions"]["argument"] == "after"


USERS = """
query($last: Int, $before: String) {
  users(last: $last, before: $before) {
    totalCount pageInfo { hasPreviousPage startCursor } edges { node { id name } }
  }
}"""


async def test_users_are_a_connection_by_name(
    gql: GraphQLClient, db: Database, clock: FrozenClock
) -> None:
    other = await make_workspace(db, clock)  # its users stay its own
    assert other.actor.user_id
    users = (await gql.execute(USERS, {"last": 1}))["users"]
    assert users["totalCount"] == 1 and not users["pageInfo"]["hasPreviousPage"]
    before = await gql.execute(USERS, {"last": 5, "before": users["pageInfo"]["startCursor"]})
    assert before["users"]["edges"] == []


CONTACT = """
query($id: ID!, $removed: Boolean!, $first: Int, $last: Int, $before: String) {
  node(id: $id) { ... on Contact {
    enrollments(includeRemoved: $removed, first: $first, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor }
      edges { node { id status contact { id } sequence { name } } }
    }
  } }
}"""


async def test_a_contact_lists_its_enrollments_across_sequences(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    actor = workspace.actor
    (contact,) = await make_contacts(db, clock, actor, 1)
    (bystander,) = await make_contacts(db, clock, actor, 1, prefix="Other")
    sequences = [await make_sequence(db, clock, actor, name=n) for n in ("One", "Two", "Three")]
    for seq in sequences:
        assert not (await add_contacts(db, clock, actor, seq, [contact, bystander])).errors
    two = await page(gql, sequences[1], first=10)
    mine = [
        e["node"]["id"] for e in two["edges"] if e["node"]["contact"]["firstName"] == "Contact0"
    ]
    await remove(db, clock, actor, Selection(ids=(parse_global_id(mine[0])[1],)))

    variables = {"id": gid("Contact", contact), "removed": False}
    listed = (await gql.execute(CONTACT, variables))["node"]["enrollments"]
    assert listed["totalCount"] == 2
    assert [e["node"]["sequence"]["name"] for e in listed["edges"]] == ["One", "Three"]
    assert {e["node"]["contact"]["id"] for e in listed["edges"]} == {gid("Contact", contact)}
    everything = (await gql.execute(CONTACT, {**variables, "removed": True}))["node"]
    statuses = [e["node"]["status"] for e in everything["enrollments"]["edges"]]
    assert statuses == ["ACTIVE", "REMOVED", "ACTIVE"]
    # backward: the last one, then the one before it
    tail = (await gql.execute(CONTACT, {**variables, "last": 1}))["node"]["enrollments"]
    assert [e["node"]["sequence"]["name"] for e in tail["edges"]] == ["Three"]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    cursor = tail["pageInfo"]["startCursor"]
    head = (await gql.execute(CONTACT, {**variables, "last": 5, "before": cursor}))["node"]
    assert [e["node"]["sequence"]["name"] for e in head["enrollments"]["edges"]] == ["One"]
    errors = await gql.errors(CONTACT, {**variables, "first": 1, "last": 1})
    assert errors[0]["extensions"]["argument"] == "last"


SEQUENCES_AND_HISTORY = """
query($last: Int, $before: String) {
  sequences(last: $last, before: $before) {
    pageInfo { hasPreviousPage startCursor } edges { node { name } }
  }
}"""


async def test_sequences_page_backward(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    for name in ("A", "B", "C", "D"):
        await make_sequence(db, clock, workspace.actor, name=name)
    tail = (await gql.execute(SEQUENCES_AND_HISTORY, {"last": 3}))["sequences"]
    assert [e["node"]["name"] for e in tail["edges"]] == ["B", "C", "D"]
    before = tail["pageInfo"]["startCursor"]
    head = await gql.execute(SEQUENCES_AND_HISTORY, {"last": 3, "before": before})
    assert [e["node"]["name"] for e in head["sequences"]["edges"]] == ["A"]
    assert head["sequences"]["pageInfo"]["hasPreviousPage"] is False
