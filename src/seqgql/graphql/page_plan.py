"""The page's execution plan: a document that only reads a page of the Contacts tab
(``enrollments`` and the plain fields under it) is answered without graphql-core's
executor, once the plan is made (once per document text).

A plan reads the request's variables straight into the field's arguments, with
graphql-core's own coercion (``coerce_input_value``, ``value_from_ast``), checked by the
resolver's own function (``contacts_tab.page_arguments``) and kept by the variables' text;
reads the page through the resolver's own function (``contacts_tab.read_page``: the same
statement, with only the columns the document asks, and the same errors), and writes each
edge with a function generated for the document (``page_rows``), each leaf as its type
serializes it, keys in the document's order. So the answer is graphql-core's, byte for
byte: tests/api/test_page_fast_path.py and tests/api/test_page_plans.py compare them.

A document is planned only when its one operation is a query selecting ``enrollments``
and, under it, fields listed here (with aliases and ``__typename``), without fragments,
directives, or a field twice under one name; its validation (with the schema's rules)
must pass. Anything else, and any request whose variables, arguments or page raise an
error, goes the stock way, which answers as it always does (a plan never makes errors).
Only with the fast path (GRAPHQL_FAST_PATH, ``fastpath/compat.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    VariableNode,
    coerce_input_value,
    is_non_null_type,
    parse,
    specified_rules,
    type_from_ast,
    validate,
    value_from_ast,
)

from seqgql.caching import LRU, json_key
from seqgql.graphql import inputs
from seqgql.graphql.contacts_tab import PageArguments, page_arguments, prepared_page, read_page
from seqgql.graphql.context import Context
from seqgql.graphql.fastpath.compat import attribute_read
from seqgql.graphql.page_rows import (
    NotPlanned,
    checked,
    edge_writer,
    leaf_of,
    selected_fields,
)
from seqgql.graphql.sequence_types import status_count_list
from seqgql.services.enrollments.page import total_from_counts
from seqgql.services.enrollments.page_read import PreparedPage

_ARGUMENTS = {"sequenceId": "sequence_id", "filter": "filter", "first": "first",
              "after": "after", "last": "last", "before": "before",
              "orderBy": "order_by"}  # fmt: skip
# the filter's fields a plan takes (a nested input, like a time range, goes the stock way)
_FILTER_FIELDS = {"statuses": "statuses", "reasons": "reasons", "outcomes": "outcomes",
                  "steps": "steps", "enrolledByIds": "enrolled_by_ids", "groupId": "group_id",
                  "search": "search", "enrolledAfter": "enrolled_after",
                  "enrolledBefore": "enrolled_before", "includeRemoved": "include_removed",
                  "resumeScheduled": "resume_scheduled"}  # fmt: skip
_NESTED_FILTER_FIELDS = {"nextSendBetween": "next_send_between",
                         "statusChangedBetween": "status_changed_between"}  # fmt: skip


Write = Callable[[Any], Any]  # a source (a page row, ...) -> its part of the answer


class PagePlan:
    """One document's plan: its variables, the field's arguments, and the writer of its
    answer."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        field: FieldNode,
        write: Callable[[Any], dict[str, Any]],
        with_counts: bool,
        columns: frozenset[str],
    ) -> None:
        self.key = field.alias.value if field.alias else field.name.value
        self.variables = [
            (d.variable.name.value, type_from_ast(schema, d.type), d.default_value)
            for d in operation.variable_definitions or ()
        ]
        definition = schema.query_type.fields["enrollments"]  # type: ignore[union-attr]
        given = {a.name.value: a.value for a in field.arguments or ()}
        self.arguments = [(name, arg.type, given.get(name), arg.default_value)
                          for name, arg in definition.args.items()]  # fmt: skip
        self.write = write
        self.with_counts = with_counts
        self.columns = columns  # the page row's columns the document reads
        self._seen: LRU[bytes, _Known] = LRU(maxsize=64)

    def coerced_variables(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        coerced: dict[str, Any] = {}
        values = values or {}
        for name, var_type, default in self.variables:
            if name in values:
                coerced[name] = coerce_input_value(values[name], var_type)  # type: ignore[arg-type]
            elif default is not None:
                coerced[name] = value_from_ast(default, var_type)  # type: ignore[arg-type]
            elif is_non_null_type(var_type):
                raise NotPlanned("a required variable is missing")
        return coerced

    def argument_values(self, variables: dict[str, Any]) -> dict[str, Any]:
        """The resolver's keyword arguments, as Strawberry would make them."""
        found: dict[str, Any] = {}
        for name, arg_type, node, default in self.arguments:
            if node is None or (
                isinstance(node, VariableNode) and node.name.value not in variables
            ):
                if default is Undefined:
                    continue
                value = default
            else:
                value = value_from_ast(node, arg_type, variables)
                if value is Undefined:
                    raise NotPlanned("a bad argument")
            if value is None and isinstance(arg_type, GraphQLNonNull):
                raise NotPlanned("null for a required argument")
            found[_ARGUMENTS[name]] = value
        flt = found.get("filter")
        if flt is not None:
            kwargs = {}
            for key, value in flt.items():
                if key in _FILTER_FIELDS:
                    kwargs[_FILTER_FIELDS[key]] = value
                elif key in _NESTED_FILTER_FIELDS and value is None:
                    kwargs[_NESTED_FILTER_FIELDS[key]] = None
                else:
                    raise NotPlanned("a filter field the plan does not take")
            found["filter"] = inputs.EnrollmentFilter(**kwargs)
        order = found.get("order_by")
        if order is not None:
            found["order_by"] = inputs.EnrollmentOrder(**order)
        return found

    def _known(self, variables: Mapping[str, Any] | None, variables_key: bytes | None) -> _Known:
        """The field's arguments checked (``contacts_tab.page_arguments``) and the reads
        made ready for them, kept by the variables' ``json_key`` (``variables_key``, when
        the caller has it): a client asks the same page again and again (the arguments
        kept are never changed)."""
        key = json_key(variables) if variables_key is None else variables_key
        if key is None:
            return _Known(self._checked_arguments(variables))
        found = self._seen.get(key)
        if found is None:
            found = _Known(self._checked_arguments(variables))
            self._seen.put(key, found)
        return found

    def _checked_arguments(self, variables: Mapping[str, Any] | None) -> PageArguments:
        return page_arguments(**self.argument_values(self.coerced_variables(variables)))

    async def run(
        self,
        context: Context,
        variables: Mapping[str, Any] | None,
        variables_key: bytes | None = None,
    ) -> dict[str, Any] | None:
        """The answer's ``data``, or None where the stock way must answer (it answers
        the errors). ``variables_key``: the variables' ``json_key``, when the caller has
        it."""
        try:
            known = self._known(variables, variables_key)
            arguments = known.arguments
            workspace_id = context.actor.workspace_id
            prepared = known.reads.get(workspace_id)
            if prepared is None:
                prepared = prepared_page(
                    context, arguments, with_counts=self.with_counts, columns=self.columns
                )
                if len(known.reads) >= _READS_KEPT:
                    known.reads.clear()
                known.reads[workspace_id] = prepared
            page, counts = await read_page(
                context, arguments, with_counts=self.with_counts, prepared=prepared
            )
            return {self.key: self.write((arguments.flt, page, counts))}
        except Exception:  # NotPlanned, GraphQLError, PublicError...: the stock way's
            return None


# the prepared reads kept for one variables' text, by workspace (one, unless others send
# the same variables: another's sequence id)
_READS_KEPT = 4


class _Known:
    """What a plan keeps for one variables' text: the field's arguments, and the page's
    read made ready (``contacts_tab.prepared_page``) for each workspace that asked."""

    __slots__ = ("arguments", "reads")

    def __init__(self, arguments: PageArguments) -> None:
        self.arguments = arguments
        self.reads: dict[int, PreparedPage] = {}


class PagePlans:
    """The plans of the documents seen, by text (None: goes the stock way)."""

    def __init__(self, schema: GraphQLSchema, rules: list[Any], max_tokens: int) -> None:
        self.schema = schema
        self.rules = [*specified_rules, *rules]
        self.max_tokens = max_tokens
        self.enabled = True
        self._plans: LRU[tuple[str, str | None], PagePlan | None] = LRU(maxsize=256)

    def get(self, query: str | None, operation_name: str | None) -> PagePlan | None:
        if not self.enabled or not isinstance(query, str) or "enrollments" not in query:
            return None
        return self._plans.get_or_make(
            (query, operation_name), lambda: self._make(query, operation_name)
        )

    def _make(self, query: str, operation_name: str | None) -> PagePlan | None:
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError:
            return None
        if validate(self.schema, document, self.rules):
            return None
        try:
            return _plan(self.schema, document, operation_name)
        except NotPlanned:
            return None


def _plan(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> PagePlan:
    (operation,) = document.definitions if len(document.definitions) == 1 else (None,)
    if not isinstance(operation, OperationDefinitionNode):
        raise NotPlanned("not one operation")
    if operation_name is not None and (operation.name is None or
                                       operation.name.value != operation_name):  # fmt: skip
        raise NotPlanned("another operation's name")
    if operation.operation is not OperationType.QUERY or operation.directives:
        raise NotPlanned("not a plain query")
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        raise NotPlanned("not one root field")
    field = selections[0]
    if field.name.value != "enrollments" or field.directives or field.selection_set is None:
        raise NotPlanned("not the page")
    connection = schema.get_type("EnrollmentConnection")
    assert isinstance(connection, GraphQLObjectType)
    with_counts = any(
        isinstance(s, FieldNode) and s.name.value in ("totalCount", "statusCounts")
        for s in field.selection_set.selections
    )
    write, columns = _connection_writer(schema, connection, field)
    return PagePlan(schema, operation, field, write, with_counts, columns)


def _serializer(object_type: GraphQLObjectType, name: str) -> tuple[Callable[[Any], Any], bool]:
    found, non_null = leaf_of(object_type, name)
    return found.coerce, non_null


def _constant(value: str) -> Callable[..., str]:
    def part(*_: Any) -> str:
        return value

    return part


def _serialized(
    read: Callable[[Any], Any], serialize: Callable[[Any], Any], non_null: bool
) -> Callable[[Any], Any]:
    """A leaf's part: its value read from the source, serialized by its type."""

    def part(source: Any) -> Any:
        return checked(serialize, non_null, read(source))

    return part


def _total(source: Any) -> int:
    flt, _page, counts = source
    return total_from_counts(counts, flt)


def _connection_writer(
    schema: GraphQLSchema, connection: GraphQLObjectType, node: FieldNode
) -> tuple[Callable[[Any], dict[str, Any]], frozenset[str]]:
    """The writer of the connection (from ``(filter, page, counts)``) and the page row's
    columns it reads."""
    parts: list[tuple[str, Callable[[Any], Any]]] = []
    columns: frozenset[str] = frozenset()
    for key, child in selected_fields(node):
        name = child.name.value
        if name == "__typename":
            parts.append((key, _constant("EnrollmentConnection")))
        elif name == "edges":
            write_edges, read = _edges_writer(schema, child)
            parts.append((key, write_edges))
            columns |= read
        elif name == "pageInfo":
            parts.append((key, _page_info_writer(schema, child)))
        elif name == "totalCount":
            serialize, non_null = _serializer(connection, name)
            parts.append((key, _serialized(_total, serialize, non_null)))
        elif name == "statusCounts":
            parts.append((key, _counts_writer(schema, child)))
        else:
            raise NotPlanned("a connection field the plan does not take")

    def write(source: Any) -> dict[str, Any]:
        return {key: part(source) for key, part in parts}

    return write, columns


def _edges_writer(
    schema: GraphQLSchema, node: FieldNode
) -> tuple[Callable[[Any], Any], frozenset[str]]:
    written = edge_writer(schema, node)
    edge = written.edge

    def write(source: Any) -> list[dict[str, Any]]:
        page = source[1]
        return list(map(edge, page.rows, page.cursors))

    return write, written.columns


def _page_info_writer(schema: GraphQLSchema, node: FieldNode) -> Callable[[Any], Any]:
    info_type = schema.get_type("PageInfo")
    assert isinstance(info_type, GraphQLObjectType)
    values: dict[str, Callable[[Any], Any]] = {
        "hasNextPage": lambda p: p.has_next,
        "hasPreviousPage": lambda p: p.has_previous,
        "startCursor": lambda p: p.cursors[0] if p.cursors else None,
        "endCursor": lambda p: p.cursors[-1] if p.cursors else None,
    }
    parts: list[tuple[str, Callable[[Any], Any]]] = []
    for key, child in selected_fields(node):
        name = child.name.value
        if name == "__typename":
            parts.append((key, _constant("PageInfo")))
            continue
        if name not in values:
            raise NotPlanned("a page info field the plan does not take")
        serialize, non_null = _serializer(info_type, name)
        parts.append((key, _serialized(values[name], serialize, non_null)))

    def write(source: Any) -> dict[str, Any]:
        return {key: part(source[1]) for key, part in parts}

    return write


def _counts_writer(schema: GraphQLSchema, node: FieldNode) -> Callable[[Any], Any]:
    count_type = schema.get_type("StatusCount")
    assert isinstance(count_type, GraphQLObjectType)
    parts: list[tuple[str, Callable[[Any], Any]]] = []
    for key, child in selected_fields(node):
        name = child.name.value
        if name == "__typename":
            parts.append((key, _constant("StatusCount")))
            continue
        attribute = attribute_read(count_type.fields[name]) if name in count_type.fields else None
        if attribute not in ("status", "count"):
            raise NotPlanned("a count field the plan does not take")
        serialize, non_null = _serializer(count_type, name)
        parts.append((key, _serialized(attrgetter(attribute), serialize, non_null)))

    def write(source: Any) -> list[dict[str, Any]]:
        return [{key: part(c) for key, part in parts} for c in status_count_list(source[2])]

    return write
