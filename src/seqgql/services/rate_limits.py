"""Rate limits: per API token, a budget of requests and one of query cost (points) for each
fixed window of ``window_seconds`` (windows aligned to the clock, so every replica agrees
on when one ends).

``RateLimiter.take`` spends one request and a query's cost when both fit in what is left
of the current window, else nothing (a refused request spends nothing). The counts live in
this process (``BROADCAST_URL`` memory:// or PostgreSQL) or in Redis, shared by every
replica (``BROADCAST_URL`` redis://): one Lua script checks and counts atomically. Should
Redis not answer, requests are counted in this process meanwhile (logged once) and Redis
is tried again a few seconds later: rate limiting never fails a request."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis import asyncio as aioredis

from seqgql.clock import Clock

log = logging.getLogger("seqgql.rate_limits")
# How long, after Redis failed to answer, the counts stay in this process.
REDIS_RETRY_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.5
KEY_PREFIX = "seqgql:rate:"

# KEYS[1]: the token's counts in this window (a hash: requests, cost).
# ARGV: cost, request limit, cost limit (0: none), seconds the key outlives the window.
# Returns {1 if taken else 0, requests used, cost used} (after taking, when taken).
_TAKE = """
local used = redis.call('HMGET', KEYS[1], 'requests', 'cost')
local requests = tonumber(used[1]) or 0
local cost = tonumber(used[2]) or 0
local want = tonumber(ARGV[1])
local max_requests = tonumber(ARGV[2])
local max_cost = tonumber(ARGV[3])
if (max_requests > 0 and requests + 1 > max_requests)
    or (max_cost > 0 and cost + want > max_cost) then
  return {0, requests, cost}
end
requests = redis.call('HINCRBY', KEYS[1], 'requests', 1)
cost = redis.call('HINCRBY', KEYS[1], 'cost', want)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {1, requests, cost}
"""


@dataclass(frozen=True, slots=True)
class Budget:
    """What one token may spend per window; 0 switches a budget off."""

    requests: int
    cost: int
    window_seconds: int

    @property
    def enabled(self) -> bool:
        return self.window_seconds > 0 and (self.requests > 0 or self.cost > 0)


@dataclass(frozen=True, slots=True)
class Allowance:
    """The answer to one request: taken or not, and where the token's window stands."""

    allowed: bool
    cost: int  # what this request costs (spent when allowed)
    request_limit: int | None  # None: no request budget
    requests_used: int
    cost_limit: int | None  # None: no cost budget
    cost_used: int
    reset_at: datetime  # when the window ends (and the budgets are whole again)
    now: datetime

    @classmethod
    def unlimited(cls, cost: int, now: datetime) -> Allowance:
        """Where no budget applies: taken, nothing counted."""
        return cls(True, cost, None, 0, None, 0, now, now)

    @property
    def requests_remaining(self) -> int | None:
        if self.request_limit is None:
            return None
        return max(self.request_limit - self.requests_used, 0)

    @property
    def cost_remaining(self) -> int | None:
        if self.cost_limit is None:
            return None
        return max(self.cost_limit - self.cost_used, 0)

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(math.ceil((self.reset_at - self.now).total_seconds()), 1)


class _LocalCounts:
    """The counts of this process: the current window's, per token."""

    def __init__(self) -> None:
        self._counts: dict[str, list[int]] = {}
        self._window = -1

    def take(self, key: str, window: int, cost: int, budget: Budget) -> tuple[bool, int, int]:
        if window != self._window:  # a new window: the old counts are of no use
            self._counts.clear()
            self._window = window
        used = self._counts.setdefault(key, [0, 0])
        fits = (budget.requests <= 0 or used[0] + 1 <= budget.requests) and (
            budget.cost <= 0 or used[1] + cost <= budget.cost
        )
        if fits:
            used[0] += 1
            used[1] += cost
        return fits, used[0], used[1]


class RateLimiter:
    """Spends requests and cost of a token's budget (see the module)."""

    def __init__(self, budget: Budget, clock: Clock, redis_url: str | None = None) -> None:
        self.budget = budget
        self.clock = clock
        self._local = _LocalCounts()
        self._redis: Any = None
        self._script: Any = None
        self._redis_down_until = 0.0  # time.monotonic() before which Redis is not asked
        if redis_url is not None and budget.enabled:
            self._redis = aioredis.Redis.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self._script = self._redis.register_script(_TAKE)

    @property
    def shared(self) -> bool:
        """Whether the counts are kept in Redis (shared by the replicas)."""
        return self._redis is not None

    async def take(self, token_id: int | None, cost: int) -> Allowance:
        """Spend one request and ``cost`` of token ``token_id``'s budget, if both fit
        (without a token, or without budgets, nothing is counted)."""
        now = self.clock.now()
        budget = self.budget
        if not budget.enabled or token_id is None:
            return Allowance.unlimited(cost, now)
        seconds = budget.window_seconds
        window = math.floor(now.timestamp()) // seconds
        reset_at = datetime.fromtimestamp((window + 1) * seconds, UTC)
        taken = await self._take_shared(f"{KEY_PREFIX}{token_id}:{window}", cost)
        if taken is None:
            taken = self._local.take(str(token_id), window, cost, budget)
        allowed, requests_used, cost_used = taken
        return Allowance(
            allowed=allowed,
            cost=cost,
            request_limit=budget.requests or None,
            requests_used=requests_used,
            cost_limit=budget.cost or None,
            cost_used=cost_used,
            reset_at=reset_at,
            now=now,
        )

    async def _take_shared(self, key: str, cost: int) -> tuple[bool, int, int] | None:
        """Redis's answer; None when counting in this process (no Redis, or it is down)."""
        if self._script is None or time.monotonic() < self._redis_down_until:
            return None
        budget = self.budget
        try:
            answer = await self._script(
                keys=[key],
                args=[cost, budget.requests, budget.cost, budget.window_seconds + 60],
            )
        except (aioredis.RedisError, OSError) as exc:
            if self._redis_down_until == 0.0:
                log.warning(
                    "rate limits are counted per process: Redis does not answer (%s)",
                    type(exc).__name__,
                )
            self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            return None
        if self._redis_down_until:
            log.info("rate limits are shared through Redis again")
            self._redis_down_until = 0.0
        return bool(answer[0]), int(answer[1]), int(answer[2])

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def redis_url_of(broadcast_url: str) -> str | None:
    """The Redis to share counts through: the broadcast's, when it is Redis."""
    scheme = broadcast_url.partition("://")[0].lower()
    return broadcast_url if scheme in ("redis", "rediss") else None
