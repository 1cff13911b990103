"""The `seqgql` command, run as a user runs it, and the health endpoints."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from seqgql.app import create_app
from seqgql.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = Path(sys.executable).with_name("seqgql")


def _command() -> list[str]:
    """The installed console script; the module when the script is not installed."""
    if CONSOLE_SCRIPT.exists():
        return [str(CONSOLE_SCRIPT)]
    return [sys.executable, "-m", "seqgql.cli"]


def run_cli(
    *args: str, database_url: str, cwd: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "SEQGQL_"))}
    env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [*_command(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert done.returncode == 0, f"seqgql {' '.join(args)} failed:\n{done.stderr}"
    return done


async def run_cli_async(*args: str, database_url: str, cwd: Path) -> str:
    done = await asyncio.to_thread(run_cli, *args, database_url=database_url, cwd=cwd)
    return done.stdout


async def create_token(database_url: str, cwd: Path, email: str, *options: str) -> str:
    """`seqgql token create --email EMAIL [options]`: its whole output."""
    return await run_cli_async(
        "token", "create", "--email", email, *options, database_url=database_url, cwd=cwd
    )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@asynccontextmanager
async def client_for(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=database_url, allowed_origins=[]))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def post(client: httpx.AsyncClient, token: str, query: str) -> dict[str, object]:
    response = await client.post(
        "/graphql", json={"query": query}, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


async def test_token_create_prints_only_a_working_token(sqlite_url: str, tmp_path: Path) -> None:
    out = await create_token(sqlite_url, tmp_path, "a@b.c")
    lines = out.splitlines()
    assert len(lines) == 1, f"expected the token alone, got {out!r}"
    token = lines[0]
    assert out == token + "\n"
    assert token.startswith("sqg_")
    assert token.strip() == token and " " not in token

    async with client_for(sqlite_url) as client:
        data = await post(client, token, "{ viewer { email role } }")
        assert data == {"viewer": {"email": "a@b.c", "role": "ADMIN"}}
        # another call makes another token; both work
        again = (await create_token(sqlite_url, tmp_path, "a@b.c")).strip()
        assert again != token
        assert (await post(client, again, "{ viewer { email } }"))["viewer"] == {"email": "a@b.c"}
        assert (await post(client, token, "{ viewer { email } }"))["viewer"] == {"email": "a@b.c"}


async def test_token_create_for_a_viewer_in_a_named_workspace(
    sqlite_url: str, tmp_path: Path
) -> None:
    admin = (await create_token(sqlite_url, tmp_path, "a@b.c")).strip()
    out = await create_token(sqlite_url, tmp_path, "v@b.c", "--workspace", "W", "--role", "VIEWER")
    assert len(out.splitlines()) == 1, out
    viewer = out.strip()
    assert viewer.startswith("sqg_")
    async with client_for(sqlite_url) as client:
        data = await post(
            client, viewer, "{ viewer { email role } users { edges { node { email } } } }"
        )
        assert data["viewer"] == {"email": "v@b.c", "role": "VIEWER"}
        # W is its own workspace: the first user is not in it
        assert data["users"]["edges"] == [{"node": {"email": "v@b.c"}}]
        admin_view = await post(client, admin, "{ users { edges { node { email } } } }")
        assert admin_view["users"]["edges"] == [{"node": {"email": "a@b.c"}}]
        created = await post(
            client,
            viewer,
            'mutation { createGroup(input: {name: "G"}) { group { id } userErrors { code } } }',
        )
        assert created["createGroup"] == {"group": None, "userErrors": [{"code": "FORBIDDEN"}]}


async def test_export_schema_prints_the_committed_sdl(tmp_path: Path) -> None:
    out = await run_cli_async("export-schema", database_url="sqlite:///unused.db", cwd=tmp_path)
    committed = (ROOT / "schema.graphql").read_text()

    def norm(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip().splitlines()]

    assert norm(out) == norm(committed)
    assert "type Query" in out
    assert not (tmp_path / "unused.db").exists(), "export-schema must not touch the database"


async def test_migrate_creates_the_schema(sqlite_url: str, tmp_path: Path) -> None:
    done = await asyncio.to_thread(run_cli, "migrate", database_url=sqlite_url, cwd=tmp_path)
    assert done.returncode == 0
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"enrollments", "sequences", "contacts", "events"} <= tables
    assert len(version) == 1
    # a second run has nothing to do and still succeeds
    again = await asyncio.to_thread(run_cli, "migrate", database_url=sqlite_url, cwd=tmp_path)
    assert again.returncode == 0


async def test_migrate_on_an_up_to_date_database(database_url: str, tmp_path: Path) -> None:
    """On both backends, `migrate` on a migrated database exits 0."""
    done = await asyncio.to_thread(run_cli, "migrate", database_url=database_url, cwd=tmp_path)
    assert done.returncode == 0


async def test_unknown_command_fails(tmp_path: Path) -> None:
    done = await asyncio.to_thread(
        run_cli, "no-such-command", database_url="sqlite:///x.db", cwd=tmp_path, check=False
    )
    assert done.returncode != 0
    assert done.stdout == ""


async def test_healthz_and_readyz(http: httpx.AsyncClient) -> None:
    health = await http.get("/healthz")
    assert health.status_code == 200
    ready = await http.get("/readyz")
    assert ready.status_code == 200


async def test_readyz_fails_when_the_database_does_not_answer() -> None:
    app = create_app(
        Settings(
            database_url="postgresql://postgres@127.0.0.1:1/nowhere",
            auto_migrate=False,
            allowed_origins=[],
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            assert (await c.get("/healthz")).status_code == 200
            assert (await c.get("/readyz")).status_code == 503
