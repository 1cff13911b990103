"""ShortcutExecutor: graphql-core's executor without its per-field machinery where that
changes nothing (see the class). It fills the seams ``compat.ExecutorSeams`` opens in
Strawberry's execution context; the programs it compiles are in ``programs.py``.
Tested against the stock executor by tests/api/test_page_fast_path.py and
tests/api/test_fast_path_documents.py."""

from __future__ import annotations

import weakref
from typing import Any, cast

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    TypeNameMetaFieldDef,
    Undefined,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.pyutils import Path

from seqgql.caching import LRU
from seqgql.graphql.fastpath.compat import (
    ExecutorSeams,
    FieldGroup,
    FieldSet,
    attribute_read,
    enum_class,
    field_metadata,
    field_name,
    has_arguments_or_directives,
    has_directives,
    is_strawberry_is_type_of,
)
from seqgql.graphql.fastpath.programs import (
    KNOWN_VALUE,
    LEAF,
    LEAF_VALUES,
    LIST,
    MAX_MADE,
    MISSING,
    OBJECT,
    PLAIN,
    TYPENAME,
    Leaf,
    Program,
    Shortcut,
    Step,
    coerce_leaf,
    leaf,
    plain,
    run_program,
)

# (response name, its field group, its shortcut or None) per field of a field set
_Plan = tuple[tuple[str, FieldGroup, Shortcut | None], ...]


class _Cache:
    """What the shortcuts of one schema's fields are, worked out once."""

    def __init__(self) -> None:
        # id(field) -> (field, its shortcut or None); the field held keeps its id
        self.shortcuts: dict[int, tuple[GraphQLField, Shortcut | None]] = {}
        self.leaves: dict[GraphQLLeafType, Leaf] = {}
        self.typenames: dict[GraphQLObjectType, Shortcut] = {}
        self.programs: LRU[tuple[Any, tuple[Step, ...]], Program] = LRU(MAX_MADE)


_caches: weakref.WeakKeyDictionary[GraphQLSchema, _Cache] = weakref.WeakKeyDictionary()


class ShortcutExecutor(ExecutorSeams):
    """graphql-core's executor without its per-field machinery where it changes nothing.

    A page of enrollments is ~750 fields. For each, the stock executor builds a resolve
    info, looks for arguments, calls Strawberry's resolver wrappers and dispatches the
    value through ``complete_value`` (~15 µs a field). Most of them only read an
    attribute of the node: a Strawberry field with no resolver (``getattr``), or one
    whose resolver promises, through ``KNOWN_VALUE`` metadata, to return an attribute
    when it is set (a page's contact and enrolling user). Those are *shortcuts*: this
    executor reads the attribute itself and coerces scalars and enums inline. A
    selection set made only of shortcuts, down to its leaves, is compiled once per
    request into a ``Program`` that builds an object's whole result in one loop.

    Only where that is exactly what the stock path does: no middleware installed (a
    schema extension with a ``resolve`` hook turns all this off), no arguments or
    directives on the field, no field extensions (permissions), object types with no
    ``is_type_of`` or Strawberry's own, no ``@defer``. Any value a shortcut would not
    complete unchanged (null for a non-null field, an awaitable, an exception, a value
    its type refuses or does not accept) goes the stock way, which computes it again
    (shortcuts have no side effects) and reports errors as it always does: errors are
    only ever made by graphql-core.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cache = _caches.get(self.schema)
        self._cache = cache if cache is not None else _caches.setdefault(self.schema, _Cache())
        # id(field set) -> (that set, its parent type, its plan), and id(field group) ->
        # (that group, its object type, its program or None); holding the keyed object
        # keeps its id from being reused
        self._plans: dict[int, tuple[FieldSet, GraphQLObjectType, _Plan]] = {}
        self._programs: dict[int, tuple[FieldGroup, GraphQLObjectType, Program | None]] = {}

    # the seams

    def field_plan(self, parent_type: GraphQLObjectType, field_set: FieldSet) -> _Plan:
        cached = self._plans.get(id(field_set))
        if cached is not None and cached[0] is field_set and cached[1] is parent_type:
            return cached[2]
        plan = tuple(
            (name, group, self._shortcut(parent_type, group)) for name, group in field_set.items()
        )
        self._plans[id(field_set)] = (field_set, parent_type, plan)
        return plan

    def shortcut_result(
        self, parent_type: GraphQLObjectType, source: Any, path: Path | None,
        response_name: str, group: FieldGroup, shortcut: Shortcut, position_context: Any,
    ) -> Any:  # fmt: skip
        if shortcut.typename is not None:
            return shortcut.typename
        try:
            value = getattr(source, shortcut.attribute, MISSING)
        except Exception:  # the stock way reports it
            return MISSING
        if value is None or value is Undefined:
            if shortcut.leaf is not None and not (shortcut.non_null or shortcut.known_only):
                return None
            return MISSING  # the resolver runs, or the stock way says null
        if type(value) not in PLAIN and not plain(value):
            return MISSING
        if shortcut.leaf is not None:
            return coerce_leaf(shortcut.leaf.coerce, value)
        return self.complete_known(
            parent_type,
            shortcut.field_def,
            group,
            Path(path, response_name, parent_type.name),
            value,
            position_context,
        )

    def complete_plain(
        self, return_type: GraphQLOutputType, group: FieldGroup, path: Path, result: Any,
        position_context: Any,
    ) -> Any:  # fmt: skip
        """``complete_value`` of a plain object of a (non-null) object type, or of a
        list of them, as graphql-core does it; ``MISSING`` for anything else."""
        cls = type(result)
        if result is None or result is Undefined or cls in LEAF_VALUES:
            return MISSING
        if cls not in PLAIN and not plain(result):
            return MISSING
        named = return_type.of_type if type(return_type) is GraphQLNonNull else return_type
        if type(named) is GraphQLList:
            if position_context is not None or cls not in (list, tuple) or has_directives(group):
                return MISSING  # @stream, say
            item_type = named.of_type
            item_named = item_type.of_type if type(item_type) is GraphQLNonNull else item_type
            program = self._program(item_named, group)
            if program is None:
                return MISSING
            run = program.run
            items: list[Any] = []
            try:
                for item in result:
                    if item is None or (type(item) not in PLAIN and not plain(item)):
                        return MISSING
                    item = run(item)
                    if item is MISSING:
                        return MISSING
                    items.append(item)
            except Exception:  # the stock way raises it again, from the right field
                return MISSING
            return items
        if type(named) is not GraphQLObjectType:
            return MISSING
        if position_context is None:
            program = self._program(named, group)
            if program is not None:
                completed = run_program(program, result)
                if completed is not MISSING:
                    return completed
        is_type_of = named.is_type_of
        if is_type_of is not None and not (
            is_strawberry_is_type_of(is_type_of) and is_type_of(result, cast(Any, None)) is True
        ):
            return MISSING
        return self.execute_object(named, group, path, result, position_context)

    # programs and shortcuts

    def _program(self, object_type: Any, group: FieldGroup) -> Program | None:
        cached = self._programs.get(id(group))
        if cached is None or cached[0] is not group or cached[1] is not object_type:
            cached = (group, object_type, self._compile(object_type, group))
            self._programs[id(group)] = cached
        return cached[2]

    def _compile(self, object_type: Any, group: FieldGroup) -> Program | None:
        """The program of this selection on this object type, if it is all shortcuts."""
        if type(object_type) is not GraphQLObjectType:
            return None
        is_type_of = object_type.is_type_of
        if is_type_of is not None and not is_strawberry_is_type_of(is_type_of):
            return None
        field_set = self.subfields(object_type, group)
        if field_set is None:
            return None
        steps = []
        for name, details in field_set.items():
            shortcut = self._shortcut(object_type, details)
            if shortcut is None:
                return None
            kind, item_leaf, program, items_non_null = LEAF, None, None, False
            if shortcut.typename is not None:
                kind = TYPENAME
            elif shortcut.leaf is None:
                named = get_nullable_type(shortcut.field_def.type)
                kind = OBJECT
                if type(named) is GraphQLList:
                    kind, items_non_null = LIST, is_non_null_type(named.of_type)
                    named = get_nullable_type(named.of_type)
                if is_leaf_type(named):
                    item_leaf = self._leaf(named)
                elif (program := self._program(named, details)) is None:
                    return None
            steps.append(Step(name, shortcut, kind, item_leaf, program, items_non_null))
        return Program.of(is_type_of, steps, self._cache.programs)

    def _shortcut(self, parent_type: GraphQLObjectType, group: FieldGroup) -> Shortcut | None:
        field_def = self.schema.get_field(parent_type, field_name(group))
        if field_def is None or field_def.args or has_arguments_or_directives(group):
            return None
        if field_def is TypeNameMetaFieldDef:
            # its resolver answers the name of the object type being executed
            typenames = self._cache.typenames
            if (shortcut := typenames.get(parent_type)) is None:
                shortcut = typenames[parent_type] = Shortcut(
                    "", False, True, None, field_def, typename=parent_type.name
                )
            return shortcut
        shortcuts = self._cache.shortcuts
        cached = shortcuts.get(id(field_def))
        if cached is None or cached[0] is not field_def:
            cached = shortcuts[id(field_def)] = (field_def, self._field_shortcut(field_def))
        return cached[1]

    def _field_shortcut(self, field_def: GraphQLField) -> Shortcut | None:
        attribute, known_only = attribute_read(field_def), False
        if attribute is None:
            attribute, known_only = field_metadata(field_def).get(KNOWN_VALUE), True
            if not isinstance(attribute, str):
                return None
        named = get_nullable_type(field_def.type)
        found = self._leaf(named) if is_leaf_type(named) else None
        return Shortcut(attribute, known_only, is_non_null_type(field_def.type), found, field_def)

    def _leaf(self, leaf_type: GraphQLLeafType) -> Leaf:
        leaves = self._cache.leaves
        found = leaves.get(leaf_type)
        if found is None:
            enum = enum_class(leaf_type) if isinstance(leaf_type, GraphQLEnumType) else None
            found = leaves[leaf_type] = leaf(leaf_type, enum)
        return found
