"""The schema, with its limits: depth, aliases, tokens, masked unexpected errors."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
)
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition

from seqgql.graphql.activity_types import ActivityType
from seqgql.graphql.bulk_operation_types import BulkOperationType
from seqgql.graphql.enrollment_types import ContactType, EnrollmentType
from seqgql.graphql.group_types import GroupType
from seqgql.graphql.mutations import Mutation
from seqgql.graphql.public_errors import MaskUnexpected, ReportingSchema, should_mask
from seqgql.graphql.queries import Query
from seqgql.graphql.sequence_types import SequenceType
from seqgql.graphql.subscriptions import Subscription
from seqgql.graphql.user_types import UserType
from seqgql.graphql.validation_rules import NoNulInText
from seqgql.graphql.webhook_types import WebhookDeliveryType, WebhookEndpointType

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2_000

# Strawberry's Date and DateTime (parsing and output unchanged), described for this API.
SCALARS: dict[object, Any] = {
    datetime.datetime: dataclasses.replace(
        DateTimeDefinition,
        description="A moment: an ISO 8601 date and time with its offset "
        "(`2026-12-01T09:00:00Z`). Answers are in UTC; an input without an offset is "
        "refused, except where its field says how it is read.",
    ),
    datetime.date: dataclasses.replace(
        DateDefinition, description="A calendar date, ISO 8601 (`2026-12-01`)."
    ),
}


def build_schema(
    *, introspection: bool = True, fast_path: bool = True, tracing: bool = False
) -> strawberry.Schema:
    """The API's schema. ``fast_path``: execute with ``ShortcutExecutor`` (the same
    answers, faster); else with Strawberry's stock execution context (and without
    importing the fast path, which uses the libraries' internals). ``tracing``: a span per
    operation (parsing, validation, execution, and each resolver) through Strawberry's
    OpenTelemetry extension, to the tracer provider the process set up; it needs the
    opentelemetry-api package (the ``tracing`` extra)."""
    # The rule classes are built once: the validation cache is keyed by them, so rules
    # made anew per request would make every request miss it.
    rules: list[type[ASTValidationRule]] = [
        query_depth_limiter.create_validator(MAX_DEPTH, None, None),
        max_aliases.create_validator(MAX_ALIASES),
        NoNulInText,
    ]
    # factories: each request gets fresh extension instances (the caches are shared)
    extensions: list[Any] = [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=1_000),
        lambda: ValidationCache(maxsize=1_000),
        lambda: MaskUnexpected(
            should_mask_error=should_mask, error_message="Internal server error."
        ),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    if tracing:
        from strawberry.extensions.tracing import OpenTelemetryExtension

        extensions.append(OpenTelemetryExtension)
    execution_context_class = None
    if fast_path:
        from seqgql.graphql.fastpath import ShortcutExecutor

        execution_context_class = ShortcutExecutor
    schema = ReportingSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            EnrollmentType,
            SequenceType,
            ContactType,
            GroupType,
            UserType,
            ActivityType,
            BulkOperationType,
            WebhookEndpointType,
            WebhookDeliveryType,
        ],
        extensions=extensions,
        execution_context_class=execution_context_class,
        scalar_overrides=SCALARS,
    )
    schema.validation_rules = tuple(rules)
    schema.fast_path = fast_path
    return schema
