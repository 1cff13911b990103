"""A POST of one of the page's documents answered by its plan (``page_plan``) without
Strawberry's request handling: the body as the /graphql gate parsed it, then the steps
every request takes (``GraphQLView.execute_http``: the persisted query, the charge, the
plan, the metrics, the media type) and the same answer as the stock way's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from starlette.requests import Request
from starlette.responses import Response
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from seqgql.graphql.context import Context
from seqgql.graphql.over_http import request_header
from seqgql.graphql.request_scope import ACTOR_SCOPE_KEY, BODY_SCOPE_KEY
from seqgql.services.actor import Actor

if TYPE_CHECKING:  # the plans use the fast path's internals: imported only with it
    from seqgql.graphql.page_plan import PagePlan, PagePlans

# for isinstance: `dict | None` would make a union each time
_DICT_OR_NONE, _STR_OR_NONE = (dict, type(None)), (str, type(None))


class PlannedView(Protocol):
    """What a planned page needs of the view (``GraphQLView``)."""

    page_plans: PagePlans | None

    async def get_sub_response(self, request: Request) -> Response: ...
    def context_for(self, actor: Actor) -> Context: ...
    async def execute_http(
        self,
        request: Request,
        method: str,
        sub_response: Response,
        context: Context,
        request_data: GraphQLRequestData,
        plan: PagePlan | None = None,
    ) -> ExecutionResult: ...
    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse: ...
    def create_response(
        self, response_data: GraphQLHTTPResponse, sub_response: Response
    ) -> Response: ...


async def planned_response(view: PlannedView, request: Request) -> Response | None:
    """The answer of a POST of a page's document (one a plan takes); None for anything
    else (the stock way, Strawberry's ``run``)."""
    plans = view.page_plans
    body = request.scope.get(BODY_SCOPE_KEY)
    actor = request.scope.get(ACTOR_SCOPE_KEY)
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
    accept = request_header(request.scope, b"accept") or ""
    # a subscription's stream, or a multipart answer: Strawberry's
    if plan is None or "event-stream" in accept or "multipart" in accept:
        return None
    sub_response = await view.get_sub_response(request)
    context = view.context_for(actor)
    request_data = GraphQLRequestData(query, variables, name, None)
    result = await view.execute_http(request, "POST", sub_response, context, request_data, plan)
    return view.create_response(await view.process_result(request, result), sub_response)


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
