"""The Strawberry ASGI view: builds each request's context from the authenticated actor."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import strawberry
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from seqgql.caching import json_key
from seqgql.clock import Clock
from seqgql.compat.ws_origin import RememberedOrigins
from seqgql.compat.ws_transport import text_frame
from seqgql.domain.kinds import Role
from seqgql.domain.webhooks import WebhookRules
from seqgql.events.bus import EventBus
from seqgql.graphql.access_watch import AccessWatch
from seqgql.graphql.context import Context, Loaders
from seqgql.graphql.feeds import FeedHub
from seqgql.graphql.legacy_ws import LegacyWSHandler
from seqgql.graphql.over_http import (
    GRAPHQL_RESPONSE,
    JSON,
    Refusal,
    error_response,
    is_request_error,
    negotiate,
    refused_operation,
    request_header,
)
from seqgql.graphql.persisted import PersistedQueries, PersistedQueryError
from seqgql.graphql.planned_pages import PlannedRequest, answer_by_plan, planned_request
from seqgql.graphql.public_errors import ReportingSchema
from seqgql.graphql.rate_limiting import Metering, RateLimited, rate_limit_headers
from seqgql.graphql.request_scope import ACTOR_SCOPE_KEY
from seqgql.graphql.schema import MAX_TOKENS
from seqgql.graphql.ws import ACK, SharingTransportWSHandler
from seqgql.graphql.ws_socket import SocketAdapter
from seqgql.iso_times import isoformat
from seqgql.observability.metrics import WEBSOCKETS, observe_operation, operation_label
from seqgql.outbound.transport import Transport
from seqgql.persistence.database import Database
from seqgql.process import HeapKeeper
from seqgql.services.actor import Actor
from seqgql.services.auth import TokenCache
from seqgql.services.rate_limits import Budget, RateLimiter

if TYPE_CHECKING:  # imported only with the fast path: the plans use its internals
    from seqgql.graphql.page_plan import PagePlan, PagePlans


def _time_text(value: object) -> str:
    if isinstance(value, datetime):
        return isoformat(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


# what ``json.dumps(data, separators=(",", ":"), default=_time_text)`` writes
_MESSAGE_JSON = json.JSONEncoder(separators=(",", ":"), default=_time_text)


def bearer_token(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class SubResponse(Response):
    """Strawberry's sub-response (an empty ``Response``, no status: what the request's
    handling adds to the answer), without what ``Response`` makes only to be undone."""

    def __init__(self) -> None:
        self.status_code = None  # type: ignore[assignment]
        self.media_type = None
        self.background = None
        self.raw_headers = []


class GraphQLView(RememberedOrigins, GraphQL[Context, None]):
    graphql_transport_ws_handler_class = SharingTransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler
    websocket_adapter_class = SocketAdapter

    def __init__(
        self,
        *args: Any,
        db: Database,
        tokens: TokenCache,
        clock: Clock,
        transport: Transport,
        bus: EventBus,
        poll_seconds: float = 1.0,
        persisted: PersistedQueries | None = None,
        rate_limiter: RateLimiter | None = None,
        max_query_cost: int = 0,
        webhook_rules: WebhookRules | None = None,
        ide_page: Callable[[Request], Response] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.ide_page = ide_page  # GraphiQL's page (seqgql.web.graphiql), else Strawberry's
        limiter = rate_limiter or RateLimiter(Budget(0, 0, 0), clock)
        assert isinstance(self.schema, strawberry.Schema)
        self.metering = Metering(self.schema._schema, limiter, max_query_cost)
        self.tokens = tokens
        self.poll_seconds = poll_seconds
        self.bus = bus
        self.db = db
        self.clock = clock
        self.transport = transport
        self.feeds = FeedHub(max_tokens=MAX_TOKENS)
        self.ack_frame = text_frame(self.encode_json(ACK).encode())  # see the handler
        self.persisted = persisted or PersistedQueries()
        self.webhook_rules = webhook_rules or WebhookRules()
        self.access = AccessWatch(tokens)  # the tokens of open websockets, looked at again
        self.heap = HeapKeeper()  # when the heap is frozen, and reclaimed, as they come and go
        # the page's documents answered by plan (fast path only: it uses its internals)
        self.page_plans: PagePlans | None = None
        if isinstance(self.schema, ReportingSchema) and self.schema.fast_path:
            # here, not at the top: without the fast path its internals stay unimported
            from seqgql.graphql.page_plan import PagePlans

            self.page_plans = PagePlans(
                self.schema._schema, list(self.schema.validation_rules), MAX_TOKENS
            )

    def context_for(self, actor: Actor) -> Context:
        return Context(
            db=self.db,
            clock=self.clock,
            actor=actor,
            transport=self.transport,
            loaders=Loaders(self.db, actor.workspace_id),
            bus=self.bus,
            poll_seconds=self.poll_seconds,
            webhook_rules=self.webhook_rules,
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        actor = request.scope.get(ACTOR_SCOPE_KEY)
        if actor is None:
            # websockets authenticate in connection_init (on_ws_connect)
            actor = Actor(workspace_id=0, user_id=None, role=Role.VIEWER)
        context = self.context_for(actor)
        if isinstance(request, WebSocket):
            context.socket = request
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = getattr(context, "connection_params", None) or {}
        context.connection_params = None  # read once: not kept by every open connection
        raw = params.get("authorization") or params.get("Authorization")
        token = bearer_token(raw) if isinstance(raw, str) and " " in raw else raw
        if not isinstance(token, str) or (actor := await self.tokens.authenticate(token)) is None:
            raise ConnectionRejectionError({"message": "a valid API token is required"})
        fresh = self.context_for(actor)
        context.actor = fresh.actor
        context.loaders = fresh.loaders
        if context.socket is not None:
            self.access.add(token, context, context.socket)
        return None

    async def close(self) -> None:
        """Stop what runs for open connections (at shutdown)."""
        self.heap.close()
        await self.access.close()
        await self.feeds.close()

    def should_render_graphql_ide(self, request: Any) -> bool:
        """GraphiQL for a browser's GET without a query, but not for a persisted query
        sent by its hash alone (`?extensions=…`, Apollo's APQ over GET)."""
        return super().should_render_graphql_ide(request) and (
            request.query_params.get("extensions") is None
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        return SubResponse()

    async def render_graphql_ide(self, request: Request) -> Response:
        if self.ide_page is not None:
            return self.ide_page(request)
        return await super().render_graphql_ide(request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # (``websocket_lane`` takes /graphql's: as here)
            with WEBSOCKETS.track_inprogress():
                await self.run_websocket(WebSocket(scope, receive=receive, send=send))
            return
        request = Request(scope, receive)
        try:
            planned = planned_request(self.page_plans, scope)
            if planned is None:  # the stock way
                response = await self.run(request)
            else:
                response = await self._planned_response(request, planned)
        except HTTPException as exc:  # Strawberry's answer would be plain text
            refusal = exc if isinstance(exc, Refusal) else Refusal.of(exc)
            response = error_response(
                refusal.status_code,
                refusal.reason,
                refusal.code,
                headers=refusal.headers,
                media_type=negotiate(request.headers.get("accept")),
                extensions=refusal.extensions,
            )
        await response(scope, receive, send)

    async def run_websocket(self, socket: WebSocket) -> None:
        """Strawberry's run of a websocket; once it ends, nothing of it is kept, and what
        it leaves is reclaimed with the others' (``process.HeapKeeper``)."""
        self.heap.joined()
        try:
            await self.run(socket)
        finally:
            self.access.forget(socket)
            self.heap.left()

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """Strawberry's; a subscription over Server-Sent Events is charged here (the rest
        in ``execute_single``)."""
        if isinstance(request_data, GraphQLRequestData) and self._get_stream_transport(
            request_data.protocol
        ):
            refused = await self._charge(request_data.query, request_data, context, sub_response)
            if refused is not None:
                return refused
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def _charge(
        self,
        query: str | None,
        request_data: GraphQLRequestData,
        context: Context,
        sub_response: Response,
        variables_key: bytes | None = None,
    ) -> ExecutionResult | None:
        """Charge the request to its token (``rate_limiting``), its ``X-RateLimit-*``
        headers on the answer: None when it may run, the answer of a query that costs
        too much; over the budget, a ``Refusal`` (429) is raised."""
        document = self.feeds.parse(query) if isinstance(query, str) else None
        if isinstance(document, GraphQLError):
            document = None  # answered by execution (a syntax error), at no cost
        charge = await self.metering.charge(
            context.actor,
            document,
            request_data.variables,
            request_data.operation_name,
            variables_key,
        )
        context.rate_limit = charge.allowance
        headers = rate_limit_headers(charge.allowance)
        if isinstance(charge.refusal, RateLimited):
            refusal = charge.refusal
            raise Refusal(
                429,
                refusal.message,
                "RATE_LIMITED",
                headers={**headers, "Retry-After": str(refusal.retry_after)},
                extensions=refusal.extensions,
            )
        sub_response.headers.update(headers)
        if charge.refusal is not None:
            return ExecutionResult(data=None, errors=[charge.refusal])
        return None

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's, but for what it refuses (as JSON, with a code) and the status
        code and media type the client's Accept calls for (``over_http``)."""
        return await self._execute_http(
            request, request_adapter.method, sub_response, context, request_data
        )

    async def _execute_http(
        self,
        request: Request,
        method: str,
        sub_response: Response,
        context: Context,
        request_data: GraphQLRequestData,
        plan: PagePlan | None = None,
    ) -> ExecutionResult:
        """``plan``: the page plan of ``request_data``'s document, when already found."""
        started = time.perf_counter()
        root_value = None
        try:
            query = self.persisted.resolve(request_data.query, request_data.extensions)
        except PersistedQueryError as error:
            return ExecutionResult(data=None, errors=[error])
        get = method == "GET"
        allowed = {OperationType.QUERY} if get else {OperationType.QUERY, OperationType.MUTATION}
        # a planned page's variables written once, for both the charge and the plan
        key = json_key(request_data.variables) if plan is not None else None
        result = await self._charge(query, request_data, context, sub_response, key)
        try:
            if result is None:  # not refused for its cost
                if (plan is None or query != request_data.query) and self.page_plans:
                    plan = self.page_plans.get(query, request_data.operation_name)
                result = await answer_by_plan(plan, request_data, context, key)
            if result is None:
                result = await self.schema.execute(
                    query,
                    root_value=root_value,
                    variable_values=request_data.variables,
                    context_value=context,
                    operation_name=request_data.operation_name,
                    allowed_operation_types=allowed,
                    operation_extensions=request_data.extensions,
                )
        except InvalidOperationTypeError as exc:
            raise refused_operation(exc.operation_type, method) from None
        except CannotGetOperationTypeError as exc:
            raise Refusal(400, exc.as_http_error_reason(), "BAD_REQUEST") from None
        except MissingQueryError:
            raise Refusal(400, "the request has no `query`", "BAD_REQUEST") from None
        observe_operation(
            operation_label(request_data.operation_name, query),
            time.perf_counter() - started,
            "error" if result.errors else "ok",
        )
        media_type = negotiate(request_header(request.scope, b"accept"))
        sub_response.media_type = media_type
        if media_type == GRAPHQL_RESPONSE and is_request_error(result):
            sub_response.status_code = 400
        return result

    async def _planned_response(self, request: Request, planned: PlannedRequest) -> Response:
        """The answer of a page's POST (``planned_pages``): the same steps as
        ``execute_single`` and the same answer, without Strawberry's request handling."""
        sub_response = await self.get_sub_response(request)
        context = self.context_for(planned.actor)
        result = await self._execute_http(
            request, "POST", sub_response, context, planned.data, planned.plan
        )
        return self.create_response(await self.process_result(request, result), sub_response)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer = await super().process_result(request, result)
        if is_request_error(result):
            accept = request_header(request.scope, b"accept")
            if negotiate(accept) == GRAPHQL_RESPONSE:
                answer.pop("data", None)  # execution never started: no data entry at all
        return answer

    def decode_json(self, data: str | bytes) -> object:
        """Strawberry's, by orjson, as the /graphql gate reads a body (a websocket
        message, a GET's variables); stricter only where the JSON is not JSON (``NaN``)."""
        return orjson.loads(data)

    def encode_json(self, data: object) -> str:
        """Strawberry's, writing a time as ``isoformat`` does (a planned page's answer
        holds UTC times as they are, for orjson: see ``page_rows``). One encoder for
        every message: ``json.dumps`` with options builds one a call (~6 µs)."""
        return _MESSAGE_JSON.encode(data)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """Strawberry's response, its JSON written by orjson (a page of 50 enrollments:
        ~0.05 ms instead of ~0.5 ms). Websocket messages keep ``encode_json``: text frames."""
        try:
            body = orjson.dumps(response_data)
        except TypeError:  # what orjson does not write (an int over 64 bits, say)
            return super().create_response(response_data, sub_response)
        response = Response(
            body,
            status_code=sub_response.status_code or 200,
            media_type=sub_response.media_type or JSON,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        return response
