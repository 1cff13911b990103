"""Generic reads every aggregate uses: rows by id inside a workspace, and lists read a
keyset page at a time (``Listing``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from seqgql.persistence.database import Database
from seqgql.persistence.types import Row
from seqgql.services.pagination import (
    CursorArgument,
    Page,
    PageRequest,
    decode_cursor,
    encode_cursor,
    keyset_bounds,
    not_a_cursor,
    row_id,
    scan_order,
)


def like_escaped(text: str) -> str:
    """``text`` lower-cased, to match itself in a LIKE pattern (escape character ``\\``)."""
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching text containing ``text``, any case."""
    return f"%{like_escaped(text)}%"


async def rows_by_ids(
    db: Database, table: sa.Table, workspace_id: int, ids: list[int]
) -> dict[int, Row]:
    """The rows of ``table`` with these ids, by id: only those of the workspace."""
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(table).where(table.c.workspace_id == workspace_id, table.c.id.in_(ids))
        )
        return {r.id: r for r in rows}


@dataclass(frozen=True, slots=True)
class Listing:
    """A list of rows read a page at a time, ordered by the ``id`` its query selects, or
    by a text column it selects (``by``, e.g. a lower-cased name) then ``id``; its total
    count read only when asked for."""

    query: sa.Select[Any]
    by: str | None = None

    def _key(self) -> list[sa.ColumnElement[Any]]:
        columns = self.query.selected_columns
        return [columns[self.by], columns["id"]] if self.by else [columns["id"]]

    def _decode(self, cursor: str, argument: CursorArgument) -> list[Any]:
        if self.by is None:
            (last_id,) = decode_cursor(cursor, 1, argument)
            return [row_id(last_id, argument)]
        text, last_id = decode_cursor(cursor, 2, argument)
        if not isinstance(text, str) or "\x00" in text:
            raise not_a_cursor(argument)
        return [text, row_id(last_id, argument)]

    def _cursor(self, row: Row) -> str:
        return encode_cursor([getattr(row, self.by), row.id] if self.by else [row.id])

    async def page(self, db: Database, request: PageRequest) -> Page[Row]:
        key = self._key()
        query = self.query.where(*keyset_bounds(request, key, self._decode))
        query = query.order_by(*scan_order(request, key)).limit(request.size + 1)
        async with db.read() as conn:
            rows = (await conn.execute(query)).all()
        return request.cut(rows, self._cursor)

    async def count(self, db: Database) -> int:
        async with db.read() as conn:
            counted = sa.select(sa.func.count()).select_from(self.query.subquery())
            return int((await conn.execute(counted)).scalar_one())
