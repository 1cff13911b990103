"""The /graphql gate refuses, with a JSON error and a code, a body that is too large, too
slow, not JSON or not a JSON object, before anything is parsed or executed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.outbound.transport import RecordingTransport
from seqgql.settings import Settings
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.workspace import Workspace

LIMIT = 10_000
CREATE_GROUP = 'mutation { createGroup(input: {name: "%s"}) { group { id } } }'


@pytest.fixture
async def small_app(
    database_url: str, clock: FrozenClock, transport: RecordingTransport
) -> AsyncIterator[Starlette]:
    settings = Settings(
        database_url=database_url,
        auto_migrate=False,
        run_engine=False,
        max_body_bytes=LIMIT,
        body_timeout_seconds=0.3,
    )
    app = create_app(settings, clock=clock, transport=transport)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(small_app: Starlette, workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=small_app)
    headers = {"authorization": f"Bearer {workspace.token}", "content-type": "application/json"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as http:
        yield http


def code_of(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return str(response.json()["errors"][0]["extensions"]["code"])


async def groups(client: httpx.AsyncClient) -> list[str]:
    query = "{ groups { edges { node { name } } } }"
    response = await client.post("/graphql", json={"query": query})
    return [e["node"]["name"] for e in response.json()["data"]["groups"]["edges"]]


async def test_a_body_over_the_limit_is_413_and_not_executed(client: httpx.AsyncClient) -> None:
    name = "x" * LIMIT
    response = await client.post("/graphql", json={"query": CREATE_GROUP % name})
    assert response.status_code == 413
    assert code_of(response) == "PAYLOAD_TOO_LARGE"
    assert "10,000 bytes" in response.json()["errors"][0]["message"]
    assert await groups(client) == []


async def test_a_streamed_body_is_cut_off_at_the_limit(client: httpx.AsyncClient) -> None:
    """Without a Content-Length (chunked), the body is refused as soon as it is too large."""
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "mutation { createGroup(input: {name: \\"'
        for _ in range(100):
            sent.append(1)
            yield b"y" * 1_000
        yield b'\\"}) { group { id } } }"}'

    response = await client.post("/graphql", content=chunks())
    assert response.status_code == 413
    assert code_of(response) == "PAYLOAD_TOO_LARGE"
    assert len(sent) < 100  # it stopped reading
    assert await groups(client) == []


async def test_a_body_that_does_not_arrive_in_time_is_408(client: httpx.AsyncClient) -> None:
    async def slow() -> AsyncIterator[bytes]:
        yield b'{"query": '
        await asyncio.sleep(2)
        yield b'"{ groups { totalCount } }"}'

    response = await client.post("/graphql", content=slow())
    assert response.status_code == 408
    assert code_of(response) == "REQUEST_TIMEOUT"


@pytest.mark.parametrize(
    "body",
    [
        b'"{ viewer { id } }"',  # a JSON string, not an object
        b"[]",
        b"42",
        b'{"query": "{ viewer { id } }"',  # cut short
        b'{"query": "\xff\xfe"}',  # not UTF-8
        b"[" * 100_000 + b"]" * 100_000,  # nested past any parser's depth
        b"",
    ],
    ids=["string", "array", "number", "truncated", "not-utf8", "deep", "empty"],
)
async def test_a_body_that_is_not_a_json_object_is_400(
    client: httpx.AsyncClient, body: bytes
) -> None:
    big_enough = body if len(body) <= LIMIT else None
    if big_enough is None:  # the deep one is refused for its size first: try it in range
        body = b"[" * (LIMIT // 2 - 1) + b"]" * (LIMIT // 2 - 1)
    response = await client.post("/graphql", content=body)
    assert response.status_code == 400, response.text
    assert code_of(response) == "BAD_REQUEST"


async def test_media_types_are_case_insensitive(
    client: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": CREATE_GROUP % "Loud"},
        headers={"content-type": "APPLICATION/JSON; charset=UTF-8"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["createGroup"]["group"]["id"]
    assert await groups(client) == ["Loud"]


async def test_the_limits_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "1234")
    monkeypatch.setenv("BODY_TIMEOUT_SECONDS", "2.5")
    settings = Settings()
    assert (settings.max_body_bytes, settings.body_timeout_seconds) == (1234, 2.5)
    assert Settings().max_body_bytes == 1234
    with pytest.raises(ValueError, match="greater than 0"):
        Settings(max_body_bytes=0)


NUL_CASES = [
    ({"query": "mutation($n: String!) { createGroup(input: {name: $n}) { group { id } } }",
      "variables": {"n": "Tea\u0000m"}}, "variables.n"),
    ({"query": "query($s: String) { contacts(search: $s) { totalCount } }",
      "variables": {"s": "a\u0000"}}, "variables.s"),
    ({"query": "{ groups { totalCount } }", "variables": {"deep": [{"x": ["ok", "n\u0000"]}]}},
     "variables.deep.0.x.1"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "where"), NUL_CASES, ids=["variable", "search", "deep"])
async def test_a_nul_character_is_refused_naming_where_it_is(
    client: httpx.AsyncClient, body: dict[str, object], where: str
) -> None:
    """PostgreSQL cannot store NUL: once an internal error, now refused before execution."""
    response = await client.post("/graphql", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "INVALID_TEXT", "field": where}
    assert await groups(client) == []


async def test_a_nul_character_in_a_get_query_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ groups { totalCount } }\u0000"})
    assert response.status_code == 400
    assert code_of(response) == "INVALID_TEXT"


@pytest.mark.parametrize("escape", ["\\u0000", "\\u{0}"])
async def test_a_nul_escape_in_a_document_string_is_refused(
    client: httpx.AsyncClient, escape: str
) -> None:
    query = 'mutation { createGroup(input: {name: "Te' + escape + 'am"}) { group { id } } }'
    response = await client.post("/graphql", json={"query": query})
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["INVALID_TEXT"], errors
    assert await groups(client) == []
