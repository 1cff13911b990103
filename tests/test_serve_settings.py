"""Settings read from the environment of a real `seqgql serve` process, seen from outside
over HTTP: GRAPHQL_FAST_PATH, MAX_BODY_BYTES and TOKEN_CACHE_SECONDS; and the process-wide
tuning `serve` applies to its own process."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.helpers.processes import free_port, seqgql, seqgql_env, wait_for_port

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


@dataclass
class Served:
    base: str
    token: str
    db: Path
    stderr: list[str] = field(default_factory=list)  # once stopped


@contextmanager
def serving(tmp_path: Path) -> Iterator[Served]:
    """`seqgql serve` on SQLite with the settings under test, stopped on leaving."""
    db = tmp_path / "serve.db"
    env = seqgql_env(
        DATABASE_URL=f"sqlite:///{db}",
        GRAPHQL_FAST_PATH="false",
        MAX_BODY_BYTES="5000",
        TOKEN_CACHE_SECONDS="0",
        LOG_LEVEL="warning",
    )
    token = subprocess.run(
        [sys.executable, "-m", "seqgql.cli", "token", "create", "--email", "ops@example.com"],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    process = seqgql("serve", "--port", str(port), env=env, prelude=PRELUDE, stderr=subprocess.PIPE)
    served = Served(f"http://127.0.0.1:{port}", token, db)
    try:
        wait_for_port(port)
        yield served
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C: the process exits through Python
        _, stderr = process.communicate(timeout=10)
        served.stderr = stderr.decode().splitlines()


def test_a_real_server_reads_its_settings_from_the_environment(tmp_path: Path) -> None:
    with serving(tmp_path) as served:
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
            with sqlite3.connect(served.db) as conn:
                conn.execute("DELETE FROM api_tokens")
            time.sleep(0.05)
            assert http.post("/graphql", json={"query": PAGE}).status_code == 401


def test_serve_tunes_the_garbage_collector_of_its_own_process(tmp_path: Path) -> None:
    with serving(tmp_path) as served:
        assert httpx.get(f"{served.base}/healthz", timeout=10).status_code == 200
    assert "gc (10000, 50, 100) True" in served.stderr, served.stderr
