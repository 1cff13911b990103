"""A contact's enrollments, across the workspace's sequences."""

from __future__ import annotations

import sqlalchemy as sa

from seqgql.domain.status import EnrollmentStatus
from seqgql.persistence.tables import enrollments
from seqgql.services.reads import Listing


def contact_enrollment_listing(
    workspace_id: int, contact_id: int, include_removed: bool
) -> Listing:
    """The contact's enrollments, in the order they were made (REMOVED ones only when
    ``include_removed``), for a keyset page."""
    query = sa.select(enrollments).where(
        enrollments.c.workspace_id == workspace_id, enrollments.c.contact_id == contact_id
    )
    if not include_removed:
        query = query.where(enrollments.c.status != EnrollmentStatus.REMOVED)
    return Listing(query)
