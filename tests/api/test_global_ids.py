"""A global id has one spelling: the one this API gives out. Anything else is refused
with INVALID_ID naming the argument, never an internal error."""

from __future__ import annotations

import base64

import pytest

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from tests.helpers.factories import gid, make_sequence
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace


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
