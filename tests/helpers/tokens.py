"""API tokens managed through GraphQL: the documents, and the app's token cache."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from seqgql.services.auth import TokenCache
from tests.helpers.graphql_client import GraphQLClient, mutate

TOKEN = "id name prefix role createdAt lastUsedAt expiresAt revokedAt user { id email }"
CREATED = f"apiToken {{ {TOKEN} }} secret userErrors {{ field code message }}"
REVOKED = f"apiToken {{ {TOKEN} }} userErrors {{ field code message }}"
LIST = f"""query($first: Int, $after: String) {{
  apiTokens(first: $first, after: $after) {{
    totalCount edges {{ cursor node {{ {TOKEN} }} }} pageInfo {{ hasNextPage endCursor }}
  }}
}}"""


def token_cache(app: Starlette) -> TokenCache:
    """The app's token cache (what its /graphql gate authenticates with)."""
    for route in app.routes:
        tokens = getattr(getattr(route, "endpoint", None), "tokens", None)
        if isinstance(tokens, TokenCache):
            return tokens
    raise LookupError("the app has no token cache")


async def create_api_token(gql: GraphQLClient, **input: Any) -> dict[str, Any]:
    """The createApiToken payload for this input."""
    return await mutate(gql, "createApiToken", input, CREATED)


async def revoke_api_token(gql: GraphQLClient, token_id: str) -> dict[str, Any]:
    return await mutate(gql, "revokeApiToken", {"id": token_id}, REVOKED)


async def listed_tokens(gql: GraphQLClient) -> list[dict[str, Any]]:
    """Every token apiTokens lists (page by page)."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql.execute(LIST, {"first": 100, "after": after}))["apiTokens"]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]
