"""How far the IMAP poller has read each mailbox (UIDVALIDITY and the last UID read), and
the workspace a mailbox feeds."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from seqgql.clock import Clock
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from seqgql.persistence.tables import inbound_cursors, workspaces
from seqgql.services.actor import Actor

c = inbound_cursors.c


@dataclass(frozen=True, slots=True)
class Cursor:
    uid_validity: int
    last_uid: int


async def mailbox_cursor(db: Database, mailbox: str) -> Cursor | None:
    async with db.read() as conn:
        row = (
            await conn.execute(sa.select(c.uid_validity, c.last_uid).where(c.mailbox == mailbox))
        ).first()
    return None if row is None else Cursor(row.uid_validity, row.last_uid)


async def save_mailbox_cursor(db: Database, clock: Clock, mailbox: str, cursor: Cursor) -> None:
    """Remember ``cursor``; a UID lower than the one kept (another poller went further)
    is not written back over it, unless the mailbox's UIDVALIDITY changed."""
    values = {"uid_validity": cursor.uid_validity, "last_uid": cursor.last_uid,
              "updated_at": clock.now()}  # fmt: skip
    async with db.write() as conn:
        updated = await conn.execute(
            inbound_cursors.update()
            .where(
                c.mailbox == mailbox,
                sa.or_(c.uid_validity != cursor.uid_validity, c.last_uid < cursor.last_uid),
            )
            .values(**values)
        )
        if updated.rowcount:
            return
        exists = (await conn.execute(sa.select(c.mailbox).where(c.mailbox == mailbox))).first()
        if exists is None:
            await conn.execute(inbound_cursors.insert().values(mailbox=mailbox, **values))


async def workspace_actor(db: Database, name: str) -> Actor | None:
    """Who inbound mail acts as for the workspace named ``name``: the workspace itself (no
    user), with an admin's rights; None when there is no such workspace."""
    async with db.read() as conn:
        pk = (
            await conn.execute(sa.select(workspaces.c.id).where(workspaces.c.name == name))
        ).scalar()
    return None if pk is None else Actor(pk, None, Role.ADMIN)
