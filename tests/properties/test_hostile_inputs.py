"""Every input field of every mutation and of the main queries, fed values a hostile or
careless client sends (generated with hypothesis from the schema's own input types):
never an internal error, and nothing changed when a mutation answers errors."""

from __future__ import annotations

import base64
from typing import Any

import graphql
import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from seqgql.clock import FrozenClock
from seqgql.graphql.schema import build_schema
from seqgql.persistence.database import Database
from tests.helpers.bulk import snapshot
from tests.helpers.factories import gid, make_contacts, make_enrolled
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.workspace import Workspace

EXAMPLES = 20  # per operation and backend
SCHEMA = graphql.build_schema(build_schema().as_str())
QUERIES = {
    "enrollments": "totalCount statusCounts { count } edges { cursor node { id } }",
    "contacts": "totalCount edges { cursor node { id } }",
    "sequences": "totalCount edges { node { id } }",
    "node": "id",
    "nodes": "id",
    "sequence": "id",
    "groups": "totalCount edges { cursor node { id } }",
    "users": "totalCount edges { cursor node { id } }",
    "bulkOperation": "id events { totalCount }",
}


def raw_id(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


STRINGS = st.one_of(
    st.sampled_from(
        ["", " ", "x", "a\u0000b", "line\nbreak", "\r\nBcc: x@y.z", "\u202eevil", "%_\\",
         "' OR 1=1 --", "😀" * 300, "x" * 20_001, "Ünïcödé", "   padded   "]
    ),
    st.text(max_size=40),
)  # fmt: skip
INTS = st.one_of(
    st.sampled_from([0, -1, 1, 2, 50, 100, 101, 2**31 - 1, -(2**31)]),
    st.integers(-(2**31), 2**31 - 1),
)
MOMENTS = st.sampled_from(
    ["2030-01-01T00:00:00Z", "2000-01-01T00:00:00+14:00", "0001-01-01T00:00:00+14:00",
     "9999-12-31T23:59:59-12:00", "2030-01-01T00:00:00", "2030-01-01", "not a date", ""]
)  # fmt: skip
DATES = st.sampled_from(["2030-01-01", "0001-01-01", "9999-12-31", "2030-02-30", "x", ""])
FORGED_IDS = st.sampled_from(
    [raw_id(t) for t in ("Sequence:0", "Sequence:-1", "Enrollment:9223372036854775808",
                         "Contact:" + "9" * 30, "Nope:1", "Sequence: 1", "Group:01")]
    + ["", "!!", "a" * 500, "U2VxdWVuY2U6MQ"]
)  # fmt: skip


def value_of(type_: graphql.GraphQLInputType, ids: dict[str, list[str]]) -> st.SearchStrategy[Any]:
    """Values for one input type: mostly of the right type, often hostile."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return value_of(type_.of_type, ids)  # type: ignore[arg-type]
    nullable = True
    inner: st.SearchStrategy[Any]
    if isinstance(type_, graphql.GraphQLList):
        item = value_of(type_.of_type, ids)  # type: ignore[arg-type]
        # a few items, or past every limit (the same item 1,001 times)
        inner = st.one_of(st.lists(item, max_size=3), st.builds(lambda x: [x] * 1_001, item))
    elif isinstance(type_, graphql.GraphQLInputObjectType):
        required = {
            n: value_of(f.type, ids)
            for n, f in type_.fields.items()
            if graphql.is_required_input_field(f)
        }
        optional = {
            n: value_of(f.type, ids)
            for n, f in type_.fields.items()
            if not graphql.is_required_input_field(f)
        }
        inner = st.fixed_dictionaries(required, optional=optional)
    elif isinstance(type_, graphql.GraphQLEnumType):
        inner = st.sampled_from(sorted(type_.values))
    elif type_.name == "String":
        inner = STRINGS
    elif type_.name == "ID":
        inner = st.one_of(st.sampled_from([i for v in ids.values() for i in v]), FORGED_IDS)
    elif type_.name == "Int":
        inner = INTS
    elif type_.name == "Boolean":
        inner = st.booleans()
    elif type_.name == "DateTime":
        inner = MOMENTS
    elif type_.name == "Date":
        inner = DATES
    else:  # pragma: no cover - a new scalar: give it strings
        inner = STRINGS
    return st.one_of(st.none(), inner) if nullable else inner


def examples(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` generated values, the same on every run."""
    found: list[Any] = []

    @settings(
        max_examples=count, derandomize=True, database=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck), deadline=None,
    )  # fmt: skip
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


def operation(kind: str, field: graphql.GraphQLField, name: str, selection: str) -> str:
    definitions = ", ".join(f"${a}: {arg.type}" for a, arg in field.args.items())
    arguments = ", ".join(f"{a}: ${a}" for a in field.args)
    head = f"{kind}({definitions})" if definitions else kind
    call = f"{name}({arguments})" if arguments else name
    return f"{head} {{ {call} {{ {selection} }} }}"


def problems(response: httpx.Response) -> list[str]:
    """What in the answer is an internal error."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.text[:300]}"]
    return [
        str(error)
        for error in response.json().get("errors") or []
        if error.get("message") == "Internal server error."
    ]


@pytest.fixture
async def known_ids(db: Database, clock: FrozenClock, workspace: Workspace) -> dict[str, list[str]]:
    seq, enrolled = await make_enrolled(db, clock, workspace.actor, 3)
    contacts = await make_contacts(db, clock, workspace.actor, 2, prefix="Spare")
    return {
        "Sequence": [gid("Sequence", seq)],
        "Enrollment": [gid("Enrollment", pk) for pk in enrolled],
        "Contact": [gid("Contact", pk) for pk in contacts],
        "User": [gid("User", workspace.actor.user_id or 0)],
    }


@pytest.mark.parametrize("name", sorted(SCHEMA.mutation_type.fields))  # type: ignore[union-attr]
async def test_every_mutation_refuses_hostile_input_cleanly(
    gql: GraphQLClient, db: Database, workspace: Workspace, known_ids: dict[str, list[str]],
    name: str,
) -> None:  # fmt: skip
    field = SCHEMA.mutation_type.fields[name]  # type: ignore[union-attr]
    document = operation("mutation", field, name, "__typename userErrors { field code }")
    strategy = st.fixed_dictionaries(
        {a: value_of(arg.type, known_ids) for a, arg in field.args.items()}
    )
    for variables in examples(strategy, EXAMPLES):
        before = await snapshot(db, workspace.actor.workspace_id)
        response = await gql.post(document, variables)
        assert problems(response) == [], (name, variables)
        data = (response.json().get("data") or {}).get(name)
        if data is None or data["userErrors"]:
            assert await snapshot(db, workspace.actor.workspace_id) == before, (name, variables)


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_the_main_queries_refuse_hostile_input_cleanly(
    gql: GraphQLClient, known_ids: dict[str, list[str]], name: str
) -> None:
    field = SCHEMA.query_type.fields[name]  # type: ignore[union-attr]
    document = operation("query", field, name, QUERIES[name])
    strategy = st.fixed_dictionaries(
        {a: value_of(arg.type, known_ids) for a, arg in field.args.items()}
    )
    for variables in examples(strategy, EXAMPLES):
        response = await gql.post(document, variables)
        assert problems(response) == [], (name, variables)
