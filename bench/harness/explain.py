"""The plans of the statements the app sends: capture the ones that read enrollments
(a SQLAlchemy event), run them again under EXPLAIN with the same parameters, and read the
plan (its top node, the enrollments indexes, a sequential scan of enrollments; also as the
sixth run of a prepared statement, when PostgreSQL may switch to a generic plan)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import asyncpg
from sqlalchemy import event


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


def reads_enrollments_sequentially(plan: dict[str, Any]) -> bool:
    return any(
        n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "enrollments" for n in walk(plan)
    )


def enrollments_indexes(plan: dict[str, Any]) -> list[str]:
    names = []
    for n in walk(plan):
        index = n.get("Index Name", "")
        if "enrollments" in index and index not in names:
            names.append(index)
    return names


def enrollments_rows_read(plan: dict[str, Any]) -> int:
    """From an EXPLAIN ANALYZE plan: the rows its reads of enrollments returned or
    filtered out, over all their loops (what a statement costs in rows)."""
    total = 0.0
    for n in walk(plan):
        if n.get("Relation Name") == "enrollments":
            rows = n.get("Actual Rows", 0) + n.get("Rows Removed by Filter", 0)
            total += rows * n.get("Actual Loops", 1)
    return round(total)


def top_node(plan: dict[str, Any]) -> str:
    """The plan's top node, then its first read of enrollments (what drives the page:
    the outer side of the joins), with its direction and index."""
    for n in walk(plan):
        if n.get("Relation Name") == "enrollments":
            scan = str(n["Node Type"])
            if n.get("Scan Direction") == "Backward":
                scan += " Backward"
            if "Index Name" in n:
                scan += f" ({n['Index Name']})"
            return f"{plan['Node Type']} → {scan}"
    return str(plan["Node Type"])


async def explain(
    conn: asyncpg.Connection, statement: str, parameters: Any, analyze: bool
) -> tuple[dict[str, Any], str]:
    """The JSON plan (with ANALYZE and BUFFERS when ``analyze``), and without ``analyze``
    also the text plan."""
    options = "ANALYZE, BUFFERS, " if analyze else ""
    [row] = await conn.fetch(f"EXPLAIN ({options}FORMAT JSON) {statement}", *parameters)
    plan = json.loads(row[0])[0]
    text = await conn.fetch(f"EXPLAIN {statement}", *parameters) if not analyze else []
    return plan, "\n".join(r[0] for r in text)


def sql_literal(value: Any) -> str:
    """A parameter as an untyped SQL literal (EXPLAIN EXECUTE takes no bound parameters;
    the prepared statement gives each its type)."""
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


async def prepared_plan(conn: asyncpg.Connection, statement: str, parameters: Any) -> bool:
    """Whether the plan of the statement's sixth run as a prepared statement (the app's
    driver prepares its statements) reads enrollments sequentially: from the sixth run
    on, PostgreSQL may switch to a generic plan, made without the parameters' values."""
    values = ", ".join(map(sql_literal, parameters))
    call = f"EXECUTE bench_plans({values})" if parameters else "EXECUTE bench_plans"
    await conn.execute(f"PREPARE bench_plans AS {statement}")
    try:
        for _ in range(5):
            await conn.fetch(f"EXPLAIN (FORMAT JSON) {call}")
        [row] = await conn.fetch(f"EXPLAIN (FORMAT JSON) {call}")
    finally:
        await conn.execute("DEALLOCATE bench_plans")
    return reads_enrollments_sequentially(json.loads(row[0])[0]["Plan"])


class EnrollmentStatements:
    """The statements reading enrollments that a Database sends while ``captured`` is a
    list (set it to [] before a request, read it after, set it back to None): those of
    its SQLAlchemy engine and those it sends straight through asyncpg (the page's,
    persistence/direct_reads.py)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.engine = db.engine.sync_engine
        self.captured: list[tuple[str, Any]] | None = None
        event.listen(self.engine, "before_cursor_execute", self._capture)
        if db.direct is not None:
            db.direct.observers.append(self._observe)

    def _capture(self, _c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.captured is not None and (
            "FROM enrollments" in statement or "JOIN enrollments" in statement
        ):
            self.captured.append((statement, parameters))

    def _observe(self, statement: str, args: Any, _sources: Any) -> None:
        self._capture(None, None, statement, tuple(args))

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._capture)
        if self.db.direct is not None:
            self.db.direct.observers.remove(self._observe)
