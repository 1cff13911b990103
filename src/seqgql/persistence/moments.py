"""Time arithmetic in SQL, the same on every dialect: the moments a set-based statement
computes per row (PostgreSQL has intervals; SQLite keeps naive UTC text, done with
``julianday``, to the millisecond)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from seqgql.persistence.types import UTCDateTime


class shifted_due(FunctionElement[datetime]):
    """``due`` moved later by the time from ``since`` to ``now``, but never before
    ``now``: when a step paused at ``since`` falls due if it resumes at ``now``."""

    type = UTCDateTime()
    inherit_cache = True
    name = "shifted_due"

    def __init__(
        self, due: sa.ColumnElement[Any], since: sa.ColumnElement[Any], now: datetime
    ) -> None:
        super().__init__(due, since, sa.literal(now, UTCDateTime()))


@compiles(shifted_due, "postgresql")
def _postgresql(element: shifted_due, compiler: SQLCompiler, **kw: Any) -> str:
    due, since, now = (compiler.process(c, **kw) for c in element.clauses)
    return f"GREATEST({now}, {due} + ({now} - {since}))"


@compiles(shifted_due, "sqlite")
def _sqlite(element: shifted_due, compiler: SQLCompiler, **kw: Any) -> str:
    due, since, now = (compiler.process(c, **kw) for c in element.clauses)
    later = (
        f"strftime('%Y-%m-%d %H:%M:%f', julianday({due}) + julianday({now}) - julianday({since}))"
    )
    # naive UTC text orders as the moments do
    return f"MAX({now}, {later})"


class far_future(sa.sql.expression.ColumnElement[datetime]):
    """A moment later than any the system stores, written as a constant (not a bound
    parameter) so that an expression using it matches an index built on it: what a
    nullable time sorts as when it is null (``COALESCE(next_run_at, far_future())``)."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(far_future, "postgresql")
def _far_future_postgresql(element: far_future, compiler: SQLCompiler, **kw: Any) -> str:
    return "CAST('9999-12-31 00:00:00+00' AS TIMESTAMP WITH TIME ZONE)"


@compiles(far_future, "sqlite")
def _far_future_sqlite(element: far_future, compiler: SQLCompiler, **kw: Any) -> str:
    return "'9999-12-31 00:00:00.000000'"


FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
# what a null step sorts as: after every step
LAST_STEP = 2_147_483_647
