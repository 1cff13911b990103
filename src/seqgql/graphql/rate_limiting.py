"""What each operation is charged, over HTTP and websockets alike: one request and its
cost (``query_cost``) from the budget of the caller's API token (``services.rate_limits``),
and how what is refused is told: ``RATE_LIMITED`` (HTTP 429 with ``Retry-After``), or
``QUERY_TOO_COSTLY`` for a query costlier than one may be (it spends no points).

Every HTTP answer says where the token stands, as GitHub's API does: ``X-RateLimit-Limit``,
``-Remaining``, ``-Used`` (points) and ``-Reset`` (when the window ends, in Unix seconds),
and ``X-RateLimit-Requests-Limit`` / ``-Remaining`` for the request budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema

from seqgql.caching import LRU, json_key
from seqgql.graphql.query_cost import QueryTooCostly, query_cost
from seqgql.services.actor import Actor
from seqgql.services.rate_limits import Allowance, RateLimiter


class RateLimited(GraphQLError):
    """A request over its token's budget; ``extensions.retryAfter``: seconds to wait."""

    def __init__(self, allowance: Allowance, window_seconds: int) -> None:
        limit = allowance.request_limit
        if limit is not None and allowance.requests_used + 1 > limit:
            spent = f"this API token's {limit:,} requests per {window_seconds} s are spent"
        else:
            spent = (
                f"this query costs {allowance.cost:,} points and "
                f"{allowance.cost_remaining or 0:,} of this API token's "
                f"{allowance.cost_limit or 0:,} points per {window_seconds} s are left"
            )
        self.retry_after = allowance.retry_after
        super().__init__(
            f"rate limit exceeded: {spent}; retry in {self.retry_after} s",
            extensions={
                "code": "RATE_LIMITED",
                "retryAfter": self.retry_after,
                "resetAt": allowance.reset_at.isoformat().replace("+00:00", "Z"),
            },
        )


@dataclass(frozen=True, slots=True)
class Charge:
    """What a request was charged, and why it is refused (None: it runs)."""

    allowance: Allowance
    refusal: RateLimited | QueryTooCostly | None


class Metering:
    """Charges operations to their tokens' budgets (see the module)."""

    def __init__(self, schema: GraphQLSchema, limiter: RateLimiter, max_query_cost: int) -> None:
        self.schema = schema
        self.limiter = limiter
        self.max_query_cost = max_query_cost
        # the costs of the operations seen, by document (the parser cache's object, held
        # in the entry so that its id is not reused), operation name and variables' JSON
        self._costs: LRU[tuple[int, str | None, bytes], tuple[DocumentNode, int]] = LRU(1024)

    async def charge(
        self,
        actor: Actor,
        document: DocumentNode | None,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        variables_key: bytes | None = None,
    ) -> Charge:
        """Charge one request and the operation's cost (``document`` None: a document
        that does not parse, one request at no cost). ``variables_key``: the variables'
        ``json_key``, when the caller has it."""
        cost = 0
        if document is not None:
            cost = self._cost(document, variables, operation_name, variables_key)
        too_costly = 0 < self.max_query_cost < cost
        allowance = await self.limiter.take(actor.token_id, 0 if too_costly else cost)
        if not allowance.allowed:
            return Charge(allowance, RateLimited(allowance, self.limiter.budget.window_seconds))
        if too_costly:
            return Charge(allowance, QueryTooCostly(cost, self.max_query_cost))
        return Charge(allowance, None)

    def _cost(
        self,
        document: DocumentNode,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        variables_key: bytes | None,
    ) -> int:
        if variables_key is None:
            variables_key = json_key(variables)
            if variables_key is None:
                return query_cost(self.schema, document, variables, operation_name)
        key = (id(document), operation_name, variables_key)
        known = self._costs.get(key)
        if known is not None and known[0] is document:
            return known[1]
        cost = query_cost(self.schema, document, variables, operation_name)
        self._costs.put(key, (document, cost))
        return cost


def rate_limit_headers(allowance: Allowance) -> dict[str, str]:
    """The ``X-RateLimit-*`` headers of an answer (none when no budget is set)."""
    headers: dict[str, str] = {}
    if allowance.cost_limit is not None:
        headers["X-RateLimit-Limit"] = str(allowance.cost_limit)
        headers["X-RateLimit-Remaining"] = str(allowance.cost_remaining)
        headers["X-RateLimit-Used"] = str(allowance.cost_used)
    if allowance.request_limit is not None:
        headers["X-RateLimit-Requests-Limit"] = str(allowance.request_limit)
        headers["X-RateLimit-Requests-Remaining"] = str(allowance.requests_remaining)
    if headers:
        headers["X-RateLimit-Reset"] = str(int(allowance.reset_at.timestamp()))
    return headers


# What browsers on other origins may read of an answer (CORS).
EXPOSED_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Used",
    "X-RateLimit-Reset",
    "X-RateLimit-Requests-Limit",
    "X-RateLimit-Requests-Remaining",
)
