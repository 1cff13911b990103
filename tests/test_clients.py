"""Real GraphQL clients against a real `seqgql serve`: the GraphQL-over-HTTP server audit
of graphql-http (every MUST and SHOULD passes), a subscription through the official
graphql-sse client (Server-Sent Events, distinct connections mode), and Apollo Client's
normalised cache after a bulk action. All are npm packages (tests/clients/package.json),
run with the machine's Node.js."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.processes import Served, require_programs, serving

CLIENTS = Path(__file__).parent / "clients"
CHANGES = """subscription($seq: ID!) {
  enrollmentStatusChanged(sequenceId: $seq) { number toStatus enrollment { id } }
}"""


@pytest.fixture(scope="module")
def node_clients() -> Path:
    """tests/clients with its packages installed (npm ci, once)."""
    require_programs(shutil.which("node"), shutil.which("npm"), why="Node.js and npm")
    wanted = json.loads((CLIENTS / "package.json").read_text())["dependencies"]
    if not all((CLIENTS / "node_modules" / name).is_dir() for name in wanted):
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENTS, check=True, timeout=600,
            capture_output=True,
        )  # fmt: skip
    return CLIENTS


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("clients"), LOG_LEVEL="warning") as running:
        yield running


def graphql(served: Served, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(
        f"{served.base}/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {served.token}"},
        timeout=30,
    )
    body = answer.json()
    assert answer.status_code == 200 and "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def enrolled_sequence(served: Served, name: str, first_names: list[str]) -> str:
    """A new sequence (its global id) with a new contact enrolled per first name."""
    sequence = graphql(
        served,
        """mutation($input: CreateSequenceInput!) {
          createSequence(input: $input) { sequence { id } userErrors { code } } }""",
        {"input": {"name": name, "steps": [
            {"channel": "EMAIL", "waitMinutes": 60, "body": "Hi", "subject": "Hello"}]}},
    )["createSequence"]["sequence"]["id"]  # fmt: skip
    contacts = [{"firstName": n, "email": f"{n.lower()}@example.com"} for n in first_names]
    created = graphql(
        served,
        """mutation($input: CreateContactsInput!) {
          createContacts(input: $input) { contacts { id } userErrors { code } } }""",
        {"input": {"contacts": contacts}},
    )["createContacts"]["contacts"]
    enrolled = graphql(
        served,
        """mutation($input: AddContactsToSequenceInput!) {
          addContactsToSequence(input: $input) { changedCount userErrors { code } } }""",
        {"input": {"sequenceId": sequence, "contactIds": [c["id"] for c in created]}},
    )["addContactsToSequence"]
    assert enrolled == {"changedCount": len(first_names), "userErrors": []}
    return sequence  # type: ignore[no-any-return]


def test_the_graphql_over_http_audit_passes_every_must_and_should(
    node_clients: Path, served: Served
) -> None:
    run = subprocess.run(
        ["node", "audit.mjs", f"{served.base}/graphql", served.token],
        cwd=node_clients, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    audits = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(audits) > 50, run.stdout
    failed = [
        f"{a['id']} {a['name']}: {a.get('reason')}"
        for a in audits
        if a["status"] != "ok" and a["name"].startswith(("MUST", "SHOULD"))
    ]
    assert failed == []


def test_a_subscription_over_server_sent_events_with_the_graphql_sse_client(
    node_clients: Path, served: Served
) -> None:
    sequence = enrolled_sequence(served, "SSE", ["Ada"])

    client = subprocess.Popen(
        ["node", "sse.mjs", f"{served.base}/graphql", served.token, CHANGES,
         json.dumps({"seq": sequence}), "2"],
        cwd=node_clients, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert client.stdout is not None
        assert client.stdout.readline().strip() == "READY"
        time.sleep(1.0)  # the request reaches the server and subscribes
        for action in ("pauseEnrollments", "resumeEnrollments"):
            changed = graphql(
                served,
                f"""mutation($input: {action[0].upper() + action[1:]}Input!) {{
                  {action}(input: $input) {{ changedCount }} }}""",
                {"input": {"selection": {"sequenceId": sequence}}},
            )[action]["changedCount"]
            assert changed == 1
        lines, _ = client.communicate(timeout=30)
    finally:
        client.kill()
    results = [json.loads(line) for line in lines.splitlines()]
    assert [r["data"]["enrollmentStatusChanged"]["toStatus"] for r in results] == [
        "PAUSED",
        "ACTIVE",
    ], results


def test_apollo_clients_cache_shows_a_bulk_pause_without_a_refetch(
    node_clients: Path, served: Served
) -> None:
    """Apollo Client (normalised InMemoryCache, HTTP and graphql-ws links): the pause's
    `changedEnrollments` update the cached page, and counts pushed over the websocket
    (`sequenceStatusCounts { sequence { statusCounts } }`) update the cached Sequence."""
    sequence = enrolled_sequence(served, "Apollo", ["Ada", "Bo", "Cy", "Di"])
    ws_url = served.base.replace("http://", "ws://") + "/graphql"
    run = subprocess.run(
        ["node", "apollo.mjs", f"{served.base}/graphql", ws_url, served.token, sequence],
        cwd=node_clients, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    seen = json.loads(run.stdout.splitlines()[-1])
    assert seen["before"]["statuses"] == ["ACTIVE"] * 4
    assert seen["before"]["counts"]["ACTIVE"] == 4
    # the mutation's answer alone updated the cached rows: no query after it
    assert seen["afterMutation"]["statuses"] == ["PAUSED", "PAUSED", "ACTIVE", "ACTIVE"]
    assert seen["requestsAfterMutation"] == 2  # the page, then the mutation
    assert seen["operation"].startswith("BulkOperation:")
    # the counts pushed over the websocket updated the cached Sequence
    assert seen["afterPush"]["counts"]["PAUSED"] == 2
    assert seen["afterPush"]["counts"]["ACTIVE"] == 2
    assert seen["requestsAtEnd"] == 2
    assert set(seen["pushedIds"]) == {sequence}
