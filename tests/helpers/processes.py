"""Real processes on loopback: a free port, waiting for something to listen on one, and
`seqgql` run as a user runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time


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
