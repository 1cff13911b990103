"""Managing API tokens: a workspace's list, a new token for one of its users (its secret
shown once), revocation; and, for the command line, every workspace's tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from seqgql.persistence.tables import api_tokens, users, workspaces
from seqgql.persistence.types import Row
from seqgql.services.actor import Actor
from seqgql.services.auth import (
    PREFIX_LENGTH,
    TOKEN_PREFIX,
    hash_token,
    insert_token,
    token_request_errors,
)
from seqgql.services.reads import Listing

# What a token row shows: its own columns, its role as it applies (a token made before
# tokens had roles has its user's), its user's workspace and email.
_COLUMNS: tuple[Any, ...] = (
    api_tokens.c.id,
    api_tokens.c.user_id,
    api_tokens.c.name,
    api_tokens.c.prefix,
    sa.func.coalesce(api_tokens.c.role, users.c.role).label("role"),
    api_tokens.c.created_at,
    api_tokens.c.last_used_at,
    api_tokens.c.expires_at,
    api_tokens.c.revoked_at,
    users.c.workspace_id,
    users.c.email.label("user_email"),
)
_WITH_USERS = api_tokens.join(users, users.c.id == api_tokens.c.user_id)


def _tokens_of(workspace_id: int) -> sa.Select[Any]:
    return sa.select(*_COLUMNS).select_from(_WITH_USERS).where(users.c.workspace_id == workspace_id)


def token_listing(workspace_id: int) -> Listing:
    """The workspace's tokens, revoked and expired ones included, oldest first."""
    return Listing(_tokens_of(workspace_id))


async def tokens_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    """The workspace's tokens with these ids, by id."""
    async with db.read() as conn:
        rows = await conn.execute(_tokens_of(workspace_id).where(api_tokens.c.id.in_(ids)))
        return {r.id: r for r in rows}


@dataclass(slots=True)
class CreatedToken:
    token_id: int | None = None
    secret: str | None = None
    errors: list[UserError] = field(default_factory=list)


async def create_token(
    db: Database,
    clock: Clock,
    actor: Actor,
    *,
    user_id: int | None,
    name: str,
    role: Role | None,
    expires_at: datetime | None,
) -> CreatedToken:
    """A new token for a user of the actor's workspace (the actor when ``user_id`` is
    None), with a role at most the user's (default: the user's) and an optional expiry
    in the future. Its secret is in the answer and nowhere else."""
    target = actor.user_id if user_id is None else user_id
    async with db.write() as conn:
        user = (
            await conn.execute(
                sa.select(users.c.id, users.c.role).where(
                    users.c.id == target, users.c.workspace_id == actor.workspace_id
                )
            )
        ).first()
        if user is None:
            return CreatedToken(
                errors=[error(["input", "userId"], ErrorCode.NOT_FOUND, "no such user")]
            )
        user_role = Role(user.role)
        now = clock.now()
        problems = token_request_errors(
            name=name, role=role, user_role=user_role, expires_at=expires_at, now=now
        )
        if problems:
            return CreatedToken(errors=problems)
        token_id, secret = await insert_token(
            conn, now, user_id=user.id, role=role or user_role, name=name, expires_at=expires_at
        )
    return CreatedToken(token_id=token_id, secret=secret)


@dataclass(slots=True)
class RevokedToken:
    token_id: int | None = None
    errors: list[UserError] = field(default_factory=list)


async def revoke_token(db: Database, clock: Clock, actor: Actor, token_id: int) -> RevokedToken:
    """Revoke a token of the actor's workspace; revoking it again changes nothing (it
    keeps its first revocation time). A foreign id answers like a missing one."""
    mine = sa.select(users.c.id).where(users.c.workspace_id == actor.workspace_id)
    async with db.write() as conn:
        found = (
            await conn.execute(
                sa.select(api_tokens.c.id).where(
                    api_tokens.c.id == token_id, api_tokens.c.user_id.in_(mine)
                )
            )
        ).first()
        if found is None:
            return RevokedToken(
                errors=[error(["input", "id"], ErrorCode.NOT_FOUND, "no such API token")]
            )
        await _revoke(conn, token_id, clock.now())
    return RevokedToken(token_id=token_id)


async def _revoke(conn: AsyncConnection, token_id: int, now: datetime) -> None:
    await conn.execute(
        api_tokens.update()
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# ------------------------------------------------------------------ the command line


class UnknownWorkspace(LookupError):
    pass


def _everywhere() -> sa.Select[Any]:
    return (
        sa.select(*_COLUMNS, workspaces.c.name.label("workspace"))
        .select_from(_WITH_USERS.join(workspaces, workspaces.c.id == users.c.workspace_id))
        .order_by(api_tokens.c.id)
    )


async def all_tokens(db: Database, workspace: str | None = None) -> list[Row]:
    """Every token (of the workspace with this name), with its workspace's name."""
    query = _everywhere()
    async with db.read() as conn:
        if workspace is not None:
            known = (
                await conn.execute(sa.select(workspaces.c.id).where(workspaces.c.name == workspace))
            ).first()
            if known is None:
                raise UnknownWorkspace(f"no workspace is named {workspace!r}")
            query = query.where(workspaces.c.name == workspace)
        return list(await conn.execute(query))


def is_id(key: str) -> bool:
    return key.isascii() and key.isdigit() and len(key) <= 18


async def tokens_matching(db: Database, key: str) -> list[Row]:
    """The tokens ``key`` names: a database id (as `token list` shows it), a prefix as
    shown (``sqg_`` and 8 characters), or a whole secret."""
    query = _everywhere()
    if is_id(key):
        query = query.where(api_tokens.c.id == int(key))
    elif key.startswith(TOKEN_PREFIX) and len(key) > PREFIX_LENGTH:
        query = query.where(api_tokens.c.token_hash == hash_token(key))
    elif key.startswith(TOKEN_PREFIX):
        query = query.where(api_tokens.c.prefix == key)
    else:
        return []
    async with db.read() as conn:
        return list(await conn.execute(query))


async def revoke_token_id(db: Database, clock: Clock, token_id: int) -> Row:
    """Revoke a token of any workspace (the command line's); its row afterwards."""
    async with db.write() as conn:
        await _revoke(conn, token_id, clock.now())
        row: Row = (await conn.execute(_everywhere().where(api_tokens.c.id == token_id))).one()
    return row
