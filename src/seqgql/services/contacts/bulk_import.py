"""Creating many contacts at once (a CSV import), and enrolling them in a sequence, as one
transaction: every contact and enrollment, or nothing.

The contacts are inserted by one statement, and enrolled by the same set-based work as
``addContactsToSequence`` (``enroll.enroll_in``: new enrollments and their events),
recorded as an ENROLL bulk operation. A dry run does all of it, then rolls it back. An
idempotency key makes a retried import answer as the first one did, and create nothing
more."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
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
from seqgql.services.contacts.profiles import insert_contacts
from seqgql.services.enrollments.enroll import enroll_in
from seqgql.services.enrollments.operation import BulkOperation
from seqgql.services.enrollments.results import BulkResult
from seqgql.services.enrollments.transitions import ChangeContext
from seqgql.services.sequences.catalog import require_sequence

MAX_IMPORT_ROWS = 10_000
# how an import's idempotency key is recorded (bulk actions record their kind)
IMPORT_OPERATION = "IMPORT_CONTACTS"


@dataclass(slots=True)
class ImportResult:
    created: int = 0
    contact_ids: list[int] = field(default_factory=list)  # none on a dry run
    enrolled: int | None = None  # with a sequence: the enrollments made
    bulk_operation_id: int | None = None
    dry_run: bool = False
    errors: list[UserError] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "contact_ids": self.contact_ids,
            "enrolled": self.enrolled,
            "bulk_operation_id": self.bulk_operation_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportResult:
        return cls(
            created=data["created"],
            contact_ids=list(data["contact_ids"]),
            enrolled=data["enrolled"],
            bulk_operation_id=data["bulk_operation_id"],
        )


class _Rollback(Exception):
    def __init__(self, result: ImportResult) -> None:
        self.result = result


async def import_contacts(
    db: Database,
    clock: Clock,
    actor: Actor,
    rows: list[dict[str, object]],
    *,
    sequence_id: int | None = None,
    dry_run: bool = False,
    idempotency_key: str | None = None,
    described: Mapping[str, Any] | None = None,
) -> ImportResult:
    """Insert the contact rows (validated by ``profiles.contact_row``) and, given a
    sequence, enroll them; ``described`` is the request as the client wrote it, kept
    with the bulk operation's record."""
    if dry_run:
        idempotency_key = None
    request_hash = _hash_request(rows, sequence_id)
    op: BulkOperation | None = None
    try:
        async with db.write() as conn:
            if idempotency_key is not None:
                earlier = await _stored_result(conn, actor, idempotency_key, request_hash)
                if earlier is not None:
                    return earlier
                await conn.execute(
                    idempotency_keys.insert().values(
                        workspace_id=actor.workspace_id,
                        key=idempotency_key,
                        operation=IMPORT_OPERATION,
                        request_hash=request_hash,
                        response={},
                        created_at=clock.now(),
                    )
                )
            now = clock.now()
            if sequence_id is not None:
                try:
                    await require_sequence(
                        conn, actor, sequence_id, ["sequenceId"], not_archived=True
                    )
                except InputErrors as exc:
                    raise _Rollback(ImportResult(dry_run=dry_run, errors=exc.errors)) from exc
            stamped = [{**r, "workspace_id": actor.workspace_id, "created_at": now} for r in rows]
            ids = await insert_contacts(conn, stamped)
            result = ImportResult(created=len(ids), contact_ids=ids, dry_run=dry_run)
            if sequence_id is not None:
                op, enrolled = await _enroll(conn, db, clock, actor, sequence_id, ids, dry_run)
                result.enrolled = enrolled.changed_count
                result.bulk_operation_id = enrolled.bulk_operation_id
                await conn.execute(
                    bulk_operations.update()
                    .where(bulk_operations.c.id == result.bulk_operation_id)
                    .values(
                        changed_count=enrolled.changed_count,
                        options=dict(described) if described is not None else None,
                        result=enrolled.to_json(),
                    )
                )
            if dry_run:
                result.contact_ids, result.bulk_operation_id = [], None
                raise _Rollback(result)
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
        # another import with the same key committed first: answer as it did
        async with db.read() as conn:
            earlier = await _stored_result(conn, actor, idempotency_key, request_hash)
        if earlier is None:
            raise
        return earlier
    if op is not None:
        for callback in op.after_commit:
            await callback()
        BULK_ROWS.labels(BulkActionKind.ENROLL.value).inc(result.enrolled or 0)
    return result


async def _enroll(
    conn: AsyncConnection,
    db: Database,
    clock: Clock,
    actor: Actor,
    sequence_id: int,
    contact_ids: list[int],
    dry_run: bool,
) -> tuple[BulkOperation, BulkResult]:
    """Enroll the new contacts as ``addContactsToSequence`` does, recorded as one ENROLL
    operation (what it did, as that mutation records it); an error (a sequence without
    steps) undoes the whole import."""
    now = clock.now()
    operation_id = (
        await conn.execute(
            bulk_operations.insert()
            .values(
                workspace_id=actor.workspace_id,
                kind=BulkActionKind.ENROLL,
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
        changed, skips = await enroll_in(op, sequence_id, contact_ids)
    except InputErrors as exc:
        errors = [error(["sequenceId"], e.code, e.message) for e in exc.errors]
        raise _Rollback(ImportResult(dry_run=dry_run, errors=errors)) from exc
    return op, BulkResult(
        changed_count=changed,
        skipped=skips.groups(),
        dry_run=dry_run,
        bulk_operation_id=operation_id,
    )


def _hash_request(rows: list[dict[str, object]], sequence_id: int | None) -> str:
    canonical = json.dumps([IMPORT_OPERATION, sequence_id, rows], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _stored_result(
    conn: AsyncConnection, actor: Actor, key: str, request_hash: str
) -> ImportResult | None:
    row = (
        await conn.execute(
            sa.select(
                idempotency_keys.c.operation,
                idempotency_keys.c.request_hash,
                idempotency_keys.c.response,
            ).where(
                idempotency_keys.c.workspace_id == actor.workspace_id,
                idempotency_keys.c.key == key,
            )
        )
    ).first()
    if row is None:
        return None
    if row.operation != IMPORT_OPERATION or row.request_hash != request_hash:
        message = f"the key {key!r} was already used for a different request"
        return ImportResult(
            errors=[error(["idempotencyKey"], ErrorCode.IDEMPOTENCY_KEY_REUSED, message)]
        )
    return ImportResult.from_json(row.response)
