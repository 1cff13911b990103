"""The frame every bulk action runs in: idempotency, one transaction,
dry runs, the operation record and the result.

A dry run executes exactly the same statements as the real call, then rolls the
transaction back: what it reports is what the call would do, and it changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain.errors import ErrorCode, InputErrors, UserError, error
from seqgql.domain.kinds import BulkActionKind
from seqgql.observability.metrics import BULK_ROWS
from seqgql.persistence.database import Database
from seqgql.persistence.tables import bulk_operations, idempotency_keys
from seqgql.services.actor import Actor
from seqgql.services.enrollments.results import BulkResult
from seqgql.services.enrollments.transitions import ChangeContext

MAX_IDEMPOTENCY_KEY_LENGTH = 200


@dataclass(slots=True)
class BulkOperation:
    """What the work function of a bulk action is given."""

    conn: AsyncConnection
    actor: Actor
    change: ChangeContext
    dry_run: bool
    db: Database  # for work after the commit (``after_commit``)
    clock: Clock
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


Work = Callable[[BulkOperation], Awaitable[BulkResult]]


class _Rollback(Exception):
    def __init__(self, result: BulkResult) -> None:
        self.result = result


async def run_bulk(
    db: Database,
    clock: Clock,
    actor: Actor,
    kind: BulkActionKind,
    work: Work,
    *,
    request: Mapping[str, Any],
    dry_run: bool = False,
    idempotency_key: str | None = None,
    described: Mapping[str, Any] | None = None,
) -> BulkResult:
    """Run ``work`` as one transaction; any InputErrors it raises undo everything.
    ``described`` is the input as the caller gave it, kept with the operation's record."""
    if idempotency_key is not None:
        key_error = _check_key(idempotency_key)
        if key_error:
            return BulkResult(dry_run=dry_run, errors=[key_error])
    if dry_run:
        idempotency_key = None
    request_hash = _hash_request(kind, request)

    try:
        async with db.write() as conn:
            if idempotency_key is not None:
                earlier = await _claim_key(conn, actor, idempotency_key, kind, request_hash, clock)
                if earlier is not None:
                    return earlier
            now = clock.now()
            operation_id = (
                await conn.execute(
                    bulk_operations.insert()
                    .values(
                        workspace_id=actor.workspace_id,
                        kind=kind,
                        actor_id=actor.user_id,
                        created_at=now,
                    )
                    .returning(bulk_operations.c.id)
                )
            ).scalar_one()
            op = BulkOperation(
                conn=conn,
                actor=actor,
                change=ChangeContext(actor.workspace_id, actor.user_id, operation_id, now),
                dry_run=dry_run,
                db=db,
                clock=clock,
            )
            try:
                result = await work(op)
            except InputErrors as exc:
                raise _Rollback(BulkResult(dry_run=dry_run, errors=exc.errors)) from exc
            result.dry_run = dry_run
            if dry_run:
                result.bulk_operation_id = None
                raise _Rollback(result)
            result.bulk_operation_id = operation_id
            await conn.execute(
                bulk_operations.update()
                .where(bulk_operations.c.id == operation_id)
                .values(
                    changed_count=result.changed_count,
                    options=dict(described) if described is not None else None,
                    result=result.to_json(),
                )
            )
            if idempotency_key is not None:
                await conn.execute(
                    idempotency_keys.update()
                    .where(
                        idempotency_keys.c.workspace_id == actor.workspace_id,
                        idempotency_keys.c.key == idempotency_key,
                    )
                    .values(response=result.to_json())
                )
    except _Rollback as rollback:
        return rollback.result
    except sa.exc.IntegrityError:
        if idempotency_key is None:
            raise
        # Another call with the same key committed first: answer as it did.
        async with db.read() as conn:
            earlier = await _stored_result(conn, actor, idempotency_key, kind, request_hash)
        if earlier is None:
            raise
        return earlier
    for callback in op.after_commit:
        await callback()
    BULK_ROWS.labels(kind.value).inc(result.changed_count)
    return result


def _check_key(key: str) -> UserError | None:
    if not key.strip():
        return error(["input", "idempotencyKey"], ErrorCode.REQUIRED, "must not be empty")
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        return error(
            ["input", "idempotencyKey"],
            ErrorCode.TOO_LONG,
            f"must be at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
        )
    return None


def _hash_request(kind: BulkActionKind, request: Mapping[str, Any]) -> str:
    canonical = json.dumps([kind.value, request], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _claim_key(
    conn: AsyncConnection,
    actor: Actor,
    key: str,
    kind: BulkActionKind,
    request_hash: str,
    clock: Clock,
) -> BulkResult | None:
    earlier = await _stored_result(conn, actor, key, kind, request_hash)
    if earlier is not None:
        return earlier
    await conn.execute(
        idempotency_keys.insert().values(
            workspace_id=actor.workspace_id,
            key=key,
            operation=kind.value,
            request_hash=request_hash,
            response={},
            created_at=clock.now(),
        )
    )
    return None


async def _stored_result(
    conn: AsyncConnection, actor: Actor, key: str, kind: BulkActionKind, request_hash: str
) -> BulkResult | None:
    row = (
        await conn.execute(
            sa.select(idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
                idempotency_keys.c.workspace_id == actor.workspace_id,
                idempotency_keys.c.key == key,
            )
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != request_hash:
        return BulkResult(
            errors=[
                error(
                    ["input", "idempotencyKey"],
                    ErrorCode.IDEMPOTENCY_KEY_REUSED,
                    f"the key {key!r} was already used for a different request",
                )
            ]
        )
    return BulkResult.from_json(row.response)
