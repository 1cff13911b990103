"""A POST of one of the page's documents, answered by its plan (``page_plan``) without
Strawberry's request handling: ``planned_request`` reads the body as the /graphql gate
parsed it, and the view (``GraphQLView.__call__``) then takes the steps every request
takes (``execute_http``: the persisted query, the charge, the plan, the metrics, the
media type) to the same answer as the stock way's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.types import Scope
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from seqgql.graphql.context import Context
from seqgql.graphql.over_http import request_header
from seqgql.graphql.request_scope import ACTOR_SCOPE_KEY, BODY_SCOPE_KEY
from seqgql.services.actor import Actor

if TYPE_CHECKING:  # the plans use the fast path's internals: imported only with it
    from seqgql.graphql.page_plan import PagePlan, PagePlans

# for isinstance: `dict | None` would make a union each time
_DICT_OR_NONE, _STR_OR_NONE = (dict, type(None)), (str, type(None))


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """A POST a plan answers: its plan, the authenticated actor, the request's data."""

    plan: PagePlan
    actor: Actor
    data: GraphQLRequestData


def planned_request(plans: PagePlans | None, scope: Scope) -> PlannedRequest | None:
    """The POST in ``scope`` when it is one of the page's documents (one a plan takes)
    with plain JSON, a map of variables and nothing else; None for anything else (the
    stock way, Strawberry's ``run``)."""
    body = scope.get(BODY_SCOPE_KEY)
    actor = scope.get(ACTOR_SCOPE_KEY)
    if plans is None or not isinstance(body, dict) or actor is None:
        return None
    query, variables = body.get("query"), body.get("variables")
    name = body.get("operationName")
    if (
        not isinstance(query, str)
        or not isinstance(variables, _DICT_OR_NONE)
        or not isinstance(name, _STR_OR_NONE)
        or body.get("extensions") is not None
    ):
        return None
    plan = plans.get(query, name)
    accept = request_header(scope, b"accept") or ""
    # a subscription's stream, or a multipart answer: Strawberry's
    if plan is None or "event-stream" in accept or "multipart" in accept:
        return None
    return PlannedRequest(plan, actor, GraphQLRequestData(query, variables, name, None))


async def answer_by_plan(
    plan: PagePlan | None,
    request_data: GraphQLRequestData,
    context: Context,
    variables_key: bytes | None,
) -> ExecutionResult | None:
    """The answer of a page's document by its plan, or None: the stock way answers."""
    if plan is None:
        return None
    data = await plan.run(context, request_data.variables, variables_key)
    return None if data is None else ExecutionResult(data=data, errors=None)
