"""The legacy graphql-ws protocol, as Strawberry runs it, with the limits every
websocket operation is measured against first (``operation_limits``): a refused one gets
the protocol's "error" message with a code, and the connection stays usable."""

from __future__ import annotations

from typing import Any

from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ErrorMessage, StartMessage

from seqgql.graphql.context import Context
from seqgql.graphql.operation_limits import Refused, check_operation


class LimitedGraphQLWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle_start(self, message: StartMessage) -> None:
        payload: Any = message.get("payload")
        query = payload.get("query") if isinstance(payload, dict) else None
        if self.connection_acknowledged and isinstance(query, str):
            variables = payload.get("variables")
            if not isinstance(variables, dict):
                variables = None
            feeds = self.view.feeds  # type: ignore[attr-defined]
            found = check_operation(feeds, query, variables)
            if isinstance(found, Refused):
                error = ErrorMessage(type="error", id=message["id"], payload=found.formatted)
                await self.send_message(error)
                return
        await super().handle_start(message)
