"""Errors raised to GraphQL (malformed requests) and which ones reach clients unmasked."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

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


class ReportingSchema(strawberry.Schema):
    """Logs what the server got wrong, in full; not what a client got wrong (a syntax or
    validation error, a ``PublicError``: answered, not logged), and a database out of
    reach in one line, not a traceback per request."""

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
