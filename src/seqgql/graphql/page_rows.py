"""How a page's execution plan (``page_plan``) writes its rows: one function per document,
generated (``generated_code``), that writes an edge (its cursor and its Enrollment node,
with the contact and the enrolling user under it) from a page row, each field of the
document one step of it, keys in the document's order.

A row is the driver's (on PostgreSQL asyncpg's record: an enum column's stored value, a
time aware in UTC; on SQLite SQLAlchemy's row: enum members). Each leaf is written as
graphql-core would serialize it, the common values inline (strings, booleans and ids as
they are, integers in GraphQL's range, enum members, or the values they are stored as, by
their names; a UTC time, when the type's serializer is Strawberry's ``isoformat``, is
left as itself: the view writes answers with orjson, which writes it as ``isoformat``
does, and its other writer takes times too), anything else through the type's own
serializer. A value the type
refuses, or null where none is allowed, raises ``NotPlanned``: the stock way answers that
request, errors and all. The plan also learns which of the page's columns its document
reads (``Written.columns``), so the page reads no other.
"""

from __future__ import annotations

from binascii import b2a_base64
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, NamedTuple

from graphql import (
    FieldNode,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)

from seqgql.generated_code import generated_function, indented
from seqgql.graphql.fastpath.compat import attribute_read, enum_class, serializes_as_isoformat
from seqgql.graphql.fastpath.programs import Leaf, leaf
from seqgql.persistence.direct_reads import enum_members
from seqgql.services.enrollments.page_read import PAGE_COLUMNS, PageRow


class NotPlanned(Exception):
    """This document or request goes the stock way."""


# Where each plain field's value comes from in a page row, by object type and attribute:
# what contacts_tab.page_nodes and EnrollmentType.from_row put on the node objects.
ENROLLMENT = {
    a: a for a in ("status", "reason", "outcome", "current_step", "enrolled_at", "resume_at",
                   "next_run_at", "finished_at", "updated_at", "status_changed_at")
}  # fmt: skip
CONTACT = {
    a: f"contact_{a}" for a in ("first_name", "last_name", "email", "phone", "phone_type",
                                "time_zone", "opted_out", "created_at")
}  # fmt: skip
USER = {"name": "enrolled_by_name", "email": "enrolled_by_email", "role": "enrolled_by_role"}
_IDS = {"Enrollment": "id", "Contact": "contact_id", "User": "enrolled_by_id"}
_COLUMN = {name: i for i, name in enumerate(PageRow._fields)}
_INT_LOW, _INT_HIGH = -(2**31), 2**31 - 1  # GraphQL's Int


def selected_fields(node: FieldNode) -> list[tuple[str, FieldNode]]:
    """The selection's fields with their response keys; NotPlanned for anything else."""
    found: list[tuple[str, FieldNode]] = []
    for selection in node.selection_set.selections if node.selection_set else ():
        if not isinstance(selection, FieldNode) or selection.directives or selection.arguments:
            raise NotPlanned("a fragment, directive or argument")
        key = selection.alias.value if selection.alias else selection.name.value
        if any(key == k for k, _ in found):
            raise NotPlanned("a response key twice")
        found.append((key, selection))
    return found


def leaf_of(object_type: GraphQLObjectType, name: str) -> tuple[Leaf, bool]:
    """The serializer of a leaf field (the fast path's) and whether it is non-null."""
    field_type = object_type.fields[name].type
    named = get_named_type(field_type)
    if not is_leaf_type(named):
        raise NotPlanned("not a leaf")
    found = leaf(named, enum_class(named) if hasattr(named, "values") else None)  # type: ignore[arg-type]
    return found, is_non_null_type(field_type)


def checked(coerce: Callable[[Any], Any], non_null: bool, value: Any) -> Any:
    """A value through its type's serializer, as graphql-core completes it; NotPlanned
    where that would be an error."""
    if value is None:
        if non_null:
            raise NotPlanned("null where none is allowed")
        return None
    result = coerce(value)
    if result is None or result is Undefined:
        raise NotPlanned("a value its type refuses")
    return result


class Written(NamedTuple):
    """A generated edge writer and the page row columns it reads."""

    edge: Callable[[PageRow, str], dict[str, Any]]
    columns: frozenset[str]


class _Writer:
    """The source of one edge function being written: its lines, the values it refers
    to by name, the columns it reads."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.names: dict[str, Any] = {"b2a": b2a_base64, "NotPlanned": NotPlanned}
        self.columns: set[str] = set()
        self._count = 0

    def name(self, value: Any) -> str:
        """A name in the function's globals for ``value``."""
        self._count += 1
        found = f"g{self._count}"
        self.names[found] = value
        return found

    def local(self) -> str:
        self._count += 1
        return f"v{self._count}"

    def column(self, name: str) -> str:
        self.columns.add(name)
        return f"row[{_COLUMN[name]}]"

    def leaf(self, lines: list[str], object_type: GraphQLObjectType, name: str,
             read: str, stored: dict[Any, Any] | None = None) -> str:  # fmt: skip
        """Lines that put the leaf's answer in a new local (returned), from ``read``;
        ``stored``: an enum column's members by the value stored (the driver's records
        hold the values)."""
        found, non_null = leaf_of(object_type, name)
        v = self.local()
        slow = self.name(partial(checked, found.coerce, non_null))
        lines.append(f"{v} = {read}")
        if found.as_is is not None:
            step = f"if {v}.__class__ is not {self.name(found.as_is)}: {v} = {slow}({v})"
        elif get_named_type(object_type.fields[name].type) is GraphQLInt:
            step = (
                f"if {v}.__class__ is not int or not {_INT_LOW} <= {v} <= {_INT_HIGH}: "
                f"{v} = {slow}({v})"
            )
        elif found.names is not None:
            cls, names = self.name(found.enum_class), self.name(found.names)
            member = f"{names}[{v}] if {v}.__class__ is {cls} and {v} in {names} else {slow}({v})"
            by_value = {
                value: found.names[m]
                for value, m in (stored or {}).items()
                if m.__class__ is found.enum_class and m in found.names
            }
            if by_value:  # a stored value: its member's name, as its member would be
                values = self.name(by_value)
                member = f"{values}[{v}] if {v}.__class__ is str and {v} in {values} else {member}"
            step = f"{v} = {member}"
        elif serializes_as_isoformat(found.coerce):
            # a UTC time stays itself: the answer's writer, orjson, writes it as
            # isoformat does (iso_times), in a fraction of the time
            when, utc = self.name(datetime), self.name(UTC)
            step = f"if {v}.__class__ is not {when} or {v}.tzinfo is not {utc}: {v} = {slow}({v})"
        else:
            step = f"{v} = {slow}({v})"
        if non_null:
            lines.append(step)
        else:  # a null stays null (what checked gives it), without the call
            lines.extend((f"if {v} is not None:", f"    {step}"))
        return v

    def object(self, lines: list[str], type_name: str, node: FieldNode,
               columns: Mapping[str, str]) -> str:  # fmt: skip
        """Lines that put an Enrollment, Contact or User of the row (plain fields only) in
        a new local (returned)."""
        object_type = self.schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType)
        parts: list[str] = []
        for key, child in selected_fields(node):
            name = child.name.value
            if name == "__typename":
                value = repr(type_name)
            elif name == "contact" and type_name == "Enrollment":
                value = self.object(lines, "Contact", child, CONTACT)
            elif name == "enrolledBy" and type_name == "Enrollment":
                value = self.enrolled_by(lines, child)
            elif name not in object_type.fields:
                raise NotPlanned("no such field")
            else:
                value = self.field(lines, object_type, type_name, name, columns)
            parts.append(f"{key!r}: {value}")
        v = self.local()
        lines.append(f"{v} = {{{', '.join(parts)}}}")
        return v

    def field(self, lines: list[str], object_type: GraphQLObjectType, type_name: str,
              name: str, columns: Mapping[str, str]) -> str:  # fmt: skip
        attribute = attribute_read(object_type.fields[name])
        found, _ = leaf_of(object_type, name)
        if attribute == "id" and found.as_is is str:
            # to_global_id, written out (an id column holds an int: %d writes it as str)
            text = self.name(f"{type_name}:%d".encode())
            read = self.column(_IDS[type_name])
            v = self.local()
            lines.append(f"{v} = b2a({text} % {read}, newline=False).decode()")
            return v
        if attribute is None or attribute not in columns:
            raise NotPlanned(f"{type_name}.{name} is not a plain field of a page row")
        column = columns[attribute]
        stored = enum_members(PAGE_COLUMNS[_COLUMN[column]].type)
        return self.leaf(lines, object_type, name, self.column(column), stored)

    def enrolled_by(self, lines: list[str], node: FieldNode) -> str:
        """What ``EnrollmentType.enrolled_by`` answers on a page: no user, or the one read
        with the row (one whose row was not read goes the stock way)."""
        inner: list[str] = [
            f"if {self.column('enrolled_by_name')} is None:",
            "    raise NotPlanned('the enrolling user was not read with the page')",
        ]
        user = self.object(inner, "User", node, USER)
        v = self.local()
        lines.append(f"if {self.column('enrolled_by_id')} is None:")
        lines.append(f"    {v} = None")
        lines.append("else:")
        lines.extend(f"    {line}" for line in inner)
        lines.append(f"    {v} = {user}")
        return v


def edge_writer(schema: GraphQLSchema, node: FieldNode) -> Written:
    """The writer of an ``EnrollmentEdge`` selection: ``edge(row, cursor)``."""
    edge_type = schema.get_type("EnrollmentEdge")
    assert isinstance(edge_type, GraphQLObjectType)
    writer = _Writer(schema)
    lines: list[str] = []
    parts: list[str] = []
    for key, child in selected_fields(node):
        name = child.name.value
        if name == "__typename":
            value = repr("EnrollmentEdge")
        elif name == "cursor":
            value = writer.leaf(lines, edge_type, name, "cursor")
        elif name == "node":
            value = writer.object(lines, "Enrollment", child, ENROLLMENT)
        else:
            raise NotPlanned("an edge field the plan does not take")
        parts.append(f"{key!r}: {value}")
    lines.append(f"return {{{', '.join(parts)}}}")
    source = f"def edge(row, cursor):\n{indented(lines)}"
    edge = generated_function("edge", source, writer.names)
    return Written(edge, frozenset(writer.columns))
