"""What the fast path knows about fields, and the loop that completes objects with it.

A *shortcut* is a field whose value is an attribute of its source object: a Strawberry
field without a resolver, or one whose resolver promises (``KNOWN_VALUE`` metadata) to
return an attribute whenever it is set. A *program* is a selection set on an object
type made only of shortcuts, down to its leaves: ``Program.run`` completes one object
(or answers ``MISSING``: then the caller completes it the stock way, from the start).
Built from graphql-core's public types only; ``executor.py`` builds them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from types import CoroutineType, GeneratorType
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLString,
    Undefined,
)

# Metadata of a field with a resolver: {KNOWN_VALUE: "attr"} promises that whenever the
# source object's `attr` is not None, the resolver returns it unchanged, so the executor
# (ShortcutExecutor) may take it without calling the resolver.
KNOWN_VALUE = "seqgql.known_value"

MISSING: Any = object()  # "not this way": the caller does it as graphql-core does

Coerce = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Leaf:
    """A scalar or enum type's ``coerce_output_value``, and what the loop does inline:
    values of type ``as_is`` are their own result; members of ``enum_class`` map to
    their names through ``names``."""

    coerce: Coerce  # the whole coercion (with the inline parts first)
    as_is: type | None = None
    enum_class: type | None = None
    names: dict[Any, Any] | None = None


def leaf(leaf_type: GraphQLLeafType, enum_class: type[Enum] | None = None) -> Leaf:
    """The type's coercion: ``enum_class`` is the Python enum a Strawberry enum type
    serializes (each member's name is worked out once, by the type itself)."""
    coerce = leaf_type.coerce_output_value
    if leaf_type is GraphQLString or leaf_type is GraphQLID:
        as_is: Coerce = lambda value: value if type(value) is str else coerce(value)  # noqa: E731
        return Leaf(as_is, as_is=str)
    if leaf_type is GraphQLBoolean:
        as_is = lambda value: value if type(value) is bool else coerce(value)  # noqa: E731
        return Leaf(as_is, as_is=bool)
    if enum_class is not None and isinstance(leaf_type, GraphQLEnumType):
        cls = enum_class
        names: dict[Any, Any] = {}
        for member in cls:
            with contextlib.suppress(Exception):
                names[member] = coerce(member)
        by_name: Coerce = lambda value: (  # noqa: E731
            names[value] if type(value) is cls and value in names else coerce(value)
        )
        return Leaf(by_name, enum_class=cls, names=names)
    return Leaf(coerce)


def coerce_leaf(coerce: Coerce, value: Any) -> Any:
    """complete_leaf_value, with ``MISSING`` where it would raise."""
    try:
        coerced = coerce(value)
    except Exception:  # the stock way reports it
        return MISSING
    return MISSING if coerced is None or coerced is Undefined else coerced


@dataclass(frozen=True, slots=True)
class Shortcut:
    """How to get a field's value without calling its resolver."""

    attribute: str  # the source object's attribute holding the value
    known_only: bool  # the attribute is the value only when not None (else: the resolver)
    non_null: bool
    leaf: Leaf | None  # a scalar or enum field's coercion
    field_def: GraphQLField
    typename: str | None = None  # __typename: the value, the object type's name


# Exact types of values that are neither awaitable nor exceptions (classes join as they
# are met): values of these skip both checks.
PLAIN: set[type] = {str, int, float, bool, datetime, list, tuple, dict}

# values complete_value never completes as objects
LEAF_VALUES = frozenset({str, int, float, bool, datetime})


def plain(value: Any) -> bool:
    """Whether the value's class makes it neither awaitable nor an exception (as
    graphql-core sees them: no ``__await__``, not a coroutine, not a generator)."""
    cls = type(value)
    if (
        value is MISSING
        or issubclass(cls, (BaseException, CoroutineType, GeneratorType))
        or hasattr(cls, "__await__")
        or hasattr(value, "__await__")
    ):
        return False
    PLAIN.add(cls)
    return True


# What a step reads: a scalar or enum, an object, a list of either, or __typename (whose
# value is the step's attribute: the object type's name).
LEAF, OBJECT, LIST, TYPENAME = range(4)

# (response name, attribute, kind, null allowed, as_is, enum class, enum names,
#  coercion, object program's run, list items non-null)
Step = tuple[
    str, str, int, bool, type | None, type | None, dict[Any, Any] | None,
    Coerce | None, Callable[[Any], Any] | None, bool,
]  # fmt: skip


def step(
    name: str, shortcut: Shortcut, kind: int, item_leaf: Leaf | None,
    program: Program | None, items_non_null: bool,
) -> Step:  # fmt: skip
    """A program's step for a shortcut: ``item_leaf`` is the leaf of a list of leaves,
    ``program`` the program of an object or of a list's items."""
    if kind == TYPENAME:
        assert shortcut.typename is not None
        return (name, shortcut.typename, TYPENAME, False, None, None, None, None, None, False)
    found = shortcut.leaf if kind == LEAF else item_leaf
    nullable = not (shortcut.non_null or shortcut.known_only)
    if kind == LEAF:
        assert found is not None
        return (name, shortcut.attribute, LEAF, nullable, found.as_is, found.enum_class,
                found.names, found.coerce, None, False)  # fmt: skip
    run = program.run if program is not None else None
    coerce = found.coerce if found is not None else None
    return (name, shortcut.attribute, kind, nullable, None, None, None, coerce, run,
            items_non_null)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Program:
    """A selection set on an object type whose fields are all shortcuts. ``run``
    builds an object's result as graphql-core would, step by step (what its
    ``complete_value`` does for each field's value), or answers ``MISSING`` when
    anything is not plain: null where none is allowed, an awaitable, an exception, a
    value its type refuses, an object its type's ``is_type_of`` does not accept."""

    steps: tuple[Step, ...]
    run: Callable[[Any], Any]

    @classmethod
    def of(cls, is_type_of: Callable[..., Any] | None, steps: Iterable[Step]) -> Program:
        """``is_type_of``: Strawberry's, which ignores the info (or None)."""
        steps = tuple(steps)
        return cls(steps, _runner(is_type_of, steps))


def _runner(is_type_of: Callable[..., Any] | None, steps: tuple[Step, ...]) -> Callable[[Any], Any]:
    # everything the loop reads is a local or a closure variable
    missing, undefined, plain_types, is_plain, run_list = MISSING, Undefined, PLAIN, plain, _list
    leaf_kind, object_kind, typename_kind = LEAF, OBJECT, TYPENAME

    def run(source: Any) -> Any:
        if is_type_of is not None and is_type_of(source, None) is not True:
            return missing
        result: dict[str, Any] = {}
        for name, attribute, kind, nullable, as_is, enum, names, coerce, sub, items in steps:
            if kind == typename_kind:
                result[name] = attribute
                continue
            value = getattr(source, attribute, missing)
            if value is None or value is undefined:
                if nullable:
                    result[name] = None
                    continue
                return missing
            cls = type(value)
            if cls not in plain_types and not is_plain(value):
                return missing
            if kind == leaf_kind:
                if cls is as_is:
                    pass
                elif cls is enum and value in names:  # type: ignore[operator]
                    value = names[value]  # type: ignore[index]
                else:
                    try:
                        value = coerce(value)  # type: ignore[misc]
                    except Exception:  # the stock way reports it
                        return missing
                    if value is None or value is undefined:
                        return missing
            elif kind == object_kind:
                value = sub(value)  # type: ignore[misc]
                if value is missing:
                    return missing
            else:
                value = run_list(value, sub, coerce, items)
                if value is missing:
                    return missing
            result[name] = value
        return result

    return run


def _list(
    value: Any, run: Callable[[Any], Any] | None, coerce: Coerce | None, items_non_null: bool
) -> Any:
    """A list step's value completed, item by item, or ``MISSING``."""
    if type(value) is not list and type(value) is not tuple:
        return MISSING
    items: list[Any] = []
    for item in value:
        if item is None or item is Undefined:
            if items_non_null:
                return MISSING
            items.append(None)
            continue
        if type(item) not in PLAIN and not plain(item):
            return MISSING
        item = run(item) if run is not None else coerce_leaf(coerce, item)  # type: ignore[arg-type]
        if item is MISSING:
            return MISSING
        items.append(item)
    return items


def run_program(program: Program, source: Any) -> Any:
    """``program.run``, with ``MISSING`` for an exception (from an attribute that is a
    property, say): the stock way raises it again, from the right field."""
    try:
        return program.run(source)
    except Exception:
        return MISSING
