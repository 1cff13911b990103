"""SQL predicates over enrollments, shared by the list query and bulk selections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from seqgql.domain.selection import EnrollmentFilter, Selection
from seqgql.domain.status import EnrollmentStatus
from seqgql.persistence.moments import far_future
from seqgql.persistence.tables import contacts, enrollments, group_members
from seqgql.services.reads import like_pattern

e = enrollments.c

# How a predicate takes one of its values: ``param(name, value)`` returns what goes into
# the SQL expression. By default the value itself (SQLAlchemy binds it anonymously); the
# list query passes named bind parameters instead, so that its statements can be built
# once per shape of filter and executed with ``filter_params``.
Param = Callable[[str, Any], Any]


def _value(_name: str, value: Any) -> Any:
    return value


def status_clauses(
    flt: EnrollmentFilter, status: sa.ColumnElement[Any] = e.status, *, param: Param = _value
) -> list[sa.ColumnElement[bool]]:
    """The status part of a filter, on this status column: the statuses asked for, or
    all but REMOVED unless removed enrollments are included."""
    if flt.statuses:
        return [status.in_(param("statuses", list(flt.statuses)))]
    if not flt.include_removed:
        return [status != EnrollmentStatus.REMOVED]
    return []


def filter_clauses(
    flt: EnrollmentFilter, *, contacts_joined: bool = False, param: Param = _value
) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses of a filter (the caller adds workspace and sequence): one per
    value ``filter_params`` gives, passed through ``param``.

    With ``contacts_joined`` the query already joins each enrollment's contact, and the
    search applies to that row directly; otherwise it is a subquery on contacts."""
    values = filter_params(flt)

    def bound(name: str) -> Any:
        return param(name, values[name])

    clauses = status_clauses(flt, param=param)
    for name, column in (
        ("reasons", e.reason),
        ("outcomes", e.outcome),
        ("steps", e.current_step),
        ("enrolled_by_ids", e.enrolled_by_id),
    ):
        if name in values:
            clauses.append(column.in_(bound(name)))
    if "group_id" in values:
        members = sa.select(group_members.c.contact_id).where(
            group_members.c.group_id == bound("group_id")
        )
        clauses.append(e.contact_id.in_(members))
    if "search" in values:
        matching = contacts.c.search_text.like(bound("search"), escape="\\")
        if contacts_joined:
            clauses.append(matching)
        else:
            clauses.append(e.contact_id.in_(sa.select(contacts.c.id).where(matching)))
    if flt.resume_scheduled is not None:  # not a bound value: part of the statement's shape
        scheduled = e.resume_at.is_not(None)
        clauses.append(scheduled if flt.resume_scheduled else ~scheduled)
    moments: tuple[tuple[str, sa.ColumnElement[Any]], ...] = (
        ("enrolled", e.enrolled_at),
        ("next_send", next_send_key()),
        ("status_changed", e.status_changed_at),
    )
    for name, moment in moments:
        if f"{name}_after" in values:
            clauses.append(moment >= bound(f"{name}_after"))
        if f"{name}_before" in values:
            clauses.append(moment < bound(f"{name}_before"))
    return clauses


def next_send_key() -> sa.ColumnElement[Any]:
    """When an enrollment's next step is due, far in the future when none is (not ACTIVE,
    nothing left): the expression ix_enrollments_seq_next_send indexes."""
    return sa.func.coalesce(e.next_run_at, far_future())


def filter_params(flt: EnrollmentFilter) -> dict[str, Any]:
    """The values of the filter's set parts, by name: what its clauses bind."""
    params: dict[str, Any] = {}
    if flt.statuses:
        params["statuses"] = list(flt.statuses)
    if flt.reasons:
        params["reasons"] = list(flt.reasons)
    if flt.outcomes:
        params["outcomes"] = list(flt.outcomes)
    if flt.steps:
        params["steps"] = list(flt.steps)
    if flt.enrolled_by_ids:
        params["enrolled_by_ids"] = list(flt.enrolled_by_ids)
    if flt.group_id is not None:
        params["group_id"] = flt.group_id
    if flt.search and flt.search.strip():
        params["search"] = like_pattern(flt.search.strip())
    if flt.enrolled_after is not None:
        params["enrolled_after"] = flt.enrolled_after
    if flt.enrolled_before is not None:
        params["enrolled_before"] = flt.enrolled_before
    for name in ("next_send", "status_changed"):
        for bound_name in (f"{name}_after", f"{name}_before"):
            if getattr(flt, bound_name) is not None:
                params[bound_name] = getattr(flt, bound_name)
    return params


def sequence_filter(
    workspace_id: int,
    sequence_id: int,
    flt: EnrollmentFilter,
    *,
    contacts_joined: bool = False,
    param: Param = _value,
) -> sa.ColumnElement[bool]:
    return sa.and_(
        e.workspace_id == param("workspace_id", workspace_id),
        e.sequence_id == param("sequence_id", sequence_id),
        *filter_clauses(flt, contacts_joined=contacts_joined, param=param),
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
