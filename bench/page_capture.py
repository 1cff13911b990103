"""The SQL statement the app sends for each shape of bench/page.py's page, captured from
the app itself (in this process, through httpx's ASGI transport), with where each of its
parameters comes from: what the "exact" server sends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from bench.harness.http_client import check
from bench.harness.servers import make_app
from bench.page_exact import Captured, recipe_of, search_pattern

if TYPE_CHECKING:
    from bench.page import Shape


async def capture_statements(
    url: str, token: str, seq: int, shapes: dict[str, Shape]
) -> dict[str, Captured]:
    from sqlalchemy import event

    app = make_app(url)
    sent: list[tuple[str, tuple[Any, ...], list[str]]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, context: Any,
               _many: bool) -> None:  # fmt: skip
        compiled = context.compiled
        if compiled is None or "limit" not in (compiled.positiontup or []):
            return  # not a page's statement
        sent.append((statement, tuple(parameters), list(compiled.positiontup)))

    event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", before)
    captured: dict[str, Captured] = {}
    workspace_id = None
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers = {"Authorization": f"Bearer {token}"}
            for name, shape in shapes.items():
                sent.clear()
                body = {"query": shape.query, "variables": shape.variables(seq)}
                check(await client.post("/graphql", json=body, headers=headers))
                if len(sent) != 1:
                    raise RuntimeError(f"{name}: the app sent {len(sent)} page statements")
                statement, parameters, names = sent[0]
                workspace_id = workspace_id or parameters[names.index("workspace_id")]
                flt = shape.flt
                known = {
                    "workspace_id": workspace_id, "sequence_id": seq,
                    "statuses": flt.get("statuses"), "steps": flt.get("steps"),
                    "search": search_pattern(flt["search"]) if flt.get("search") else None,
                    "limit": shape.first + 1,
                }  # fmt: skip
                recipe = recipe_of(names, parameters, known)
                captured[name] = Captured(statement, recipe)
    return captured
