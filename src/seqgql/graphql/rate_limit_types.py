"""The RateLimit type and ``RateLimitQueries`` (``rateLimit``, a part of the Query root): the
caller's token's rate limits as this request left them, like GitHub's ``rateLimit``."""

from __future__ import annotations

from datetime import datetime

import strawberry

from seqgql.graphql.node import ContextInfo
from seqgql.services.rate_limits import Allowance


@strawberry.type(
    name="RateLimit",
    description="Where the API token of this request stands with its rate limits. Each "
    "token has, per window (a minute by default, the same clock-aligned windows on every "
    "server), a budget of points of query cost and one of requests (subscriptions "
    "included). A query's cost is counted from its document before it runs: each field 1, "
    "times the page size (`first`, 50 when not given) of each connection whose `edges` or "
    "`nodes` hold it. A request over a budget is refused with the error code RATE_LIMITED "
    "(HTTP 429 with Retry-After); the same figures come with every HTTP answer as "
    "`X-RateLimit-*` headers.",
)
class RateLimitType:
    cost: int = strawberry.field(
        description="What this query cost, in points (this field included)."
    )
    limit: int | None = strawberry.field(
        description="The points the token may spend per window; null when the server sets "
        "no budget of points."
    )
    used: int = strawberry.field(
        description="The points spent in the current window, this query included (0 "
        "without a budget of points)."
    )
    remaining: int | None = strawberry.field(
        description="The points left in the current window (`limit` - `used`, never below "
        "0); null when there is no budget of points."
    )
    request_limit: int | None = strawberry.field(
        description="The requests the token may make per window; null when the server sets "
        "no budget of requests."
    )
    requests_remaining: int | None = strawberry.field(
        description="The requests left in the current window, this one counted; null when "
        "there is no budget of requests."
    )
    reset_at: datetime = strawberry.field(
        description="When the current window ends and both budgets are whole again (now, "
        "when no budget is set)."
    )

    @classmethod
    def from_allowance(cls, allowance: Allowance) -> RateLimitType:
        return cls(
            cost=allowance.cost,
            limit=allowance.cost_limit,
            used=allowance.cost_used,
            remaining=allowance.cost_remaining,
            request_limit=allowance.request_limit,
            requests_remaining=allowance.requests_remaining,
            reset_at=allowance.reset_at,
        )


@strawberry.type
class RateLimitQueries:
    @strawberry.field(
        description="The rate limits of the API token of this request, as this request "
        "left them (its own cost spent)."
    )
    def rate_limit(self, info: ContextInfo) -> RateLimitType:
        ctx = info.context
        allowance = ctx.rate_limit
        if allowance is None:  # not charged (run outside a request): nothing counted
            allowance = Allowance.unlimited(0, ctx.clock.now())
        return RateLimitType.from_allowance(allowance)
