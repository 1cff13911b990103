"""The legacy graphql-ws protocol, as Strawberry runs it, with what the
graphql-transport-ws handler (``ws``) does too: the limits every operation is measured
against first (``operation_limits``) and its charge to the token's rate limits
(``rate_limiting``), a refused one getting the protocol's "error" message with a code
(the connection stays usable); and a retryable close (1013) for a ``connection_init``
the database cannot answer."""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, GraphQLError
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage,
    ErrorMessage,
    StartMessage,
)

from seqgql.graphql.context import Context
from seqgql.graphql.operation_limits import Refused, check_operation
from seqgql.graphql.ws import FeedSource
from seqgql.graphql.ws_socket import retry_later_if_unavailable


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await retry_later_if_unavailable(self.websocket, super().handle_connection_init(message))

    async def handle_start(self, message: StartMessage) -> None:
        payload: Any = message.get("payload")
        query = payload.get("query") if isinstance(payload, dict) else None
        if self.connection_acknowledged and isinstance(query, str):
            variables = payload.get("variables")
            if not isinstance(variables, dict):
                variables = None
            view: FeedSource = self.view  # type: ignore[assignment]
            found = check_operation(view.feeds, query, variables, view.persisted)
            refusal: GraphQLError | None = found if isinstance(found, Refused) else None
            if isinstance(found, DocumentNode):
                name = payload.get("operationName")
                charge = await view.metering.charge(
                    self.context.actor, found, variables, name if isinstance(name, str) else None
                )
                refusal = charge.refusal
            if refusal is not None:
                error = ErrorMessage(type="error", id=message["id"], payload=refusal.formatted)
                await self.send_message(error)
                return
        await super().handle_start(message)
