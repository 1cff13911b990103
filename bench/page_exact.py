"""The "exact" server of bench/page.py: the floor of the page.

A Starlette + asyncpg server that sends exactly the app's own SQL statement for the page
(captured from the app at the start of the run, with the order of its parameters) and
writes the same JSON with orjson; asyncpg's pool without its reset query. bench/page.py
checks at startup that its answers are byte for byte the app's. What it does per request
is what any server must do: read the JSON body, decode the sequence's global id, build the
search pattern, run the statement, write global ids, cursors and the JSON (orjson
writing the times itself, as a hand-written orjson server would; the app does too).
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from bench.harness.global_id import to_global_id

# A parameter of the statement is one of these, read from the request: ("workspace",),
# ("sequence",), ("limit",), ("search",), or an item of a list of the filter:
# ("statuses", i), ("steps", i)
Recipe = list[list[Any]]


@dataclass
class Captured:
    """The statement the app sent for one shape of the page, and where each of its
    parameters comes from."""

    sql: str
    recipe: Recipe

    def to_json(self) -> dict[str, Any]:
        return {"sql": self.sql, "recipe": self.recipe}


def recipe_of(sources: list[tuple[str, int]], args: Sequence[Any], known: dict[str, Any]) -> Recipe:
    """Where each argument the app sent comes from (DirectReads tells its observers: the
    parameter's name and index in its list, -1 for none, -2 for a value of the statement's
    own); checked to give back what was sent."""
    recipe: Recipe = [
        ["const", arg] if index == -2 else [name] if index == -1 else [name, index]
        for (name, index), arg in zip(sources, args, strict=True)
    ]
    rebuilt = [_value(step, known) for step in recipe]
    if rebuilt != list(args):
        raise RuntimeError(f"cannot tell the arguments apart: {args} vs {rebuilt}")
    return recipe


def _value(step: list[Any], values: dict[str, Any]) -> Any:
    if step[0] == "const":
        return step[1]
    value = values[step[0]]
    return value[step[1]] if len(step) > 1 else value


def search_pattern(search: str) -> str:
    """The app's LIKE pattern of a search (seqgql.services.reads.like_pattern)."""
    text = search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"


PAGE_WIDTH = 29  # the columns of a page row (PageRow)
STATUSES = ["ACTIVE", "PAUSED", "FINISHED", "BOUNCED", "FAILED", "NOT_SENT", "OPTED_OUT",
            "OMITTED", "REMOVED"]  # fmt: skip


def exact_app(url: str, spec_file: str) -> Any:
    """The server: POST /page/<shape> with the GraphQL request's JSON body."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    with open(spec_file) as f:
        spec = json.load(f)
    shapes: dict[str, Captured] = {
        name: Captured(s["sql"], s["recipe"]) for name, s in spec["shapes"].items()
    }
    workspace_id: int = spec["workspace_id"]
    state: dict[str, Any] = {}
    b64 = base64.urlsafe_b64encode
    gid: Callable[[str, int], str] = to_global_id

    class NoReset(asyncpg.Connection):  # type: ignore[misc]
        def get_reset_query(self) -> str:
            return ""

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(
            url, min_size=1, max_size=spec["pool"], connection_class=NoReset
        )
        try:
            yield
        finally:
            await state["pool"].close()

    def node(r: Any) -> dict[str, Any]:
        # the page's columns, in the app's order: see seqgql.services.enrollments.page
        return {
            "id": gid("Enrollment", r[0]),
            "status": r[3],
            "reason": r[4],
            "currentStep": r[6],
            "enrolledAt": r[8],  # orjson writes a UTC time as isoformat does
            "nextRunAt": r[10],
            "contact": {
                "id": gid("Contact", r[2]),
                "firstName": r[18],
                "lastName": r[19],
                "email": r[20],
            },
            "enrolledBy": {"name": r[26]} if r[26] is not None else None,
        }

    async def page(request: Request) -> Response:
        shape = shapes[request.path_params["shape"]]
        variables = orjson.loads(await request.body())["variables"]
        flt = variables["filter"]
        _, seq = base64.b64decode(variables["seq"]).decode().split(":")
        size = int(variables.get("first") or 50)
        values = {
            "workspace_id": workspace_id,
            "sequence_id": int(seq),
            "statuses": flt.get("statuses"),
            "steps": flt.get("steps"),
            "search": search_pattern(flt["search"]) if flt.get("search") else None,
            "limit": size + 1,
        }
        args = [_value(step, values) for step in shape.recipe]
        async with state["pool"].acquire() as conn:
            fetched = await conn.fetch(shape.sql, *args)
        # with counts, the statement adds (status, count) rows after the page's columns
        with_counts = len(fetched[0]) > PAGE_WIDTH if fetched else False
        counts = {r[-2]: r[-1] for r in fetched if with_counts and r[-2] is not None}
        found = [r for r in fetched if not with_counts or r[-2] is None]
        rows = found[:size]
        edges = [
            {
                "cursor": b64(
                    f'["ENROLLED_AT", "DESC", "{r[8].isoformat()}", {r[0]}]'.encode()
                ).decode(),
                "node": node(r),
            }
            for r in rows
        ]
        result: dict[str, Any] = {}
        if request.path_params["shape"].endswith("counts"):
            wanted = set(flt["statuses"])
            result["totalCount"] = sum(n for s, n in counts.items() if s in wanted)
            result["statusCounts"] = [{"status": s, "count": counts.get(s, 0)} for s in STATUSES]
        result["edges"] = edges
        result["pageInfo"] = {
            "hasNextPage": len(found) > size,
            "endCursor": edges[-1]["cursor"] if edges else None,
        }
        body = orjson.dumps({"data": {"enrollments": result}})
        return Response(body, media_type="application/json")

    async def healthz(_request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[Route("/page/{shape}", page, methods=["POST"]), Route("/healthz", healthz)],
        lifespan=lifespan,
    )
