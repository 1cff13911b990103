"""Validating a bulk selection and describing what an action would do to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.errors import ErrorCode, InputErrors, UserError, error
from seqgql.domain.selection import (
    MAX_SELECTED_IDS,
    EnrollmentFilter,
    Selection,
    selection_errors,
)
from seqgql.domain.status import Action, EnrollmentStatus, SkipReason, skip_reason
from seqgql.persistence.tables import enrollments, groups, users
from seqgql.services.actor import Actor
from seqgql.services.enrollments.filters import selection_predicate
from seqgql.services.enrollments.results import MAX_SKIPPED_IDS, Skips
from seqgql.services.sequences.catalog import require_sequence

e = enrollments.c
SELECTION_FIELD = ("input", "selection")


@dataclass(frozen=True, slots=True)
class ResolvedSelection:
    predicate: sa.ColumnElement[bool]
    sequence_ids: list[int]


async def resolve_selection(
    conn: AsyncConnection,
    actor: Actor,
    selection: Selection,
    path: tuple[str, ...] = SELECTION_FIELD,
) -> ResolvedSelection:
    """Check the selection names only things in the actor's workspace; raise InputErrors."""
    errors = shape_errors(selection, path)
    if errors:
        raise InputErrors(errors)
    ws = actor.workspace_id
    if selection.ids is not None:
        rows = await conn.execute(
            sa.select(e.id, e.sequence_id).where(e.workspace_id == ws, e.id.in_(selection.ids))
        )
        found = {r.id: r.sequence_id for r in rows}
        missing = [
            error([*path, "ids", i], ErrorCode.NOT_FOUND, f"no enrollment with id {raw}")
            for i, raw in enumerate(selection.ids)
            if raw not in found
        ]
        if missing:
            raise InputErrors(missing)
        sequence_ids = sorted(set(found.values()))
    else:
        assert selection.sequence_id is not None
        await require_sequence(conn, actor, selection.sequence_id, (*path, "sequenceId"))
        await _check_filter_refs(conn, actor, selection, path)
        sequence_ids = [selection.sequence_id]
    return ResolvedSelection(selection_predicate(ws, selection), sequence_ids)


def shape_errors(selection: Selection, path: tuple[str, ...]) -> list[UserError]:
    has_ids = selection.ids is not None
    has_sequence = selection.sequence_id is not None
    if has_ids == has_sequence:
        return [
            error(
                path,
                ErrorCode.INVALID_SELECTION,
                "give exactly one of `ids`, or `sequenceId` with an optional `filter`",
            )
        ]
    if selection.ids is not None and not selection.ids:
        return [error([*path, "ids"], ErrorCode.REQUIRED, "name at least one enrollment")]
    if selection.ids is not None and selection.filter != EnrollmentFilter():
        return [
            error(
                [*path, "filter"],
                ErrorCode.INVALID_SELECTION,
                "a filter narrows a `sequenceId` selection; with `ids`, give no filter",
            )
        ]
    if errors := selection_errors(selection, list(path)):
        return errors
    if selection.ids is not None and len(selection.ids) > MAX_SELECTED_IDS:
        return [
            error(
                [*path, "ids"],
                ErrorCode.TOO_MANY,
                f"at most {MAX_SELECTED_IDS} ids per call ({len(selection.ids)} given); "
                "select by `sequenceId` and `filter` for more",
            )
        ]
    return []


async def _check_filter_refs(
    conn: AsyncConnection, actor: Actor, selection: Selection, path: tuple[str, ...]
) -> None:
    flt = selection.filter
    errors: list[UserError] = []
    if flt.group_id is not None:
        found = (
            await conn.execute(
                sa.select(groups.c.id).where(
                    groups.c.id == flt.group_id, groups.c.workspace_id == actor.workspace_id
                )
            )
        ).first()
        if found is None:
            errors.append(error([*path, "filter", "groupId"], ErrorCode.NOT_FOUND, "no such group"))
    if flt.enrolled_by_ids:
        rows = await conn.execute(
            sa.select(users.c.id).where(
                users.c.id.in_(flt.enrolled_by_ids), users.c.workspace_id == actor.workspace_id
            )
        )
        known = {r.id for r in rows}
        errors.extend(
            error([*path, "filter", "enrolledByIds", i], ErrorCode.NOT_FOUND, "no such user")
            for i, user_id in enumerate(flt.enrolled_by_ids)
            if user_id not in known
        )
    if errors:
        raise InputErrors(errors)


async def status_counts(
    conn: AsyncConnection, predicate: sa.ColumnElement[bool]
) -> dict[EnrollmentStatus, int]:
    rows = await conn.execute(
        sa.select(e.status, sa.func.count()).where(predicate).group_by(e.status)
    )
    return {EnrollmentStatus(r[0]): r[1] for r in rows}


async def collect_skips(
    conn: AsyncConnection,
    predicate: sa.ColumnElement[bool],
    counts: dict[EnrollmentStatus, int],
    action: Action,
    skips: Skips,
    *,
    reason_for: dict[EnrollmentStatus, SkipReason] | None = None,
) -> None:
    """Add the enrollments ``action`` leaves alone (by status) to ``skips``."""
    reasons: dict[EnrollmentStatus, SkipReason] = {}
    for status in counts:
        reason = (reason_for or {}).get(status) or skip_reason(action, status)
        if reason is not None:
            reasons[status] = reason
    if not reasons:
        return
    ids = await sample_ids(conn, predicate, reasons)
    for status, reason in reasons.items():
        skips.add(reason, counts[status], ids.get(status, []))


async def sample_ids(
    conn: AsyncConnection,
    predicate: sa.ColumnElement[bool],
    statuses: Iterable[EnrollmentStatus],
) -> dict[EnrollmentStatus, list[int]]:
    """Up to 100 enrollment ids (lowest first) for each of ``statuses``."""
    ranked = (
        sa.select(
            e.id,
            e.status,
            sa.func.row_number().over(partition_by=e.status, order_by=e.id).label("rank"),
        )
        .where(predicate, e.status.in_(list(statuses)))
        .subquery()
    )
    rows = await conn.execute(
        sa.select(ranked.c.id, ranked.c.status).where(ranked.c.rank <= MAX_SKIPPED_IDS)
    )
    found: dict[EnrollmentStatus, list[int]] = {}
    for row in rows:
        found.setdefault(EnrollmentStatus(row.status), []).append(row.id)
    return found


async def skip_where(
    conn: AsyncConnection,
    where: sa.ColumnElement[bool],
    reason: SkipReason,
    skips: Skips,
    *,
    of: sa.ColumnElement[int] = e.id,
    kind: str = "Enrollment",
) -> None:
    """Report what matches ``where`` as skipped for ``reason``: how many, and up to 100
    ids (of ``of``: the enrollments, or their contacts with ``kind="Contact"``)."""
    count = (await conn.execute(sa.select(sa.func.count()).where(where))).scalar_one()
    if count:
        sample = sa.select(of).where(where).order_by(of).limit(MAX_SKIPPED_IDS)
        skips.add(reason, count, [r[0] for r in await conn.execute(sample)], kind=kind)
