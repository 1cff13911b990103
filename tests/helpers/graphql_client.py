"""GraphQL over HTTP to the ASGI app, and calling one mutation with its input."""

from __future__ import annotations

from typing import Any

import httpx

# What a bulk action's payload answers.
BULK = """changedCount dryRun bulkOperationId
  skipped { reason count ids message }
  userErrors { field code message }"""


class GraphQLClient:
    """Speaks GraphQL over HTTP to the ASGI app, as a browser or integrator would."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.token = token

    async def post(self, query: str, variables: dict[str, Any] | None = None, *,
                   token: str | None = None) -> httpx.Response:  # fmt: skip
        headers = (
            {"authorization": f"Bearer {token or self.token}"} if (token or self.token) else {}
        )
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def execute(self, query: str, variables: dict[str, Any] | None = None, *,
                      token: str | None = None) -> dict[str, Any]:  # fmt: skip
        """The `data` of a successful request; fails the test on any GraphQL error."""
        response = await self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]  # type: ignore[no-any-return]

    async def errors(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body.get("errors"), body
        return body["errors"]  # type: ignore[no-any-return]


def mutation(name: str, fields: str = BULK) -> str:
    """The document calling mutation ``name`` with one ``input`` argument."""
    type_name = name[0].upper() + name[1:] + "Input"
    return f"mutation($input: {type_name}!) {{ {name}(input: $input) {{ {fields} }} }}"


async def mutate(
    gql: GraphQLClient, name: str, input: dict[str, Any], fields: str = BULK
) -> dict[str, Any]:
    """Call mutation ``name`` with one ``input`` argument; return its payload."""
    data = await gql.execute(mutation(name, fields), {"input": input})
    return data[name]  # type: ignore[no-any-return]
