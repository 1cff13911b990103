"""Relay cursor connections. Counts are computed only when asked for."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
import strawberry

from seqgql.domain.selection import EnrollmentFilter
from seqgql.domain.status import EnrollmentStatus
from seqgql.graphql.context import Context
from seqgql.graphql.errors import PublicError
from seqgql.graphql.types import (
    ActivityType,
    ContactType,
    EnrollmentType,
    SequenceType,
    StatusCount,
    status_count_list,
)
from seqgql.persistence.types import Row
from seqgql.services import enrollment_queries, lookups
from seqgql.services.pagination import BadPageRequest, Page

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


class _Lazy:
    """Runs an async computation once, on first use, shared by the fields that need it."""

    def __init__(self, compute: Callable[[], Awaitable[Any]]) -> None:
        self._compute = compute
        self._task: asyncio.Future[Any] | None = None

    @classmethod
    def of(cls, value: Any) -> _Lazy:
        """One whose value is already known."""
        lazy = cls(_unreachable)
        lazy._task = asyncio.get_running_loop().create_future()
        lazy._task.set_result(value)
        return lazy

    async def get(self) -> Any:
        if self._task is None:
            self._task = asyncio.ensure_future(self._compute())
        return await self._task


async def _unreachable() -> Any:
    raise AssertionError("a known value is not computed")


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[_Lazy]

    @strawberry.field(description="How many match, over all pages.")
    async def total_count(self) -> int:
        return int(await self.count.get())


def _page_info(page: Page[Row], had_cursor: bool) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=had_cursor,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )


def _edges(page: Page[Row], build: Callable[[Row], T]) -> list[Edge[T]]:
    return [Edge(cursor=c, node=build(r)) for r, c in zip(page.rows, page.cursors, strict=True)]


P = TypeVar("P")


async def paged(call: Awaitable[P]) -> P:
    """Turn a bad `first`/`after` into an error that names the argument."""
    try:
        return await call
    except BadPageRequest as exc:
        raise PublicError(str(exc), code="BAD_USER_INPUT", argument=exc.argument) from exc


@strawberry.type
class EnrollmentConnection(Connection[EnrollmentType]):
    counts: strawberry.Private[_Lazy]
    flt: strawberry.Private[EnrollmentFilter]

    @strawberry.field(description="How many match, over all pages.")
    async def total_count(self) -> int:
        counts: dict[EnrollmentStatus, int] = await self.counts.get()
        return enrollment_queries.total_from_counts(counts, self.flt)

    @strawberry.field(
        description="Counts per status for the same filter without its status part "
        "(removed included): the numbers of a status tab bar."
    )
    async def status_counts(self) -> list[StatusCount]:
        return status_count_list(await self.counts.get())


def enrollment_counts(
    ctx: Context,
    sequence_id: int,
    flt: EnrollmentFilter,
    known: dict[EnrollmentStatus, int] | None = None,
) -> _Lazy:
    """The status counts of a list: these when known, else read when first asked for."""
    if known is not None:
        return _Lazy.of(known)
    return _Lazy(lambda: enrollment_queries.status_counts(ctx.db, ctx.actor, sequence_id, flt))


def enrollment_connection(
    page: Page[Row], had_cursor: bool, counts: _Lazy, flt: EnrollmentFilter
) -> EnrollmentConnection:
    nodes = EnrollmentType.from_page_rows(page.rows)
    return EnrollmentConnection(
        edges=[Edge(cursor=c, node=n) for n, c in zip(nodes, page.cursors, strict=True)],
        page_info=_page_info(page, had_cursor),
        count=counts,
        counts=counts,
        flt=flt,
    )


@strawberry.type
class ContactConnection(Connection[ContactType]):
    pass


@strawberry.type
class SequenceConnection(Connection[SequenceType]):
    pass


@strawberry.type
class ActivityConnection(Connection[ActivityType]):
    pass


C = TypeVar("C", ContactConnection, SequenceConnection)


async def _query_connection(
    ctx: Context,
    cls: type[C],
    query: sa.Select[Any],
    first: int | None,
    after: str | None,
    build: Callable[[Row], Any],
) -> C:
    page = await paged(lookups.page_of(ctx.db, query, first, after))
    return cls(
        edges=_edges(page, build),
        page_info=_page_info(page, after is not None),
        count=_Lazy(lambda: lookups.count_of(ctx.db, query)),
    )


async def sequence_list(
    ctx: Context, first: int | None, after: str | None, include_archived: bool
) -> SequenceConnection:
    query = lookups.sequences_query(ctx.workspace_id, include_archived)
    return await _query_connection(
        ctx, SequenceConnection, query, first, after, SequenceType.from_row
    )


async def contact_list(
    ctx: Context, search: str | None, first: int | None, after: str | None
) -> ContactConnection:
    query = lookups.contacts_query(ctx.workspace_id, search)
    return await _query_connection(
        ctx, ContactConnection, query, first, after, ContactType.from_row
    )


async def group_contacts(
    ctx: Context, group_id: int, first: int | None, after: str | None
) -> ContactConnection:
    query = lookups.group_contacts_query(ctx.workspace_id, group_id)
    return await _query_connection(
        ctx, ContactConnection, query, first, after, ContactType.from_row
    )


async def enrollment_activities(
    ctx: Context, enrollment_id: int, first: int | None, after: str | None
) -> ActivityConnection:
    page = await paged(
        enrollment_queries.activity_page(
            ctx.db, ctx.workspace_id, enrollment_id, first=first, after=after
        )
    )
    return ActivityConnection(
        edges=_edges(page, ActivityType.from_row),
        page_info=_page_info(page, after is not None),
        count=_Lazy(
            lambda: enrollment_queries.activity_counts(ctx.db, ctx.workspace_id, enrollment_id)
        ),
    )
