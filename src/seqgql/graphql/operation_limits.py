"""What a websocket operation is measured against before anything else is done with it,
whichever protocol brought it: the document's length, NUL characters in its variables,
then its tokens (the parser stops at the limit)."""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, GraphQLError

from seqgql.domain.validation import nul_in, nul_message
from seqgql.graphql.feeds import MAX_DOCUMENT_CHARS, FeedHub, TooManyTokens
from seqgql.graphql.persisted import PersistedQueries, PersistedQueryError


class Refused(GraphQLError):
    """An operation refused before it runs; ``extensions.code`` says why."""


def check_operation(
    feeds: FeedHub,
    query: str,
    variables: dict[str, Any] | None,
    persisted: PersistedQueries | None = None,
) -> DocumentNode | GraphQLError:
    """The parsed document; ``Refused`` (too long, NUL in a variable, not in the
    allow-list of persisted queries, too many tokens); or the document's syntax error."""
    if persisted is not None and persisted.only:
        try:
            persisted.resolve(query, None)
        except PersistedQueryError as error:
            return Refused(error.message, extensions=error.extensions)
    if len(query) > MAX_DOCUMENT_CHARS:
        return Refused(
            f"the document is over {MAX_DOCUMENT_CHARS:,} characters",
            extensions={"code": "DOCUMENT_TOO_LARGE"},
        )
    if (where := nul_in({"variables": variables or {}})) is not None:
        return Refused(nul_message(where), extensions={"code": "INVALID_TEXT", "field": where})
    document = feeds.parse(query)
    if isinstance(document, TooManyTokens):
        return Refused(document.message, extensions=document.extensions)
    return document
