"""Persisted queries as Apollo Client's APQ link speaks them (over POST and GET), and the
allow-list mode for locked-down deployments (PERSISTED_QUERIES_ONLY), over HTTP and
websockets."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.outbound.transport import RecordingTransport
from seqgql.settings import Settings
from tests.helpers.subscriptions import ack, connect, subscribe
from tests.helpers.workspace import Workspace

VIEWER = "query Me { viewer { email } }"


def sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def apq(query: str | None, digest: str) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if query is not None:
        body["query"] = query
    return body


async def test_automatic_persisted_queries(http: httpx.AsyncClient, workspace: Workspace) -> None:
    auth = {"authorization": f"Bearer {workspace.token}"}
    query = f"{VIEWER} # {workspace.name}"  # a hash no other test registered
    digest = sha(query)
    # the hash alone, unknown: the client is told to send the query
    miss = (await http.post("/graphql", json=apq(None, digest), headers=auth)).json()
    assert miss["errors"][0]["message"] == "PersistedQueryNotFound"
    assert miss["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    # hash and query: registered and run
    first = (await http.post("/graphql", json=apq(query, digest), headers=auth)).json()
    assert first["data"]["viewer"]["email"] == f"admin@{workspace.name}.test"
    # from now on the hash alone runs it, by POST and by GET (what a CDN can cache)
    again = (await http.post("/graphql", json=apq(None, digest), headers=auth)).json()
    assert again == first
    params = {"extensions": json.dumps(apq(None, digest)["extensions"])}
    got = await http.get("/graphql", params=params, headers={**auth, "accept": "application/json"})
    assert got.json() == first
    # what curl and fetch send by default (Accept: */*) gets the answer, not GraphiQL
    anything = await http.get("/graphql", params=params, headers={**auth, "accept": "*/*"})
    assert anything.json() == first
    # a hash that is not the query's is refused, and registers nothing
    forged = sha("{ viewer { id } }")
    wrong = (await http.post("/graphql", json=apq(query, forged), headers=auth)).json()
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "data" not in wrong or wrong["data"] is None
    still = (await http.post("/graphql", json=apq(None, forged), headers=auth)).json()
    assert still["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    # without a token a persisted query is no way in
    anonymous = await http.get("/graphql", params=params, headers={"accept": "application/json"})
    assert anonymous.status_code == 401


@pytest.fixture
async def locked_app(
    database_url: str, clock: FrozenClock, tmp_path: Path
) -> AsyncIterator[Starlette]:
    manifest = tmp_path / "persisted.json"
    manifest.write_text(json.dumps({sha(VIEWER): VIEWER}))
    settings = Settings(
        database_url=database_url,
        auto_migrate=False,
        run_engine=False,
        persisted_queries_file=str(manifest),
        persisted_queries_only=True,
    )
    application = create_app(settings, clock=clock, transport=RecordingTransport())
    async with application.router.lifespan_context(application):
        yield application


async def test_only_the_allow_list_runs_when_locked_down(
    locked_app: Starlette, workspace: Workspace
) -> None:
    auth = {"authorization": f"Bearer {workspace.token}"}
    transport = httpx.ASGITransport(app=locked_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        by_hash = (await http.post("/graphql", json=apq(None, sha(VIEWER)), headers=auth)).json()
        assert by_hash["data"]["viewer"]["email"] == f"admin@{workspace.name}.test"
        as_text = (await http.post("/graphql", json={"query": VIEWER}, headers=auth)).json()
        assert as_text == by_hash
        for body in (
            {"query": "{ viewer { id } }"},
            apq("{ viewer { id } }", sha("{ viewer { id } }")),
        ):
            refused = (await http.post("/graphql", json=body, headers=auth)).json()
            assert refused["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
            assert "data" not in refused or refused["data"] is None
    # nor over a websocket
    async with connect(locked_app, workspace.token) as ws:
        await ack(ws)
        await subscribe(
            ws, "s", "subscription { sequenceStatusCounts(sequenceId: 1) { total } }", {}
        )
        message = await ws.receive_json()
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


def test_a_manifest_whose_hashes_are_not_its_documents_sha256_stops_the_start(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "persisted.json"
    manifest.write_text(json.dumps({"0" * 64: VIEWER}))
    with pytest.raises(ValueError, match="sha256"):
        create_app(
            Settings(
                database_url="sqlite:///:memory:",
                persisted_queries_file=str(manifest),
                persisted_queries_only=True,
            )
        )
