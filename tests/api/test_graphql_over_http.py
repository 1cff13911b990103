"""GraphQL over HTTP as the specification writes it: the media type the client's Accept
asks for, the status codes that go with it, a code on every error, and JSON answers for
what is refused before GraphQL runs. (The graphql-http audit itself: tests/test_clients.py.)"""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers.factories import gid
from tests.helpers.workspace import Workspace

RESPONSE_JSON = "application/graphql-response+json"
PARSE_FAILS = "{ viewer { "
INVALID = "{ nope }"
BAD_VARIABLES = ("query($n: Int!) { sequences(first: $n) { totalCount } }", {"n": "ten"})


async def post(
    http: httpx.AsyncClient, workspace: Workspace, body: dict[str, Any], accept: str | None
) -> httpx.Response:
    headers = {"authorization": f"Bearer {workspace.token}"}
    if accept is not None:
        headers["accept"] = accept
    return await http.post("/graphql", json=body, headers=headers)


def codes(answer: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in answer.json()["errors"]]


async def test_the_media_type_follows_accept(http: httpx.AsyncClient, workspace: Workspace) -> None:
    query = {"query": "{ viewer { email } }"}
    for accept, media in [
        (RESPONSE_JSON, RESPONSE_JSON),
        (f"{RESPONSE_JSON}, application/json;q=0.9", RESPONSE_JSON),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        (None, "application/json"),
    ]:
        answer = await post(http, workspace, query, accept)
        assert answer.status_code == 200, accept
        assert answer.headers["content-type"].split(";")[0] == media, accept
        assert answer.json()["data"]["viewer"]["email"] == f"admin@{workspace.name}.test"


async def test_a_request_that_cannot_run_is_a_400_without_data_for_graphql_response_json(
    http: httpx.AsyncClient, workspace: Workspace
) -> None:
    cases = [
        ({"query": PARSE_FAILS}, "GRAPHQL_PARSE_FAILED"),
        ({"query": INVALID}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": BAD_VARIABLES[0], "variables": BAD_VARIABLES[1]}, "BAD_USER_INPUT"),
        ({"query": "{ " + "a " * 3_000 + "}"}, "TOO_MANY_TOKENS"),
    ]
    for body, code in cases:
        strict = await post(http, workspace, body, RESPONSE_JSON)
        assert (strict.status_code, codes(strict)) == (400, [code]), strict.text
        assert "data" not in strict.json()
        # plain JSON clients get the same errors with 200 and data null, as they expect
        lenient = await post(http, workspace, body, "application/json")
        assert (lenient.status_code, codes(lenient)) == (200, [code]), lenient.text
        assert lenient.json()["data"] is None


async def test_what_graphql_does_not_run_is_refused_as_json_with_a_code(
    http: httpx.AsyncClient, workspace: Workspace
) -> None:
    auth = {"authorization": f"Bearer {workspace.token}"}
    missing = await post(http, workspace, {"variables": {}}, None)
    assert (missing.status_code, codes(missing)) == (400, ["BAD_REQUEST"])
    unknown = await post(
        http, workspace, {"query": "query A { viewer { id } }", "operationName": "B"}, None
    )
    assert (unknown.status_code, codes(unknown)) == (400, ["BAD_REQUEST"])
    assert "B" in unknown.json()["errors"][0]["message"]
    not_a_string = await post(http, workspace, {"query": {"a": 1}}, RESPONSE_JSON)
    assert (not_a_string.status_code, codes(not_a_string)) == (400, ["BAD_REQUEST"])
    assert not_a_string.headers["content-type"].startswith(RESPONSE_JSON)
    # a mutation over GET: 405, and where to go
    over_get = await http.get("/graphql", params={"query": "mutation { __typename }"}, headers=auth)
    assert (over_get.status_code, over_get.headers["allow"]) == (405, "POST")
    assert codes(over_get) == ["METHOD_NOT_ALLOWED"]
    # a method GraphQL does not take
    put = await http.put("/graphql", headers=auth)
    assert (put.status_code, put.headers["allow"], codes(put)) == (
        405, "GET, POST", ["METHOD_NOT_ALLOWED"],
    )  # fmt: skip
    # a query over GET is fine
    got = await http.get("/graphql", params={"query": "{ viewer { email } }"}, headers=auth)
    assert got.json()["data"]["viewer"]["email"] == f"admin@{workspace.name}.test"


async def test_a_subscription_over_plain_http_says_where_subscriptions_are_served(
    http: httpx.AsyncClient, workspace: Workspace
) -> None:
    query = (
        f'subscription {{ sequenceStatusCounts(sequenceId: "{gid("Sequence", 1)}") {{ total }} }}'
    )
    for accept in (None, RESPONSE_JSON):
        answer = await post(http, workspace, {"query": query}, accept)
        assert (answer.status_code, codes(answer)) == (400, ["BAD_REQUEST"]), answer.text
        message = answer.json()["errors"][0]["message"]
        assert "websockets" in message and "text/event-stream" in message
