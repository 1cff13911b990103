"""A GraphQL input object given as JSON outside GraphQL (a query parameter of
``/export/enrollments.csv``), read by the schema's own rules: the same field names, enum
values, scalars and errors as when the same value is a GraphQL variable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import strawberry
from graphql import GraphQLError, GraphQLInputObjectType
from graphql.utilities import coerce_input_value, validate_input_value
from strawberry.types.base import get_object_definition

from seqgql.domain.selection import EnrollmentFilter as FilterSpec
from seqgql.domain.selection import EnrollmentOrder as OrderSpec
from seqgql.graphql.inputs import EnrollmentFilter, EnrollmentOrder, checked_filter

T = TypeVar("T")
MAX_INPUT_JSON_LENGTH = 100_000


@dataclass(frozen=True, slots=True)
class BadInput(ValueError):
    """What is wrong with an argument: its path (``filter.statuses.0``), a code, why."""

    argument: str
    code: str
    message: str


def input_from_json(schema: strawberry.Schema, cls: type[T], raw: str, argument: str) -> T:
    """An instance of the input type ``cls`` from its JSON; raises ``BadInput`` naming
    the argument (and the field within it) as GraphQL would. Flat input types only."""
    if len(raw) > MAX_INPUT_JSON_LENGTH:
        raise BadInput(
            argument, "BAD_USER_INPUT", f"`{argument}` is over {MAX_INPUT_JSON_LENGTH:,} characters"
        )
    try:
        value: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadInput(argument, "BAD_USER_INPUT", f"`{argument}` is not JSON: {exc}") from None
    definition = get_object_definition(cls, strict=True)
    graphql_type = schema._schema.get_type(definition.name)
    assert isinstance(graphql_type, GraphQLInputObjectType)
    problems: list[tuple[GraphQLError, list[str | int]]] = []
    validate_input_value(value, graphql_type, lambda err, path: problems.append((err, path)))
    if problems:
        err, path = problems[0]
        where = ".".join(str(p) for p in [argument, *path])
        raise BadInput(where, "BAD_USER_INPUT", f"`{where}`: {err.message}")
    coerced = coerce_input_value(value, graphql_type)
    converter = schema.config.name_converter
    names = {converter.from_field(f): f.python_name for f in definition.fields}
    return cls(**{names[name]: v for name, v in coerced.items()})


def filter_from_json(schema: strawberry.Schema, raw: str | None) -> FilterSpec:
    """The ``filter`` argument of ``enrollments`` as JSON, checked as that query checks
    it; raises ``BadInput``."""
    flt = input_from_json(schema, EnrollmentFilter, raw, "filter") if raw else None
    spec, errors = checked_filter(flt, ["filter"])
    if errors:
        err = errors[0]
        raise BadInput(".".join(err.field), err.code.value, err.message)
    return spec


def order_from_json(schema: strawberry.Schema, raw: str | None) -> OrderSpec:
    """The ``orderBy`` argument of ``enrollments`` as JSON; raises ``BadInput``."""
    order = input_from_json(schema, EnrollmentOrder, raw, "orderBy") if raw else EnrollmentOrder()
    return order.to_spec()
