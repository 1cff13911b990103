"""The README's examples work as written: its curl requests, sent to a real
`seqgql serve --demo` with the token it prints, answer without errors (and the bulk
action changes what the README says); every GraphQL document it shows validates against
the schema."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest

from seqgql.graphql.schema import build_schema
from tests.helpers.processes import (
    demo_server,
    free_port,
    require_programs,
)

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
# "For integrators": shell examples run as written (each checked below, by its comment)
_START, _END = README.index("### For integrators"), README.index("### API tokens")
INTEGRATORS = README[_START:_END]
SHELL_EXAMPLES = re.findall(r"```sh\n(.*?)```", INTEGRATORS, flags=re.S)
# the other curl examples: each a request that answers without errors
ELSEWHERE = README[:_START] + README[_END:]
CURL_COMMANDS = re.findall(r"^curl [^`]*?-d '\{.*?\}'$", ELSEWHERE, flags=re.M | re.S)
CURL_BODIES = [re.search(r"-d '(\{.*\})'$", c, flags=re.S).group(1) for c in CURL_COMMANDS]  # type: ignore[union-attr]
GRAPHQL_BLOCKS = re.findall(r"```graphql\n(.*?)```", README, flags=re.S)
# "CSV export and import": its shell examples, run as written
CSV_SECTION = README[README.index("### CSV export and import") : _START]
CSV_EXAMPLES = re.findall(r"```sh\n(.*?)```", CSV_SECTION, flags=re.S)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`seqgql serve --demo` on a fresh SQLite file: (its base URL, the token it printed)."""
    # the example webhook receiver listens on 127.0.0.1
    with demo_server(tmp_path_factory.mktemp("demo"), WEBHOOK_ALLOW_PRIVATE="true") as served:
        yield served.base, served.token


def test_the_readme_shows_examples() -> None:
    assert len(CURL_BODIES) >= 2 and GRAPHQL_BLOCKS


def headers_of(command: str, token: str) -> dict[str, str]:
    """The -H headers of a curl command, with $TOKEN filled in."""
    found = re.findall(r"""-H ['"]([^'"]+)['"]""", command)
    pairs = (h.replace("$TOKEN", token).split(":", 1) for h in found)
    return {name.strip().lower(): value.strip() for name, value in pairs}


def test_the_curl_examples_answer_as_the_readme_says(demo: tuple[str, str]) -> None:
    base, token = demo
    answers = []
    for command, body in zip(CURL_COMMANDS, CURL_BODIES, strict=True):
        headers = headers_of(command, token)
        assert headers["authorization"] == f"Bearer {token}"
        answer = httpx.post(f"{base}/graphql", content=body.encode(), headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith(headers.get("accept", "application/json"))
        data = answer.json()
        assert "errors" not in data, (body[:80], data)
        answers.append(data["data"])
    page = next(a["enrollments"] for a in answers if "enrollments" in a)
    assert page["totalCount"] == 2
    paused = next(a["pauseEnrollments"] for a in answers if "pauseEnrollments" in a)
    assert (paused["changedCount"], paused["userErrors"]) == (2, [])


def test_every_graphql_document_in_the_readme_validates() -> None:
    schema = graphql.build_schema(build_schema().as_str())
    for block in GRAPHQL_BLOCKS:
        # one operation per line group starting at the left margin
        operations = re.split(r"\n(?=(?:query|mutation|subscription)\b)", block.strip())
        for text in operations:
            errors = graphql.validate(schema, graphql.parse(text))
            assert errors == [], (text, [e.message for e in errors])


def test_the_json_in_the_curl_examples_is_json() -> None:
    for body in CURL_BODIES:
        assert isinstance(json.loads(body), dict)


def _head_and_body(output: str) -> tuple[str, Any]:
    """`curl -i` output: its status and headers (lower-cased), and its JSON body."""
    head, _, body = output.replace("\r\n", "\n").partition("\n\n")
    return head.lower(), json.loads(body)


def _no_token(output: str) -> None:
    head, body = _head_and_body(output)
    assert head.startswith("http/1.1 401") and "x-request-id: readme-1" in head
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def _not_valid(output: str) -> None:
    head, body = _head_and_body(output)
    assert head.startswith("http/1.1 400")
    assert "content-type: application/graphql-response+json" in head
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean 'name'" in body["errors"][0]["message"]


def _user_errors(output: str) -> None:
    payload = json.loads(output)["data"]["pauseEnrollments"]
    assert payload == {
        "changedCount": 0,
        "userErrors": [
            {
                "field": ["input", "selection", "ids", "0"],
                "code": "INVALID_ID",
                "message": "'bad' is not an id this API gave out",
            }
        ],
    }


def _over_the_limit(output: str) -> None:
    body = json.loads(output)
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


def _rate_limit(output: str) -> None:
    head, body = _head_and_body(output)
    headers = dict(line.split(": ", 1) for line in head.splitlines()[1:])
    figures = body["data"]["rateLimit"]
    # rateLimit and its 7 fields; sequences, and 20 x (edges, node, name)
    assert figures["cost"] == 1 + 7 + 1 + 20 * 3
    assert figures["limit"] == int(headers["x-ratelimit-limit"]) == 1_000_000
    assert figures["remaining"] == int(headers["x-ratelimit-remaining"])
    assert figures["used"] == int(headers["x-ratelimit-used"]) >= figures["cost"]
    assert int(headers["x-ratelimit-requests-remaining"]) == figures["requestsRemaining"]


def _backward(output: str) -> None:
    page = json.loads(output)["data"]["enrollments"]
    assert len(page["edges"]) == 2 and page["pageInfo"]["hasPreviousPage"] is True
    # the demo's first contacts, enrolled first: the end of a newest-first list
    assert [e["node"]["contact"]["name"] for e in page["edges"]] == ["Grace Hopper", "Ada Lovelace"]


def _by_ids(output: str) -> None:
    nodes = json.loads(output)["data"]["nodes"]
    assert nodes[0] == {"__typename": "Sequence", "id": "U2VxdWVuY2U6MQ==", "name": "Q4 Outbound"}
    assert nodes[1]["__typename"] == "Enrollment" and nodes[2] is None


def _changed(output: str) -> None:
    paused = json.loads(output)["data"]["pauseEnrollments"]
    assert paused["changedCount"] >= 1
    assert len(paused["changedEnrollments"]) == paused["changedCount"]
    assert {e["status"] for e in paused["changedEnrollments"]} == {"PAUSED"}
    operation = paused["bulkOperation"]
    assert operation["action"] == "PAUSE"
    assert operation["events"]["totalCount"] == paused["changedCount"]
    assert operation["options"]["selection"]["filter"]["search"] == "grace"


def _server_sent(output: str) -> None:
    assert output.startswith("event: next\ndata: "), output
    data = json.loads(output.split("data: ", 1)[1].split("\n", 1)[0])
    counts = data["data"]["sequenceStatusCounts"]
    assert counts["id"] == "U2VxdWVuY2U6MQ==" and counts["total"] == 60


def _persisted(output: str) -> None:
    miss, first, again = (json.loads(line) for line in output.strip().splitlines())
    assert miss["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert first == again == {"data": {"viewer": {"name": "Demo Admin"}}}


def _metrics(output: str) -> None:
    lines = output.strip().splitlines()
    assert 'seqgql_graphql_requests_total{operation="Me",outcome="ok"} 2.0' in lines
    assert any(line.startswith('seqgql_bulk_rows_changed_total{action="PAUSE"}') for line in lines)


CHECKS: dict[str, Callable[[str], None]] = {
    "# no token: 401 UNAUTHENTICATED": _no_token,
    "# a document that does not validate: 400, GRAPHQL_VALIDATION_FAILED": _not_valid,
    "# a refusal: userErrors with the field and a code": _user_errors,
    "# a page over the limit: BAD_USER_INPUT naming `first`": _over_the_limit,
    "# where the token stands: headers and the rateLimit field": _rate_limit,
    "# the end of the list, read backward": _backward,
    "# several objects by id": _by_ids,
    "# a bulk pause that returns what it changed": _changed,
    "# live counts over Server-Sent Events (the first comes at once; Ctrl-C to stop)": (
        _server_sent
    ),
    "# a persisted query: the hash alone, the query once, then the hash alone by GET": (_persisted),
    "# what the server has served": _metrics,
}


def test_every_integrator_example_has_a_check() -> None:
    assert [example.splitlines()[0] for example in SHELL_EXAMPLES] == list(CHECKS)


def test_the_integrator_examples_answer_as_the_readme_says(demo: tuple[str, str]) -> None:
    """Each shell example of "For integrators", run by bash with curl as written (the
    demo's address and token put in), answers what its check expects."""
    require_programs(shutil.which("curl"), shutil.which("bash"), why="curl and bash")
    base, token = demo
    for example in SHELL_EXAMPLES:
        script = example.replace("http://127.0.0.1:8000", base)
        run = subprocess.run(
            ["bash", "-c", script], env={**os.environ, "TOKEN": token},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        first_line = example.splitlines()[0]
        # curl's --max-time ends the event stream: exit code 28
        assert run.returncode in ((0, 28) if "--max-time" in script else (0,)), run.stderr
        CHECKS[first_line](run.stdout)


def test_the_csv_examples_answer_as_the_readme_says(demo: tuple[str, str], tmp_path: Path) -> None:
    """The export writes the demo's ACTIVE and PAUSED "ada"s, by name, to ada.csv; the
    import's dry run counts the one contact of new.csv and creates nothing."""
    require_programs(shutil.which("curl"), shutil.which("bash"), why="curl and bash")
    base, token = demo
    assert len(CSV_EXAMPLES) == 2  # the export, the import
    outputs = []
    for example in CSV_EXAMPLES:
        run = subprocess.run(
            ["bash", "-c", example.replace("http://127.0.0.1:8000", base)],
            env={**os.environ, "TOKEN": token}, cwd=tmp_path,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    rows = list(csv.reader(io.StringIO((tmp_path / "ada.csv").read_text(), newline="")))
    shown = CSV_SECTION.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    assert rows[0] == shown[0].split(",")
    names = [(r[9], r[10]) for r in rows[1:]]
    assert names == sorted(names) and len(names) >= 1
    for row in rows[1:]:
        assert "ada" in " ".join(row[9:12]).lower() and row[1] in ("ACTIVE", "PAUSED"), row
    assert json.loads(outputs[1]) == {"created": 1, "contactIds": [], "dryRun": True}


LIVE_DEMO = "U2VxdWVuY2U6Mw=="  # the demo's "Live demo (minutes)": no other check reads it
WEBHOOKS = README[README.index("### Webhooks") : README.index("## Performance")]


def test_the_example_webhook_receiver_verifies_what_serve_sends(
    demo: tuple[str, str], tmp_path: Path
) -> None:
    """examples/webhook_receiver.py, started as the README says with the secret of a new
    endpoint, prints a verified line for each change of the sequence, as the README shows
    it (`serve` sends webhooks itself in embedded mode)."""
    base, token = demo
    headers = {"authorization": f"Bearer {token}"}
    port = free_port()
    created = httpx.post(
        f"{base}/graphql",
        headers=headers,
        timeout=30,
        json={
            "query": "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint("
            "input: $input) { secret webhookEndpoint { id } userErrors { code message } } }",
            "variables": {"input": {"url": f"http://127.0.0.1:{port}/",
                                    "eventTypes": ["ENROLLMENT_STATUS_CHANGED"],
                                    "sequenceIds": [LIVE_DEMO]}},
        },
    ).json()["data"]["createWebhookEndpoint"]  # fmt: skip
    assert created["userErrors"] == [], created
    command = re.search(r"```sh\n(WEBHOOK_SECRET=.*?)\n```", WEBHOOKS, flags=re.S)
    assert command is not None
    script = command.group(1).replace("whsec_...", created["secret"])
    script = script.replace("--port 8001", f"--port {port}").replace(
        ".venv/bin/python", sys.executable
    )
    receiver = subprocess.Popen(
        ["bash", "-c", f"exec env {script}"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert receiver.stdout is not None
        assert "listening" in receiver.stdout.readline()
        paused = httpx.post(
            f"{base}/graphql",
            headers=headers,
            timeout=30,
            json={"query": "mutation($input: PauseEnrollmentsInput!) { pauseEnrollments("
                  "input: $input) { changedCount } }",
                  "variables": {"input": {"selection": {"sequenceId": LIVE_DEMO,
                                                        "filter": {"statuses": ["ACTIVE"]}}}}},
        ).json()["data"]["pauseEnrollments"]  # fmt: skip
        assert paused["changedCount"] >= 1
        line = receiver.stdout.readline()
    finally:
        receiver.terminate()
        receiver.communicate(timeout=10)
    shown = WEBHOOKS.rsplit("```\n", 2)[-2].strip()  # the block after the command
    pattern = r"evt_\d+_\d+ enrollment\.status_changed: enrollment \S+ \w+ -> \w+( \(\w+\))?"
    assert re.fullmatch(pattern, shown), shown
    assert re.fullmatch(pattern, line.strip()), line
    assert line.startswith("evt_3_")
