"""The static cost of an operation, read from its document before it runs (variables
resolved), and the refusal of one that costs more than a query may.

Each field costs 1, times the page size of every list of items around it: the ``edges``
(or ``nodes``) of a connection count ``first`` (or ``last``) times (50 when not given;
at most 100, what a page can hold), and what ``nodes(ids:)`` selects counts once per id.
So ``{ enrollments(sequenceId: $s, first: 20) { totalCount edges { node { id status } } } }``
costs 1 + 1 + 20 x (1 + 1 + 1 + 1) = 82. ``__typename`` is free. A fragment is counted
where it is spread (measured once per page size, however often it is spread); what the
schema does not know costs 1 a field (validation refuses it later)."""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)

from seqgql.domain.selection import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# The fields of a connection that hold its items.
ITEMS = frozenset({"edges", "nodes"})
# Deeper than this, selections are not counted (the depth limit refuses them anyway).
MAX_NESTING = 50
# No cost is reported above this (a document can describe astronomically many fields).
MAX_COST = 10**12


class QueryTooCostly(GraphQLError):
    """An operation refused before it runs: it costs more than one query may."""

    def __init__(self, cost: int, limit: int) -> None:
        super().__init__(
            f"this query costs {cost:,} points, more than the {limit:,} one query may "
            "cost: ask for smaller pages (`first`) or fewer fields",
            extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": limit},
        )


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> int:
    """The cost of the operation of ``document`` that would run: the one named, or the
    costliest of those that might (0 for a document without operations)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    named = [o for o in operations if o.name and o.name.value == operation_name]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    given = dict(variables) if isinstance(variables, dict) else {}
    costs = [0]
    for operation in named or operations:
        values = dict(given)
        for definition in operation.variable_definitions or ():
            name = definition.variable.name.value
            if name not in values and definition.default_value is not None:
                values[name] = definition.default_value
        counter = _Counter(schema, fragments, values)
        root = schema.get_root_type(operation.operation)
        costs.append(counter.units(operation.selection_set, root, 0, 1))
    return min(max(costs), MAX_COST)


class _Counter:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self._measured: dict[tuple[str, int], int] = {}
        self._measuring: set[str] = set()

    def units(
        self,
        selections: SelectionSetNode,
        parent: GraphQLNamedType | None,
        depth: int,
        page: int,
    ) -> int:
        """The cost of ``selections`` on a ``parent``, the items of which count ``page``
        times each."""
        if depth > MAX_NESTING:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, depth, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total += self.units(selection.selection_set, inner, depth + 1, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._spread(selection.name.value, depth, page)
        return total

    def _spread(self, name: str, depth: int, page: int) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in self._measuring:  # unknown, or spread in itself
            return 0
        key = (name, page)
        if key not in self._measured:
            self._measuring.add(name)
            inner = self.schema.get_type(fragment.type_condition.name.value)
            self._measured[key] = self.units(fragment.selection_set, inner, depth + 1, page)
            self._measuring.discard(name)
        return self._measured[key]

    def _field(
        self, node: FieldNode, parent: GraphQLNamedType | None, depth: int, page: int
    ) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        definition = _field_of(parent, name)
        cost = 1
        if node.selection_set is not None:
            inner_type = get_named_type(definition.type) if definition else None
            items = 1
            if definition is not None and "first" in definition.args:
                items = self._page_size(node, definition)
            inner = self.units(node.selection_set, inner_type, depth + 1, items)
            cost += inner * self._ids(node)
        return cost * page if name in ITEMS else cost

    def _page_size(self, node: FieldNode, definition: GraphQLField) -> int:
        """The page a connection field asks for: ``first``, else ``last`` (backward),
        else its default."""
        value = self._argument(node, "first")
        if value is None and "last" in definition.args:
            value = self._argument(node, "last")
        if value is None:
            value = definition.args["first"].default_value
        if not isinstance(value, int) or isinstance(value, bool):
            value = DEFAULT_PAGE_SIZE
        return min(max(value, 0), MAX_PAGE_SIZE)

    def _ids(self, node: FieldNode) -> int:
        """How many objects a field given ``ids`` answers (1 without them)."""
        value = self._argument(node, "ids")
        if value is None:
            return 1
        return min(len(value), MAX_PAGE_SIZE) if isinstance(value, list) else 1

    def _argument(self, node: FieldNode, name: str) -> Any:
        """An argument's value, where it is an int or a list (else None)."""
        for argument in node.arguments or ():
            if argument.name.value == name:
                return self._value(argument.value)
        return None

    def _value(self, value: Any) -> Any:
        if isinstance(value, VariableNode):
            value = self.variables.get(value.name.value)
        if isinstance(value, IntValueNode):
            try:
                return int(value.value)
            except ValueError:
                return None
        if isinstance(value, ListValueNode):
            return list(value.values)
        if isinstance(value, ValueNode):
            return None
        return value


def _field_of(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
        field: GraphQLField | None = parent.fields.get(name)
        return field
    return None
