"""Reading a whole filtered list of enrollments, for an export: the Contacts tab's page
query, a large keyset batch at a time, so that a million rows take the memory of one
batch (each batch is read after the one before has been handed on)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from seqgql.domain.selection import EnrollmentFilter, EnrollmentOrder
from seqgql.persistence.database import Database
from seqgql.services.actor import Actor
from seqgql.services.enrollments.page import prepare_page
from seqgql.services.enrollments.page_read import PageRow
from seqgql.services.pagination import PageRequest

EXPORT_BATCH_SIZE = 5_000


async def enrollment_batches(
    db: Database,
    actor: Actor,
    sequence_id: int,
    flt: EnrollmentFilter,
    order: EnrollmentOrder,
    *,
    batch_size: int = EXPORT_BATCH_SIZE,
) -> AsyncIterator[list[PageRow]]:
    """The enrollments the filter matches, in the list's order, ``batch_size`` at a time
    (the same statement as a page of the list, so the same rows in the same order).

    Each batch is read when the one before has been consumed, after the last row it gave
    (keyset): an enrollment whose sort key changes meanwhile (re-enrolled, renamed) may be
    seen twice or not at all, as when paging through the list."""
    after: str | None = None
    while True:
        request = PageRequest(first=batch_size, after=after, max_size=batch_size)
        read = prepare_page(db, actor.workspace_id, sequence_id, flt, request, order=order)
        page, _ = await read.read(db)
        if page.rows:
            yield page.rows
        if not page.has_next:
            return
        after = page.cursors[-1]
