"""Request limits and error masking."""

from __future__ import annotations

import logging

import pytest

from seqgql.graphql import queries
from tests.helpers.graphql_client import GraphQLClient


async def test_query_deeper_than_the_limit_is_refused(gql: GraphQLClient) -> None:
    inner = "id"
    for _ in range(12):
        inner = f"clonedFrom {{ {inner} }}"
    errors = await gql.errors(f"{{ sequences {{ edges {{ node {{ {inner} }} }} }} }}")
    assert "exceeds maximum operation depth" in errors[0]["message"]


async def test_too_many_aliases_are_refused(gql: GraphQLClient) -> None:
    aliases = " ".join(f"a{i}: viewer {{ id }}" for i in range(31))
    errors = await gql.errors(f"{{ {aliases} }}")
    assert "aliases" in errors[0]["message"].lower()


async def test_too_many_tokens_are_refused(gql: GraphQLClient) -> None:
    fields = " ".join("id" for _ in range(2_100))
    errors = await gql.errors(f"{{ viewer {{ {fields} }} }}")
    assert "token" in errors[0]["message"].lower()


async def test_a_page_larger_than_100_names_the_argument(gql: GraphQLClient) -> None:
    errors = await gql.errors("{ contacts(first: 101) { totalCount } }")
    assert errors[0]["extensions"]["argument"] == "first"
    assert "100" in errors[0]["message"]


async def test_unexpected_errors_are_masked_and_logged(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: object) -> list[object]:
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(queries, "group_list", broken)  # what the resolver calls
    with caplog.at_level(logging.ERROR):
        errors = await gql.errors("{ groups { totalCount } }")
    assert errors[0]["message"] == "Internal server error."
    assert "secret" not in str(errors)
    assert "secret database detail" in caplog.text


async def test_introspection_can_be_switched_off() -> None:
    from seqgql.graphql.schema import build_schema

    closed = build_schema(introspection=False)
    result = await closed.execute("{ __schema { types { name } } }")
    assert result.errors
    opened = await build_schema().execute("{ __schema { queryType { name } } }")
    assert opened.data == {"__schema": {"queryType": {"name": "Query"}}}
