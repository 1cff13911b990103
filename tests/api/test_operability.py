"""What an operator sees: a request id on every answer (the client's when sensible), and
Prometheus metrics at /metrics that move with what clients do."""

from __future__ import annotations

import re

import httpx

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(f"{name}{{{wanted}}}" if wanted else name) + r" ([0-9.e+]+)"
    found = re.search(pattern, metrics)
    return float(found.group(1)) if found else 0.0


async def test_every_answer_has_a_request_id(http: httpx.AsyncClient, workspace: Workspace) -> None:
    auth = {"authorization": f"Bearer {workspace.token}"}
    mine = await http.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={**auth, "x-request-id": "abc-123"}
    )
    assert mine.headers["x-request-id"] == "abc-123"
    made = await http.post("/graphql", json={"query": "{ viewer { id } }"}, headers=auth)
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    # a refusal before GraphQL, and an id no log should carry, get a new one too
    hostile = await http.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"x-request-id": "a b\tc" * 100}
    )
    assert hostile.status_code == 401
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])
    assert (await http.get("/healthz")).headers["x-request-id"]


async def test_metrics_count_operations_and_bulk_changes(
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    workspace: Workspace,
    db: Database,
    clock: FrozenClock,
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 3)
    before = (await http.get("/metrics")).text
    await gql.execute("query CountingViewer { viewer { id } }")
    await gql.post("query CountingViewer { nope }")
    paused = await mutate(
        gql, "pauseEnrollments", {"selection": {"sequenceId": gid("Sequence", seq)}}
    )
    assert paused["changedCount"] == 3
    after = await http.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text
    for outcome in ("ok", "error"):
        name = "seqgql_graphql_requests_total"
        labels = {"operation": "CountingViewer", "outcome": outcome}
        assert sample(text, name, **labels) == sample(before, name, **labels) + 1
    rows = "seqgql_bulk_rows_changed_total"
    assert sample(text, rows, action="PAUSE") == sample(before, rows, action="PAUSE") + 3
    assert "seqgql_graphql_request_duration_seconds_bucket" in text
    assert "seqgql_websocket_connections" in text


async def test_operation_names_from_clients_cannot_grow_the_metrics_without_bound(
    http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    for i in range(250):
        await gql.post(f"query Name{i} {{ viewer {{ id }} }}")
    await gql.post("query Ünïcode { viewer { id } }")
    text = (await http.get("/metrics")).text
    names = set(re.findall(r'seqgql_graphql_requests_total\{operation="([^"]*)"', text))
    assert len(names) <= 200 + 2  # the cap, plus anonymous and other
    assert "other" in names
