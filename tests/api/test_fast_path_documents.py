"""The fast path against graphql-core's own executor, on generated documents.

Hypothesis writes query documents over the app's real schema (walked from its SDL):
the enrollment page and what hangs off it (nodes, contacts, enrolling users, sequences
with their sending windows and steps, activities, counts), ``node(id:)`` over the
interface, ``viewer``; with ``__typename``, aliases, named fragments (spread once or
reused, on object types and on the ``Node`` interface), inline fragments (with and
without a type condition), and ``@include``/``@skip`` with literal and variable values
on fields, spreads and inline fragments. Each document runs in-process, against one
seeded database per backend, with ``ShortcutExecutor`` and with Strawberry's stock
execution context: the data (key order included) and errors must be the same. A
document with boolean variables runs again with their other values.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import graphql
import pytest
import strawberry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqgql.clock import FrozenClock
from seqgql.events.bus import EventBus
from seqgql.graphql.fastpath import ShortcutExecutor
from seqgql.graphql.schema import MAX_ALIASES, build_schema
from seqgql.graphql.view import GraphQLView
from seqgql.outbound.transport import RecordingTransport
from seqgql.persistence.database import Database
from seqgql.services.actor import Actor
from seqgql.services.auth import TokenCache
from tests.helpers.clocks import START
from tests.helpers.fast_path import STOCK, seed_page
from tests.helpers.workspace import make_workspace

# ------------------------------------------------------------------ the seeded data


@dataclass
class Seeded:
    schemas: dict[str, strawberry.Schema]  # "fast", "stock"
    context: Callable[[], Any]  # a request's context, as the view makes it
    variables: dict[str, Any]  # $seq, and the ids $node may take
    nodes: list[str]


async def _run(seeded: Seeded, schema: str, query: str, variables: dict[str, Any]) -> str:
    result = await seeded.schemas[schema].execute(
        query, variable_values=variables, context_value=seeded.context()
    )
    return json.dumps(
        {"data": result.data, "errors": [e.formatted for e in result.errors or []]},
        default=str,
    )


async def _mutate(seeded: Seeded, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    answer = json.loads(await _run(seeded, "stock", query, variables))
    assert not answer["errors"], answer
    (payload,) = answer["data"].values()
    assert not payload["userErrors"], payload
    return payload  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
async def seeded(database_url: str) -> AsyncIterator[Seeded]:
    """One workspace per backend and module: the page's rows (seed_page), a sending
    window on their sequence, and activities on some of them."""
    db = Database(database_url)
    clock = FrozenClock(START)
    workspace = await make_workspace(db, clock)
    actor: Actor = workspace.actor
    sequence_id = await seed_page(db, clock, actor)
    fast, stock = build_schema(), build_schema(fast_path=False)
    assert fast.execution_context_class is ShortcutExecutor
    assert stock.execution_context_class is STOCK
    view = GraphQLView(
        fast,
        db=db,
        tokens=TokenCache(db),
        clock=clock,
        transport=RecordingTransport(),
        bus=EventBus(),
    )
    seeded = Seeded({"fast": fast, "stock": stock}, lambda: view.context_for(actor),
                    {"seq": sequence_id}, [])  # fmt: skip
    await _mutate(
        seeded,
        "mutation($seq: ID!) { updateSequence(input: {sequenceId: $seq, sendingWindow: {"
        ' days: [MONDAY, WEDNESDAY, FRIDAY], start: "09:00", end: "17:30",'
        ' timeZone: "Europe/Paris"}}) { userErrors { message } } }',
        {"seq": sequence_id},
    )
    page = json.loads(
        await _run(
            seeded,
            "stock",
            "query($seq: ID!) { enrollments(sequenceId: $seq, first: 100) {"
            " edges { node { id status contact { id } enrolledBy { id } } } } }",
            {"seq": sequence_id},
        )
    )
    nodes = [edge["node"] for edge in page["data"]["enrollments"]["edges"]]
    # active, with an enrolling user: some get activities
    active = [n["id"] for n in nodes if n["status"] == "ACTIVE" and n["enrolledBy"] is not None]
    assert len(active) >= 3
    for body in ("Hello there", "Following up"):
        await _mutate(
            seeded,
            "mutation($ids: [ID!], $body: String!) { sendMessage(input: {selection:"
            " {ids: $ids}, body: $body}) { sentCount userErrors { message } } }",
            {"ids": active[:3], "body": body},
        )
    await _mutate(
        seeded,
        "mutation($id: ID!) { recordDeliveryEvent(input: {enrollmentId: $id, kind: OPENED,"
        ' detail: "opened twice"}) { statusChanged userErrors { message } } }',
        {"id": active[0]},
    )
    # the ids node(id:) takes, of the types NODE_TYPES names
    other = next(n for n in nodes if n["status"] != "ACTIVE" and n["enrolledBy"] is not None)
    without_user = next(n for n in nodes if n["enrolledBy"] is None)
    seeded.nodes = [active[0], other["id"], without_user["id"], without_user["contact"]["id"],
                    other["enrolledBy"]["id"], sequence_id]  # fmt: skip
    yield seeded
    await db.dispose()


# ------------------------------------------------------------------ the documents

SCHEMA = graphql.build_schema(build_schema().as_str())
MAX_FIELD_DEPTH = 8  # the schema refuses more than 10 levels
MAX_FIELDS = 50  # per document (the schema refuses more than 2,000 tokens)
BOOLEAN_VARIABLES = ("yes", "no")
# the types of Seeded.nodes: an active enrollment with activities and an enrolling user,
# another one with a user, one without, a contact, a user, the sequence
NODE_TYPES = ("Enrollment", "Enrollment", "Enrollment", "Contact", "User", "Sequence")
# fields that lead where the fast path works most: the page's nodes, their contact and
# enrolling user (which node(id:) leaves to the resolver)
PREFERRED = {"edges", "node", "contact", "enrolledBy"}

# Arguments of the fields that take some, by alias: a response name always comes with
# the same arguments (else the document would not validate).
ARGUMENTS: dict[str, list[str]] = {
    "activities": ["", "(first: 1)", "(first: 2)"],
    "contacts": ["", "(first: 2)"],
}
PAGE_ARGUMENTS = [
    "first: 50",
    "first: 3",
    "first: 100, filter: {includeRemoved: true}",
    'first: 20, orderBy: {field: CONTACT_NAME, direction: ASC}, filter: {search: "fast"}',
    "first: 5, filter: {statuses: [PAUSED, FINISHED, REMOVED], includeRemoved: true}",
]
# An error at the root, in a document of one root field. (No errors below the root:
# when a field fails, graphql-core cancels the fields beside it; one of those awaiting a
# future it shares with another field (a DataLoader's, the page's counts) cancels that
# future, and the other field's CancelledError may come out of execute, with either
# executor.)
TOO_MANY = "first: 1000"


@dataclass
class Writer:
    """One document being written: its fragments and the variables it uses."""

    draw: st.DrawFn
    fragments: list[tuple[str, str, str]] = field(default_factory=list)  # name, on, body
    used: set[str] = field(default_factory=set)
    fields: int = 0
    aliases: int = 0

    def choose(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def chance(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) < percent

    def directives(self, percent: int) -> str:
        """Now and then an @include or @skip, with a literal or a variable."""
        if not self.chance(percent):
            return ""
        condition = self.choose(["true", "false", "$yes", "$no"])
        if condition.startswith("$"):
            self.used.add(condition[1:])
        return f" @{self.choose(['include', 'skip'])}(if: {condition})"

    def selection(self, type_: graphql.GraphQLNamedType, depth: int, lead: str = "") -> str:
        """``{ ... }`` on an object or interface type: ``lead`` if given, then one to four
        items; on an object type, the first is a field, one of the ``PREFERRED`` where
        the type has some."""
        count = self.draw(st.integers(1, 4))
        items = [lead] if lead else []
        if isinstance(type_, graphql.GraphQLObjectType):
            items.append(self.field(type_, depth, first=True))
        items += [self.item(type_, depth) for _ in range(count - len(items) + bool(lead))]
        return "{ " + " ".join(items) + " }"

    def item(self, type_: Any, depth: int) -> str:
        kinds = ["field"] * 6 + ["typename", "inline", "spread"]
        if isinstance(type_, graphql.GraphQLInterfaceType):  # mostly its objects' fields
            kinds = ["field", "typename", *["inline"] * 4, *["spread"] * 2]
        kind = self.choose(kinds)
        if kind == "typename":
            alias = self.alias("__typename", 20)
            return f"{alias}__typename{self.directives(10)}"
        if kind == "inline":
            conditions = [None, *self.conditions(type_)]
            on = self.choose(conditions)
            head = f"... on {on.name}" if on is not None else "..."
            return f"{head}{self.directives(30)} {self.selection(on or type_, depth)}"
        if kind == "spread":
            names = {c.name for c in self.conditions(type_)}
            reusable = [name for name, on, _ in self.fragments if on in names]
            if reusable and self.chance(50):
                name = self.choose(reusable)
            else:
                on = self.choose(self.conditions(type_))
                body = self.selection(on, depth)  # may write fragments of its own first
                name = f"F{len(self.fragments)}_{on.name}"
                self.fragments.append((name, on.name, body))
            return f"...{name}{self.directives(30)}"
        return self.field(type_, depth)

    def conditions(self, type_: Any) -> list[Any]:
        """The types a fragment in a selection on ``type_`` may be on."""
        if isinstance(type_, graphql.GraphQLInterfaceType):
            return [type_, *SCHEMA.get_possible_types(type_)]
        return [type_, *type_.interfaces]

    def alias(self, name: str, percent: int) -> str:
        if self.aliases < MAX_ALIASES // 2 and self.chance(percent):
            self.aliases += 1
            return f"{self.choose(['a', 'b'])}_{name}: "
        return ""

    def field(self, type_: Any, depth: int, *, first: bool = False) -> str:
        self.fields += 1
        fields = type_.fields
        deep = depth >= MAX_FIELD_DEPTH or self.fields >= MAX_FIELDS
        names = sorted(name for name, definition in fields.items()
                       if not deep or is_leaf(definition))  # fmt: skip
        if not names:  # nothing but objects, too deep for them
            return "__typename"
        # fields with a selection of their own come first: that is where programs are
        preferred = [n for n in names if n in PREFERRED]
        objects = [n for n in names if not is_leaf(fields[n])]
        if first and preferred:
            pool = preferred
        else:
            pool = objects if objects and self.chance(50) else names
        name = self.choose(pool)
        definition = fields[name]
        arguments = ""
        if name in ARGUMENTS:
            index = self.draw(st.integers(0, len(ARGUMENTS[name]) - 1))
            arguments = ARGUMENTS[name][index]
            response = f"{name}{index}: " if index else ""
            self.aliases += bool(index)
        else:
            response = self.alias(name, 15)
        named = graphql.get_named_type(definition.type)
        selection = ""
        if not graphql.is_leaf_type(named):
            selection = " " + self.selection(named, depth + 1)
        return f"{response}{name}{arguments}{self.directives(15)}{selection}"


def is_leaf(definition: graphql.GraphQLField) -> bool:
    return graphql.is_leaf_type(graphql.get_named_type(definition.type))


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A query document and its variables (all but $seq and $node, which the test adds)."""
    writer = Writer(draw)
    query = SCHEMA.query_type
    assert query is not None
    page = writer.selection(graphql.get_named_type(query.fields["enrollments"].type), 2)
    too_many = writer.chance(3)
    arguments = TOO_MANY if too_many else writer.choose(PAGE_ARGUMENTS)
    roots = [f"enrollments(sequenceId: $seq, {arguments}) {page}"]
    node_index = None
    if not too_many and writer.chance(70):
        # one fragment at least on the type of the node asked for
        node_index = draw(st.integers(0, len(NODE_TYPES) - 1))
        on = SCHEMA.get_type(NODE_TYPES[node_index])
        assert isinstance(on, graphql.GraphQLObjectType)
        node = graphql.get_named_type(query.fields["node"].type)
        lead = f"... on {on.name} {writer.selection(on, 2)}"
        roots.append(f"node(id: $node) {writer.selection(node, 2, lead)}")
    if not too_many and writer.chance(15):
        viewer = graphql.get_named_type(query.fields["viewer"].type)
        roots.append(f"viewer {writer.selection(viewer, 2)}")
    if not too_many and writer.chance(15):
        sequence = graphql.get_named_type(query.fields["sequence"].type)
        roots.append(f"sequence(id: $seq) {writer.selection(sequence, 2)}")
    roots = draw(st.permutations(roots))
    definitions = ["$seq: ID!"]
    variables: dict[str, Any] = {}
    for name in BOOLEAN_VARIABLES:
        if name in writer.used:
            definitions.append(f"${name}: Boolean!")
            variables[name] = draw(st.booleans())
    if node_index is not None:
        definitions.append("$node: ID!")
        variables["node"] = node_index  # into Seeded.nodes
    document = f"query Generated({', '.join(definitions)}) {{ {' '.join(roots)} }}"
    for name, on, body in writer.fragments:
        document += f"\nfragment {name} on {on} {body}"
    return document, variables


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same documents on every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(generated=documents())
async def test_generated_documents_answer_the_same(
    seeded: Seeded, generated: tuple[str, dict[str, Any]]
) -> None:
    document, variables = generated
    variables = {**seeded.variables, **variables}
    if "node" in variables:
        variables["node"] = seeded.nodes[variables["node"]]
    runs = [variables]
    if any(name in variables for name in BOOLEAN_VARIABLES):
        # and again with the other values: what the fast path keeps from one request to
        # the next must not depend on the directives the first one saw
        runs.append({k: not v if k in BOOLEAN_VARIABLES else v for k, v in variables.items()})
    for values in runs:
        fast = await _run(seeded, "fast", document, values)
        stock = await _run(seeded, "stock", document, values)
        assert fast == stock, (document, values)
