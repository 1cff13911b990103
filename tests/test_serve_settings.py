"""Settings read from the environment (or a .env file) of a real `seqgql serve` process,
seen from outside over HTTP: GRAPHQL_FAST_PATH, MAX_BODY_BYTES, TOKEN_CACHE_SECONDS,
ALLOWED_ORIGINS and ALLOWED_HEADERS (and WS_COMPRESSION over a websocket); and the
process-wide tuning `serve` applies to its own process."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from websockets.sync.client import connect as connect_ws
from websockets.typing import Subprotocol

from tests.helpers.processes import Served, serving

PAGE = "{ viewer { email } sequences { totalCount } }"
# Nothing can import the fast path's executor: a server that did not read
# GRAPHQL_FAST_PATH=false from its environment would not start. At exit the process says
# how its garbage collector was set.
PRELUDE = """
sys.modules["seqgql.graphql.fastpath.executor"] = None
import atexit, gc
atexit.register(lambda: print("gc", gc.get_threshold(), gc.get_freeze_count() > 0,
                              file=sys.stderr))
"""


@contextmanager
def serving_settings(tmp_path: Path, unset: tuple[str, ...] = ()) -> Iterator[Served]:
    """`seqgql serve` with the settings under test (but ``unset``), run in ``tmp_path``."""
    with serving(
        tmp_path,
        prelude=PRELUDE,
        unset=unset,
        GRAPHQL_FAST_PATH="false",
        MAX_BODY_BYTES="5000",
        TOKEN_CACHE_SECONDS="0",
        ALLOWED_ORIGINS="http://localhost:5173",  # one origin, as a user writes it
        LOG_LEVEL="info",
        LOG_FORMAT="json",
    ) as served:
        yield served


def test_a_real_server_reads_its_settings_from_the_environment(tmp_path: Path) -> None:
    with serving_settings(tmp_path) as served:
        headers = {"authorization": f"Bearer {served.token}"}
        with httpx.Client(base_url=served.base, headers=headers, timeout=10) as http:
            # GRAPHQL_FAST_PATH=false: it started, and answers without the fast path
            answer = http.post("/graphql", json={"query": PAGE})
            assert answer.json() == {
                "data": {"viewer": {"email": "ops@example.com"}, "sequences": {"totalCount": 0}}
            }
            # MAX_BODY_BYTES=5000
            big = http.post("/graphql", json={"query": PAGE + " " * 5_000})
            assert big.status_code == 413
            assert big.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
            assert "5,000 bytes" in big.json()["errors"][0]["message"]
            # TOKEN_CACHE_SECONDS=0: a revoked token is refused at the next request
            # ALLOWED_ORIGINS: one origin; the default ALLOWED_HEADERS cover common clients
            asked = "content-type, authorization, x-request-id, apollographql-client-name"
            allowed = preflight(http, "http://localhost:5173", asked)
            assert allowed.status_code == 200
            assert allowed.headers["access-control-allow-origin"] == "http://localhost:5173"
            assert preflight(http, "http://evil.example", "content-type").status_code == 400
            # TOKEN_CACHE_SECONDS=0: a revoked token is refused at the next request
            with sqlite3.connect(served.db) as conn:
                conn.execute("DELETE FROM api_tokens")
            time.sleep(0.05)
            assert http.post("/graphql", json={"query": PAGE}).status_code == 401


def preflight(http: httpx.Client, origin: str, headers: str) -> httpx.Response:
    """A browser's CORS preflight for a POST sending ``headers``."""
    asking = {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": headers,
    }
    return http.options("/graphql", headers=asking)


def test_lists_of_origins_and_headers_from_a_dotenv_file(tmp_path: Path) -> None:
    """A .env file in the working directory: a comma-separated list and a JSON list."""
    (tmp_path / ".env").write_text(
        "ALLOWED_ORIGINS=http://a.example, http://b.example\n"
        'ALLOWED_HEADERS=["content-type", "x-custom"]\n'
    )
    with (
        serving_settings(tmp_path, unset=("ALLOWED_ORIGINS",)) as served,
        httpx.Client(base_url=served.base, timeout=10) as http,
    ):
        for origin in ("http://a.example", "http://b.example"):
            assert preflight(http, origin, "content-type, x-custom").status_code == 200
        assert preflight(http, "http://a.example", "x-request-id").status_code == 400


def test_serve_tunes_the_garbage_collector_of_its_own_process(tmp_path: Path) -> None:
    with serving_settings(tmp_path) as served:
        assert httpx.get(f"{served.base}/healthz", timeout=10).status_code == 200
    assert "gc (10000, 50, 100) True" in served.stderr, served.stderr


def test_log_lines_are_json_with_the_request_id(tmp_path: Path) -> None:
    """LOG_FORMAT=json: every line the server writes is one JSON object (uvicorn's too),
    and a request's line carries the X-Request-ID it came with."""
    with serving_settings(tmp_path) as served:
        answer = httpx.get(
            f"{served.base}/healthz", headers={"x-request-id": "ops-check-1"}, timeout=10
        )
        assert answer.headers["x-request-id"] == "ops-check-1"
    lines = [line for line in served.stderr if not line.startswith("gc (")]
    records = [json.loads(line) for line in lines]  # each one is JSON
    assert any(r["logger"].startswith("uvicorn") for r in records), lines
    [access] = [r for r in records if r["request_id"] == "ops-check-1"]
    assert access["logger"] == "seqgql.access" and "GET /healthz 200" in access["message"]


def _negotiated_extensions(served: Served) -> str | None:
    """What a browser-like websocket client (offering permessage-deflate) is granted."""
    url = f"ws://127.0.0.1:{served.port}/graphql"
    with connect_ws(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        ws.send(json.dumps({"type": "connection_init",
                            "payload": {"authorization": f"Bearer {served.token}"}}))  # fmt: skip
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        assert ws.response is not None
        return ws.response.headers.get("Sec-WebSocket-Extensions")


def test_websocket_compression_is_off_unless_asked(tmp_path: Path) -> None:
    """WS_COMPRESSION: by default a client offering permessage-deflate (every browser
    does) is not granted it (zlib's state would cost each connection ~40 KiB); with
    WS_COMPRESSION=true it is."""
    (tmp_path / "off").mkdir()
    (tmp_path / "on").mkdir()
    with serving(tmp_path / "off") as served:
        assert _negotiated_extensions(served) is None
    with serving(tmp_path / "on", WS_COMPRESSION="true") as served:
        granted = _negotiated_extensions(served)
        assert granted is not None and "permessage-deflate" in granted
