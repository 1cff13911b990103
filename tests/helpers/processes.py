"""Real processes on loopback: a free port, waiting for something to listen on one,
`seqgql` run as a user runs it, and the servers a test may stop, restart or kill — a
private redis-server, a private PostgreSQL cluster and `seqgql serve` replicas — never the
shared ones. Every process started here is stopped by its PID (the fixtures in
tests/conftest.py use these). ``serving``: `seqgql serve` on SQLite with a token, stopped
on leaving, its stderr kept."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.graphql_client import GraphQLClient


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    port: int, seconds: float = 60, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until something listens on ``port``; fail at once if ``process`` (the one
    meant to listen there) has exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited ({process.returncode}) before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def stop_process(process: subprocess.Popen[Any], seconds: float = 10) -> None:
    """SIGTERM, then SIGKILL if it is still there after ``seconds``; waits for it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(seconds)


def seqgql_env(**settings: str) -> dict[str, str]:
    """This environment without the suite's own settings, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "SEQGQL_"))}
    return {**env, **settings}


def seqgql(
    *args: str,
    env: dict[str, str],
    prelude: str = "",
    stderr: int | None = None,
    cwd: Path | None = None,
    stdout: int | None = None,
) -> subprocess.Popen[bytes]:
    """``seqgql ARGS`` in a process of its own (``prelude``: Python run before it; ``cwd``:
    where it runs, and so which .env file it reads)."""
    program = f"import sys\n{prelude}\nfrom seqgql.cli import main\nsys.exit(main())"
    argv = [sys.executable, "-c", program, *args]
    return subprocess.Popen(argv, env=env, stderr=stderr, cwd=cwd, stdout=stdout)


def require_programs(*paths: str | None, why: str) -> None:
    """Skip the test when a server program is missing (``None``); fail instead under CI."""
    if all(paths):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{why} required in CI")
    pytest.skip(f"{why} not installed")


@dataclass
class Replica:
    """One `seqgql serve` process."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def http(self) -> str:
        return f"{self.base}/graphql"

    @contextlib.asynccontextmanager
    async def gql(self, token: str) -> AsyncIterator[GraphQLClient]:
        """A GraphQL client speaking to this replica over HTTP with ``token``."""
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as http:
            yield GraphQLClient(http, token)

    def kill(self) -> None:
        """``kill -9``: no shutdown, no goodbye to its clients."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@contextlib.contextmanager
def replicas(count: int, **settings: str) -> Iterator[list[Replica]]:
    """``count`` `seqgql serve` replicas, each on a free port, with ``settings`` (environment
    variables: DATABASE_URL, BROADCAST_URL, ...; no migrations, no engine, warnings only,
    unless given); stopped by PID on leaving."""
    env = seqgql_env(
        **{"AUTO_MIGRATE": "false", "RUN_ENGINE": "false", "LOG_LEVEL": "warning", **settings}
    )
    started: list[Replica] = []
    try:
        for _ in range(count):
            port = free_port()
            serve = seqgql("serve", "--host", "127.0.0.1", "--port", str(port), env=env)
            started.append(Replica(port, serve))
        for replica in started:
            wait_for_port(replica.port, process=replica.process)
        yield started
    finally:
        for replica in started:
            stop_process(replica.process)


class PrivateRedis:
    """A redis-server of the test's own, on a free port: it can be stopped and started."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def program() -> str | None:
        return shutil.which("redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, process=self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


def postgres_program(name: str) -> str | None:
    """A PostgreSQL server program (initdb, pg_ctl): the newest installed."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, on a free port, run as the postgres user
    (initdb and pg_ctl): it can be stopped and started."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="seqgql-pg-"))
        self.port = free_port()
        self.data = self.dir / "data"
        shutil.chown(self.dir, "postgres", "postgres")
        initdb = postgres_program("initdb")
        self._as_postgres(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def _as_postgres(self, *argv: Any) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=120)

    def pg_ctl(self, *argv: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            postgres_program("pg_ctl"), "-D", str(self.data), "-o", options, "-l",
            str(self.dir / "log"), "-w", *argv,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Served:
    base: str
    port: int
    token: str
    db: Path
    stderr: list[str] = field(default_factory=list)  # once stopped


@contextlib.contextmanager
def serving(
    tmp_path: Path, *, prelude: str = "", unset: tuple[str, ...] = (), **settings: str
) -> Iterator[Served]:
    """`seqgql serve` on a SQLite file of its own with these settings (environment
    variables, less ``unset``), run in ``tmp_path`` (where a .env file may hold more), and
    an admin token; stopped with Ctrl+C on leaving, its stderr kept."""
    db = tmp_path / "serve.db"
    env = seqgql_env(DATABASE_URL=f"sqlite:///{db}", **settings)
    for name in unset:
        env.pop(name, None)
    token = subprocess.run(
        [sys.executable, "-m", "seqgql.cli", "token", "create", "--email", "ops@example.com"],
        env=env, capture_output=True, text=True, check=True, timeout=120, cwd=tmp_path,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    process = seqgql(
        "serve", "--port", str(port), env=env, prelude=prelude, stderr=subprocess.PIPE,
        cwd=tmp_path,
    )  # fmt: skip
    served = Served(f"http://127.0.0.1:{port}", port, token, db)
    try:
        wait_for_port(port, 90, process)
        yield served
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C: the process exits through Python
        _, stderr = process.communicate(timeout=10)
        served.stderr = stderr.decode().splitlines()


@dataclass
class DemoServer:
    """A `seqgql serve --demo` process: its base URL and the token it printed."""

    base: str
    port: int
    token: str
    db: Path
    process: subprocess.Popen[bytes]

    @property
    def graphql(self) -> str:
        return f"{self.base}/graphql"

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A GraphQL call over HTTP with the demo token, as another client makes it: its
        ``data`` (the test fails on any error)."""
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(
                self.graphql,
                json={"query": query, "variables": variables or {}},
                headers={"authorization": f"Bearer {self.token}"},
            )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]


@contextlib.contextmanager
def demo_server(workdir: Path, **settings: str) -> Iterator[DemoServer]:
    """`seqgql serve --demo` on 127.0.0.1 and a fresh SQLite file in ``workdir``, with
    ``settings`` (environment variables); stopped by its PID on leaving."""
    db = workdir / "demo.db"
    port = free_port()
    env = seqgql_env(DATABASE_URL=f"sqlite:///{db}", LOG_LEVEL="warning", **settings)
    process = seqgql(
        "serve", "--demo", "--host", "127.0.0.1", "--port", str(port),
        env=env, cwd=workdir, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        token = ""
        for raw in process.stdout:
            if b"API token:" in raw:
                token = raw.decode().split("API token:")[1].strip()
                break
        assert token.startswith("sqg_"), "serve --demo printed no token"
        wait_for_port(port, 90, process)
        yield DemoServer(f"http://127.0.0.1:{port}", port, token, db, process)
    finally:
        stop_process(process, 20)
        if process.stdout is not None:
            process.stdout.close()
