"""Generic reads every aggregate uses: rows by id inside a workspace, and lists read a
keyset page at a time (``Listing``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from seqgql.persistence.database import Database
from seqgql.persistence.types import Row
from seqgql.services.pagination import Page, decode_id_cursor, encode_cursor, page_size


def like_pattern(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching text containing ``text``, any case."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def rows_by_ids(
    db: Database, table: sa.Table, workspace_id: int, ids: list[int]
) -> dict[int, Row]:
    """The rows of ``table`` with these ids, by id: only those of the workspace."""
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(table).where(table.c.workspace_id == workspace_id, table.c.id.in_(ids))
        )
        return {r.id: r for r in rows}


async def all_rows(
    db: Database, table: sa.Table, workspace_id: int, order_by: sa.ColumnElement[Any]
) -> list[Row]:
    """Every row of ``table`` in the workspace, in this order (for short lists)."""
    async with db.read() as conn:
        query = sa.select(table).where(table.c.workspace_id == workspace_id).order_by(order_by)
        return list(await conn.execute(query))


@dataclass(frozen=True, slots=True)
class Listing:
    """A list of rows read a page at a time, in id order (keyset on the ``id`` it selects),
    with its total count read only when asked for."""

    query: sa.Select[Any]

    async def page(self, db: Database, first: int | None, after: str | None) -> Page[Row]:
        query = self.query
        id_column = query.selected_columns["id"]
        size = page_size(first)
        if after is not None:
            query = query.where(id_column > decode_id_cursor(after))
        async with db.read() as conn:
            rows = (await conn.execute(query.order_by(id_column).limit(size + 1))).all()
        rows_on_page = rows[:size]
        return Page(
            rows=rows_on_page,
            has_next=len(rows) > size,
            cursors=[encode_cursor([r.id]) for r in rows_on_page],
        )

    async def count(self, db: Database) -> int:
        async with db.read() as conn:
            counted = sa.select(sa.func.count()).select_from(self.query.subquery())
            return int((await conn.execute(counted)).scalar_one())
