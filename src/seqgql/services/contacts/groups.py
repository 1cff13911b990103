"""Groups of contacts: creating them and reading them."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from seqgql.clock import Clock
from seqgql.domain import validation
from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.persistence.database import Database
from seqgql.persistence.tables import contacts, group_members, groups
from seqgql.persistence.types import Row
from seqgql.services.actor import Actor
from seqgql.services.reads import Listing, rows_by_ids


@dataclass(slots=True)
class CreatedGroup:
    group_id: int | None = None
    errors: list[UserError] = field(default_factory=list)


async def create_group(db: Database, clock: Clock, actor: Actor, name: str) -> CreatedGroup:
    try:
        clean = validation.name(name)
    except validation.Invalid as exc:
        return CreatedGroup(errors=[error(["input", "name"], ErrorCode.INVALID, str(exc))])
    async with db.write() as conn:
        taken = (
            await conn.execute(
                sa.select(groups.c.id).where(
                    groups.c.workspace_id == actor.workspace_id, groups.c.name == clean
                )
            )
        ).first()
        if taken is not None:
            return CreatedGroup(
                errors=[
                    error(["input", "name"], ErrorCode.DUPLICATE, f"a group named {clean!r} exists")
                ]
            )
        group_id = (
            await conn.execute(
                groups.insert()
                .values(workspace_id=actor.workspace_id, name=clean, created_at=clock.now())
                .returning(groups.c.id)
            )
        ).scalar_one()
    return CreatedGroup(group_id=group_id)


async def groups_by_ids(db: Database, workspace_id: int, ids: list[int]) -> dict[int, Row]:
    return await rows_by_ids(db, groups, workspace_id, ids)


def group_listing(workspace_id: int) -> Listing:
    """The workspace's groups, by name in any case (for a keyset page)."""
    sort_key = sa.func.lower(groups.c.name).label("sort_key")
    query = sa.select(groups, sort_key).where(groups.c.workspace_id == workspace_id)
    return Listing(query, by="sort_key")


def group_contact_listing(workspace_id: int, group_id: int) -> Listing:
    """The contacts of a group (for a keyset page)."""
    members = sa.select(group_members.c.contact_id).where(group_members.c.group_id == group_id)
    return Listing(
        sa.select(contacts).where(
            contacts.c.workspace_id == workspace_id, contacts.c.id.in_(members)
        )
    )
