"""SQL predicates over enrollments, shared by the list query and bulk selections."""

from __future__ import annotations

import sqlalchemy as sa

from seqgql.domain.selection import EnrollmentFilter, Selection
from seqgql.domain.status import EnrollmentStatus
from seqgql.persistence.tables import contacts, enrollments, group_members

e = enrollments.c


def like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def filter_clauses(flt: EnrollmentFilter) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses of a filter (the caller adds workspace and sequence)."""
    clauses: list[sa.ColumnElement[bool]] = []
    if flt.statuses:
        clauses.append(e.status.in_(flt.statuses))
    elif not flt.include_removed:
        clauses.append(e.status != EnrollmentStatus.REMOVED)
    if flt.reasons:
        clauses.append(e.reason.in_(flt.reasons))
    if flt.steps:
        clauses.append(e.current_step.in_(flt.steps))
    if flt.enrolled_by_ids:
        clauses.append(e.enrolled_by_id.in_(flt.enrolled_by_ids))
    if flt.group_id is not None:
        members = sa.select(group_members.c.contact_id).where(
            group_members.c.group_id == flt.group_id
        )
        clauses.append(e.contact_id.in_(members))
    if flt.search and flt.search.strip():
        matching = sa.select(contacts.c.id).where(
            contacts.c.search_text.like(like_pattern(flt.search.strip()), escape="\\")
        )
        clauses.append(e.contact_id.in_(matching))
    if flt.enrolled_after is not None:
        clauses.append(e.enrolled_at >= flt.enrolled_after)
    if flt.enrolled_before is not None:
        clauses.append(e.enrolled_at < flt.enrolled_before)
    return clauses


def sequence_filter(
    workspace_id: int, sequence_id: int, flt: EnrollmentFilter
) -> sa.ColumnElement[bool]:
    return sa.and_(
        e.workspace_id == workspace_id, e.sequence_id == sequence_id, *filter_clauses(flt)
    )


def selection_predicate(workspace_id: int, selection: Selection) -> sa.ColumnElement[bool]:
    """The enrollments a (validated) selection names, always inside the workspace."""
    if selection.ids is not None:
        clause = sa.and_(e.workspace_id == workspace_id, e.id.in_(selection.ids))
    else:
        assert selection.sequence_id is not None
        clause = sequence_filter(workspace_id, selection.sequence_id, selection.filter)
    if selection.exclude_ids:
        clause = sa.and_(clause, e.id.not_in(selection.exclude_ids))
    return clause
