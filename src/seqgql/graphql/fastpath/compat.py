"""Every touch of a Strawberry or graphql-core internal that the fast path makes, and
only those: the rest of the package uses the libraries' public API alone.

Proven (tests/api/test_page_fast_path.py, tests/api/test_fast_path_documents.py and
tests/test_schema.py pass) on strawberry-graphql 0.341.2, the newest release, with
graphql-core 3.3.1 and 3.3.2, the newest: ``PROVEN_ON``, and pyproject.toml's pins.
Not on graphql-core 3.3.0, whose own executor answers wrongly: it memoizes collected
subfields by the ids of field details it does not keep alive, and a reused id gives
one field the selection of another of the same type (the generated documents show it).
What these internals are, and how a change in them would show:

- ``ExecutorSeams`` subclasses Strawberry's execution context (not exported) and
  overrides graphql-core's ``execute_fields`` and ``complete_value`` (``:meta private:``)
  with copies of 3.3's that each open one seam; it calls more of the executor's private
  methods (``execute_field``, ``build_resolve_info``, ``handle_field_error``,
  ``collect_subfields``, ``collect_and_execute_subfields``, ``settle_in_background``).
  Their signatures changed in graphql-core 3.3 (``position_context``, field details);
  any such change fails the differential tests.
- Field groups are graphql-core's ``FieldDetailsList`` (``collect_fields``, not
  exported): lists of ``FieldDetails`` whose ``node`` is the field's AST node.
- Strawberry keeps a field's definition in ``GraphQLField.extensions`` under
  "strawberry-definition"; a field without a resolver reads its attribute through a
  closure named ``_get_basic_result``; an object type that implements interfaces gets
  an ``is_type_of`` closure that looks at the object only; enum types are
  ``CustomGraphQLEnumType`` with the Python class in ``wrapped_cls``; ``DateTime`` is
  serialized by ``base_scalars.isoformat`` (a ``methodcaller``). When these are not
  recognised the fast path takes nothing for granted: fields go the stock way (slower,
  still right), which tests/api/test_page_fast_path.py's
  test_the_page_takes_the_shortcuts catches.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, cast

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType
from strawberry.schema.types.base_scalars import isoformat as strawberry_isoformat
from strawberry.types.field import StrawberryField

from seqgql.graphql.fastpath.programs import MISSING

PROVEN_ON: dict[str, tuple[str, ...]] = {
    "strawberry-graphql": ("0.341.2",),
    "graphql-core": ("3.3.1", "3.3.2"),
}

FieldGroup = FieldDetailsList  # the nodes of one response name (fields merged)
FieldSet = GroupedFieldSet  # response name -> its field group, in order
# (response name, its field group, its shortcut or None) per field of a field set
Plan = Iterable[tuple[str, FieldGroup, Any]]

_STRAWBERRY_FIELD = "strawberry-definition"


def field_nodes(group: FieldGroup) -> list[FieldNode]:
    return [details.node for details in group]


def field_name(group: FieldGroup) -> str:
    return group[0].node.name.value


def has_directives(group: FieldGroup) -> bool:
    return any(details.node.directives for details in group)


def has_arguments_or_directives(group: FieldGroup) -> bool:
    return any(details.node.arguments or details.node.directives for details in group)


def _strawberry_field(field_def: GraphQLField) -> StrawberryField | None:
    """The field's Strawberry definition, if it has no field extensions (permissions)."""
    definition = field_def.extensions.get(_STRAWBERRY_FIELD)
    if not isinstance(definition, StrawberryField) or definition.extensions:
        return None
    return definition


def attribute_read(field_def: GraphQLField) -> str | None:
    """The attribute a Strawberry field without a resolver answers (by ``getattr``)."""
    definition = _strawberry_field(field_def)
    if (
        definition is not None
        and definition.is_basic_field
        and definition.default_resolver is getattr
        and getattr(field_def.resolve, "__name__", None) == "_get_basic_result"
        and isinstance(definition.python_name, str)
    ):
        return definition.python_name
    return None


def field_metadata(field_def: GraphQLField) -> Mapping[str, Any]:
    """``strawberry.field(metadata=...)`` of a field without field extensions, else {}."""
    definition = _strawberry_field(field_def)
    return (definition.metadata or {}) if definition is not None else {}


@functools.cache
def is_strawberry_is_type_of(is_type_of: Callable[..., Any]) -> bool:
    """Whether this is an ``is_type_of`` Strawberry wrote (for the object types that
    implement interfaces): synchronous, and it looks at the object, not the info."""
    return (
        getattr(is_type_of, "__module__", None) == "strawberry.schema.schema_converter"
        and getattr(is_type_of, "__name__", None) == "is_type_of"
    )


def serializes_as_isoformat(coerce: Callable[[Any], Any]) -> bool:
    """Whether a scalar's output coercion is Strawberry's ``isoformat`` (its ``DateTime``,
    ``Date`` and ``Time``): ``value.isoformat()`` of a ``datetime`` is then its result."""
    return coerce is strawberry_isoformat


def enum_class(enum_type: GraphQLEnumType) -> type[Enum] | None:
    """The Python enum whose members a Strawberry enum type serializes, if it is one."""
    if isinstance(enum_type, CustomGraphQLEnumType):
        return cast("type[Enum]", enum_type.wrapped_cls)
    return None


class ExecutorSeams(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with three seams, each answering ``MISSING`` for
    "as graphql-core does it":

    - ``field_plan``: each field of a field set with its shortcut (or None);
    - ``shortcut_result``: a shortcut field's completed value (or an awaitable of it);
    - ``complete_plain``: ``complete_value`` of a value, before graphql-core's.

    No seam is used where a middleware (a schema extension's ``resolve``) is installed:
    it must see every field (``shortcuts_allowed``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self.shortcuts_allowed = manager is None or not manager.middlewares

    def field_plan(self, parent_type: GraphQLObjectType, field_set: FieldSet) -> Plan:
        raise NotImplementedError

    def shortcut_result(
        self, parent_type: GraphQLObjectType, source: Any, path: Path | None,
        response_name: str, group: FieldGroup, shortcut: Any, position_context: Any,
    ) -> Any:  # fmt: skip
        raise NotImplementedError

    def complete_plain(
        self, return_type: GraphQLOutputType, group: FieldGroup, path: Path, result: Any,
        position_context: Any,
    ) -> Any:  # fmt: skip
        raise NotImplementedError

    # graphql-core's methods, overridden

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core's, with each shortcut's result taken from ``shortcut_result``."""
        if not self.shortcuts_allowed:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for name, group, shortcut in self.field_plan(parent_type, grouped_field_set):
                result = MISSING
                if shortcut is not None:
                    result = self.shortcut_result(
                        parent_type, source_value, path, name, group, shortcut, position_context
                    )
                if result is MISSING:  # the stock way
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        group,
                        Path(path, name, parent_type.name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                results[name] = result
                if is_awaitable(result):
                    awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise

        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        if self.shortcuts_allowed:
            completed = self.complete_plain(
                return_type, field_details_list, path, result, position_context
            )
            if completed is not MISSING:
                return completed
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    # graphql-core's steps, for the seams

    def complete_known(
        self, parent_type: GraphQLObjectType, field_def: GraphQLField, group: FieldGroup,
        path: Path, value: Any, position_context: Any,
    ) -> AwaitableOrValue[Any]:  # fmt: skip
        """graphql-core's ``execute_field`` after the resolver, for a value known without
        calling it (not null, not awaitable, not an exception)."""
        return_type = field_def.type
        try:
            completed = self.complete_plain(return_type, group, path, value, position_context)
            if completed is MISSING:
                info = self.build_resolve_info(field_def, field_nodes(group), parent_type, path)
                completed = super().complete_value(
                    return_type, group, info, path, value, position_context
                )
            if self.is_awaitable(completed):

                async def await_completed() -> Any:
                    try:
                        return await completed
                    except Exception as raw_error:
                        self.handle_field_error(raw_error, return_type, group, path)
                        return None

                return await_completed()
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, group, path)
            return None
        return completed

    def subfields(self, object_type: GraphQLObjectType, group: FieldGroup) -> FieldSet | None:
        """The field set of a selection on an object type; None if any of it is deferred."""
        field_set, new_defer_usages, _ = self.collect_subfields(object_type, group)
        return None if new_defer_usages else field_set

    def execute_object(
        self, object_type: GraphQLObjectType, group: FieldGroup, path: Path, result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:  # fmt: skip
        """``complete_object_value`` after its ``is_type_of`` check."""
        return self.collect_and_execute_subfields(
            object_type, group, path, result, position_context
        )
