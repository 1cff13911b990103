"""GraphQL over HTTP as its specification writes it: the answer's media type, its status
code, and a code on every error.

- ``Accept: application/graphql-response+json`` gets that media type. A request the
  server could not start executing (a document that does not parse or validate, variables
  that do not fit) answers 400 with no ``data``; anything executed answers 200.
- ``application/json`` (also for ``*/*`` or no Accept, as older clients expect) answers
  200 with the errors, ``data`` null.
- Every error has ``extensions.code`` (``public_errors.add_codes``, over websockets too).
- What goes wrong before GraphQL (no query, a method GraphQL does not take, a mutation or
  a subscription where it cannot run) is a JSON answer too, never plain text.
"""

from __future__ import annotations

from collections.abc import Mapping

from cross_web import HTTPException
from starlette.responses import JSONResponse
from starlette.types import Scope
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class Refusal(HTTPException):
    """A request GraphQL will not run, answered as JSON with a code (and headers)."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(status, message)
        self.code = code
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})

    @classmethod
    def of(cls, exc: HTTPException) -> Refusal:
        """Strawberry's own refusal, with a code (and the methods there are, for a 405)."""
        if exc.status_code == 405:
            return cls(405, exc.reason, "METHOD_NOT_ALLOWED", {"Allow": "GET, POST"})
        return cls(exc.status_code, exc.reason, "BAD_REQUEST")


def refused_operation(operation: OperationType, method: str) -> Refusal:
    """A mutation over GET (405, ``Allow: POST``) or a subscription over plain HTTP."""
    if operation is OperationType.SUBSCRIPTION:
        return Refusal(
            400,
            "subscriptions are served over websockets (graphql-transport-ws) and as "
            "Server-Sent Events (POST with Accept: text/event-stream)",
            "BAD_REQUEST",
        )
    return Refusal(
        405,
        f"{operation.value}s are not allowed over {method}; use POST",
        "METHOD_NOT_ALLOWED",
        {"Allow": "POST"},
    )


def request_header(scope: Scope, name: bytes) -> str | None:
    """The request's first ``name`` header (lower case, as ASGI gives them), as
    Starlette's ``Headers.get`` reads it, without making them (nor a KeyError when there
    is none)."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def negotiate(accept: str | None) -> str:
    """The media type to answer in: the GraphQL response type when the client lists it
    (before plain JSON, or alone), else JSON."""
    for part in (accept or "").split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return JSON


def is_request_error(result: ExecutionResult) -> bool:
    """Whether execution never started: parse, validation or variable errors (no data,
    no error with a path)."""
    return (
        result.data is None
        and bool(result.errors)
        and all(not error.path for error in result.errors or ())
    )


def error_response(
    status: int,
    message: str,
    code: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
    media_type: str = JSON,
    extensions: Mapping[str, object] | None = None,
) -> JSONResponse:
    """A request-level error, as GraphQL errors are written (no data): a message, a code
    and, where one field is to blame, its path (and what else ``extensions`` tells)."""
    written: dict[str, object] = {"code": code}
    written.update((k, v) for k, v in (extensions or {}).items() if k != "code")
    if field is not None:
        written["field"] = field
    return JSONResponse(
        {"errors": [{"message": message, "extensions": written}]},
        status_code=status,
        media_type=media_type,
        headers=dict(headers or {}),
    )
