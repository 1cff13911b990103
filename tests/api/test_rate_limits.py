"""Rate limits, as a client meets them: per API token a budget of requests and one of
query cost per window; 429 with Retry-After and X-RateLimit-* headers over HTTP, a
RATE_LIMITED error over websockets; a query costlier than one may be refused before it
runs; the `rateLimit` field's figures. The clock is the test's (frozen at START, 09:00:00
UTC): the window ends at 09:01:00, 60 s away, until the test moves the clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from httpx_ws import aconnect_ws
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.outbound.transport import RecordingTransport
from seqgql.persistence.database import Database
from seqgql.settings import Settings
from tests.helpers.clocks import START
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.subscriptions import (
    COUNTS,
    MESSAGE_SECONDS,
    ack,
    connect,
    in_process_client,
    next_data,
    subscribe,
)
from tests.helpers.workspace import Workspace

RESET = int((START + timedelta(seconds=60)).timestamp())
# 1 (contacts) + 10 items x (edges, node, id): 31 points
TEN_CONTACTS = "{ contacts(first: 10) { edges { node { id } } } }"
RATE_LIMIT = "rateLimit { cost limit used remaining requestLimit requestsRemaining resetAt }"
GRAPHQL_RESPONSE = "application/graphql-response+json"

Limited = Callable[..., AbstractAsyncContextManager[GraphQLClient]]


@pytest.fixture
def limited(
    database_url: str, clock: FrozenClock, transport: RecordingTransport, workspace: Workspace
) -> Limited:
    """An app with these rate-limit settings (and a client of it with the test's token)."""

    @asynccontextmanager
    async def make(**settings: Any) -> AsyncIterator[GraphQLClient]:
        app = create_app(
            Settings(database_url=database_url, auto_migrate=False, run_engine=False, **settings),
            clock=clock,
            transport=transport,
        )
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            ) as http,
        ):
            client = GraphQLClient(http, workspace.token)
            client.app = app  # type: ignore[attr-defined]
            yield client

    return make


def code_of(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


async def test_requests_count_down_then_429_with_retry_after_until_the_window_ends(
    limited: Limited, clock: FrozenClock
) -> None:
    async with limited(rate_limit_requests=3, rate_limit_cost=0) as gql:
        remaining = []
        for _ in range(3):
            response = await gql.post("{ viewer { id } }")
            assert response.status_code == 200, response.text
            assert response.headers["x-ratelimit-requests-limit"] == "3"
            assert response.headers["x-ratelimit-reset"] == str(RESET)
            assert "x-ratelimit-limit" not in response.headers  # no budget of points
            remaining.append(response.headers["x-ratelimit-requests-remaining"])
        assert remaining == ["2", "1", "0"]

        clock.advance(timedelta(seconds=15))
        refused = await gql.post("{ viewer { id } }")
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "45"
        assert refused.headers["content-type"].startswith("application/json")
        assert refused.headers["x-ratelimit-requests-remaining"] == "0"
        [error] = refused.json()["errors"]
        assert "data" not in refused.json()
        assert error["extensions"] == {
            "code": "RATE_LIMITED",
            "retryAfter": 45,
            "resetAt": "2026-11-23T09:01:00Z",
        }
        assert "3 requests per 60 s" in error["message"]
        # in the media type the client asked for
        asked = await gql.http.post(
            "/graphql",
            json={"query": "{ viewer { id } }"},
            headers={"authorization": f"Bearer {gql.token}", "accept": GRAPHQL_RESPONSE},
        )
        assert (asked.status_code, asked.headers["content-type"]) == (429, GRAPHQL_RESPONSE)

        clock.advance(timedelta(seconds=45))  # the next window: the budget is whole again
        again = await gql.post("{ viewer { id } }")
        assert again.status_code == 200, again.text
        assert again.headers["x-ratelimit-requests-remaining"] == "2"  # refusals spent none
        assert again.headers["x-ratelimit-reset"] == str(RESET + 60)


async def test_the_cost_of_a_query_is_spent_and_reported_in_headers_and_rate_limit(
    limited: Limited, clock: FrozenClock
) -> None:
    async with limited(rate_limit_requests=10, rate_limit_cost=100) as gql:
        response = await gql.post(TEN_CONTACTS)
        assert response.status_code == 200, response.text
        assert response.headers["x-ratelimit-limit"] == "100"
        assert response.headers["x-ratelimit-used"] == "31"
        assert response.headers["x-ratelimit-remaining"] == "69"
        assert response.headers["x-ratelimit-reset"] == str(RESET)

        # rateLimit and its 7 fields: 8 points
        data = await gql.execute(f"{{ {RATE_LIMIT} }}")
        assert data["rateLimit"] == {
            "cost": 8,
            "limit": 100,
            "used": 39,
            "remaining": 61,
            "requestLimit": 10,
            "requestsRemaining": 8,
            "resetAt": "2026-11-23T09:01:00+00:00",
        }
        await gql.execute(TEN_CONTACTS)  # 70 used, 30 left
        refused = await gql.post(TEN_CONTACTS)  # 31 points do not fit in 30
        assert refused.status_code == 429
        assert code_of(refused) == "RATE_LIMITED"
        assert "costs 31 points and 30 of this API token's 100 points" in refused.text
        assert refused.headers["x-ratelimit-remaining"] == "30"
        cheap = await gql.post("{ viewer { id } }")  # 2 points still fit
        assert cheap.status_code == 200, cheap.text
        assert cheap.headers["x-ratelimit-remaining"] == "28"


COSTS = {
    # the default page: 50 items; totalCount is not an item
    "{ contacts { totalCount edges { node { id } } } }": 1 + 1 + 50 * 3,
    # a variable's page size, or the variable's default
    "query($n: Int = 7) { contacts(first: $n) { edges { node { id } } } }": 1 + 7 * 3,
    # a fragment on the connection, spread twice; __typename is free
    "{ contacts(first: 4) { ...Items ...Items } } "
    "fragment Items on ContactConnection { __typename edges { cursor node { id } } }": 1
    + 2 * 4 * 4,
    # nested pages multiply
    "query($s: ID!) { enrollments(sequenceId: $s, first: 20) "
    "{ edges { node { activities(first: 5) { edges { node { kind } } } } } } }": 1
    + 20 * (1 + 1 + 1 + 5 * 3),
    # a page read backward: `last` items
    "{ contacts(last: 3) { edges { node { id } } } }": 1 + 3 * 3,
    # nodes(ids:) answers one object per id
    'query { nodes(ids: ["a", "b", "c"]) { id ... on Contact { email } } }': 1 + 3 * 2,
    # several operations and no operationName: the costliest
    "query A { viewer { id } } query B { contacts(first: 2) { edges { node { id } } } }": 1 + 2 * 3,
}


async def test_page_sizes_fragments_and_variables_make_the_cost(limited: Limited) -> None:
    async with limited(rate_limit_cost=1_000_000) as gql:
        used = 0
        for query, cost in COSTS.items():
            response = await gql.post(query, {"s": "U2VxdWVuY2U6MQ=="})
            assert response.status_code == 200, response.text
            spent = int(response.headers["x-ratelimit-used"]) - used
            assert spent == cost, (query, response.json())
            used += spent


async def test_a_query_costlier_than_the_maximum_is_refused_before_it_runs(
    limited: Limited,
) -> None:
    costly = (
        'mutation { createGroup(input: {name: "Costly"}) '
        "{ group { id contacts(first: 100) { edges { node { id email } } } } } }"
    )  # 1 + 1 + 1 + 1 + 100 x 4 = 404
    async with limited(rate_limit_cost=1_000, rate_limit_max_query_cost=400) as gql:
        response = await gql.post(costly)
        assert response.status_code == 200
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 404, "maxCost": 400}
        assert "costs 404 points, more than the 400" in error["message"]
        assert response.headers["x-ratelimit-used"] == "0"  # nothing spent
        data = await gql.execute("{ groups { totalCount } }")
        assert data["groups"] == {"totalCount": 0}  # it did not run
        asked = await gql.http.post(
            "/graphql",
            json={"query": costly},
            headers={"authorization": f"Bearer {gql.token}", "accept": GRAPHQL_RESPONSE},
        )
        assert asked.status_code == 400 and "data" not in asked.json()
        # a smaller page fits
        fits = costly.replace("first: 100", "first: 10")
        created = await gql.execute(fits)
        assert created["createGroup"]["group"]["contacts"] == {"edges": []}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("query($n: Int) { contacts(first: $n) { totalCount } }", {"n": 2**31 - 1}),
        ("query($n: Int) { contacts(first: $n) { totalCount } }", {"n": "ten"}),
        ("query($n: Int) { contacts(first: $n) { totalCount } }", {"n": [1, 2]}),
        ("query($n: Int) { contacts(first: $n) { totalCount } }", {"n": 10**40}),
        ("{ contacts(first: 99999999999999999999999) { totalCount } }", {}),
        ("{ contacts(first: -5) { edges { node { id } } } }", {}),
        ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": 5}),
        ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["x"] * 10_000}),
        ("{ contacts { ...A } } fragment A on ContactConnection { ...A }", {}),
        ("{ nope { ...Missing } }", {}),
        ("query A { viewer { id } } query B { viewer { id } }", {}),
    ],
)
async def test_hostile_documents_and_variables_are_never_an_internal_error(
    limited: Limited, query: str, variables: dict[str, Any]
) -> None:
    async with limited() as gql:
        response = await gql.post(query, variables)
        assert response.status_code == 200, response.text
        errors = response.json().get("errors") or []
        assert all(e["extensions"]["code"] != "INTERNAL_SERVER_ERROR" for e in errors), errors


async def test_a_fragment_bomb_is_measured_at_once_and_refused(limited: Limited) -> None:
    fragments = " ".join(
        f"fragment F{i} on Contact {{ id ...F{i + 1} ...F{i + 1} }}" for i in range(40)
    )
    last = "fragment F40 on Contact { id }"
    query = f"{{ contacts {{ edges {{ node {{ ...F0 }} }} }} }} {fragments} {last}"
    async with limited() as gql:
        started = time.perf_counter()
        response = await gql.post(query)
        assert time.perf_counter() - started < 2
        assert code_of(response) == "QUERY_TOO_COSTLY"


async def test_a_request_without_a_token_is_refused_before_any_budget(limited: Limited) -> None:
    async with limited(rate_limit_requests=1) as gql:
        response = await gql.http.post("/graphql", json={"query": "{ viewer { id } }"})
        assert response.status_code == 401
        assert not any(h.startswith("x-ratelimit") for h in response.headers)
        assert (await gql.post("{ viewer { id } }")).status_code == 200  # still whole


async def test_cors_lets_browsers_read_the_rate_limit_headers(limited: Limited) -> None:
    async with limited(allowed_origins=["https://app.example"]) as gql:
        response = await gql.http.post(
            "/graphql",
            json={"query": "{ viewer { id } }"},
            headers={"authorization": f"Bearer {gql.token}", "origin": "https://app.example"},
        )
        exposed = response.headers["access-control-expose-headers"].lower()
        for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
            assert name in exposed
            assert name in response.headers


async def test_no_budget_means_no_headers_and_a_rate_limit_without_limits(
    limited: Limited,
) -> None:
    async with limited(rate_limit_window_seconds=0) as gql:
        response = await gql.post("{ rateLimit { cost limit remaining used } }")
        assert not any(h.startswith("x-ratelimit") for h in response.headers)
        assert response.json()["data"]["rateLimit"] == {
            "cost": 5,
            "limit": None,
            "remaining": None,
            "used": 0,
        }


async def test_each_subscription_counts_and_one_over_budget_gets_rate_limited(
    limited: Limited, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    variables = {"seq": gid("Sequence", seq)}
    async with limited(rate_limit_requests=2) as gql:
        app: Starlette = gql.app  # type: ignore[attr-defined]
        assert (await gql.post("{ viewer { id } }")).status_code == 200  # 1 of 2
        async with connect(app, workspace.token) as ws:
            await ack(ws)
            await subscribe(ws, "one", COUNTS, variables)  # 2 of 2
            assert (await next_data(ws))["sequenceStatusCounts"]["total"] == 1
            await subscribe(ws, "two", COUNTS, variables)
            message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
            assert (message["type"], message["id"]) == ("error", "two"), message
            [error] = message["payload"]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert error["extensions"]["retryAfter"] == 60
            clock.advance(timedelta(seconds=60))
            await subscribe(ws, "three", COUNTS, variables)  # the socket stayed open
            assert (await next_data(ws))["sequenceStatusCounts"]["total"] == 1
        # the legacy graphql-ws protocol is charged too (2 of 2 spent by now)
        await gql.execute("{ viewer { id } }")
        async with (
            in_process_client(app) as client,
            aconnect_ws("/graphql", client, subprotocols=["graphql-ws"]) as legacy,
        ):
            init = {"authorization": f"Bearer {workspace.token}"}
            await legacy.send_json({"type": "connection_init", "payload": init})
            assert (await asyncio.wait_for(legacy.receive_json(), MESSAGE_SECONDS))[
                "type"
            ] == "connection_ack"
            payload = {"query": COUNTS, "variables": variables}
            await legacy.send_json({"id": "l1", "type": "start", "payload": payload})
            message = await asyncio.wait_for(legacy.receive_json(), MESSAGE_SECONDS)
            assert (message["type"], message["id"]) == ("error", "l1"), message
            assert message["payload"]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_subscription_over_server_sent_events_is_charged_too(
    limited: Limited, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    async with limited(rate_limit_requests=1, rate_limit_max_query_cost=3) as gql:
        headers = {"authorization": f"Bearer {gql.token}", "accept": "text/event-stream"}
        body = {"query": COUNTS, "variables": {"seq": gid("Sequence", seq)}}
        costly = await gql.http.post("/graphql", json=body, headers=headers)
        assert code_of(costly) == "QUERY_TOO_COSTLY"  # 1 + 1 + 1 + 1 + 1: 5 points, not 3
        refused = await gql.http.post("/graphql", json=body, headers=headers)
        assert refused.status_code == 429
        assert code_of(refused) == "RATE_LIMITED"


async def test_a_query_over_a_websocket_is_charged_and_sees_its_rate_limit(
    limited: Limited, workspace: Workspace
) -> None:
    async with limited(rate_limit_requests=5, rate_limit_cost=100) as gql:
        app: Starlette = gql.app  # type: ignore[attr-defined]
        async with connect(app, workspace.token) as ws:
            await ack(ws)
            for op_id, used in (("q1", 4), ("q2", 8)):  # rateLimit and 3 fields: 4 points
                await subscribe(ws, op_id, "{ rateLimit { cost used requestsRemaining } }", {})
                data = await next_data(ws)
                assert data["rateLimit"] == {
                    "cost": 4,
                    "used": used,
                    "requestsRemaining": 5 - int(op_id[1]),
                }
                done = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
                assert done == {"id": op_id, "type": "complete"}
