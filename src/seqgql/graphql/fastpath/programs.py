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
from typing import Any, NamedTuple

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLString,
    Undefined,
)

from seqgql.caching import LRU

# Metadata of a field with a resolver: {KNOWN_VALUE: "attr"} promises that whenever the
# source object's `attr` is not None, the resolver returns it unchanged, so the executor
# (ShortcutExecutor) may take it without calling the resolver.
KNOWN_VALUE = "seqgql.known_value"


class _Missing:
    """The class of ``MISSING`` alone: no value met is ever of it."""


MISSING: Any = _Missing()  # "not this way": the caller does it as graphql-core does

Coerce = Callable[[Any], Any]


@dataclass(frozen=True, slots=True, eq=False)
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


@dataclass(frozen=True, slots=True, eq=False)
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
# value is the object type's name).
LEAF, OBJECT, LIST, TYPENAME = range(4)


class Step(NamedTuple):
    """One field of a program: ``item_leaf`` is the leaf of a list of leaves, ``program``
    the program of an object or of a list's items. Shortcuts, leaves and programs are
    each made once (compared by identity): equal steps do the same."""

    name: str  # the response name
    shortcut: Shortcut
    kind: int
    item_leaf: Leaf | None = None
    program: Program | None = None
    items_non_null: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Program:
    """A selection set on an object type whose fields are all shortcuts. ``run``
    builds an object's result as graphql-core would (what its ``complete_value`` does
    for each field's value), or answers ``MISSING`` when anything is not plain: null
    where none is allowed, an awaitable, an exception, a value its type refuses, an
    object its type's ``is_type_of`` does not accept."""

    steps: tuple[Step, ...]
    run: Callable[[Any], Any]

    @classmethod
    def of(
        cls,
        is_type_of: Callable[..., Any] | None,
        steps: Iterable[Step],
        made: LRU[tuple[Any, tuple[Step, ...]], Program],
    ) -> Program:
        """The program of these steps (``is_type_of``: Strawberry's, which ignores the
        info, or None), from ``made`` if it was made before: programs are compiled for
        each request, and most are the same as the last request's."""
        steps = tuple(steps)
        return made.get_or_make((is_type_of, steps), lambda: cls(steps, _runner(is_type_of, steps)))


MAX_MADE = 2_000  # programs kept per schema (one per selection shape), least recent out


def _runner(is_type_of: Callable[..., Any] | None, steps: tuple[Step, ...]) -> Callable[[Any], Any]:
    """``run``: a copy of the result with every response name in order (the
    ``__typename``s filled in, null elsewhere), then one loop per kind of step over
    tuples of what it reads; everything the loops read is local to them."""
    template: dict[str, Any] = {}
    leaves, objects, lists = [], [], []
    for step in steps:
        shortcut = step.shortcut
        template[step.name] = shortcut.typename
        nullable = not (shortcut.non_null or shortcut.known_only)
        if step.kind == LEAF:
            found = shortcut.leaf
            assert found is not None
            leaves.append((step.name, shortcut.attribute, nullable, found.as_is,
                           found.enum_class, found.names or {}, found.coerce))  # fmt: skip
        elif step.kind == OBJECT:
            assert step.program is not None
            objects.append((step.name, shortcut.attribute, nullable, step.program.run))
        elif step.kind == LIST:
            run_items = step.program.run if step.program is not None else None
            coerce_items = step.item_leaf.coerce if step.item_leaf is not None else None
            lists.append((step.name, shortcut.attribute, nullable, run_items, coerce_items,
                          step.items_non_null))  # fmt: skip
    leaf_steps, object_steps, list_steps = tuple(leaves), tuple(objects), tuple(lists)
    missing, undefined, plain_types, is_plain, run_list = MISSING, Undefined, PLAIN, plain, _list

    def run(source: Any) -> Any:
        if is_type_of is not None and is_type_of(source, None) is not True:
            return missing
        result = template.copy()
        for name, attribute, nullable, as_is, enum, names, coerce in leaf_steps:
            value = getattr(source, attribute, missing)
            cls = type(value)
            if cls is as_is:  # str or bool: plain, its own result
                result[name] = value
                continue
            if value is None or value is undefined:
                if nullable:
                    continue
                return missing
            if cls not in plain_types and not is_plain(value):
                return missing
            if cls is enum and value in names:
                result[name] = names[value]
                continue
            try:
                value = coerce(value)
            except Exception:  # the stock way reports it
                return missing
            if value is None or value is undefined:
                return missing
            result[name] = value
        if object_steps:
            for name, attribute, nullable, run_object in object_steps:
                value = getattr(source, attribute, missing)
                if value is None or value is undefined:
                    if nullable:
                        continue
                    return missing
                if type(value) not in plain_types and not is_plain(value):
                    return missing
                value = run_object(value)
                if value is missing:
                    return missing
                result[name] = value
        if list_steps:
            for name, attribute, nullable, run_items, coerce_items, items_non_null in list_steps:
                value = getattr(source, attribute, missing)
                if value is None or value is undefined:
                    if nullable:
                        continue
                    return missing
                if type(value) not in plain_types and not is_plain(value):
                    return missing
                value = run_list(value, run_items, coerce_items, items_non_null)
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
