"""`seqgql token create|list|revoke`, run as a user runs them: a token's name, role and
expiry; a table that shows prefixes, never secrets; revocation by id or prefix; clear
errors (exit code 1 or 2, a message, nothing on stdout) for what does not exist."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.helpers.cli import client_for, seqgql

VIEWER = "{ viewer { email role } }"
GROUP = 'mutation { createGroup(input: {name: "G"}) { group { id } userErrors { code } } }'


async def ok(*args: str, database_url: str, cwd: Path) -> str:
    done = await seqgql(*args, database_url=database_url, cwd=cwd)
    assert done.returncode == 0, f"seqgql {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


async def refused(*args: str, database_url: str, cwd: Path) -> str:
    """The message of a command that must fail."""
    done = await seqgql(*args, database_url=database_url, cwd=cwd)
    assert done.returncode != 0, done.stdout
    assert done.stdout == ""
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr


async def graphql(client: httpx.AsyncClient, token: str, query: str) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query}, headers={"authorization": f"Bearer {token}"}
    )


def rows_of(table: str) -> list[list[str]]:
    """The table's lines split into cells (cells are separated by two spaces or more)."""
    return [re.split(r"\s{2,}", line.strip()) for line in table.splitlines()]


async def test_create_list_use_and_revoke(database_url: str, tmp_path: Path) -> None:
    workspace = f"cli-{uuid.uuid4().hex[:8]}"
    email = f"ada@{workspace}.test"
    ws = ("--workspace", workspace)
    run = {"database_url": database_url, "cwd": tmp_path}
    out = await ok("token", "create", "--email", email, *ws, "--name", "CI deploy",
                   "--expires", "30d", **run)  # fmt: skip
    assert len(out.splitlines()) == 1, out
    deploy = out.strip()
    out = await ok("token", "create", "--email", email, *ws, "--role", "VIEWER", "--name",
                   "read only", **run)  # fmt: skip
    scoped = out.strip()
    assert deploy.startswith("sqg_") and scoped.startswith("sqg_")

    async with client_for(database_url) as client:
        answer = await graphql(client, deploy, VIEWER)
        assert answer.json()["data"]["viewer"] == {"email": email, "role": "ADMIN"}
        # the scoped token of an admin acts as a viewer
        created = (await graphql(client, scoped, GROUP)).json()["data"]["createGroup"]
        assert created == {"group": None, "userErrors": [{"code": "FORBIDDEN"}]}

    table = await ok("token", "list", *ws, **run)
    assert deploy[12:] not in table and scoped[12:] not in table  # no secret, only prefixes
    header, *rows = rows_of(table)
    assert header == ["ID", "PREFIX", "NAME", "USER", "ROLE", "WORKSPACE", "CREATED (UTC)",
                      "LAST USED", "EXPIRES", "REVOKED"]  # fmt: skip
    assert [(r[1], r[2], r[3], r[4], r[5]) for r in rows] == [
        (deploy[:12], "CI deploy", email, "ADMIN", workspace),
        (scoped[:12], "read only", email, "VIEWER", workspace),
    ]
    in_30_days = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d")
    assert rows[0][8].startswith(in_30_days[:8]), rows[0]  # the month of that day
    assert rows[0][7] != "-" and rows[1][7] != "-"  # both were used
    assert rows[0][9] == rows[1][9] == "-"
    assert rows[1][8] == "-"  # no expiry

    # revoke by prefix; again by id: harmless
    said = await ok("token", "revoke", deploy[:12], **run)
    assert said.startswith(f"revoked API token {rows[0][0]} ({deploy[:12]}, {email})"), said
    again = await ok("token", "revoke", rows[0][0], **run)
    assert "already revoked" in again
    async with client_for(database_url) as client:
        response = await graphql(client, deploy, VIEWER)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await graphql(client, scoped, VIEWER)).status_code == 200
    after = rows_of(await ok("token", "list", *ws, **run))[1:]
    assert after[0][9] != "-" and after[1][9] == "-"


async def test_unknown_ids_prefixes_workspaces_and_bad_values_fail_clearly(
    tmp_path: Path,
) -> None:
    """On SQLite only: what is tried here is the command's; its SQL is the test above's."""
    workspace = f"cli-{uuid.uuid4().hex[:8]}"
    run = {"database_url": f"sqlite:///{tmp_path / 'cli.db'}", "cwd": tmp_path}
    viewer = f"viewer@{workspace}.test"
    await ok("token", "create", "--email", viewer, "--workspace", workspace,
             "--user-role", "VIEWER", **run)  # fmt: skip
    before = await ok("token", "list", "--workspace", workspace, **run)

    assert "no API token has the id 999999999" in await refused(
        "token", "revoke", "999999999", **run
    )
    assert "no API token has the prefix sqg_zzzzzzzz" in await refused(
        "token", "revoke", "sqg_zzzzzzzz", **run
    )
    secret = "sqg_" + "z" * 43
    message = await refused("token", "revoke", secret, **run)
    assert "no API token matches that secret" in message and secret not in message
    assert "neither a token id" in await refused("token", "revoke", "nonsense", **run)
    assert "no workspace is named 'no-such-workspace'" in await refused(
        "token", "list", "--workspace", "no-such-workspace", **run
    )
    create = ("token", "create", "--email", viewer, "--workspace", workspace)
    assert "--role: a token's role cannot be above its user's role (VIEWER)" in await refused(
        *create, "--role", "ADMIN", **run
    )
    assert "--expires: must be in the future" in await refused(
        *create, "--expires", "2020-01-01", **run
    )
    assert "argument --expires" in await refused(*create, "--expires", "soon", **run)
    assert "--name: name must be one line" in await refused(*create, "--name", "a\tb", **run)
    # nothing was added or revoked
    assert await ok("token", "list", "--workspace", workspace, **run) == before
