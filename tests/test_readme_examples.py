"""The README's examples work as written: its curl requests, sent to a real
`seqgql serve --demo` with the token it prints, answer without errors (and the bulk
action changes what the README says); every GraphQL document it shows validates against
the schema."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import graphql
import httpx
import pytest

from seqgql.graphql.schema import build_schema
from tests.helpers.processes import free_port, seqgql, seqgql_env, wait_for_port

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
CURL_COMMANDS = re.findall(r"^curl [^`]*?-d '\{.*?\}'$", README, flags=re.M | re.S)
CURL_BODIES = [re.search(r"-d '(\{.*\})'$", c, flags=re.S).group(1) for c in CURL_COMMANDS]  # type: ignore[union-attr]
GRAPHQL_BLOCKS = re.findall(r"```graphql\n(.*?)```", README, flags=re.S)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`seqgql serve --demo` on a fresh SQLite file: (its base URL, the token it printed)."""
    workdir = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = seqgql_env(DATABASE_URL=f"sqlite:///{workdir / 'demo.db'}", LOG_LEVEL="warning")
    process = seqgql("serve", "--demo", "--port", str(port), env=env, cwd=workdir,
                     stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert process.stdout is not None
        token = ""
        for raw in process.stdout:
            if b"API token:" in raw:
                token = raw.decode().split("API token:")[1].strip()
                break
        assert token.startswith("sqg_")
        wait_for_port(port, 90, process)
        yield f"http://127.0.0.1:{port}", token
    finally:
        process.terminate()
        process.communicate(timeout=20)  # reads and closes its stdout


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
    nodes = next(a["nodes"] for a in answers if "nodes" in a)
    assert nodes[0] == {"__typename": "Sequence", "id": "U2VxdWVuY2U6MQ==", "name": "Q4 Outbound"}
    assert nodes[1]["__typename"] == "Enrollment" and nodes[2] is None


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
