"""Real processes on loopback: a free port, waiting for something to listen on one, and
`seqgql` run as a user runs it (``serving``: `seqgql serve` with a token, stopped on
leaving, its stderr kept)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def seqgql_env(**settings: str) -> dict[str, str]:
    """This environment without the suite's own settings, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "SEQGQL_"))}
    return {**env, **settings}


def seqgql(
    *args: str, env: dict[str, str], prelude: str = "", stderr: int | None = None
) -> subprocess.Popen[bytes]:
    """``seqgql ARGS`` in a process of its own (``prelude``: Python run before it)."""
    program = f"import sys\n{prelude}\nfrom seqgql.cli import main\nsys.exit(main())"
    return subprocess.Popen([sys.executable, "-c", program, *args], env=env, stderr=stderr)


@dataclass
class Served:
    base: str
    port: int
    token: str
    db: Path
    stderr: list[str] = field(default_factory=list)  # once stopped


@contextmanager
def serving(tmp_path: Path, *, prelude: str = "", **settings: str) -> Iterator[Served]:
    """`seqgql serve` on a SQLite file of its own with these settings (environment
    variables) and an admin token; stopped with Ctrl+C on leaving, its stderr kept."""
    db = tmp_path / "serve.db"
    env = seqgql_env(DATABASE_URL=f"sqlite:///{db}", **settings)
    token = subprocess.run(
        [sys.executable, "-m", "seqgql.cli", "token", "create", "--email", "ops@example.com"],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    process = seqgql("serve", "--port", str(port), env=env, prelude=prelude, stderr=subprocess.PIPE)
    served = Served(f"http://127.0.0.1:{port}", port, token, db)
    try:
        wait_for_port(port)
        yield served
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C: the process exits through Python
        _, stderr = process.communicate(timeout=10)
        served.stderr = stderr.decode().splitlines()
