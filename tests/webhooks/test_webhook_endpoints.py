"""Webhook endpoints managed by admins over GraphQL: created with their secret shown once
(never listed), changed, disabled and enabled; refused with a code naming the field for
bad URLs (not https, private addresses unless allowed), no event types, unknown, foreign
or forged sequence ids, changing nothing; everyone but admins refused."""

from __future__ import annotations

from typing import Any

import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from tests.helpers.factories import gid, make_sequence
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.webhooks import (
    ENDPOINTS,
    STATUS_CHANGED,
    WITH_SECRET,
    WITHOUT_SECRET,
    create_endpoint,
)
from tests.helpers.workspace import Workspace, make_workspace

LOCAL = "http://127.0.0.1:9/hooks"


async def listed(gql: GraphQLClient) -> list[dict[str, Any]]:
    data = await gql.execute(ENDPOINTS)
    return [e["node"] for e in data["webhookEndpoints"]["edges"]]


async def test_an_admin_creates_an_endpoint_and_sees_its_secret_once(
    local_gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    sequence = await make_sequence(db, clock, workspace.actor)
    created = await mutate(
        local_gql,
        "createWebhookEndpoint",
        {"url": LOCAL, "eventTypes": [STATUS_CHANGED], "sequenceIds": [gid("Sequence", sequence)]},
        WITH_SECRET,
    )
    assert created["userErrors"] == []
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 30
    endpoint = created["webhookEndpoint"]
    assert endpoint["url"] == LOCAL and endpoint["enabled"] is True
    assert endpoint["eventTypes"] == [STATUS_CHANGED]
    assert endpoint["sequenceIds"] == [gid("Sequence", sequence)]
    assert await listed(local_gql) == [endpoint]
    # a node, for its admins
    found = await local_gql.execute(
        "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { url } } }",
        {"id": endpoint["id"]},
    )
    assert found["node"] == {"url": LOCAL}


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
async def test_only_admins_manage_or_see_endpoints(
    local_gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace, role: Role
) -> None:
    endpoint_id, _ = await create_endpoint(local_gql, LOCAL)
    other = await make_workspace(db, clock, role=role)
    # a member of the same workspace: the admin's token user changed to another role
    from seqgql.services.auth import issue_token

    issued = await issue_token(
        db, clock, email=f"{role.value.lower()}@{workspace.name}.test",
        workspace=workspace.name, role=role,
    )  # fmt: skip
    for token in (issued.token, other.token):
        refused = await mutate(
            GraphQLClient(local_gql.http, token),
            "createWebhookEndpoint",
            {"url": LOCAL, "eventTypes": [STATUS_CHANGED]},
            WITH_SECRET,
        )
        assert refused["secret"] is None and refused["webhookEndpoint"] is None
        assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
        errors = (await local_gql.post(ENDPOINTS, token=token)).json()["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        for name in ("disableWebhookEndpoint", "rotateWebhookSecret"):
            fields = WITH_SECRET if name == "rotateWebhookSecret" else WITHOUT_SECRET
            answer = await mutate(
                GraphQLClient(local_gql.http, token), name, {"id": endpoint_id}, fields
            )
            assert [e["code"] for e in answer["userErrors"]] == ["FORBIDDEN"]
        node = await local_gql.execute(
            "query($id: ID!) { node(id: $id) { id } }", {"id": endpoint_id}, token=token
        )
        assert node == {"node": None}
    (endpoint,) = await listed(local_gql)
    assert endpoint["enabled"] is True


BAD_URLS = [
    ("not a url", "INVALID_URL"),
    ("ftp://example.com/hooks", "INVALID_URL"),
    ("http://example.com/hooks", "INVALID_URL"),
    ("https://user:secret@example.com/hooks", "INVALID_URL"),
    ("https://example.com/hooks#part", "INVALID_URL"),
    ("https://example.com:99999/hooks", "INVALID_URL"),
    ("https:///hooks", "INVALID_URL"),
    ("https://" + "a" * 2_000 + ".com/", "INVALID_URL"),
    ("https://127.0.0.1/hooks", "PRIVATE_ADDRESS"),
    ("https://10.0.0.8/hooks", "PRIVATE_ADDRESS"),
    ("https://192.168.1.1:8443/hooks", "PRIVATE_ADDRESS"),
    ("https://169.254.169.254/latest/meta-data", "PRIVATE_ADDRESS"),
    ("https://[::1]/hooks", "PRIVATE_ADDRESS"),
    ("https://[::ffff:127.0.0.1]/hooks", "PRIVATE_ADDRESS"),
    ("https://224.0.0.1/hooks", "PRIVATE_ADDRESS"),
    ("https://0.0.0.0/hooks", "PRIVATE_ADDRESS"),
    ("https://localhost/hooks", "PRIVATE_ADDRESS"),
    ("https://exa\tmple.com/hooks", "INVALID_URL"),
    ("https://example.com/ho oks", "INVALID_URL"),
    ("", "INVALID_URL"),
]


async def test_urls_webhooks_may_not_go_to_are_refused_naming_the_url(
    gql: GraphQLClient,
) -> None:
    """The default settings: https only, public addresses only (checked by resolving).
    (A NUL anywhere is refused before, at the gate: INVALID_TEXT.)"""
    for url, code in BAD_URLS:
        refused = await mutate(
            gql, "createWebhookEndpoint", {"url": url, "eventTypes": [STATUS_CHANGED]}, WITH_SECRET
        )
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
            (["input", "url"], code)
        ], url
        assert refused["secret"] is None
    assert await listed(gql) == []


async def test_local_urls_are_refused_unless_the_setting_allows_them(
    gql: GraphQLClient, local_gql: GraphQLClient
) -> None:
    input = {"url": LOCAL, "eventTypes": [STATUS_CHANGED]}
    refused = await mutate(gql, "createWebhookEndpoint", input, WITH_SECRET)
    assert [e["code"] for e in refused["userErrors"]] == ["INVALID_URL"]  # http://
    https = {**input, "url": "https://127.0.0.1:9/hooks"}
    refused = await mutate(gql, "createWebhookEndpoint", https, WITH_SECRET)
    assert [e["code"] for e in refused["userErrors"]] == ["PRIVATE_ADDRESS"]
    allowed = await mutate(local_gql, "createWebhookEndpoint", https, WITH_SECRET)
    assert allowed["userErrors"] == []


async def test_bad_event_types_and_sequences_are_refused_and_nothing_is_made(
    local_gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    stranger = await make_workspace(db, clock)
    foreign = await make_sequence(db, clock, stranger.actor)
    mine = await make_sequence(db, clock, workspace.actor)
    cases: list[tuple[dict[str, Any], list[tuple[list[str], str]]]] = [
        ({"eventTypes": []}, [(["input", "eventTypes"], "REQUIRED")]),
        ({"sequenceIds": []}, [(["input", "sequenceIds"], "REQUIRED")]),
        (
            {"sequenceIds": [gid("Sequence", mine), gid("Sequence", foreign)]},
            [(["input", "sequenceIds", "1"], "NOT_FOUND")],
        ),
        (
            {"sequenceIds": [gid("Sequence", 987654321)]},
            [(["input", "sequenceIds", "0"], "NOT_FOUND")],
        ),
        ({"sequenceIds": ["bad"]}, [(["input", "sequenceIds", "0"], "INVALID_ID")]),
        ({"sequenceIds": [gid("Contact", 1)]}, [(["input", "sequenceIds", "0"], "INVALID_ID")]),
        (
            {"url": "http://", "eventTypes": []},
            [(["input", "url"], "INVALID_URL"), (["input", "eventTypes"], "REQUIRED")],
        ),
    ]
    for change, expected in cases:
        input = {"url": LOCAL, "eventTypes": [STATUS_CHANGED], **change}
        refused = await mutate(local_gql, "createWebhookEndpoint", input, WITH_SECRET)
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == expected, change
    # an unknown event type is not valid GraphQL
    bad = await local_gql.post(
        'mutation { createWebhookEndpoint(input: {url: "http://x", eventTypes: [NOPE]}) '
        "{ secret } }"
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert await listed(local_gql) == []


async def test_an_admin_changes_disables_and_enables_an_endpoint(
    local_gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    endpoint_id, _ = await create_endpoint(local_gql, LOCAL)
    sequence = gid("Sequence", await make_sequence(db, clock, workspace.actor))
    changed = await mutate(
        local_gql,
        "updateWebhookEndpoint",
        {"id": endpoint_id, "url": "http://127.0.0.1:10/other", "sequenceIds": [sequence]},
        WITHOUT_SECRET,
    )
    assert changed["userErrors"] == []
    assert changed["webhookEndpoint"]["url"] == "http://127.0.0.1:10/other"
    assert changed["webhookEndpoint"]["sequenceIds"] == [sequence]
    # left out: unchanged; null: every sequence
    kept = await mutate(local_gql, "updateWebhookEndpoint", {"id": endpoint_id}, WITHOUT_SECRET)
    assert kept["webhookEndpoint"]["sequenceIds"] == [sequence]
    every = await mutate(
        local_gql, "updateWebhookEndpoint", {"id": endpoint_id, "sequenceIds": None}, WITHOUT_SECRET
    )
    assert every["webhookEndpoint"]["sequenceIds"] is None
    refused = await mutate(
        local_gql,
        "updateWebhookEndpoint",
        {"id": endpoint_id, "url": "ftp://x", "eventTypes": []},
        WITHOUT_SECRET,
    )
    assert [e["code"] for e in refused["userErrors"]] == ["INVALID_URL", "REQUIRED"]

    disabled = await mutate(
        local_gql, "disableWebhookEndpoint", {"id": endpoint_id}, WITHOUT_SECRET
    )
    assert disabled["webhookEndpoint"]["enabled"] is False
    assert disabled["webhookEndpoint"]["disabledReason"] == "MANUAL"
    assert disabled["webhookEndpoint"]["disabledAt"] is not None
    enabled = await mutate(local_gql, "enableWebhookEndpoint", {"id": endpoint_id}, WITHOUT_SECRET)
    assert enabled["webhookEndpoint"]["enabled"] is True
    assert enabled["webhookEndpoint"]["disabledReason"] is None
    (endpoint,) = await listed(local_gql)
    assert endpoint["url"] == "http://127.0.0.1:10/other"


async def test_unknown_forged_and_foreign_endpoint_ids_answer_alike(
    local_gql: GraphQLClient, db: Database, clock: FrozenClock
) -> None:
    stranger = await make_workspace(db, clock)
    theirs, _ = await create_endpoint(GraphQLClient(local_gql.http, stranger.token), LOCAL)
    for name in ("updateWebhookEndpoint", "disableWebhookEndpoint", "enableWebhookEndpoint"):
        for value, code in [
            (theirs, "NOT_FOUND"),
            (gid("WebhookEndpoint", 987654321), "NOT_FOUND"),
            ("bad", "INVALID_ID"),
            (gid("Sequence", 1), "INVALID_ID"),
        ]:
            refused = await mutate(local_gql, name, {"id": value}, WITHOUT_SECRET)
            assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
                (["input", "id"], code)
            ], (name, value)
    rotated = await mutate(local_gql, "rotateWebhookSecret", {"id": theirs}, WITH_SECRET)
    assert rotated["secret"] is None
    assert [e["code"] for e in rotated["userErrors"]] == ["NOT_FOUND"]
    errors = await local_gql.errors(
        "query($id: ID!) { webhookDeliveries(endpointId: $id) { totalCount } }", {"id": theirs}
    )
    assert errors[0]["extensions"] == {"code": "NOT_FOUND", "argument": "endpointId"}


async def test_hostile_values_are_refused_without_an_internal_error(
    local_gql: GraphQLClient,
) -> None:
    endpoint_id, _ = await create_endpoint(local_gql, LOCAL)
    for variables in (
        {"input": {"url": 42, "eventTypes": [STATUS_CHANGED]}},
        {"input": {"url": LOCAL, "eventTypes": "ENROLLMENT_STATUS_CHANGED!"}},
        {"input": {"url": LOCAL, "eventTypes": [STATUS_CHANGED], "sequenceIds": [None]}},
        {"input": {"url": LOCAL * 10_000, "eventTypes": [STATUS_CHANGED]}},
    ):
        answer = await local_gql.post(
            "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: "
            "$input) { secret userErrors { code } } }",
            variables,
        )
        body = answer.json()
        codes = [e["extensions"]["code"] for e in body.get("errors", [])] or [
            e["code"] for e in body["data"]["createWebhookEndpoint"]["userErrors"]
        ]
        assert codes and "INTERNAL_SERVER_ERROR" not in codes, body
    for cursor in ("", "ZXY6MTox=", "ZXY6OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ==", "x" * 10_000):
        refused = await mutate(
            local_gql,
            "replayWebhookEvents",
            {"endpointId": endpoint_id, "sinceCursor": cursor},
            "eventCount userErrors { field code }",
        )
        assert refused["eventCount"] == 0 and refused["userErrors"], cursor
    assert len(await listed(local_gql)) == 1
