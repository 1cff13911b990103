"""The Contacts tab: a page of a sequence's enrollments, each with its contact and
enrolling user read in the same statement, and the counts per status its tab bar shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import strawberry

from seqgql.domain.selection import EnrollmentFilter
from seqgql.domain.selection import EnrollmentOrder as EnrollmentOrderSpec
from seqgql.graphql import inputs
from seqgql.graphql.context import Context
from seqgql.graphql.enrollment_types import ContactType, EnrollmentType
from seqgql.graphql.enums import EnrollmentStatus
from seqgql.graphql.public_errors import PublicError
from seqgql.graphql.relay import (
    Connection,
    Edge,
    Lazy,
    global_id,
    id_argument,
    page_error,
    page_info,
    page_request,
)
from seqgql.graphql.sequence_types import StatusCount, status_count_list
from seqgql.graphql.user_types import UserType
from seqgql.services.enrollments.page import prepare_page, status_counts, total_from_counts
from seqgql.services.enrollments.page_read import PageRow, PreparedPage
from seqgql.services.pagination import BadPageRequest, Page, PageRequest


def page_nodes(rows: Sequence[PageRow]) -> list[EnrollmentType]:
    """Each node holds its contact and its enrolling user (one object per user)."""
    nodes = []
    users: dict[int, UserType] = {}
    for row in rows:
        user = None
        user_pk = row.enrolled_by_id
        if user_pk is not None and row.enrolled_by_name is not None:
            user = users.get(user_pk)
            if user is None:
                user = users[user_pk] = UserType(
                    id=global_id("User", user_pk),
                    name=row.enrolled_by_name,
                    email=row.enrolled_by_email,  # type: ignore[arg-type]
                    role=row.enrolled_by_role,  # type: ignore[arg-type]
                )
        contact = ContactType(
            id=global_id("Contact", row.contact_id),
            first_name=row.contact_first_name,
            last_name=row.contact_last_name,
            email=row.contact_email,
            phone=row.contact_phone,
            phone_type=row.contact_phone_type,
            time_zone=row.contact_time_zone,
            opted_out=row.contact_opted_out,
            created_at=row.contact_created_at,
            pk=row.contact_id,
        )
        nodes.append(EnrollmentType.from_row(row, known_contact=contact, known_enrolled_by=user))
    return nodes


@strawberry.type(
    description="A page of a sequence's enrollments (the Contacts tab), with the counts per "
    "status its tab bar shows."
)
class EnrollmentConnection(Connection[EnrollmentType]):
    counts: strawberry.Private[Lazy]
    flt: strawberry.Private[EnrollmentFilter]

    @strawberry.field(description="How many match, over all pages.")
    async def total_count(self) -> int:
        counts: dict[EnrollmentStatus, int] = await self.counts.get()
        return total_from_counts(counts, self.flt)

    @strawberry.field(
        description="Counts per status for the same filter without its status part "
        "(removed included): the numbers of a status tab bar."
    )
    async def status_counts(self) -> list[StatusCount]:
        return status_count_list(await self.counts.get())


def enrollment_connection(
    ctx: Context,
    sequence_id: int,
    flt: EnrollmentFilter,
    page: Page[PageRow],
    known_counts: dict[EnrollmentStatus, int] | None,
) -> EnrollmentConnection:
    """A page of the Contacts tab; its counts as given, else read when first asked for."""
    if known_counts is not None:
        counts = Lazy.of(known_counts)
    else:
        counts = Lazy(lambda: status_counts(ctx.db, ctx.actor, sequence_id, flt))
    nodes = page_nodes(page.rows)
    return EnrollmentConnection(
        edges=[Edge(cursor=c, node=n) for n, c in zip(nodes, page.cursors, strict=True)],
        page_info=page_info(page),
        count=counts,
        counts=counts,
        flt=flt,
    )


class PageArguments(NamedTuple):
    """The ``enrollments`` field's arguments, checked: the same arguments give the same
    (a page's execution plan keeps them by its variables)."""

    sequence_pk: int
    flt: EnrollmentFilter
    request: PageRequest
    order: EnrollmentOrderSpec


def page_arguments(
    sequence_id: str,
    filter: inputs.EnrollmentFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    order_by: inputs.EnrollmentOrder | None = None,
) -> PageArguments:
    """The ``enrollments`` field's arguments checked; a bad one raises ``PublicError``."""
    pk = id_argument(sequence_id, "Sequence", "sequenceId")
    request = page_request(first, after, last, before)
    flt, problems = inputs.checked_filter(filter, ["filter"])
    if problems:
        err = problems[0]
        raise PublicError(
            err.message, code=err.code.value, argument=".".join(str(p) for p in err.field)
        )
    order = order_by.to_spec() if order_by else inputs.EnrollmentOrder().to_spec()
    return PageArguments(pk, flt, request, order)


def prepared_page(
    ctx: Context,
    arguments: PageArguments,
    *,
    with_counts: bool,
    columns: frozenset[str] | None = None,
) -> PreparedPage:
    """The read of ``read_page``, made ready (``prepare_page``, for the caller's
    workspace); a bad cursor raises ``PublicError``."""
    pk, flt, request, order = arguments
    try:
        return prepare_page(
            ctx.db, ctx.actor.workspace_id, pk, flt, request,
            order=order, with_counts=with_counts, columns=columns,
        )  # fmt: skip
    except BadPageRequest as exc:
        raise page_error(exc) from exc


async def read_page(
    ctx: Context,
    arguments: PageArguments,
    *,
    with_counts: bool,
    columns: frozenset[str] | None = None,
    prepared: PreparedPage | None = None,
) -> tuple[Page[PageRow], dict[EnrollmentStatus, int] | None]:
    """The ``enrollments`` field's page (and its counts, when asked for, in the same
    statement); a bad cursor or sequence raises ``PublicError``. Shared by the resolver
    and the page's execution plan (``page_plan``, which reads only the ``columns`` its
    document needs, and keeps its ``prepared_page``)."""
    if prepared is None:
        prepared = prepared_page(ctx, arguments, with_counts=with_counts, columns=columns)
    page, known_counts = await prepared.read(ctx.db)
    # rows prove the sequence is the caller's; only an empty page needs the check
    pk = arguments.sequence_pk
    if not page.rows and await ctx.loaders.sequences.load(pk) is None:
        raise PublicError("no such sequence", code="NOT_FOUND", argument="sequenceId")
    return page, known_counts
