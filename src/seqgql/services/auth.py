"""API tokens: issued once, stored as a SHA-256 hash, looked up per request."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from seqgql.persistence.tables import api_tokens, users, workspaces
from seqgql.services.actor import Actor

TOKEN_PREFIX = "sqg_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    workspace_id: int
    user_id: int


class TokenCache:
    """Remembers recently seen tokens for a few seconds, sparing a read per request."""

    def __init__(self, db: Database, *, seconds: float = 30.0, size: int = 10_000) -> None:
        self.db = db
        self.seconds = seconds
        self.size = size
        self._seen: dict[str, tuple[float, Actor]] = {}

    async def authenticate(self, token: str) -> Actor | None:
        now = time.monotonic()
        known = self._seen.get(token)
        if known is not None and known[0] > now:
            return known[1]
        actor = await authenticate(self.db, token)
        if actor is not None:
            if len(self._seen) >= self.size:
                self._seen.clear()
            self._seen[token] = (now + self.seconds, actor)
        return actor


async def authenticate(db: Database, token: str) -> Actor | None:
    """The actor a bearer token stands for, or None when it is unknown."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    query = (
        sa.select(users.c.workspace_id, users.c.id, users.c.role)
        .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
        .where(api_tokens.c.token_hash == hash_token(token))
    )
    async with db.read() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    return Actor(workspace_id=row.workspace_id, user_id=row.id, role=Role(row.role))


async def issue_token(
    db: Database,
    clock: Clock,
    *,
    email: str,
    workspace: str | None = None,
    name: str | None = None,
    role: Role | None = None,
) -> IssuedToken:
    """Create a token for the user with ``email``; the workspace and user are created
    when missing. Without ``workspace`` the user must exist in exactly one workspace,
    or no workspace exists yet under the default name."""
    async with db.write() as conn:
        user_id, workspace_id = await _ensure_user(conn, clock, email, workspace, name, role)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        await conn.execute(
            api_tokens.insert().values(
                user_id=user_id, token_hash=hash_token(token), created_at=clock.now()
            )
        )
    return IssuedToken(token=token, workspace_id=workspace_id, user_id=user_id)


class AmbiguousUser(LookupError):
    pass


DEFAULT_WORKSPACE = "Default"


async def _ensure_user(
    conn: AsyncConnection,
    clock: Clock,
    email: str,
    workspace: str | None,
    name: str | None,
    role: Role | None,
) -> tuple[int, int]:
    now = clock.now()
    query = sa.select(users.c.id, users.c.workspace_id, workspaces.c.name).join(
        workspaces, workspaces.c.id == users.c.workspace_id
    )
    query = query.where(sa.func.lower(users.c.email) == email.lower())
    if workspace is not None:
        query = query.where(workspaces.c.name == workspace)
    found = (await conn.execute(query)).all()
    if len(found) > 1:
        names = ", ".join(sorted(r.name for r in found))
        raise AmbiguousUser(f"{email} belongs to several workspaces ({names}); name one")
    if found:
        user_id, workspace_id = found[0].id, found[0].workspace_id
        if role is not None:
            await conn.execute(users.update().where(users.c.id == user_id).values(role=role))
        return user_id, workspace_id

    workspace_name = workspace or DEFAULT_WORKSPACE
    workspace_id = (
        await conn.execute(sa.select(workspaces.c.id).where(workspaces.c.name == workspace_name))
    ).scalar()
    if workspace_id is None:
        workspace_id = (
            await conn.execute(
                workspaces.insert()
                .values(name=workspace_name, created_at=now)
                .returning(workspaces.c.id)
            )
        ).scalar_one()
    user_id = (
        await conn.execute(
            users.insert()
            .values(
                workspace_id=workspace_id,
                name=name or email.split("@")[0],
                email=email,
                role=role or Role.ADMIN,
                created_at=now,
            )
            .returning(users.c.id)
        )
    ).scalar_one()
    return user_id, workspace_id
