"""The bulk actions on selected enrollments, each declared once: pause, finish, remove,
add to group (resume: ``resume``). Where each may go, and why it skips what it skips, is
the domain's transition table (``domain/status.py``); ``bulk_action`` says how a
declaration runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from seqgql.domain.errors import ErrorCode, InputErrors, error
from seqgql.domain.kinds import BulkActionKind
from seqgql.domain.selection import Selection
from seqgql.domain.status import Action, EnrollmentStatus, FinishReason, SkipReason, outcome_of
from seqgql.persistence.tables import enrollments, group_members, groups
from seqgql.services.enrollments.bulk_action import (
    BulkAction,
    Selected,
    in_future,
    transition_action,
)
from seqgql.services.enrollments.operation import BulkOperation
from seqgql.services.enrollments.resolution import resolve_selection, skip_where
from seqgql.services.enrollments.results import BulkResult, Skips

e = enrollments.c


@dataclass(frozen=True, slots=True)
class PauseOptions:
    selection: Selection
    resume_at: datetime | None = None  # resume by itself then


@dataclass(frozen=True, slots=True)
class FinishOptions:
    selection: Selection
    reason: FinishReason


@dataclass(frozen=True, slots=True)
class GroupOptions:
    selection: Selection
    group_id: int


pause = transition_action(
    BulkActionKind.PAUSE,
    PauseOptions,
    Action.PAUSE,
    checks=[in_future("resume_at", "resumeAt")],
    values=lambda o, _now: {"resume_at": o.resume_at},
)

finish = transition_action(
    BulkActionKind.FINISH,
    FinishOptions,
    Action.FINISH,
    reason=lambda o: o.reason.status_reason,
    values=lambda o, _now: {
        "resume_at": None,
        "outcome": outcome_of(EnrollmentStatus.FINISHED, o.reason.status_reason, by_user=True),
    },
)

remove = transition_action(
    BulkActionKind.REMOVE,
    Selected,
    Action.REMOVE,
    values=lambda _o, _now: {"resume_at": None},
)


async def _add_to_group(op: BulkOperation, options: GroupOptions) -> BulkResult:
    """Add the contacts of the selected enrollments to a group (no status change); those
    already in it are skipped."""
    conn, group_id = op.conn, options.group_id
    found = (
        await conn.execute(
            sa.select(groups.c.id).where(
                groups.c.id == group_id, groups.c.workspace_id == op.actor.workspace_id
            )
        )
    ).first()
    if found is None:
        raise InputErrors([error(["input", "groupId"], ErrorCode.NOT_FOUND, "no such group")])
    resolved = await resolve_selection(conn, op.actor, options.selection)
    member = sa.exists().where(
        group_members.c.group_id == group_id, group_members.c.contact_id == e.contact_id
    )
    already = sa.and_(resolved.predicate, member)
    skips = Skips()
    await skip_where(conn, already, SkipReason.ALREADY_IN_GROUP, skips)
    new_members = (
        sa.select(
            sa.literal(group_id, sa.BigInteger),
            e.contact_id,
            sa.literal(op.change.now, group_members.c.added_at.type),
        )
        .where(resolved.predicate, ~member)
        .distinct()
    )
    inserted = await conn.execute(
        group_members.insert().from_select(["group_id", "contact_id", "added_at"], new_members)
    )
    return BulkResult(changed_count=inserted.rowcount, skipped=skips.groups())


add_to_group = BulkAction(BulkActionKind.ADD_TO_GROUP, GroupOptions, _add_to_group)
