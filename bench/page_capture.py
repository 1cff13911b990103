"""The SQL statement the app sends for each shape of bench/page.py's page, captured from
the app itself (in this process, through httpx's ASGI transport), with where each of its
parameters comes from: what the "exact" server sends."""

from __future__ import annotations

from collections.abc import Sequence
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
    app = make_app(url)
    sent: list[tuple[str, list[Any], list[tuple[str, int]]]] = []

    def observe(sql: str, args: Sequence[Any], sources: list[tuple[str, int]]) -> None:
        sent.append((sql, list(args), sources))

    direct = app.state.db.direct
    if direct is None:
        raise RuntimeError("the page's statement goes through asyncpg only on PostgreSQL")
    direct.observers.append(observe)
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
                statement, parameters, sources = sent[0]
                workspace_id = workspace_id or parameters[sources.index(("workspace_id", -1))]
                flt = shape.flt
                known = {
                    "workspace_id": workspace_id, "sequence_id": seq,
                    "statuses": flt.get("statuses"), "steps": flt.get("steps"),
                    "search": search_pattern(flt["search"]) if flt.get("search") else None,
                    "limit": shape.first + 1,
                }  # fmt: skip
                recipe = recipe_of(sources, parameters, known)
                captured[name] = Captured(statement, recipe)
    return captured
