"""Running the `seqgql` command as a user runs it (a process of its own), and an app in
process on the same database to try what it printed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from seqgql.app import create_app
from seqgql.settings import Settings

CONSOLE_SCRIPT = Path(sys.executable).with_name("seqgql")


def command() -> list[str]:
    """The installed console script; the module when the script is not installed."""
    if CONSOLE_SCRIPT.exists():
        return [str(CONSOLE_SCRIPT)]
    return [sys.executable, "-m", "seqgql.cli"]


async def seqgql(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`seqgql ARGS` with DATABASE_URL set (and nothing else of ours from the environment),
    whatever its exit code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "SEQGQL_"))}
    env["DATABASE_URL"] = database_url
    return await asyncio.to_thread(
        subprocess.run,
        [*command(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@asynccontextmanager
async def client_for(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of a fresh app (its own token cache) on that database."""
    app = create_app(Settings(database_url=database_url, allowed_origins=[], run_engine=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
