"""API tokens: issued once, stored as a SHA-256 hash with a visible prefix, looked up per
request. A token is refused once revoked or past its expiry (by the app's clock); it acts
with the lower of its own role and its user's; its last use is written at most once a
minute (``LAST_USE_RESOLUTION``), never once per request."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock, SystemClock
from seqgql.domain import validation
from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database, first_line
from seqgql.persistence.tables import api_tokens, users, workspaces
from seqgql.services.actor import Actor

log = logging.getLogger("seqgql.auth")

TOKEN_PREFIX = "sqg_"
# characters of the secret shown after "sqg_": 48 of its 256 random bits, enough to tell
# tokens apart in a list, far too few to guess the rest
VISIBLE_CHARACTERS = 8
PREFIX_LENGTH = len(TOKEN_PREFIX) + VISIBLE_CHARACTERS
LAST_USE_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def visible_prefix(token: str) -> str:
    """What a list shows of a token: ``sqg_`` and the next 8 characters."""
    return token[:PREFIX_LENGTH]


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    workspace_id: int
    user_id: int
    token_id: int
    prefix: str


@dataclass(frozen=True, slots=True)
class FoundToken:
    """A token that is not revoked, as the database holds it."""

    actor: Actor
    token_id: int
    expires_at: datetime | None
    last_used_at: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def use_unrecorded(self, now: datetime) -> bool:
        """Whether the stored last use is more than a minute before ``now``."""
        return self.last_used_at is None or self.last_used_at < now - LAST_USE_RESOLUTION


class TokenCache:
    """Remembers recently seen tokens for a few seconds, sparing a read per request.

    Expiry is checked on every call, by ``clock`` (the app's). When a token read from the
    database was last used more than a minute ago, this call writes its use (one small
    write per token and minute; concurrent calls leave it to the first). Concurrent calls
    for a token the cache does not hold share one read: 32 requests at once when it
    expires read it once, instead of taking 32 connections (the pool opened and closed
    its overflow connections twice a second, issue 15)."""

    def __init__(
        self,
        db: Database,
        *,
        seconds: float = 30.0,
        size: int = 10_000,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.seconds = seconds
        self.size = size
        self.clock: Clock = clock or SystemClock()
        self._seen: dict[str, tuple[float, FoundToken]] = {}
        self._recording: set[int] = set()
        # look-ups under way, by token: callers at the same moment share one read (10,000
        # websockets opened at once, or looked at again together, are not 10,000 reads)
        self._reading: dict[str, asyncio.Future[FoundToken | None]] = {}

    async def authenticate(self, token: str) -> Actor | None:
        now = time.monotonic()
        known = self._seen.get(token)
        if known is not None and known[0] > now:
            kept = known[1]
            # the clock read only for a token that expires (most never do)
            if kept.expires_at is not None and kept.expired(self.clock.now()):
                self._seen.pop(token, None)
                return None
            return kept.actor
        found = await self._read(token)
        if found is None:
            self._seen.pop(token, None)
            return None
        moment = self.clock.now()
        if found.expired(moment):
            return None
        if found.use_unrecorded(moment) and found.token_id not in self._recording:
            self._recording.add(found.token_id)
            try:
                await record_use(self.db, found.token_id, moment)
            except Exception as exc:  # a lost last-use time is no reason to refuse anyone
                log.warning("could not record an API token's use: %s", first_line(exc))
            finally:
                self._recording.discard(found.token_id)
        if len(self._seen) >= self.size:
            self._seen.clear()
        self._seen[token] = (now + self.seconds, found)
        return found.actor

    async def _read(self, token: str) -> FoundToken | None:
        """``look_up(token)``, shared with the callers that ask while it runs. The first
        caller reads (cancelled, its read is cancelled with it, as an unshared read
        would be); the others wait for its answer, and read themselves if it was
        cancelled."""
        reading = self._reading.get(token)
        if reading is not None:
            try:
                return await asyncio.shield(reading)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not reading.cancelled() or (task is not None and task.cancelling()):
                    raise
            return await look_up(self.db, token)
        reading = self._reading[token] = asyncio.get_running_loop().create_future()
        try:
            found = await look_up(self.db, token)
        except asyncio.CancelledError:
            reading.cancel()
            raise
        except BaseException as exc:
            reading.set_exception(exc)
            reading.exception()  # the waiters get it; none: not "never retrieved"
            raise
        else:
            reading.set_result(found)
            return found
        finally:
            if self._reading.get(token) is reading:
                del self._reading[token]


async def look_up(db: Database, token: str) -> FoundToken | None:
    """The token behind a bearer secret, unless it is unknown or revoked (expiry is the
    caller's to check, by its clock)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    query = (
        sa.select(
            users.c.workspace_id,
            users.c.id,
            users.c.role,
            api_tokens.c.id.label("token_id"),
            api_tokens.c.role.label("token_role"),
            api_tokens.c.expires_at,
            api_tokens.c.last_used_at,
        )
        .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
        .where(api_tokens.c.token_hash == hash_token(token), api_tokens.c.revoked_at.is_(None))
    )
    async with db.read() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    role = Role(row.role)
    if row.token_role is not None:
        role = Role(row.token_role).at_most(role)
    return FoundToken(
        actor=Actor(
            workspace_id=row.workspace_id, user_id=row.id, role=role, token_id=row.token_id
        ),
        token_id=row.token_id,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


async def authenticate(db: Database, token: str, clock: Clock | None = None) -> Actor | None:
    """The actor a bearer token stands for, or None when it is unknown, revoked or
    expired (by ``clock``); records its use when the stored one is a minute old."""
    found = await look_up(db, token)
    moment = (clock or SystemClock()).now()
    if found is None or found.expired(moment):
        return None
    if found.use_unrecorded(moment):
        await record_use(db, found.token_id, moment)
    return found.actor


async def record_use(db: Database, token_id: int, moment: datetime) -> None:
    """Set the token's last use to ``moment`` unless one within the minute before is
    recorded (another replica may have written it meanwhile)."""
    async with db.write() as conn:
        await conn.execute(
            api_tokens.update()
            .where(
                api_tokens.c.id == token_id,
                sa.or_(
                    api_tokens.c.last_used_at.is_(None),
                    api_tokens.c.last_used_at < moment - LAST_USE_RESOLUTION,
                ),
            )
            .values(last_used_at=moment)
        )


class TokenRequestRefused(ValueError):
    """What a token was asked to be is not acceptable (``errors`` say why)."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def token_request_errors(
    *,
    name: str | None,
    role: Role | None,
    user_role: Role,
    expires_at: datetime | None,
    now: datetime,
    path: tuple[str, ...] = ("input",),
) -> list[UserError]:
    """Why a token with this name, role and expiry cannot be made for a user of
    ``user_role`` at ``now`` (nothing: it can). Paths name the GraphQL input fields."""
    errors: list[UserError] = []
    if name is not None:
        try:
            validation.name(name)
        except validation.Invalid as exc:
            too_long = len(name.strip()) > validation.MAX_NAME_LENGTH
            code = ErrorCode.TOO_LONG if too_long else ErrorCode.INVALID
            errors.append(error([*path, "name"], code, str(exc)))
    if role is not None and role.rank > user_role.rank:
        errors.append(
            error(
                [*path, "role"],
                ErrorCode.INVALID,
                f"a token's role cannot be above its user's role ({user_role.value})",
            )
        )
    if expires_at is not None:
        try:
            validation.moment(expires_at)
        except validation.Invalid as exc:
            errors.append(error([*path, "expiresAt"], ErrorCode.INVALID, str(exc)))
        else:
            if expires_at <= now:
                errors.append(
                    error([*path, "expiresAt"], ErrorCode.IN_THE_PAST, "must be in the future")
                )
    return errors


async def insert_token(
    conn: AsyncConnection,
    now: datetime,
    *,
    user_id: int,
    role: Role,
    name: str | None,
    expires_at: datetime | None,
) -> tuple[int, str]:
    """Store a new token (its hash and prefix); its id and its secret, shown once."""
    token = new_secret()
    token_id = (
        await conn.execute(
            api_tokens.insert()
            .values(
                user_id=user_id,
                token_hash=hash_token(token),
                prefix=visible_prefix(token),
                name=name.strip() if name is not None else None,
                role=role,
                expires_at=expires_at,
                created_at=now,
            )
            .returning(api_tokens.c.id)
        )
    ).scalar_one()
    return token_id, token


async def issue_token(
    db: Database,
    clock: Clock,
    *,
    email: str,
    workspace: str | None = None,
    name: str | None = None,
    role: Role | None = None,
    token_name: str | None = None,
    token_role: Role | None = None,
    expires_at: datetime | None = None,
) -> IssuedToken:
    """Create a token for the user with ``email``; the workspace and user are created
    when missing. Without ``workspace`` the user must exist in exactly one workspace,
    or no workspace exists yet under the default name.

    ``name`` and ``role`` are the user's: its name when it is created, and its role (set
    when it is created, changed when it exists). A user created without ``role`` gets
    ``token_role``, else ADMIN. ``token_name``, ``token_role`` (at most the user's role;
    default: the user's) and ``expires_at`` are the token's. Raises
    ``TokenRequestRefused`` (and changes nothing) when they are not acceptable."""
    async with db.write() as conn:
        now = clock.now()
        user_id, workspace_id, user_role = await _ensure_user(
            conn, clock, email, workspace, name, role, token_role
        )
        problems = token_request_errors(
            name=token_name, role=token_role, user_role=user_role, expires_at=expires_at, now=now
        )
        if problems:
            raise TokenRequestRefused(problems)
        token_id, token = await insert_token(
            conn,
            now,
            user_id=user_id,
            role=token_role or user_role,
            name=token_name,
            expires_at=expires_at,
        )
    return IssuedToken(
        token=token,
        workspace_id=workspace_id,
        user_id=user_id,
        token_id=token_id,
        prefix=visible_prefix(token),
    )


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
    default_role: Role | None = None,
) -> tuple[int, int, Role]:
    now = clock.now()
    query = sa.select(users.c.id, users.c.workspace_id, users.c.role, workspaces.c.name).join(
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
        return user_id, workspace_id, role or Role(found[0].role)

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
                role=role or default_role or Role.ADMIN,
                created_at=now,
            )
            .returning(users.c.id)
        )
    ).scalar_one()
    return user_id, workspace_id, role or default_role or Role.ADMIN
