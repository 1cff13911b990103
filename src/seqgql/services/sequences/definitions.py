"""Creating, changing and archiving sequences and their steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain.errors import InputErrors, UserError
from seqgql.domain.rules import Ruleset
from seqgql.domain.sequence import (
    DEFAULT_REPLY_WINDOW_MINUTES,
    SendingWindow,
    StepSpec,
    check_daily_limit,
    check_name,
    check_reply_window,
    check_steps,
    check_window,
)
from seqgql.persistence.database import Database
from seqgql.persistence.tables import sequences, steps
from seqgql.services.actor import Actor
from seqgql.services.sequences.catalog import require_sequence


@dataclass(slots=True)
class SequenceResult:
    sequence_id: int | None = None
    errors: list[UserError] = field(default_factory=list)


class _Unset:
    pass


UNSET = _Unset()


async def create_sequence(
    db: Database,
    clock: Clock,
    actor: Actor,
    *,
    name: str,
    step_specs: list[StepSpec],
    window: SendingWindow | None = None,
    reply_window_minutes: int = DEFAULT_REPLY_WINDOW_MINUTES,
    daily_limit_per_sender: int | None = None,
    rules: Ruleset | None = None,
) -> SequenceResult:
    clean_name, errors = check_name(name, ["input", "name"])
    if rules is not None:
        errors += rules.errors(["input", "rules"])
    errors += check_steps(step_specs, ["input", "steps"])
    if window is not None:
        errors += check_window(window, ["input", "sendingWindow"])
    errors += check_reply_window(reply_window_minutes, ["input", "replyWindowMinutes"])
    errors += check_daily_limit(daily_limit_per_sender, ["input", "dailyLimitPerSender"])
    if errors or clean_name is None:
        return SequenceResult(errors=errors)
    async with db.write() as conn:
        sequence_id = await insert_sequence(
            conn,
            actor,
            clock.now(),
            name=clean_name,
            window=window.to_json() if window else None,
            reply_window_minutes=reply_window_minutes,
            daily_limit_per_sender=daily_limit_per_sender,
            rules=rules.to_json() if rules else None,
        )
        await _write_steps(conn, sequence_id, step_specs)
    return SequenceResult(sequence_id)


async def update_sequence(
    db: Database,
    clock: Clock,
    actor: Actor,
    sequence_id: int,
    *,
    name: str | None = None,
    step_specs: list[StepSpec] | None = None,
    window: SendingWindow | _Unset | None = UNSET,
    reply_window_minutes: int | None = None,
    daily_limit_per_sender: int | _Unset | None = UNSET,
    rules: Ruleset | None = None,
) -> SequenceResult:
    """Change what is given; ``window=None`` removes the sending window and
    ``daily_limit_per_sender=None`` the limit."""
    errors: list[UserError] = []
    values: dict[str, object] = {}
    if name is not None:
        clean_name, name_errors = check_name(name, ["input", "name"])
        errors += name_errors
        values["name"] = clean_name
    if step_specs is not None:
        errors += check_steps(step_specs, ["input", "steps"])
    if isinstance(window, SendingWindow):
        errors += check_window(window, ["input", "sendingWindow"])
        values["sending_window"] = window.to_json()
    elif window is None:
        values["sending_window"] = None
    if reply_window_minutes is not None:
        errors += check_reply_window(reply_window_minutes, ["input", "replyWindowMinutes"])
        values["reply_window_minutes"] = reply_window_minutes
    if not isinstance(daily_limit_per_sender, _Unset):
        errors += check_daily_limit(daily_limit_per_sender, ["input", "dailyLimitPerSender"])
        values["daily_limit_per_sender"] = daily_limit_per_sender
    if rules is not None:
        errors += rules.errors(["input", "rules"])
        values["rules"] = rules.to_json()
    if errors:
        return SequenceResult(errors=errors)
    try:
        async with db.write() as conn:
            await require_sequence(conn, actor, sequence_id, ["input", "sequenceId"])
            if values:
                await conn.execute(
                    sequences.update().where(sequences.c.id == sequence_id).values(**values)
                )
            if step_specs is not None:
                await conn.execute(steps.delete().where(steps.c.sequence_id == sequence_id))
                await _write_steps(conn, sequence_id, step_specs)
    except InputErrors as exc:
        return SequenceResult(errors=exc.errors)
    return SequenceResult(sequence_id)


async def archive_sequence(
    db: Database, clock: Clock, actor: Actor, sequence_id: int, *, archived: bool = True
) -> SequenceResult:
    return await _set_flag(actor, db, sequence_id, archived=archived)


async def set_sequence_active(
    db: Database, clock: Clock, actor: Actor, sequence_id: int, *, active: bool
) -> SequenceResult:
    """Turn a sequence off (the engine sends none of its steps and changes none of its
    statuses, auto-resumes included) or back on; its enrollments keep their statuses."""
    return await _set_flag(actor, db, sequence_id, active=active)


async def _set_flag(actor: Actor, db: Database, sequence_id: int, **flag: bool) -> SequenceResult:
    try:
        async with db.write() as conn:
            await require_sequence(conn, actor, sequence_id, ["input", "sequenceId"])
            await conn.execute(
                sequences.update().where(sequences.c.id == sequence_id).values(**flag)
            )
    except InputErrors as exc:
        return SequenceResult(errors=exc.errors)
    return SequenceResult(sequence_id)


async def insert_sequence(
    conn: AsyncConnection,
    actor: Actor,
    now: datetime,
    *,
    name: str,
    window: dict[str, object] | None,
    reply_window_minutes: int,
    daily_limit_per_sender: int | None = None,
    cloned_from_id: int | None = None,
    rules: dict[str, Any] | None = None,
) -> int:
    result = await conn.execute(
        sequences.insert()
        .values(
            workspace_id=actor.workspace_id,
            name=name,
            archived=False,
            cloned_from_id=cloned_from_id,
            sending_window=window,
            reply_window_minutes=reply_window_minutes,
            daily_limit_per_sender=daily_limit_per_sender,
            rules=rules,
            last_event_number=0,
            created_at=now,
        )
        .returning(sequences.c.id)
    )
    return int(result.scalar_one())


async def _write_steps(conn: AsyncConnection, sequence_id: int, specs: list[StepSpec]) -> None:
    await conn.execute(
        steps.insert(),
        [
            {
                "sequence_id": sequence_id,
                "position": position,
                "channel": spec.channel,
                "wait_minutes": spec.wait_minutes,
                "subject": spec.subject,
                "body": spec.body,
            }
            for position, spec in enumerate(specs, start=1)
        ],
    )
