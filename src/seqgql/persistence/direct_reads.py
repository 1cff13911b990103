"""The hottest reads (a page of the Contacts tab) sent straight through asyncpg, on
PostgreSQL only: the one place that goes around SQLAlchemy's connection and result layers.

Measured on a page of 50 (bench/page.py, issue 15): SQLAlchemy's checkout, execute, rows
and close cost ~1.0-1.2 ms of CPU, asyncpg alone ~0.3 ms. The statements are still built
by SQLAlchemy (once per shape, see ``services/enrollments/page.py``) and compiled here
once per shape and length of its lists, with SQLAlchemy's own bind and result processors
(so the rows hold the same values: enums, aware UTC times). The connections come from an
asyncpg pool of their own, kept open (no churn), without asyncpg's reset query on release
(reads in autocommit leave nothing to reset); each keeps its prepared statements.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import URL

from seqgql.caching import LRU
from seqgql.generated_code import generated_function

# An argument of a compiled statement: (parameter name, index in its list or -1,
# SQLAlchemy's bind processor or None); a value bound in the statement itself (index
# _CONSTANT) is in the processor's place, processed already
_Arg = tuple[str, int, Any]
_CONSTANT = -2


class _Compiled:
    """A statement as asyncpg takes it, for one length of each list parameter, and the
    function that makes its records rows (each column through its result processor)."""

    __slots__ = ("args", "rows", "sql")

    def __init__(
        self, sql: str, args: list[_Arg], rows: Callable[[list[Any]], list[tuple[Any, ...]]]
    ) -> None:
        self.sql = sql
        self.args = args
        self.rows = rows


class PreparedRead:
    """A read statement with its values, ready to be sent: on PostgreSQL compiled, its
    arguments made (``DirectReads.prepare``); on SQLite as they are. Sent again and again
    when kept (a page's execution plan keeps its page's: making it costs ~10 us)."""

    __slots__ = ("args", "compiled", "params", "statement")

    def __init__(
        self,
        statement: sa.Executable,
        params: Mapping[str, Any],
        compiled: _Compiled | None = None,
        args: list[Any] | None = None,
    ) -> None:  # compiled and args: DirectReads's
        self.statement = statement
        self.params = params
        self.compiled = compiled
        self.args = args or []


def _rows_function(width: int, processors: dict[int, Any]) -> Callable[..., Any]:
    """``rows(records)``: each record a tuple of its ``width`` columns, a column with a
    processor through it (an enum's members: a dict lookup, None kept); written out as
    one expression per column (``generated_code``)."""
    names: dict[str, Any] = {}
    parts = []
    for i in range(width):
        process = processors.get(i)
        if process is None:
            parts.append(f"r[{i}]")
        elif isinstance(process, dict):  # an enum's members by stored value
            names[f"m{i}"] = {**process, None: None}
            parts.append(f"m{i}[r[{i}]]")
        else:
            names[f"p{i}"] = process
            parts.append(f"p{i}(r[{i}])")
    source = f"def rows(records):\n    return [({', '.join(parts)},) for r in records]\n"
    return generated_function("rows", source, names)


def enum_members(column_type: Any) -> dict[Any, Any] | None:
    """The members of an enum column's Python enum by stored value, when it stores the
    values (types.enum_type), or None."""
    if isinstance(column_type, sa.Enum) and column_type.enum_class is not None:
        members = {member.value: member for member in column_type.enum_class}
        if sorted(column_type.enums) == sorted(members):  # it stores the values
            return members
    return None


async def _no_reset(_conn: asyncpg.Connection) -> None:
    """Nothing to reset on release: these connections only read, in autocommit."""


class DirectReads:
    """Reads through an asyncpg pool (opened on first use) of ``pool_size`` connections."""

    def __init__(self, url: URL, pool_size: int) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.pool_size = pool_size
        self.dialect = asyncpg_dialect()  # type: ignore[no-untyped-call]
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._compiled: LRU[tuple[Any, ...], _Compiled] = LRU(maxsize=512)
        # what looks on (bench/page.py captures the statement it sends): called before
        # each statement with its SQL, its arguments and where each comes from (the
        # parameter's name and the index in its list, -1 for none, or -2 for a value of
        # the statement's own)
        self.observers: list[Callable[[str, Sequence[Any], list[tuple[str, int]]], None]] = []

    def prepare(self, statement: sa.Executable, params: Mapping[str, Any]) -> PreparedRead:
        """``statement`` with ``params`` (SQLAlchemy's named parameters, a list for an
        expanding one) as asyncpg takes them: its SQL and its arguments, ready to be sent
        (again: see ``PreparedRead``)."""
        lengths = tuple([len(v) for v in params.values() if isinstance(v, list)])
        key = (statement, lengths)
        compiled = self._compiled.get_or_make(key, lambda: self._compile(statement, params))
        args = []
        for name, index, process in compiled.args:
            if index == _CONSTANT:
                args.append(process)
                continue
            value = params[name] if index < 0 else params[name][index]
            args.append(value if process is None else process(value))
        return PreparedRead(statement, params, compiled, args)

    async def fetch(self, prepared: PreparedRead, *, raw: bool = False) -> list[Any]:
        """The rows of a prepared statement, each a tuple of values in the statement's
        columns (a value an enum column does not have fails, as SQLAlchemy's does). With
        ``raw``, asyncpg's records as they come (indexed like the rows; an enum column's
        stored value, a time as asyncpg reads a timestamptz: aware, in UTC): for a reader
        that writes them itself (the page's execution plan, ``graphql.page_rows``)."""
        compiled, args = prepared.compiled, prepared.args
        if compiled is None:
            raise TypeError("a read prepared for SQLite")
        for observer in self.observers:
            observer(compiled.sql, args, [(name, index) for name, index, _ in compiled.args])
        pool = self._pool or await self._open()
        async with pool.acquire() as conn:
            records = await conn.fetch(compiled.sql, *args)
        return records if raw else compiled.rows(records)

    def _compile(self, statement: sa.Executable, params: Mapping[str, Any]) -> _Compiled:
        compiled = statement.compile(dialect=self.dialect)  # type: ignore[attr-defined]
        expanded = compiled.construct_expanded_state(dict(params))
        binds = compiled.binds
        args: list[_Arg] = []
        for name in expanded.positiontup or ():
            base, index = name, -1
            if name not in params and name in binds and not binds[name].expanding:
                # a value of the statement's own (``status != 'REMOVED'``, say)
                process = binds[name].type.bind_processor(self.dialect)
                value = binds[name].effective_value
                args.append((name, _CONSTANT, value if process is None else process(value)))
                continue
            if name not in params:  # an item of an expanded list: "<name>_<n>"
                base, _, number = name.rpartition("_")
                index = int(number) - 1
            process = binds[base].type.bind_processor(self.dialect)
            if base not in params:  # a list of the statement's own
                value = binds[base].effective_value[index]
                args.append((name, _CONSTANT, value if process is None else process(value)))
                continue
            args.append((base, index, process))
        processors: dict[int, Any] = {}
        columns = statement.selected_columns  # type: ignore[attr-defined]
        for i, column in enumerate(columns):
            process = column.type.result_processor(self.dialect, None)
            members = enum_members(column.type)
            if members is not None:  # what SQLAlchemy's does, in one lookup
                process = members
            if process is not None:
                processors[i] = process
        return _Compiled(expanded.statement, args, _rows_function(len(columns), processors))

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn, min_size=1, max_size=self.pool_size, reset=_no_reset
                )
        return self._pool

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
