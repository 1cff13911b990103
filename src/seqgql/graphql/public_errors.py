"""Errors raised to GraphQL (malformed requests) and which ones reach clients unmasked."""

from __future__ import annotations

from graphql import GraphQLError


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
