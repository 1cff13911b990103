"""What an HTTP request to /graphql passes before GraphQL runs: its body (size, time to
arrive, media type, a JSON object), then its bearer token.

Every refusal is a JSON answer with an error code, never a traceback: 413 for a body over
``MAX_BODY_BYTES``, 408 for one that does not arrive within ``BODY_TIMEOUT_SECONDS``, 415
for a body that is not ``application/json`` (what a cross-site form can send), 400 for
one that is not a JSON object, 401 without a valid token. GraphiQL itself (a GET without
a query) is served to anyone; it asks for a token."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from dataclasses import dataclass

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seqgql.clock import Clock
from seqgql.domain.validation import nul_in, nul_message
from seqgql.graphql.over_http import error_response
from seqgql.graphql.public_errors import UNAVAILABLE
from seqgql.graphql.rate_limiting import RateLimited, rate_limit_headers
from seqgql.graphql.request_scope import ACTOR_SCOPE_KEY, BODY_SCOPE_KEY
from seqgql.graphql.view import bearer_token
from seqgql.persistence.database import Database, first_line, is_unavailable
from seqgql.services.actor import Actor
from seqgql.services.auth import TokenCache
from seqgql.services.rate_limits import RateLimiter

log = logging.getLogger("seqgql")


@dataclass(frozen=True, slots=True)
class BodyLimits:
    max_bytes: int = 2_000_000
    timeout_seconds: float = 10.0


class Refused(Exception):
    """A request answered before it runs (its ``response``: JSON with a code)."""

    def __init__(self, response: Response) -> None:
        self.response = response


class AuthenticatedGraphQL:
    """The /graphql endpoint's gate (see the module); websockets go straight to the view,
    which authenticates them in ``connection_init``."""

    def __init__(self, view: ASGIApp, tokens: TokenCache, limits: BodyLimits) -> None:
        self.view = view
        self.tokens = tokens
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.view(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            body = await self._body(request, receive)
            await self._authenticate(request)
        except Refused as refused:
            await refused.response(scope, receive, send)
            return
        if body is None:
            await self.view(scope, receive, send)
            return
        # media types are case-insensitive; what follows reads the lower-case form
        scope["headers"] = [
            (name, b"application/json" if name == b"content-type" else value)
            for name, value in scope["headers"]
        ]
        await self.view(scope, _replay(body, receive), send)

    async def _body(self, request: Request, receive: Receive) -> bytes | None:
        """The POST body, read and checked; None for other methods."""
        if request.method != "POST":
            return None
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise Refused(
                error_response(
                    415, "send the request body as application/json", "UNSUPPORTED_MEDIA"
                )
            )
        body = await read_body(request, receive, self.limits)
        request.scope.pop(BODY_SCOPE_KEY, None)
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise Refused(
                error_response(400, "the request body is not valid JSON (UTF-8)", "BAD_REQUEST")
            ) from None
        if not isinstance(parsed, dict):
            raise Refused(
                error_response(
                    400,
                    'the request body must be a JSON object, e.g. {"query": "{ viewer { id } }"}',
                    "BAD_REQUEST",
                )
            )
        # JSON text holds a NUL only as an escape (\u0000): without one, none to find
        if b"\\u0000" in body and (where := nul_in(parsed)) is not None:
            raise Refused(nul_refused(where))
        request.scope[BODY_SCOPE_KEY] = parsed
        return body

    async def _authenticate(self, request: Request) -> None:
        if request.method == "GET" and not ({"query", "extensions"} & set(request.query_params)):
            return  # GraphiQL itself (it asks for a token)
        request.scope[ACTOR_SCOPE_KEY] = await authenticated_actor(self.tokens, request)


async def authenticated_actor(
    tokens: TokenCache, request: Request, *, basic: bool = False
) -> Actor:
    """Who the request's bearer token acts for (its query string checked for NUL
    characters first); raises ``Refused``: 401 without a valid token, 503 when the
    database cannot tell. With ``basic``, HTTP Basic credentials whose password is the
    token count too (what a webhook URL ``https://user:token@host/...`` sends)."""
    query_string = request.scope.get("query_string")
    if query_string and (where := nul_in(dict(request.query_params))) is not None:
        raise Refused(nul_refused(where))
    authorization = request.headers.get("authorization")
    token = bearer_token(authorization) or (basic_password(authorization) if basic else None)
    if token is None:
        raise Refused(
            error_response(
                401,
                "an API token is required (Authorization: Bearer <token>)",
                "UNAUTHENTICATED",
                headers={"WWW-Authenticate": "Bearer"},
            )
        )
    try:
        actor = await tokens.authenticate(token)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        log.warning("the database is unavailable: %s", first_line(exc))
        raise Refused(
            error_response(503, UNAVAILABLE, "SERVICE_UNAVAILABLE", headers={"Retry-After": "1"})
        ) from None
    if actor is None:
        raise Refused(
            error_response(
                401,
                "the API token is not valid",
                "UNAUTHENTICATED",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        )
    return actor


def basic_password(value: str | None) -> str | None:
    """The password of HTTP Basic credentials, if that is what ``value`` holds."""
    scheme, _, encoded = (value or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    password = decoded.partition(":")[2].strip()
    return password or None


def nul_refused(where: str) -> Response:
    return error_response(400, nul_message(where), "INVALID_TEXT", field=where)


async def read_body(request: Request, receive: Receive, limits: BodyLimits) -> bytes:
    """The whole request body; raises ``Refused``: 413 past ``limits.max_bytes`` (before
    reading it when its declared length is over), 408 when it takes longer than
    ``limits.timeout_seconds`` to arrive."""
    limit = limits.max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused(_too_large(limit))
    try:
        async with asyncio.timeout(limits.timeout_seconds):
            return await _read(receive, limit)
    except TimeoutError:
        raise Refused(
            error_response(
                408,
                f"the request body did not arrive within {limits.timeout_seconds:g} s",
                "REQUEST_TIMEOUT",
            )
        ) from None


def _too_large(limit: int) -> Response:
    return error_response(413, f"the request body is over {limit:,} bytes", "PAYLOAD_TOO_LARGE")


async def _read(receive: Receive, limit: int) -> bytes:
    """The whole body, refused as soon as it grows past ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Refused(error_response(400, "the client went away", "BAD_REQUEST"))
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refused(_too_large(limit))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read, then whatever comes next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def charged(limiter: RateLimiter, actor: Actor) -> dict[str, str]:
    """Charge one request (at no cost) to the actor's token, as a GraphQL request is
    charged; the rate-limit headers of the answer. Raises ``Refused`` (429
    ``RATE_LIMITED``, ``Retry-After``) when its requests are spent."""
    allowance = await limiter.take(actor.token_id, 0)
    headers = rate_limit_headers(allowance)
    if not allowance.allowed:
        refusal = RateLimited(allowance, limiter.budget.window_seconds)
        raise Refused(
            error_response(
                429,
                refusal.message,
                "RATE_LIMITED",
                headers={**headers, "Retry-After": str(refusal.retry_after)},
                extensions=refusal.extensions,
            )
        )
    return headers


class WritingRoute:
    """The ASGI app of a route that takes a POST from a token that may write (a file, an
    email, a provider's events): the answer is ``answer``'s, or a refusal's. ``posted``
    checks the method, the token (with ``basic``, also as the password of HTTP Basic
    credentials: providers can put only those in a URL) and the rate limit."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        tokens: TokenCache,
        limits: BodyLimits,
        limiter: RateLimiter,
    ) -> None:
        self.db = db
        self.clock = clock
        self.tokens = tokens
        self.limits = limits
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self.answer(request, receive)
        except Refused as refused:
            response = refused.response
        await response(scope, receive, send)

    async def answer(self, request: Request, receive: Receive) -> Response:
        raise NotImplementedError

    async def posted(
        self, request: Request, what: str, *, basic: bool = False
    ) -> tuple[Actor, dict[str, str]]:
        """The writer who posted ``what`` and the rate-limit headers of the answer."""
        if request.method != "POST":
            raise Refused(
                error_response(405, what, "METHOD_NOT_ALLOWED", headers={"Allow": "POST"})
            )
        actor = await authenticated_actor(self.tokens, request, basic=basic)
        if not actor.can_mutate:
            raise Refused(error_response(403, "this API token may only read", "FORBIDDEN"))
        return actor, await charged(self.limiter, actor)
