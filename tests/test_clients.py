"""Real GraphQL clients against a real `seqgql serve`: the GraphQL-over-HTTP server audit
of graphql-http (every MUST and SHOULD passes), and a subscription through the official
graphql-sse client (Server-Sent Events, distinct connections mode). Both are npm
packages (tests/clients/package.json), run with the machine's Node.js."""

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
    if not (CLIENTS / "node_modules" / "graphql-sse").is_dir():
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
    sequence = graphql(
        served,
        """mutation($input: CreateSequenceInput!) {
          createSequence(input: $input) { sequence { id } userErrors { code } } }""",
        {"input": {"name": "SSE", "steps": [
            {"channel": "EMAIL", "waitMinutes": 60, "body": "Hi", "subject": "Hello"}]}},
    )["createSequence"]["sequence"]["id"]  # fmt: skip
    contact = graphql(
        served,
        """mutation($input: CreateContactsInput!) {
          createContacts(input: $input) { contacts { id } userErrors { code } } }""",
        {"input": {"contacts": [{"firstName": "Ada", "email": "ada@example.com"}]}},
    )["createContacts"]["contacts"][0]["id"]
    enrolled = graphql(
        served,
        """mutation($input: AddContactsToSequenceInput!) {
          addContactsToSequence(input: $input) { changedCount userErrors { code } } }""",
        {"input": {"sequenceId": sequence, "contactIds": [contact]}},
    )["addContactsToSequence"]
    assert enrolled == {"changedCount": 1, "userErrors": []}

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
