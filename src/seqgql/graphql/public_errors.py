"""Errors raised to GraphQL (malformed requests) and which ones reach clients unmasked."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from seqgql.persistence.database import first_line, is_unavailable

log = logging.getLogger("seqgql.graphql")
UNAVAILABLE = "The database cannot be reached for a moment; retry the request."


class PublicError(Exception):
    """A request error whose message is safe and useful to show to the client."""

    def __init__(self, message: str, *, code: str = "BAD_REQUEST", argument: str | None = None):
        super().__init__(message)
        self.extensions: dict[str, str] = {"code": code}
        if argument is not None:
            self.extensions["argument"] = argument


def should_mask(error: GraphQLError) -> bool:
    """Mask unexpected exceptions; keep validation errors and PublicErrors."""
    original = error.original_error
    return original is not None and not isinstance(original, (GraphQLError, PublicError))


class MaskUnexpected(MaskErrors):
    """Unexpected errors reach the client as "Internal server error."; the database being
    out of reach as a retryable ``SERVICE_UNAVAILABLE``."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if is_unavailable(error.original_error):
            return GraphQLError(
                UNAVAILABLE,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "SERVICE_UNAVAILABLE"},
            )
        return super().anonymise_error(error)


def add_codes(result: ExecutionResult) -> None:
    """Give every error of ``result`` an ``extensions.code`` (in place):
    ``GRAPHQL_PARSE_FAILED``, ``TOO_MANY_TOKENS``, ``GRAPHQL_VALIDATION_FAILED``,
    ``BAD_USER_INPUT`` (variables that do not fit their types), or
    ``INTERNAL_SERVER_ERROR``; an error that has a code keeps it."""
    for error in result.errors or ():
        if (error.extensions or {}).get("code"):
            continue
        error.extensions = {**(error.extensions or {}), "code": _code_of(error, result)}


# graphql-core's words for variable values that do not fit their types
_BAD_VARIABLE = re.compile(
    r"Variable '\$\w+' (got invalid value|has invalid value|of required type)"
)


def _code_of(error: GraphQLError, result: ExecutionResult) -> str:
    if isinstance(error, GraphQLSyntaxError):
        return "TOO_MANY_TOKENS" if "tokens" in error.message else "GRAPHQL_PARSE_FAILED"
    if not error.path and _BAD_VARIABLE.match(error.message):
        return "BAD_USER_INPUT"
    if isinstance(result, PreExecutionError) or (not error.path and result.data is None):
        return "GRAPHQL_VALIDATION_FAILED"
    return "INTERNAL_SERVER_ERROR"


async def _coded(results: AsyncGenerator[Any, None]) -> AsyncIterator[Any]:
    async with aclosing(results):
        async for result in results:
            if isinstance(result, ExecutionResult):
                add_codes(result)
            yield result


class ReportingSchema(strawberry.Schema):
    """Logs what the server got wrong, in full; not what a client got wrong (a syntax or
    validation error, a ``PublicError``: answered, not logged), and a database out of
    reach in one line, not a traceback per request. Every error it answers has a code
    (``add_codes``), over HTTP and websockets alike."""

    # set by build_schema: its own validation rules, and whether the fast path is on
    # (the view then answers the page's documents by plan, ``page_plan``)
    validation_rules: tuple[Any, ...] = ()
    fast_path: bool = False

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute(*args, **kwargs)
        add_codes(result)
        return result

    async def subscribe(self, *args: Any, **kwargs: Any) -> Any:
        results = await super().subscribe(*args, **kwargs)
        if isinstance(results, ExecutionResult):
            add_codes(results)
            return results
        return _coded(results)

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        return _coded(await super().stream(*args, **kwargs))

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        unexpected = []
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, (GraphQLError, PublicError)):
                continue
            if is_unavailable(original):
                log.warning("the database is unavailable: %s", first_line(original))
                continue
            unexpected.append(error)
        if unexpected:
            super().process_errors(unexpected, execution_context)
