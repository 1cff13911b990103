"""ShortcutExecutor: graphql-core's executor without its per-field machinery where that
changes nothing (see the class). Tested against the stock executor by
tests/api/test_page_fast_path.py."""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import CoroutineType, GeneratorType
from typing import Any, cast

from graphql import (
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
    TypeNameMetaFieldDef,
    Undefined,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import to_nodes
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType
from strawberry.types.field import StrawberryField

from seqgql.graphql.node import KNOWN_VALUE

_STRAWBERRY_FIELD = "strawberry-definition"  # GraphQLField.extensions key of its StrawberryField
_MISSING: Any = object()

Coerce = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Shortcut:
    """How to get a field's value without calling its resolver."""

    attribute: str  # the source object's attribute holding the value
    known_only: bool  # the attribute is the value only when not None (else: the resolver)
    non_null: bool
    coerce: Coerce | None  # a scalar or enum field: its type's coerce_output_value
    field_def: GraphQLField
    typename: str | None = None  # __typename: the value, the object type's name


# (response name, its field nodes, its shortcut or None) per field of a grouped field set
_Plan = tuple[tuple[str, FieldDetailsList, _Shortcut | None], ...]

# What a step of a program reads: a scalar or enum, an object, a list of either; or
# __typename, whose value is the step's attribute (the object type's name).
_LEAF, _OBJECT, _LIST, _TYPENAME = range(4)


@dataclass(frozen=True, slots=True)
class _Program:
    """A selection set on an object type whose fields are all shortcuts: ``run`` builds
    the object's result as graphql-core would, or answers ``_MISSING`` when anything is
    not plain (then the caller completes the object the general way, from the start).

    ``run`` is straight-line Python written for this selection (``_write_run``): no loop
    over the steps, no dispatch on their kind, the common coercions inline."""

    is_type_of: Callable[..., Any] | None  # Strawberry's, which ignores the info
    # (response name, attribute, kind, null allowed, leaf coercion, object program,
    # list items non-null)
    # (an object or list of objects has _not_a_leaf for coercion)
    steps: tuple[tuple[str, str, int, bool, Coerce, _Program | None, bool], ...]
    run: Callable[[Any], Any]
    key: tuple[Any, ...]  # what the written code depends on

    @classmethod
    def of(
        cls,
        is_type_of: Callable[..., Any] | None,
        steps: tuple[tuple[str, str, int, bool, Coerce, _Program | None, bool], ...],
    ) -> _Program:
        key = (
            is_type_of,
            *((*step[:5], step[5].key if step[5] else None, step[6]) for step in steps),
        )
        run = _written.get(key)
        if run is None:
            if len(_written) >= _MAX_WRITTEN:
                _written.clear()
            run = _written[key] = _write_run(is_type_of, steps)
        return cls(is_type_of, steps, run, key)


# The code written per selection shape, kept across requests (a program is compiled
# anew for each request; writing and compiling its code costs ~0.3 ms).
_written: dict[tuple[Any, ...], Callable[[Any], Any]] = {}
_MAX_WRITTEN = 2_000


def _write_run(
    is_type_of: Callable[..., Any] | None,
    steps: tuple[tuple[str, str, int, bool, Coerce, _Program | None, bool], ...],
) -> Callable[[Any], Any]:
    """The function that completes one object of a program: for each step, in order,
    what graphql-core's complete_value does for that field's value."""
    env: dict[str, Any] = {
        "M": _MISSING, "U": Undefined, "PLAIN": _PLAIN, "plain": _plain,
        "ITO": is_type_of, "run_list": _run_list, "str": str, "bool": bool, "type": type,
    }  # fmt: skip
    code = ["def run(source):"]
    if is_type_of is not None:
        code.append("    if ITO(source, None) is not True: return M")
    code.append("    r = {}")
    for i, (name, attribute, kind, nullable, coerce, program, items_non_null) in enumerate(steps):
        key = repr(name)
        if kind == _TYPENAME:
            code.append(f"    r[{key}] = {attribute!r}")
            continue
        code += [
            f"    v = getattr(source, {attribute!r}, M)",
            "    if v is None or v is U:",
            f"        r[{key}] = None" if nullable else "        return M",
            "    else:",
            "        if type(v) not in PLAIN and not plain(v): return M",
        ]
        if kind == _LIST:
            env[f"P{i}"] = program.run if program is not None else None
            env[f"C{i}"] = coerce
            code += [
                f"        v = run_list(v, P{i}, C{i}, {items_non_null})",
                "        if v is M: return M",
            ]
        elif program is not None:
            env[f"P{i}"] = program.run
            code += [f"        v = P{i}(v)", "        if v is M: return M"]
        else:
            env[f"C{i}"] = coerce
            fast, enum = _FAST_LEAVES.get(coerce), _ENUM_LEAVES.get(coerce)
            indent = "            "
            if fast is not None:  # the value as it is when its type is this one
                env[f"T{i}"] = fast
                code.append(f"        if type(v) is not T{i}:")
            elif enum is not None:  # a member's name
                env[f"E{i}"], env[f"N{i}"] = enum
                code += [
                    f"        if type(v) is E{i} and v in N{i}: v = N{i}[v]",
                    "        else:",
                ]
            else:
                indent = "        "
            code += [
                f"{indent}try: v = C{i}(v)",
                f"{indent}except Exception: return M",
                f"{indent}if v is None or v is U: return M",
            ]
        code.append(f"        r[{key}] = v")
    code.append("    return r")
    exec("\n".join(code), env)  # the code written above, from names and attributes
    return cast(Callable[[Any], Any], env["run"])


def _run_list(
    value: Any, run: Callable[[Any], Any] | None, coerce: Coerce, items_non_null: bool
) -> Any:
    """A list step's value completed, item by item, or ``_MISSING``."""
    if type(value) is not list and type(value) is not tuple:
        return _MISSING
    items: list[Any] = []
    for item in value:
        if item is None or item is Undefined:
            if items_non_null:
                return _MISSING
            items.append(None)
            continue
        if type(item) not in _PLAIN and not _plain(item):
            return _MISSING
        item = run(item) if run is not None else _coerce(coerce, item)
        if item is _MISSING:
            return _MISSING
        items.append(item)
    return items


def _run(program: _Program, source: Any) -> Any:
    """``program.run``, with ``_MISSING`` for an exception (from an attribute that is a
    property, say): the general way raises it again, from the right field."""
    try:
        return program.run(source)
    except Exception:
        return _MISSING


def _not_a_leaf(value: Any) -> Any:
    raise AssertionError("not a leaf")


def _coerce(coerce: Coerce, value: Any) -> Any:
    """complete_leaf_value, with ``_MISSING`` where it would raise."""
    try:
        coerced = coerce(value)
    except Exception:  # the general way reports it
        return _MISSING
    return _MISSING if coerced is None or coerced is Undefined else coerced


# coercers that answer a value of this exact type unchanged, and enum coercers with their
# class and each member's name: the written code tests these inline, without a call
_FAST_LEAVES: dict[Coerce, type] = {}
_ENUM_LEAVES: dict[Coerce, tuple[type, dict[Any, Any]]] = {}


def _coercer(leaf_type: GraphQLLeafType) -> Coerce:
    """The type's coerce_output_value, with the first step of the common ones inline."""
    coerce = leaf_type.coerce_output_value
    if leaf_type is GraphQLString or leaf_type is GraphQLID:
        as_is: Coerce = lambda value: value if type(value) is str else coerce(value)  # noqa: E731
        _FAST_LEAVES[as_is] = str
        return as_is
    if leaf_type is GraphQLBoolean:
        as_is = lambda value: value if type(value) is bool else coerce(value)  # noqa: E731
        _FAST_LEAVES[as_is] = bool
        return as_is
    if isinstance(leaf_type, CustomGraphQLEnumType):
        # each member's name, worked out once by the type itself
        cls: Any = leaf_type.wrapped_cls
        names: dict[Any, Any] = {}
        for member in cls:
            with contextlib.suppress(Exception):
                names[member] = coerce(member)
        by_name: Coerce = lambda value: (  # noqa: E731
            names[value] if type(value) is cls and value in names else coerce(value)
        )
        _ENUM_LEAVES[by_name] = (cls, names)
        return by_name
    return coerce


# Exact types of values that are neither awaitable nor exceptions (classes join as they
# are met): values of these skip both checks.
_PLAIN: set[type] = {str, int, float, bool, datetime, list, tuple, dict}


def _plain(value: Any) -> bool:
    """Whether the value's class makes it neither awaitable nor an exception (as
    graphql-core sees them: no ``__await__``, not a coroutine, not a generator)."""
    cls = type(value)
    if (
        value is _MISSING
        or issubclass(cls, (BaseException, CoroutineType, GeneratorType))
        or hasattr(cls, "__await__")
        or hasattr(value, "__await__")
    ):
        return False
    _PLAIN.add(cls)
    return True


class _Cache:
    """What the shortcuts of one schema's fields are, worked out once."""

    def __init__(self) -> None:
        # id(field) -> (field, its shortcut or None); the field held keeps its id
        self.shortcuts: dict[int, tuple[GraphQLField, _Shortcut | None]] = {}
        self.coercers: dict[GraphQLLeafType, Coerce] = {}
        self.typenames: dict[GraphQLObjectType, _Shortcut] = {}


_caches: weakref.WeakKeyDictionary[GraphQLSchema, _Cache] = weakref.WeakKeyDictionary()


@functools.cache
def _strawberry_is_type_of(is_type_of: Callable[..., Any]) -> bool:
    """Whether this is an ``is_type_of`` Strawberry wrote (for the object types that
    implement interfaces): synchronous, and it looks at the object, not the info."""
    return (
        getattr(is_type_of, "__module__", None) == "strawberry.schema.schema_converter"
        and getattr(is_type_of, "__name__", None) == "is_type_of"
    )


class ShortcutExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor without its per-field machinery where it changes nothing.

    A page of enrollments is ~750 fields. For each, the stock executor builds a resolve
    info, looks for arguments, calls Strawberry's resolver wrappers and dispatches the
    value through ``complete_value`` (~15 µs a field). Most of them only read an
    attribute of the node: a Strawberry field with no resolver (``getattr``), or one
    whose resolver promises, through ``KNOWN_VALUE`` metadata, to return an attribute
    when it is set (a page's contact and enrolling user). Those are *shortcuts*: this
    executor reads the attribute itself and coerces scalars and enums inline. A
    selection set made only of shortcuts, down to its leaves, is compiled once per
    request into a ``_Program`` that builds an object's whole result in one loop.

    Only where that is exactly what the stock path does: no middleware installed (a
    schema extension with a ``resolve`` hook turns all this off), no arguments or
    directives on the field, no field extensions (permissions), object types with no
    ``is_type_of`` or Strawberry's own, no ``@defer``. Any value a shortcut would not
    complete unchanged (null for a non-null field, an awaitable, an exception, a value
    its type refuses or does not accept) goes the stock way, which computes it again
    (shortcuts have no side effects) and reports errors as it always does: errors are
    only ever made by graphql-core. tests/api/test_page_fast_path.py compares both
    executors' answers.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._shortcuts = manager is None or not manager.middlewares
        cache = _caches.get(self.schema)
        self._cache = cache if cache is not None else _caches.setdefault(self.schema, _Cache())
        # id(grouped field set) -> (that set, its parent type, its plan), and
        # id(field list) -> (that list, its object type, its program or None); holding
        # the keyed object keeps its id from being reused
        self._plans: dict[int, tuple[GroupedFieldSet, GraphQLObjectType, _Plan]] = {}
        self._programs: dict[int, tuple[FieldDetailsList, GraphQLObjectType, _Program | None]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """graphql-core's ``execute_fields``, with the shortcuts."""
        if not self._shortcuts:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, shortcut in self._plan(
                parent_type, grouped_field_set
            ):
                if shortcut is not None:
                    if shortcut.typename is not None:
                        results[response_name] = shortcut.typename
                        continue
                    try:
                        value = getattr(source_value, shortcut.attribute, _MISSING)
                    except Exception:  # the stock path reports it
                        value = _MISSING
                    if value is None or value is Undefined:
                        if not (
                            shortcut.coerce is None or shortcut.non_null or shortcut.known_only
                        ):
                            results[response_name] = None
                            continue
                        value = _MISSING  # the resolver runs, or the stock path says null
                    elif type(value) not in _PLAIN and not _plain(value):
                        value = _MISSING
                    if value is _MISSING:
                        pass
                    elif shortcut.coerce is not None:
                        coerced = _coerce(shortcut.coerce, value)
                        if coerced is not _MISSING:
                            results[response_name] = coerced
                            continue
                    else:
                        result = self._complete_known(
                            parent_type,
                            shortcut.field_def,
                            field_details_list,
                            Path(path, response_name, parent_type.name),
                            value,
                            position_context,
                        )
                        results[response_name] = result
                        if is_awaitable(result):
                            awaitable_fields.append(response_name)
                        continue
                # the stock path, as graphql-core's execute_fields takes for every field
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
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

    def _complete_known(
        self,
        parent_type: GraphQLObjectType,
        field_def: GraphQLField,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        """graphql-core's ``execute_field`` after the resolver, for a value known
        without calling it (not null, not awaitable, not an exception)."""
        return_type = field_def.type
        try:
            completed = self._complete_plain(
                return_type, field_details_list, path, value, position_context
            )
            if completed is _MISSING:
                info = self.build_resolve_info(
                    field_def, to_nodes(field_details_list), parent_type, path
                )
                completed = super().complete_value(
                    return_type, field_details_list, info, path, value, position_context
                )
            if self.is_awaitable(completed):

                async def await_completed() -> Any:
                    try:
                        return await completed
                    except Exception as raw_error:
                        self.handle_field_error(raw_error, return_type, field_details_list, path)
                        return None

                return await_completed()
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        return completed

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        if self._shortcuts and result is not None and type(result) not in _LEAF_VALUES:
            completed = self._complete_plain(
                return_type, field_details_list, path, result, position_context
            )
            if completed is not _MISSING:
                return completed
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _complete_plain(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """``complete_value`` of a plain object of a (non-null) object type, or of a
        list of them, as graphql-core does it; ``_MISSING`` for anything else."""
        if result is Undefined or (type(result) not in _PLAIN and not _plain(result)):
            return _MISSING
        named = return_type.of_type if type(return_type) is GraphQLNonNull else return_type
        if type(named) is GraphQLList:
            if (
                position_context is not None
                or type(result) not in (list, tuple)
                or any(details.node.directives for details in field_details_list)  # @stream
            ):
                return _MISSING
            item_type = named.of_type
            item_named = item_type.of_type if type(item_type) is GraphQLNonNull else item_type
            program = self._program(item_named, field_details_list)
            if program is None:
                return _MISSING
            items: list[Any] = []
            for item in result:
                if item is None or (type(item) not in _PLAIN and not _plain(item)):
                    return _MISSING
                item = _run(program, item)
                if item is _MISSING:
                    return _MISSING
                items.append(item)
            return items
        if type(named) is not GraphQLObjectType:
            return _MISSING
        if position_context is None:
            program = self._program(named, field_details_list)
            if program is not None:
                completed = _run(program, result)
                if completed is not _MISSING:
                    return completed
        is_type_of = named.is_type_of
        if is_type_of is not None and not (
            _strawberry_is_type_of(is_type_of) and is_type_of(result, cast(Any, None)) is True
        ):
            return _MISSING
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(named, field_details_list)
        return self.execute_collected_subfields(
            named, result, path, grouped_field_set, new_defer_usages, position_context
        )

    def _program(self, object_type: Any, field_details_list: FieldDetailsList) -> _Program | None:
        cached = self._programs.get(id(field_details_list))
        if cached is None or cached[0] is not field_details_list or cached[1] is not object_type:
            cached = (
                field_details_list,
                object_type,
                self._compile(object_type, field_details_list),
            )
            self._programs[id(field_details_list)] = cached
        return cached[2]

    def _compile(self, object_type: Any, field_details_list: FieldDetailsList) -> _Program | None:
        """The program of this selection on this object type, if it is all shortcuts."""
        if type(object_type) is not GraphQLObjectType:
            return None
        is_type_of = object_type.is_type_of
        if is_type_of is not None and not _strawberry_is_type_of(is_type_of):
            return None
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(
            object_type, field_details_list
        )
        if new_defer_usages:
            return None
        steps = []
        for name, details in grouped_field_set.items():
            shortcut = self._shortcut(object_type, details)
            if shortcut is None:
                return None
            nullable = not (shortcut.non_null or shortcut.known_only)
            kind, coerce, program, items_non_null = _LEAF, shortcut.coerce, None, False
            attribute = shortcut.attribute
            if shortcut.typename is not None:
                kind, attribute = _TYPENAME, shortcut.typename
            elif coerce is None:
                named = get_nullable_type(shortcut.field_def.type)
                kind = _OBJECT
                if type(named) is GraphQLList:
                    kind, items_non_null = _LIST, is_non_null_type(named.of_type)
                    named = get_nullable_type(named.of_type)
                if is_leaf_type(named):
                    coerce = self._coercer(named)
                elif (program := self._program(named, details)) is None:
                    return None
            steps.append(
                (
                    name,
                    attribute,
                    kind,
                    nullable,
                    coerce or _not_a_leaf,
                    program,
                    items_non_null,
                )
            )
        return _Program.of(is_type_of, tuple(steps))

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> _Plan:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set and cached[1] is parent_type:
            return cached[2]
        plan = tuple(
            (name, details, self._shortcut(parent_type, details))
            for name, details in grouped_field_set.items()
        )
        self._plans[id(grouped_field_set)] = (grouped_field_set, parent_type, plan)
        return plan

    def _shortcut(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> _Shortcut | None:
        field_def = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
        if field_def is None or field_def.args:
            return None
        if any(d.node.arguments or d.node.directives for d in field_details_list):
            return None
        if field_def is TypeNameMetaFieldDef:
            # its resolver answers the name of the object type being executed
            typenames = self._cache.typenames
            if (shortcut := typenames.get(parent_type)) is None:
                shortcut = typenames[parent_type] = _Shortcut(
                    "", False, True, None, field_def, typename=parent_type.name
                )
            return shortcut
        shortcuts = self._cache.shortcuts
        cached = shortcuts.get(id(field_def))
        if cached is None or cached[0] is not field_def:
            cached = shortcuts[id(field_def)] = (field_def, self._field_shortcut(field_def))
        return cached[1]

    def _field_shortcut(self, field_def: GraphQLField) -> _Shortcut | None:
        definition = field_def.extensions.get(_STRAWBERRY_FIELD)
        if not isinstance(definition, StrawberryField) or definition.extensions:
            return None
        metadata: Mapping[str, Any] = definition.metadata or {}
        if (
            definition.is_basic_field
            and definition.default_resolver is getattr
            and getattr(field_def.resolve, "__name__", None) == "_get_basic_result"
            and isinstance(definition.python_name, str)
        ):
            attribute, known_only = definition.python_name, False
        elif isinstance(metadata.get(KNOWN_VALUE), str):
            attribute, known_only = metadata[KNOWN_VALUE], True
        else:
            return None
        named = get_nullable_type(field_def.type)
        coerce = self._coercer(named) if is_leaf_type(named) else None
        return _Shortcut(attribute, known_only, is_non_null_type(field_def.type), coerce, field_def)

    def _coercer(self, leaf_type: GraphQLLeafType) -> Coerce:
        coercers = self._cache.coercers
        coerce = coercers.get(leaf_type)
        if coerce is None:
            coerce = coercers[leaf_type] = _coercer(leaf_type)
        return coerce


# values complete_value never completes as objects
_LEAF_VALUES = frozenset({str, int, float, bool, datetime})
