"""A global id has one spelling: the one this API gives out. Anything else is refused
with INVALID_ID naming the argument, never an internal error."""

from __future__ import annotations

import base64

import pytest

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from tests.helpers.factories import gid, make_enrolled, make_sequence
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace, make_workspace


def raw(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


FORGED = [
    "Sequence: 1",
    "Sequence:1 ",
    "Sequence:+1",
    "Sequence:01",
    "Sequence:0_1",
    "Sequence:\u0661",  # an Arabic-Indic one
    "Sequence:0",
    "Sequence:-1",
    "Sequence:9223372036854775808",  # past int64
    "Sequence:" + "9" * 40,
    "Sequence:1e3",
]


@pytest.mark.parametrize("text", FORGED)
async def test_forged_spellings_are_invalid_ids(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace, text: str
) -> None:
    await make_sequence(db, clock, workspace.actor)
    errors = await gql.errors("query($id: ID!) { sequence(id: $id) { id } }", {"id": raw(text)})
    assert [(e["extensions"]["code"], e["extensions"]["argument"]) for e in errors] == [
        ("INVALID_ID", "id")
    ]
    payload = await mutate(
        gql,
        "archiveSequence",
        {"sequenceId": raw(text)},
        "sequence { id } userErrors { field code }",
    )
    assert payload == {
        "sequence": None,
        "userErrors": [{"field": ["input", "sequenceId"], "code": "INVALID_ID"}],
    }


async def test_the_id_given_out_still_works(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq = await make_sequence(db, clock, workspace.actor)
    assert raw(f"Sequence:{seq}") == gid("Sequence", seq)
    data = await gql.execute(
        "query($id: ID!) { sequence(id: $id) { id } }", {"id": gid("Sequence", seq)}
    )
    assert data == {"sequence": {"id": gid("Sequence", seq)}}
    huge = raw("Sequence:9223372036854775807")  # the largest there can be: not found
    data = await gql.execute("query($id: ID!) { sequence(id: $id) { id } }", {"id": huge})
    assert data == {"sequence": None}


async def test_nodes_answers_each_id_in_order_null_where_not_found(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, enrollment_ids = await make_enrolled(db, clock, workspace.actor, 2)
    other = await make_workspace(db, clock)
    foreign_seq = await make_sequence(db, clock, other.actor)
    ids = [
        gid("Enrollment", enrollment_ids[1]),
        gid("Sequence", seq),
        gid("Sequence", foreign_seq),  # another workspace's: like a missing one
        gid("Enrollment", 10**12),
        gid("Enrollment", enrollment_ids[0]),
    ]
    query = """query($ids: [ID!]!) { nodes(ids: $ids) {
      __typename id ... on Sequence { name } ... on Enrollment { status } } }"""
    nodes = (await gql.execute(query, {"ids": ids}))["nodes"]
    assert [n and (n["__typename"], n["id"]) for n in nodes] == [
        ("Enrollment", ids[0]), ("Sequence", ids[1]), None, None, ("Enrollment", ids[4]),
    ]  # fmt: skip
    assert nodes[0]["status"] == "ACTIVE"
    too_many = await gql.errors(query, {"ids": [ids[0]] * 101})
    assert too_many[0]["extensions"]["code"] == "TOO_MANY"
    forged = await gql.errors(query, {"ids": [ids[0], "Sequence: 1"]})
    assert forged[0]["extensions"]["code"] == "INVALID_ID"
    assert "ids[1]" in forged[0]["message"]


def test_global_ids_are_strawberrys() -> None:
    """relay.to_global_id writes base64 itself (a page writes two per row): the same
    strings as Strawberry's GlobalID, which reads them back."""
    from strawberry.relay import GlobalID

    from seqgql.graphql.relay import to_global_id

    for type_name in ("Enrollment", "Contact", "User", "Sequence", "BulkOperation"):
        for pk in (1, 7, 1234, 2**31, 2**63 - 1):
            written = to_global_id(type_name, pk)
            assert written == str(GlobalID(type_name, str(pk)))
            assert GlobalID.from_id(written) == GlobalID(type_name, str(pk))
