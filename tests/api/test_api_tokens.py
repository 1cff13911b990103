"""API tokens managed by admins through GraphQL: created with their secret shown once,
listed by prefix with their last use, scoped down to a role, expiring, revoked (refused
within TOKEN_CACHE_SECONDS on every replica, over HTTP and on open websockets); everyone
but admins refused; hostile input refused with a code, changing nothing."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy import event
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from seqgql.persistence.tables import api_tokens
from seqgql.services.auth import issue_token
from seqgql.settings import Settings
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate, mutation
from tests.helpers.subscriptions import COUNTS, MESSAGE_SECONDS, ack, connect, next_data, subscribe
from tests.helpers.tokens import (
    CREATED,
    LIST,
    REVOKED,
    create_api_token,
    listed_tokens,
    revoke_api_token,
    token_cache,
)
from tests.helpers.workspace import Workspace, make_workspace

VIEWER = "{ viewer { email role } }"
GROUP = "group { id } userErrors { code }"


async def status_of(gql: GraphQLClient, token: str) -> int:
    return (await gql.post(VIEWER, token=token)).status_code


async def seconds_until_status(gql: GraphQLClient, token: str, status: int) -> float:
    """Seconds until a request with ``token`` answers ``status`` (fails after 5)."""
    started = time.monotonic()
    while (answered := await status_of(gql, token)) != status:
        assert time.monotonic() - started < 5, answered
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def seconds_until_closed(ws: Any, code: int) -> float:
    """Seconds until the server closes the websocket; asserts its close code."""
    started = time.monotonic()
    closed_with = None
    try:
        while True:
            message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
            assert message["type"] in ("ping", "next"), message
    except Exception as exc:  # the close arrives as the session ending
        closed_with = getattr(exc, "code", None)
    assert closed_with == code
    return time.monotonic() - started


async def token_rows(db: Database) -> list[Any]:
    async with db.read() as conn:
        return list(await conn.execute(sa.select(api_tokens).order_by(api_tokens.c.id)))


@asynccontextmanager
async def replica(database_url: str, clock: FrozenClock) -> AsyncIterator[Starlette]:
    """Another API process on the same database, in process: its own token cache."""
    other = create_app(
        Settings(
            database_url=database_url, auto_migrate=False, allowed_origins=[], run_engine=False
        ),
        clock=clock,
    )
    token_cache(other).clock = clock
    async with other.router.lifespan_context(other):
        yield other


@asynccontextmanager
async def client_of(app: Starlette, token: str) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield GraphQLClient(http, token)


# --- created, shown once, listed by prefix, last use -----------------------------------


async def test_a_created_token_works_and_is_listed_by_its_prefix_never_its_secret(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    created = await create_api_token(gql, name="  CI deploy ", role="MEMBER")
    assert created["userErrors"] == []
    secret, token = created["secret"], created["apiToken"]
    assert secret.startswith("sqg_") and len(secret) > 40
    assert token["prefix"] == secret[:12] and len(token["prefix"]) == 12
    assert token["name"] == "CI deploy"
    assert token["role"] == "MEMBER"
    assert token["createdAt"] == clock.now().isoformat()
    assert token["lastUsedAt"] is None and token["expiresAt"] is None
    assert token["revokedAt"] is None
    assert token["user"]["email"] == workspace_email(workspace)

    # the secret works, as a MEMBER of its admin's workspace
    member = GraphQLClient(gql.http, secret)
    assert (await member.execute(VIEWER))["viewer"]["email"] == workspace_email(workspace)
    assert (await mutate(member, "createGroup", {"name": "By CI"}, GROUP))["userErrors"] == []

    # the list shows the prefix, the use, and never the secret
    response = await gql.post(LIST, {"first": 100})
    assert secret not in response.text and secret[12:20] not in response.text
    listed = {t["id"]: t for t in await listed_tokens(gql)}
    assert listed[token["id"]]["prefix"] == token["prefix"]
    assert listed[token["id"]]["lastUsedAt"] == clock.now().isoformat()
    # the node answers the same
    node = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on ApiToken { prefix name } } }", {"id": token["id"]}
    )
    assert node["node"] == {"prefix": token["prefix"], "name": "CI deploy"}

    # the database holds its hash and prefix, not the secret
    rows = [r for r in await token_rows(db) if r.prefix == token["prefix"]]
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(tuple(rows[0]))


def workspace_email(workspace: Workspace) -> str:
    return f"admin@{workspace.name}.test"


async def test_the_last_use_is_written_at_most_once_a_minute(
    app: Starlette, gql: GraphQLClient, clock: FrozenClock
) -> None:
    created = await create_api_token(gql, name="busy")
    secret, token_id = created["secret"], created["apiToken"]["id"]
    writes: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        first_use = clock.now()
        for _ in range(20):
            assert await status_of(gql, secret) == 200
        assert len(writes) == 1
        clock.advance(timedelta(seconds=30))
        await asyncio.sleep(token_cache(app).seconds + 0.1)  # the cache forgets it
        for _ in range(5):
            assert await status_of(gql, secret) == 200
        assert len(writes) == 1  # the stored use is not a minute old
        clock.advance(timedelta(seconds=31))
        await asyncio.sleep(token_cache(app).seconds + 0.1)
        assert await status_of(gql, secret) == 200
        assert len(writes) == 2
    finally:
        event.remove(engine, "before_cursor_execute", count)
    listed = {t["id"]: t for t in await listed_tokens(gql)}
    assert listed[token_id]["lastUsedAt"] == (first_use + timedelta(seconds=61)).isoformat()


# --- revoked: refused within a second on every replica ----------------------------------


async def test_a_revoked_token_is_refused_on_every_replica_and_its_websockets_closed(
    gql: GraphQLClient,
    db: Database,
    database_url: str,
    clock: FrozenClock,
    workspace: Workspace,
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    created = await create_api_token(gql, name="watcher")
    secret, token_id = created["secret"], created["apiToken"]["id"]
    async with replica(database_url, clock) as other, client_of(other, secret) as elsewhere:
        # both replicas know the token (each has it in its cache)
        assert await status_of(gql, secret) == 200
        assert await status_of(elsewhere, secret) == 200
        async with connect(other, secret) as ws:
            await ack(ws)
            await subscribe(ws, "c", COUNTS, {"seq": gid("Sequence", seq)})
            assert (await next_data(ws))["sequenceStatusCounts"]["total"] == 1

            revoked = await revoke_api_token(gql, token_id)  # through this replica
            assert revoked["userErrors"] == []
            assert revoked["apiToken"]["revokedAt"] == clock.now().isoformat()
            # the websocket on the other replica is closed with 4403
            assert await seconds_until_closed(ws, 4403) < 1.5
        # and both refuse it over HTTP within TOKEN_CACHE_SECONDS
        assert await seconds_until_status(elsewhere, secret, 401) < 1.0
        assert await seconds_until_status(gql, secret, 401) < 1.0
        response = await elsewhere.post(VIEWER)
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # revoking again is harmless: the first revocation time stays
    clock.advance(timedelta(minutes=5))
    again = await revoke_api_token(gql, token_id)
    assert again["userErrors"] == []
    assert again["apiToken"]["revokedAt"] == revoked["apiToken"]["revokedAt"]
    listed = {t["id"]: t for t in await listed_tokens(gql)}
    assert listed[token_id]["revokedAt"] == revoked["apiToken"]["revokedAt"]
    # the admin's own token still works
    assert await status_of(gql, workspace.token) == 200


# --- expired -----------------------------------------------------------------------------


async def test_an_expired_token_is_refused_by_the_apps_clock(
    app: Starlette, gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    expires = clock.now() + timedelta(hours=1)
    created = await create_api_token(gql, name="short", expiresAt=expires.isoformat())
    assert created["userErrors"] == []
    assert created["apiToken"]["expiresAt"] == expires.isoformat()
    secret = created["secret"]
    assert await status_of(gql, secret) == 200
    async with connect(app, secret) as ws:
        await ack(ws)
        await subscribe(ws, "c", COUNTS, {"seq": gid("Sequence", seq)})
        await next_data(ws)
        clock.advance(timedelta(hours=1))
        # refused at once over HTTP, though the cache still holds it
        assert await status_of(gql, secret) == 401
        assert await seconds_until_closed(ws, 4403) < 1.5
    clock.advance(timedelta(days=1))
    assert await status_of(gql, secret) == 401


async def test_an_expiry_in_the_past_or_without_an_offset_is_refused(
    gql: GraphQLClient, db: Database, clock: FrozenClock
) -> None:
    before = len(await token_rows(db))
    past = await create_api_token(gql, name="late", expiresAt=clock.now().isoformat())
    assert past["apiToken"] is None and past["secret"] is None
    assert [(e["field"], e["code"]) for e in past["userErrors"]] == [
        (["input", "expiresAt"], "IN_THE_PAST")
    ]
    naive = await create_api_token(gql, name="naive", expiresAt="2030-01-01T00:00:00")
    assert [(e["field"], e["code"]) for e in naive["userErrors"]] == [
        (["input", "expiresAt"], "INVALID")
    ]
    assert len(await token_rows(db)) == before


# --- roles -------------------------------------------------------------------------------


async def test_a_viewer_scoped_token_of_an_admin_cannot_change_anything(
    gql: GraphQLClient, workspace: Workspace
) -> None:
    created = await create_api_token(gql, name="read only", role="VIEWER")
    scoped = GraphQLClient(gql.http, created["secret"])
    # its user is still an admin...
    assert (await scoped.execute(VIEWER))["viewer"]["role"] == "ADMIN"
    # ...but the token acts as a viewer
    assert (await mutate(scoped, "createGroup", {"name": "No"}, GROUP)) == {
        "group": None,
        "userErrors": [{"code": "FORBIDDEN"}],
    }
    refused = await create_api_token(scoped, name="escalate", role="ADMIN")
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    assert refused["secret"] is None
    errors = (await scoped.post(LIST, {})).json()["errors"]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    groups = (await gql.execute("{ groups { edges { node { name } } } }"))["groups"]["edges"]
    assert [g for g in groups if g["node"]["name"] == "No"] == []


async def test_a_token_role_above_its_users_is_refused(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    member = await issue_token(
        db, clock, email=f"member@{workspace.name}.test", workspace=workspace.name,
        role=Role.MEMBER,
    )  # fmt: skip
    user_id = gid("User", member.user_id)
    before = len(await token_rows(db))
    refused = await create_api_token(gql, name="too much", role="ADMIN", userId=user_id)
    assert refused["apiToken"] is None and refused["secret"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "role"], "INVALID")
    ]
    assert "MEMBER" in refused["userErrors"][0]["message"]
    assert len(await token_rows(db)) == before

    # without a role: the user's
    created = await create_api_token(gql, name="for the member", userId=user_id)
    assert created["apiToken"]["role"] == "MEMBER"
    assert created["apiToken"]["user"]["id"] == user_id
    data = await GraphQLClient(gql.http, created["secret"]).execute(VIEWER)
    assert data["viewer"] == {"email": f"member@{workspace.name}.test", "role": "MEMBER"}


async def test_members_and_viewers_cannot_see_create_or_revoke_tokens(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    admin_tokens = await listed_tokens(gql)
    target = admin_tokens[0]["id"]
    for role in (Role.MEMBER, Role.VIEWER):
        issued = await issue_token(
            db, clock, email=f"{role.value.lower()}@{workspace.name}.test",
            workspace=workspace.name, role=role,
        )  # fmt: skip
        other = GraphQLClient(gql.http, issued.token)
        response = await other.post(LIST, {})
        assert response.status_code == 200
        body = response.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        created = await create_api_token(other, name="mine")
        assert created == {"apiToken": None, "secret": None, "userErrors": [
            {"field": None, "code": "FORBIDDEN", "message": "Only admins can do this."}
        ]}  # fmt: skip
        revoked = await revoke_api_token(other, target)
        assert [e["code"] for e in revoked["userErrors"]] == ["FORBIDDEN"]
        node = await other.execute("query($id: ID!) { node(id: $id) { id } }", {"id": target})
        assert node["node"] is None
    # nothing changed: the admin's token works, and no token was added but the two above
    assert await status_of(gql, workspace.token) == 200
    after = await listed_tokens(gql)
    assert [t for t in after if t["id"] == target] == [admin_tokens[0]]
    assert len(after) == len(admin_tokens) + 2


# --- isolation and hostile input ---------------------------------------------------------


async def test_tokens_of_other_workspaces_are_neither_listed_nor_revocable(
    gql: GraphQLClient, http: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    other = await make_workspace(db, clock)
    theirs = await create_api_token(GraphQLClient(http, other.token), name="theirs")
    foreign_id = theirs["apiToken"]["id"]
    assert foreign_id not in {t["id"] for t in await listed_tokens(gql)}
    node = await gql.execute("query($id: ID!) { node(id: $id) { id } }", {"id": foreign_id})
    assert node["node"] is None
    refused = await revoke_api_token(gql, foreign_id)
    assert refused["apiToken"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "id"], "NOT_FOUND")
    ]
    # like a missing one
    missing = await revoke_api_token(gql, gid("ApiToken", 2**62))
    assert missing["userErrors"] == refused["userErrors"]
    # not revoked: it still works
    assert await status_of(gql, theirs["secret"]) == 200
    # nor may a token be made for a user of another workspace
    foreign_user = gid("User", other.actor.user_id or 0)
    created = await create_api_token(gql, name="for them", userId=foreign_user)
    assert [(e["field"], e["code"]) for e in created["userErrors"]] == [
        (["input", "userId"], "NOT_FOUND")
    ]


async def test_hostile_input_is_refused_with_a_code_and_changes_nothing(
    gql: GraphQLClient, db: Database, workspace: Workspace
) -> None:
    assert await status_of(gql, workspace.token) == 200  # its last use is recorded
    before = await token_rows(db)

    async def refused(input: dict[str, Any], name: str = "createApiToken") -> list[Any]:
        fields = CREATED if name == "createApiToken" else REVOKED
        payload = await mutate(gql, name, input, fields)
        assert payload["apiToken"] is None, payload
        return [(e["field"], e["code"]) for e in payload["userErrors"]]

    name = ["input", "name"]
    assert await refused({"name": "x" * 10_000}) == [(name, "TOO_LONG")]
    assert await refused({"name": "   "}) == [(name, "INVALID")]
    assert await refused({"name": "two\nlines"}) == [(name, "INVALID")]
    assert await refused({"name": "bell\x07"}) == [(name, "INVALID")]
    for forged in ("bad", "QXBpVG9rZW46MA==", gid("User", 1), gid("ApiToken", 1) + "="):
        codes = await refused({"id": forged}, "revokeApiToken")
        assert codes == [(["input", "id"], "INVALID_ID")], forged
        codes = await refused({"name": "n", "userId": forged})
        assert codes[0][0] == ["input", "userId"], forged
    # a NUL anywhere in the variables: the request is refused before it runs
    response = await gql.post(mutation("createApiToken", CREATED), {"input": {"name": "a\x00b"}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_TEXT"
    # a name past the body limit: refused before it is read in full
    response = await gql.post(
        mutation("createApiToken", CREATED), {"input": {"name": "x" * 2_100_000}}
    )
    assert response.status_code == 413
    # an unknown role is GraphQL's to refuse
    bad_role = {"input": {"name": "n", "role": "ROOT"}}
    errors = await gql.errors(mutation("createApiToken", CREATED), bad_role)
    assert errors and "ROOT" in errors[0]["message"]
    assert await token_rows(db) == before


async def test_a_page_of_tokens_at_a_time(gql: GraphQLClient, workspace: Workspace) -> None:
    for n in range(3):
        assert (await create_api_token(gql, name=f"t{n}"))["userErrors"] == []
    first = (await gql.execute(LIST, {"first": 2}))["apiTokens"]
    assert first["totalCount"] == 4  # the workspace's own and the three
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await gql.execute(LIST, {"first": 2, "after": first["pageInfo"]["endCursor"]}))[
        "apiTokens"
    ]
    names = [e["node"]["name"] for e in first["edges"] + rest["edges"]]
    assert names == [None, "t0", "t1", "t2"]
    assert rest["pageInfo"]["hasNextPage"] is False
    errors = await gql.errors(LIST, {"first": 101})
    assert errors[0]["extensions"]["argument"] == "first"
