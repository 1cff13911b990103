"""`schema.graphql` is the schema the server serves, and it keeps the public names."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    print_ast,
)

from seqgql.domain.errors import ErrorCode
from seqgql.graphql.schema import build_schema as build_server_schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def _normalized(sdl: str) -> str:
    return "\n".join(line.rstrip() for line in sdl.strip().splitlines())


@pytest.fixture(scope="module")
def sdl() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text())


def test_committed_schema_matches_the_server() -> None:
    assert SCHEMA_FILE.exists(), (
        "schema.graphql is missing: run `seqgql export-schema > schema.graphql`"
    )
    served = _normalized(build_server_schema().as_str())
    committed = _normalized(SCHEMA_FILE.read_text())
    assert served == committed, (
        "schema.graphql is out of date with the server's schema; "
        "run `seqgql export-schema > schema.graphql` and commit it"
    )


def _object(schema: GraphQLSchema, name: str) -> GraphQLObjectType:
    t = schema.get_type(name)
    assert isinstance(t, GraphQLObjectType), f"type {name} is missing"
    return t


def _input(schema: GraphQLSchema, name: str) -> GraphQLInputObjectType:
    t = schema.get_type(name)
    assert isinstance(t, GraphQLInputObjectType), f"input {name} is missing"
    return t


def _default(argument: GraphQLArgument | GraphQLInputField) -> str | None:
    """The default as written in the SDL."""
    node = argument.ast_node
    return print_ast(node.default_value) if node and node.default_value else None


def _has_fields(fields: dict[str, object], expected: dict[str, str], where: str) -> None:
    for name, type_str in expected.items():
        assert name in fields, f"{where}.{name} is missing"
        assert str(fields[name].type) == type_str, (  # type: ignore[attr-defined]
            f"{where}.{name} is {fields[name].type}, the contract says {type_str}"  # type: ignore[attr-defined]
        )


def test_query_fields(sdl: GraphQLSchema) -> None:
    query = sdl.query_type
    assert query is not None
    _has_fields(
        query.fields,
        {
            "node": "Node",
            "viewer": "User!",
            "sequences": "SequenceConnection!",
            "sequence": "Sequence",
            "enrollments": "EnrollmentConnection!",
            "contacts": "ContactConnection!",
            "groups": "GroupConnection!",
            "users": "UserConnection!",
        },
        "Query",
    )
    enrollments = query.fields["enrollments"].args
    assert set(enrollments) >= {"sequenceId", "filter", "first", "after", "orderBy"}
    assert str(enrollments["sequenceId"].type) == "ID!"
    # null: 50 forward unless `last` (or `before` alone) asks for the end of the list
    assert _default(enrollments["first"]) == "null"
    assert str(query.fields["node"].args["id"].type) == "ID!"
    assert set(query.fields["sequences"].args) >= {"first", "after", "includeArchived"}
    assert _default(query.fields["sequences"].args["includeArchived"]) == "false"
    assert set(query.fields["contacts"].args) >= {"search", "first", "after"}


def _connection_fields(sdl: GraphQLSchema) -> list[tuple[str, str, dict[str, object]]]:
    """Every field (type, name, arguments) whose type is a connection."""
    found = []
    for type_name, named in sdl.type_map.items():
        for name, field in getattr(named, "fields", {}).items():
            if not hasattr(field, "args"):
                continue  # an input object's field
            if str(field.type).rstrip("!").endswith("Connection"):
                found.append((type_name, name, field.args))
    return found


def test_every_connection_pages_both_ways(sdl: GraphQLSchema) -> None:
    """Relay's four page arguments on every connection, nullable, none with a default
    that would clash (a `first` defaulting to 50 could not be combined with `last`)."""
    connections = _connection_fields(sdl)
    assert len(connections) >= 9, connections
    for type_name, name, args in connections:
        assert set(args) >= {"first", "after", "last", "before"}, f"{type_name}.{name}"
        for arg in ("first", "after", "last", "before"):
            assert _default(args[arg]) == "null", f"{type_name}.{name}({arg})"


MUTATIONS = {
    "createSequence": ("CreateSequenceInput!", "SequencePayload!"),
    "updateSequence": ("UpdateSequenceInput!", "SequencePayload!"),
    "cloneSequence": ("CloneSequenceInput!", "SequencePayload!"),
    "archiveSequence": ("ArchiveSequenceInput!", "SequencePayload!"),
    "createContacts": ("CreateContactsInput!", "CreateContactsPayload!"),
    "createGroup": ("CreateGroupInput!", "GroupPayload!"),
    "addContactsToSequence": ("AddContactsToSequenceInput!", "BulkEnrollmentPayload!"),
    "pauseEnrollments": ("PauseEnrollmentsInput!", "BulkEnrollmentPayload!"),
    "resumeEnrollments": ("ResumeEnrollmentsInput!", "BulkEnrollmentPayload!"),
    "finishEnrollments": ("FinishEnrollmentsInput!", "BulkEnrollmentPayload!"),
    "removeEnrollments": ("RemoveEnrollmentsInput!", "BulkEnrollmentPayload!"),
    "restartEnrollments": ("RestartEnrollmentsInput!", "RestartEnrollmentsPayload!"),
    "addEnrollmentsToGroup": ("AddEnrollmentsToGroupInput!", "BulkEnrollmentPayload!"),
    "sendMessage": ("SendMessageInput!", "SendMessagePayload!"),
    "recordDeliveryEvent": ("RecordDeliveryEventInput!", "RecordDeliveryEventPayload!"),
}

# "Every bulk input also takes dryRun: Boolean = false and idempotencyKey: String."
BULK_MUTATIONS = {
    "addContactsToSequence", "pauseEnrollments", "resumeEnrollments", "finishEnrollments",
    "removeEnrollments", "restartEnrollments", "addEnrollmentsToGroup", "sendMessage",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_takes_one_input_and_returns_its_payload(sdl: GraphQLSchema, name: str) -> None:
    mutation = sdl.mutation_type
    assert mutation is not None
    assert name in mutation.fields, f"Mutation.{name} is missing"
    field = mutation.fields[name]
    input_type, payload = MUTATIONS[name]
    assert list(field.args) == ["input"]
    assert str(field.args["input"].type) == input_type
    assert str(field.type) == payload
    if name in BULK_MUTATIONS:
        inputs = _input(sdl, input_type.rstrip("!")).fields
        _has_fields(inputs, {"dryRun": "Boolean!", "idempotencyKey": "String"}, input_type)
        assert _default(inputs["dryRun"]) == "false", f"{input_type}.dryRun must default to false"
    user_errors = _object(sdl, payload.rstrip("!")).fields["userErrors"]
    assert str(user_errors.type) == "[UserError!]!"


def test_bulk_inputs(sdl: GraphQLSchema) -> None:
    expected = {
        "PauseEnrollmentsInput": {"selection": "EnrollmentSelection!", "resumeAt": "DateTime"},
        "ResumeEnrollmentsInput": {"selection": "EnrollmentSelection!", "resumeAt": "DateTime"},
        "FinishEnrollmentsInput": {"selection": "EnrollmentSelection!", "reason": "FinishReason!"},
        "RemoveEnrollmentsInput": {"selection": "EnrollmentSelection!"},
        "RestartEnrollmentsInput": {
            "selection": "EnrollmentSelection!",
            "targetSequenceId": "ID",
            "newSequenceName": "String",
        },
        "AddEnrollmentsToGroupInput": {"selection": "EnrollmentSelection!", "groupId": "ID!"},
        "SendMessageInput": {
            "selection": "EnrollmentSelection!", "body": "String!", "subject": "String",
        },
        "RecordDeliveryEventInput": {
            "enrollmentId": "ID!", "kind": "DeliveryEventKind!", "returnDate": "Date",
            "occurredAt": "DateTime", "detail": "String",
        },
        "AddContactsToSequenceInput": {"sequenceId": "ID!", "contactIds": "[ID!]!"},
        "CreateGroupInput": {"name": "String!"},
        "CreateContactsInput": {"contacts": "[ContactInput!]!"},
    }  # fmt: skip
    for name, fields in expected.items():
        _has_fields(_input(sdl, name).fields, fields, name)


def test_enrollment_connection_and_selection(sdl: GraphQLSchema) -> None:
    _has_fields(
        _object(sdl, "EnrollmentConnection").fields,
        {
            "edges": "[EnrollmentEdge!]!",
            "pageInfo": "PageInfo!",
            "totalCount": "Int!",
            "statusCounts": "[StatusCount!]!",
        },
        "EnrollmentConnection",
    )
    _has_fields(
        _object(sdl, "StatusCount").fields,
        {"status": "EnrollmentStatus!", "count": "Int!"},
        "StatusCount",
    )
    _has_fields(
        _input(sdl, "EnrollmentSelection").fields,
        {"ids": "[ID!]", "sequenceId": "ID", "filter": "EnrollmentFilter", "excludeIds": "[ID!]"},
        "EnrollmentSelection",
    )
    _has_fields(
        _input(sdl, "EnrollmentFilter").fields,
        {
            "statuses": "[EnrollmentStatus!]",
            "reasons": "[StatusReason!]",
            "steps": "[Int!]",
            "enrolledByIds": "[ID!]",
            "groupId": "ID",
            "search": "String",
            "enrolledAfter": "DateTime",
            "enrolledBefore": "DateTime",
        },
        "EnrollmentFilter",
    )
    assert "includeRemoved" in _input(sdl, "EnrollmentFilter").fields


def test_payloads(sdl: GraphQLSchema) -> None:
    expected = {
        "BulkEnrollmentPayload": {
            "changedCount": "Int!",
            "skipped": "[SkippedGroup!]!",
            "dryRun": "Boolean!",
            "bulkOperationId": "ID",
            "userErrors": "[UserError!]!",
        },
        "SkippedGroup": {"reason": "SkipReason!", "count": "Int!", "ids": "[ID!]!"},
        "UserError": {"field": "[String!]", "code": "UserErrorCode!", "message": "String!"},
        "RestartEnrollmentsPayload": {
            "sequence": "Sequence", "changedCount": "Int!", "skipped": "[SkippedGroup!]!",
        },
        "SendMessagePayload": {"sentCount": "Int!"},
        "RecordDeliveryEventPayload": {"enrollment": "Enrollment"},
    }  # fmt: skip
    for name, fields in expected.items():
        _has_fields(_object(sdl, name).fields, fields, name)
    for name, field in (
        ("SequencePayload", "sequence"),
        ("GroupPayload", "group"),
        ("CreateContactsPayload", "contacts"),
    ):
        assert field in _object(sdl, name).fields, f"{name}.{field} is missing"


def test_node_types_and_enums(sdl: GraphQLSchema) -> None:
    node = sdl.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    for name in ("Sequence", "Enrollment", "Group", "User", "Contact"):
        assert node in _object(sdl, name).interfaces, f"{name} does not implement Node"
    _has_fields(
        _object(sdl, "Enrollment").fields,
        {
            "id": "ID!", "contact": "Contact!", "sequence": "Sequence!",
            "status": "EnrollmentStatus!", "reason": "StatusReason", "currentStep": "Int",
            "enrolledBy": "User", "enrolledAt": "DateTime!", "resumeAt": "DateTime",
            "nextRunAt": "DateTime", "finishedAt": "DateTime",
            "activities": "ActivityConnection!",
        },
        "Enrollment",
    )  # fmt: skip
    _has_fields(
        _object(sdl, "Sequence").fields,
        {
            "id": "ID!", "name": "String!", "archived": "Boolean!", "clonedFrom": "Sequence",
            "steps": "[Step!]!", "statusCounts": "[StatusCount!]!",
        },
        "Sequence",
    )  # fmt: skip
    enums = {
        "EnrollmentStatus": {
            "ACTIVE", "PAUSED", "FINISHED", "BOUNCED", "FAILED",
            "NOT_SENT", "OPTED_OUT", "OMITTED", "REMOVED",
        },
        "FinishReason": {
            "REPLIED", "MEETING_BOOKED", "UNSUBSCRIBED", "CHANGED_JOBS", "NO_LONGER_NEEDED",
            "OTHER",
        },
        "DeliveryEventKind": {
            "DELIVERED", "OPENED", "CLICKED", "REPLIED", "BOUNCED", "FAILED",
            "OUT_OF_OFFICE", "OPTED_OUT",
            "DEFERRED",  # added with inbound mail: a delivery delayed (no status change)
        },
    }  # fmt: skip
    for name, values in enums.items():
        enum = sdl.get_type(name)
        assert isinstance(enum, GraphQLEnumType), f"enum {name} is missing"
        assert set(enum.values) == values, name
    skip = sdl.get_type("SkipReason")
    assert isinstance(skip, GraphQLEnumType)
    assert set(skip.values) >= {
        "INVALID_TRANSITION", "ALREADY_IN_STATUS", "ALREADY_ENROLLED", "ALL_STEPS_SENT",
    }  # fmt: skip


def test_subscriptions(sdl: GraphQLSchema) -> None:
    subscription = sdl.subscription_type
    assert subscription is not None
    changed = subscription.fields["enrollmentStatusChanged"]
    assert str(changed.type) == "EnrollmentStatusChange!"
    assert set(changed.args) >= {"sequenceId", "statuses", "since"}
    assert str(subscription.fields["sequenceStatusCounts"].type) == "SequenceStatusCounts!"
    _has_fields(
        _object(sdl, "EnrollmentStatusChange").fields,
        {
            "cursor": "String!", "enrollment": "Enrollment!", "fromStatus": "EnrollmentStatus",
            "toStatus": "EnrollmentStatus!", "reason": "StatusReason", "actor": "User",
            "occurredAt": "DateTime!",
        },
        "EnrollmentStatusChange",
    )  # fmt: skip


def test_user_error_codes_are_the_domain_codes(sdl: GraphQLSchema) -> None:
    """`UserError.code` is an enum whose values are the domain's codes, spelled as they
    were when the field was a string: clients' JSON does not change."""
    codes = sdl.get_type("UserErrorCode")
    assert isinstance(codes, GraphQLEnumType)
    assert list(codes.values) == [code.value for code in ErrorCode]
