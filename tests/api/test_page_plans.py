"""The page's execution plans (seqgql.graphql.page_plan) answer exactly what graphql-core
answers: over HTTP, byte for byte, for the documents a plan takes (with good and hostile
variables: every error is left to the stock way) and those it leaves to graphql-core; and
a planned page is answered without graphql-core's executor."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from seqgql.clock import FrozenClock
from seqgql.graphql.page_plan import PagePlan
from seqgql.persistence.database import Database
from tests.helpers.fast_path import NODE, seed_page
from tests.helpers.fast_path import view_of as _view
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.workspace import Workspace, make_workspace

PAGE = (
    "query Page($seq: ID!, $filter: EnrollmentFilter, $first: Int, $after: String,"
    " $last: Int, $before: String, $order: EnrollmentOrder) {"
    " enrollments(sequenceId: $seq, filter: $filter, first: $first, after: $after,"
    " last: $last, before: $before, orderBy: $order) {"
    " totalCount statusCounts { status count __typename } __typename"
    " edges { __typename cursor node { __typename id status reason outcome currentStep"
    " enrolledAt nextRunAt resumeAt finishedAt updatedAt statusChangedAt"
    " c: contact { __typename id firstName lastName email phone phoneType timeZone optedOut"
    " createdAt } enrolledBy { __typename id name email role } } }"
    " pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } } }"
)
BARE = (
    "query($seq: ID!, $first: Int = 3) { list: enrollments(sequenceId: $seq, first: $first)"
    " { edges { node { id } } } }"
)
LITERAL = (
    "query($seq: ID!) { enrollments(sequenceId: $seq, first: 100,"
    " filter: {includeRemoved: true, statuses: [ACTIVE, PAUSED, REMOVED, FINISHED]}) {"
    " totalCount edges { cursor node { id status reason enrolledBy { name } } } } }"
)

# (document, variables), each planned; bad variables are answered by the stock way
PLANNED: list[tuple[str, dict[str, Any]]] = [
    (PAGE, {}),
    (PAGE, {"first": 4}),
    (PAGE, {"last": 3}),
    (PAGE, {"filter": {"statuses": ["ACTIVE", "PAUSED"], "search": "fast", "steps": [1, 2]}}),
    (PAGE, {"filter": {"includeRemoved": True}, "order": {"field": "CONTACT_NAME"}}),
    (PAGE, {"order": {"field": "STATUS", "direction": "ASC"}, "first": 5}),
    (PAGE, {"filter": {"statuses": ["REMOVED"], "resumeScheduled": False}}),
    (PAGE, {"filter": {"enrolledAfter": "2020-01-01T00:00:00Z", "search": "  "}}),
    (PAGE, {"filter": {"nextSendBetween": None, "groupId": None}}),
    (BARE, {}),
    (BARE, {"first": None}),
    (LITERAL, {}),
    # hostile or wrong: the stock way answers each error
    (PAGE, {"first": 1000}),
    (PAGE, {"first": -1}),
    (PAGE, {"first": "ten"}),
    (PAGE, {"first": 2**40}),
    (PAGE, {"first": True}),
    (PAGE, {"after": "nope"}),
    (PAGE, {"after": "W10="}),
    (PAGE, {"first": 2, "last": 2}),
    (PAGE, {"seq": "U2VxdWVuY2U6OTk5OTk5"}),  # Sequence:999999
    (PAGE, {"seq": "Q29udGFjdDox"}),  # Contact:1
    (PAGE, {"seq": "not an id"}),
    (PAGE, {"seq": None}),
    (PAGE, {"seq": 12}),
    (PAGE, {"filter": {"statuses": "ACTIVE"}}),  # one value for a list
    (PAGE, {"filter": {"statuses": ["ACTIVE", None]}}),
    (PAGE, {"filter": {"statuses": ["SLEEPING"]}}),
    (PAGE, {"filter": {"steps": [1.5]}}),
    (PAGE, {"filter": {"includeRemoved": None}}),
    (PAGE, {"filter": {"unknown": 1}}),
    (PAGE, {"filter": {"search": "x" * 10_000}}),
    (PAGE, {"filter": {"enrolledAfter": "yesterday"}}),
    (PAGE, {"filter": {"enrolledByIds": ["VXNlcjo5OTk5OTk="]}}),
    (PAGE, {"filter": {"nextSendBetween": {"from": "2020-01-01T00:00:00Z"}}}),
    (PAGE, {"filter": []}),
    (PAGE, {"order": {"field": "NOPE"}}),
]


@pytest.fixture
async def sequence_id(db: Database, clock: FrozenClock, workspace: Workspace) -> str:
    return await seed_page(db, clock, workspace.actor)


# what differs from one answer to the next: its id, and what is left of the budget
CHANGING = {"x-request-id", "x-ratelimit-reset", "x-ratelimit-remaining", "x-ratelimit-used",
            "x-ratelimit-requests-remaining"}  # fmt: skip


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in CHANGING}


def _used(response: httpx.Response) -> int:
    return int(response.headers.get("x-ratelimit-used", "0"))


async def _both(
    gql: GraphQLClient, app: Starlette, query: str, variables: dict[str, Any],
    accept: str | None = None,
) -> tuple[bytes, bytes]:  # fmt: skip
    """The answer with the page's plans on and off: status and headers the same."""
    plans = _view(app).page_plans
    assert plans is not None
    headers = {"Authorization": f"Bearer {gql.token}", **({"Accept": accept} if accept else {})}
    body = {"query": query, "variables": variables}
    planned = await gql.http.post("/graphql", json=body, headers=headers)
    plans.enabled = False
    try:
        stock = await gql.http.post("/graphql", json=body, headers=headers)
    finally:
        plans.enabled = True
    again = await gql.http.post("/graphql", json=body, headers=headers)  # planned
    assert planned.status_code == stock.status_code == again.status_code
    assert _headers(planned) == _headers(stock) == _headers(again)
    # each charged the same cost to the token's budget
    assert _used(stock) - _used(planned) == _used(again) - _used(stock)
    assert again.content == planned.content
    return planned.content, stock.content


async def test_plans_answer_what_graphql_core_answers(
    gql: GraphQLClient, app: Starlette, sequence_id: str
) -> None:
    plans = _view(app).page_plans
    assert plans is not None
    for query, variables in PLANNED:
        assert isinstance(plans.get(query, None), PagePlan), query
        values = {"seq": sequence_id, **variables}
        for accept in (None, "application/graphql-response+json", "application/json"):
            planned, stock = await _both(gql, app, query, values, accept)
            assert planned == stock, (variables, planned[:300], stock[:300])
    # what the documents are for: rows of every kind were written by the plan
    answer = (await gql.post(PAGE, {"seq": sequence_id, "first": 100})).json()
    nodes = [e["node"] for e in answer["data"]["enrollments"]["edges"]]
    assert {n["status"] for n in nodes} >= {"ACTIVE", "PAUSED", "FINISHED"}
    assert any(n["enrolledBy"] is None for n in nodes)
    assert any(n["c"]["lastName"] is None for n in nodes)


async def test_the_next_pages_by_plan(gql: GraphQLClient, app: Starlette, sequence_id: str) -> None:
    for order in ({"field": "ENROLLED_AT"}, {"field": "CONTACT_NAME", "direction": "ASC"},
                  {"field": "CURRENT_STEP"}):  # fmt: skip
        after = None
        for _ in range(6):
            values = {"seq": sequence_id, "first": 3, "after": after, "order": order}
            planned, stock = await _both(gql, app, PAGE, values)
            assert planned == stock
            after = __import__("json").loads(planned)["data"]["enrollments"]["pageInfo"][
                "endCursor"
            ]
            if after is None:
                break


@pytest.mark.parametrize(
    "query",
    [
        # fragments, directives, two root fields, arguments below the page, resolvers
        "query($seq: ID!) { enrollments(sequenceId: $seq) { ...C } }"
        " fragment C on EnrollmentConnection { totalCount }",
        "query($seq: ID!, $y: Boolean!) { enrollments(sequenceId: $seq) {"
        " totalCount @include(if: $y) } }",
        "query($seq: ID!) { enrollments(sequenceId: $seq) { totalCount } viewer { id } }",
        "query($seq: ID!) { enrollments(sequenceId: $seq) { edges { node {"
        " activities(first: 1) { totalCount } } } } }",
        f"query($seq: ID!) {{ enrollments(sequenceId: $seq) {{ edges {{ node {{ {NODE} }} }} }} }}",
        "query($seq: ID!) { enrollments(sequenceId: $seq) { edges { node { id id: status } } } }",
        "query($seq: ID!) { enrollments(sequenceId: $seq) { nope } }",  # invalid
        "mutation($seq: ID!) { enrollments(sequenceId: $seq) { totalCount } }",
    ],
)
async def test_other_documents_go_the_stock_way(
    gql: GraphQLClient, app: Starlette, sequence_id: str, query: str
) -> None:
    plans = _view(app).page_plans
    assert plans is not None
    assert plans.get(query, None) is None
    planned, stock = await _both(gql, app, query, {"seq": sequence_id, "y": True})
    assert planned == stock


async def test_a_planned_page_skips_graphql_core(
    gql: GraphQLClient, app: Starlette, sequence_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards the speed: the page is answered without schema.execute (and so without
    graphql-core's executor); with the plans off, it is executed."""
    schema = _view(app).schema
    executed: list[str] = []
    original = schema.execute

    async def execute(*args: Any, **kwargs: Any) -> Any:
        executed.append("execute")
        return await original(*args, **kwargs)

    monkeypatch.setattr(schema, "execute", execute)
    data = await gql.execute(PAGE, {"seq": sequence_id, "first": 5})
    assert len(data["enrollments"]["edges"]) == 5
    assert executed == []
    await gql.execute(PAGE, {"seq": sequence_id, "first": 2, "last": None, "order": None})
    assert executed == []
    await gql.post(PAGE, {"seq": sequence_id, "first": 1000})  # an error: the stock way
    assert executed == ["execute"]


async def test_a_planned_page_reads_only_the_columns_its_document_asks(
    gql: GraphQLClient, app: Starlette, sequence_id: str
) -> None:
    """Guards the speed (every column read costs decoding): BARE asks for ids only, so
    its statement reads no contact or user columns; PAGE's reads them (and its answer,
    after BARE's statement was made, is graphql-core's: the test above)."""
    direct = _view(app).db.direct
    if direct is None:
        pytest.skip("SQLite reads through SQLAlchemy, every column")
    sent: list[str] = []
    direct.observers.append(lambda sql, _args, _sources: sent.append(sql))
    bare = await gql.execute(BARE, {"seq": sequence_id})
    assert len(bare["list"]["edges"]) == 3
    page = await gql.execute(PAGE, {"seq": sequence_id, "first": 2})
    assert page["enrollments"]["edges"][0]["node"]["c"]["firstName"]
    bare_sql, page_sql = sent
    assert "contacts.first_name" not in bare_sql and "users.name" not in bare_sql
    assert "NULL AS contact_first_name" in bare_sql
    assert "contacts.first_name" in page_sql and "users.name" in page_sql


async def test_a_kept_read_is_its_workspaces_own(
    gql: GraphQLClient, db: Database, clock: FrozenClock, sequence_id: str
) -> None:
    """A plan keeps a page's read made ready by variables and workspace: the same
    variables from another workspace find nothing there (the sequence is not theirs),
    whichever asked first, and the owner's page stays the owner's."""
    other = await make_workspace(db, clock)
    values = {"seq": sequence_id, "first": 3}
    before = await gql.post(PAGE, values, token=other.token)  # kept for them first
    own = await gql.post(PAGE, values)
    after = await gql.post(PAGE, values, token=other.token)  # and now for both
    again = await gql.post(PAGE, values)
    for theirs in (before, after):
        assert theirs.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND", theirs.text
        assert theirs.json()["data"] is None
    assert len(own.json()["data"]["enrollments"]["edges"]) == 3
    assert again.content == own.content


def test_the_views_other_writer_writes_times_as_isoformat(app: Starlette) -> None:
    """A planned answer holds UTC times as they are, for orjson; Strawberry's writer (what
    the view falls back to when orjson cannot write an answer) writes them too."""
    from datetime import UTC, datetime

    moment = datetime(2026, 11, 30, 4, 5, 6, 789, tzinfo=UTC)
    assert _view(app).encode_json({"at": moment}) == '{"at":"2026-11-30T04:05:06.000789+00:00"}'
    with pytest.raises(TypeError):
        _view(app).encode_json({"at": object()})
