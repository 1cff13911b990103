"""The executor's shortcuts (seqgql.graphql.fastpath.ShortcutExecutor) answer exactly what
graphql-core's own executor answers.

Over HTTP, for the enrollment page and many other documents: the same bytes. On a small
schema, for the values the shortcuts must leave to graphql-core (nulls where none is
allowed, values a type refuses, awaitables, attributes that raise or are missing, wrong
object types, resolvers promising a known value that is not there, a middleware): the
same data and errors, and resolvers run when, and only when, they must.
"""

from __future__ import annotations

import ast
import asyncio
import enum
import importlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from strawberry.extensions import SchemaExtension

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.graphql.fastpath import KNOWN_VALUE, ShortcutExecutor
from seqgql.outbound.transport import RecordingTransport
from seqgql.persistence.database import Database
from seqgql.settings import Settings
from tests.helpers.fast_path import NODE, STOCK, seed_page, view_of
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.workspace import Workspace

# ---------------------------------------------------------------- the app, over HTTP

DOCUMENTS: list[tuple[str, dict[str, Any]]] = [
    # bench/page.py's two documents
    (
        "query Page($seq: ID!, $filter: EnrollmentFilter, $first: Int) {"
        " enrollments(sequenceId: $seq, filter: $filter, first: $first) {"
        " edges { cursor node { id status reason currentStep enrolledAt nextRunAt"
        " contact { id firstName lastName email } enrolledBy { name } } }"
        " pageInfo { hasNextPage endCursor } } }",
        {"filter": {"statuses": ["ACTIVE", "PAUSED"], "steps": [1, 2], "search": "fast"}},
    ),
    (
        "query PageCounts($seq: ID!, $filter: EnrollmentFilter, $first: Int) {"
        " enrollments(sequenceId: $seq, filter: $filter, first: $first) {"
        " totalCount statusCounts { status count }"
        " edges { cursor node { id status reason currentStep enrolledAt nextRunAt"
        " contact { id firstName lastName email } enrolledBy { name } } }"
        " pageInfo { hasNextPage endCursor } } }",
        {"filter": {"statuses": ["ACTIVE", "PAUSED"], "search": "fast"}},
    ),
    # every field, every order, removed ones included, small pages
    (
        "query($seq: ID!) { enrollments(sequenceId: $seq, first: 100,"
        " filter: {includeRemoved: true}) { totalCount statusCounts { status count }"
        f" edges {{ cursor node {{ {NODE} }} }}"
        " pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
        {},
    ),
    (
        "query($seq: ID!) { enrollments(sequenceId: $seq, first: 4,"
        " orderBy: {field: CONTACT_NAME, direction: ASC}) {"
        f" totalCount edges {{ cursor node {{ {NODE} }} }} pageInfo {{ endCursor }} }} }}",
        {},
    ),
    (
        "query($seq: ID!) { enrollments(sequenceId: $seq, first: 3,"
        ' orderBy: {field: CONTACT_NAME, direction: DESC}, filter: {search: "fast"}) {'
        f" edges {{ node {{ {NODE} }} }} }} }}",
        {},
    ),
    # fragments, inline fragments, aliases, __typename, repeated fields, interfaces
    (
        "query($seq: ID!) { enrollments(sequenceId: $seq, first: 20) {"
        " a: totalCount edges { c: cursor node { __typename ...E"
        " ... on Enrollment { status s2: status contact { ... on Node { id } name } }"
        " contact { __typename firstName } enrolledBy { ...U } } } } }"
        " fragment E on Enrollment { id i2: id currentStep enrolledAt }"
        " fragment U on User { name n: name __typename }",
        {},
    ),
    # directives (the shortcuts step aside) and arguments below the page
    (
        "query($seq: ID!, $yes: Boolean!) { enrollments(sequenceId: $seq, first: 10) {"
        " edges { node { id status @include(if: $yes) reason @skip(if: $yes)"
        " contact @include(if: $yes) { email } enrolledBy @skip(if: $yes) { name }"
        " activities(first: 1) { totalCount edges { node { kind } } }"
        " sequence { name steps { position channel } } } } } }",
        {"yes": True},
    ),
    (
        "query($seq: ID!, $yes: Boolean!) { enrollments(sequenceId: $seq, first: 10) {"
        " edges { node { id status @include(if: $yes) reason @skip(if: $yes)"
        " contact @include(if: $yes) { email } enrolledBy @skip(if: $yes) { name } } } } }",
        {"yes": False},
    ),
    # the other readers
    (
        "query($seq: ID!) { sequence(id: $seq) { id name archived replyWindowMinutes"
        " sendingWindow { days start end timeZone } dailyLimitPerSender createdAt"
        " eventCursor statusCounts { status count } steps { position channel waitMinutes"
        " subject body } clonedFrom { id } } sequences(first: 5) { totalCount edges {"
        " cursor node { id name } } pageInfo { hasNextPage } } viewer { id name role }"
        ' users { edges { node { id name email role } } } contacts(search: "fast", first: 3) {'
        " totalCount edges { node { id name firstName lastName phone } } } }",
        {},
    ),
    # errors: a bad cursor, a bad page size, a sequence that is not there
    (
        'query($seq: ID!) { enrollments(sequenceId: $seq, after: "nope") { totalCount } }',
        {},
    ),
    ("query($seq: ID!) { enrollments(sequenceId: $seq, first: 1000) { totalCount } }", {}),
    (
        'query { enrollments(sequenceId: "U2VxdWVuY2U6OTk5OTk5") { edges { node { id } } } }',
        {},
    ),
]


_view = view_of


def _schema(app: Starlette) -> strawberry.Schema:
    return _view(app).schema


@pytest.fixture
def stock(app: Starlette, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Switches the app to graphql-core's own executor while in use (and its page plans
    off: see ``page_plan``)."""
    view = _view(app)
    schema = view.schema
    assert schema.execution_context_class is ShortcutExecutor
    assert view.page_plans is not None

    class Switch:
        def __enter__(self) -> None:
            monkeypatch.setattr(schema, "execution_context_class", STOCK)
            monkeypatch.setattr(view.page_plans, "enabled", False)

        def __exit__(self, *exc: object) -> None:
            monkeypatch.setattr(schema, "execution_context_class", ShortcutExecutor)
            monkeypatch.setattr(view.page_plans, "enabled", True)

    return Switch()


@pytest.fixture
async def sequence_id(db: Database, clock: FrozenClock, workspace: Workspace) -> str:
    return await seed_page(db, clock, workspace.actor)


async def test_the_app_answers_the_same_bytes(
    gql: GraphQLClient, stock: Any, sequence_id: str
) -> None:
    for query, variables in DOCUMENTS:
        fast = await gql.post(query, {"seq": sequence_id, **variables})
        with stock:
            slow = await gql.post(query, {"seq": sequence_id, **variables})
        assert fast.status_code == slow.status_code == 200
        assert fast.content == slow.content, query
    # and the documents did show what they are for
    page = (await gql.post(*_with(DOCUMENTS[2], sequence_id))).json()
    nodes = [edge["node"] for edge in page["data"]["enrollments"]["edges"]]
    assert {n["status"] for n in nodes} >= {"ACTIVE", "PAUSED", "FINISHED", "REMOVED"}
    assert any(n["enrolledBy"] is None for n in nodes)
    assert any(n["contact"]["lastName"] is None and n["contact"]["email"] is None for n in nodes)


def _with(document: tuple[str, dict[str, Any]], sequence_id: str) -> tuple[str, dict[str, Any]]:
    query, variables = document
    return query, {"seq": sequence_id, **variables}


async def test_the_next_page_is_the_same(gql: GraphQLClient, stock: Any, sequence_id: str) -> None:
    query = (
        "query($seq: ID!, $after: String, $order: EnrollmentOrder) {"
        " enrollments(sequenceId: $seq, first: 4, after: $after, orderBy: $order) {"
        f" totalCount edges {{ cursor node {{ {NODE} }} }} pageInfo {{ hasNextPage endCursor }}"
        " } }"
    )
    for order in ({"field": "ENROLLED_AT", "direction": "DESC"},
                  {"field": "CONTACT_NAME", "direction": "ASC"}):  # fmt: skip
        after = None
        for _ in range(5):
            variables = {"seq": sequence_id, "after": after, "order": order}
            fast = await gql.post(query, variables)
            with stock:
                slow = await gql.post(query, variables)
            assert fast.content == slow.content
            after = fast.json()["data"]["enrollments"]["pageInfo"]["endCursor"]
            if after is None:
                break


async def test_the_page_takes_the_shortcuts(
    gql: GraphQLClient, app: Starlette, sequence_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guards the speed: a strawberry or graphql-core upgrade that turned the shortcuts
    off would still pass the tests above. On a page only the root field, the two count
    fields and the enrolling user of the rows that have none (its resolver says so) go
    through graphql-core's execute_field, whatever the page's size. (With the page's
    plans off: a planned page skips the executor, see test_page_plans.py.)"""
    plans = _view(app).page_plans
    assert plans is not None
    monkeypatch.setattr(plans, "enabled", False)
    resolved: list[str] = []
    original = STOCK.execute_field

    def execute_field(self: Any, parent_type: Any, source: Any, details: Any, *a: Any) -> Any:
        resolved.append(f"{parent_type.name}.{details[0].node.name.value}")
        return original(self, parent_type, source, details, *a)

    monkeypatch.setattr(STOCK, "execute_field", execute_field)
    query, variables = _with(DOCUMENTS[1], sequence_id)
    data = await gql.execute(query, {**variables, "filter": {}})
    nodes = [edge["node"] for edge in data["enrollments"]["edges"]]
    assert len(nodes) == 14
    assert sorted(resolved) == sorted(
        [
            "Query.enrollments",
            "EnrollmentConnection.totalCount",
            "EnrollmentConnection.statusCounts",
        ]
        + ["Enrollment.enrolledBy" for node in nodes if node["enrolledBy"] is None]
    )
    assert sum(node["enrolledBy"] is None for node in nodes) == 3


# ------------------------------------------ switched off: GRAPHQL_FAST_PATH=false


@pytest.fixture
async def stock_app(
    database_url: str, clock: FrozenClock, transport: RecordingTransport
) -> AsyncIterator[Starlette]:
    """The app as GRAPHQL_FAST_PATH=false builds it (the same database as ``app``)."""
    application = create_app(
        Settings(
            database_url=database_url, auto_migrate=False, allowed_origins=[], run_engine=False,
            graphql_fast_path=False,
        ),
        clock=clock,
        transport=transport,
    )  # fmt: skip
    async with application.router.lifespan_context(application):
        yield application


async def test_the_setting_switches_the_fast_path_off(
    gql: GraphQLClient,
    app: Starlette,
    stock_app: Starlette,
    workspace: Workspace,
    sequence_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the fast path the app answers every document with the same bytes, and no
    ShortcutExecutor is made."""
    assert _schema(stock_app).execution_context_class is STOCK
    assert _view(stock_app).page_plans is None  # nor plans (they use its internals)
    plans = _view(app).page_plans
    assert plans is not None
    monkeypatch.setattr(plans, "enabled", False)  # the fast app's executor, every time
    made: list[object] = []
    original = ShortcutExecutor.__init__

    def spy(self: ShortcutExecutor, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(ShortcutExecutor, "__init__", spy)
    transport = httpx.ASGITransport(app=stock_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        off = GraphQLClient(http, workspace.token)
        for query, variables in DOCUMENTS:
            made.clear()
            fast = await gql.post(query, {"seq": sequence_id, **variables})
            assert made  # the spy sees the fast app's executors
            made.clear()
            slow = await off.post(query, {"seq": sequence_id, **variables})
            assert made == []
            assert fast.status_code == slow.status_code == 200
            assert fast.content == slow.content, query


def test_without_the_fast_path_its_internals_are_not_imported(tmp_path: Path) -> None:
    """With GRAPHQL_FAST_PATH=false the app is built and answers without importing the
    executor and compat.py (library internals an upgrade may move): here they cannot be
    imported at all. With the fast path on, that fails loudly."""
    program = f"""
import sys
sys.modules["seqgql.graphql.fastpath.executor"] = None  # any import of it fails
from seqgql.app import create_app
from seqgql.graphql.schema import build_schema
from seqgql.settings import Settings

settings = Settings(_env_file=None, database_url="sqlite:///{tmp_path}/x.db", auto_migrate=False,
                    graphql_fast_path=False)
create_app(settings)
print(build_schema(fast_path=False).execute_sync("{{ __typename }}").data)
print(sorted(n for n, m in sys.modules.items() if m and n.startswith("seqgql.graphql.fastpath")))
try:
    build_schema()
except ImportError:
    print("the fast path needs its executor")
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "{'__typename': 'Query'}",
        "['seqgql.graphql.fastpath', 'seqgql.graphql.fastpath.programs']",
        "the fast path needs its executor",
    ]


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAPHQL_FAST_PATH", raising=False)
    assert Settings(_env_file=None).graphql_fast_path is True
    for raw, expected in (("false", False), ("FALSE", False), ("0", False), ("true", True)):
        monkeypatch.setenv("GRAPHQL_FAST_PATH", raw)
        assert Settings(_env_file=None).graphql_fast_path is expected, raw


# ----------------------------------------------------------------- the package


FASTPATH = Path(ShortcutExecutor.__module__.replace(".", "/")).parent


def test_only_compat_touches_library_internals() -> None:
    """Outside compat.py the fast path imports graphql-core's exported names only (and
    nothing of Strawberry), writes no code, and imports nothing of seqgql.graphql
    outside its package: the types import it."""
    files = sorted((Path(__file__).parents[2] / "src" / FASTPATH).glob("*.py"))
    assert {f.name for f in files} >= {"compat.py", "programs.py", "executor.py"}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"exec", "eval", "compile"}, path.name
            if isinstance(node, ast.Import):
                modules = [(alias.name, []) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [(node.module or "", [alias.name for alias in node.names])]
            else:
                continue
            for module, names in modules:
                top = module.split(".")[0]
                if top == "seqgql":
                    inside = module.startswith("seqgql.graphql.fastpath")
                    assert inside or not module.startswith("seqgql.graphql"), (path.name, module)
                elif top in {"graphql", "strawberry"} and path.name != "compat.py":
                    assert module in {"graphql", "graphql.pyutils"}, (path.name, module)
                    exported = importlib.import_module(module).__all__
                    assert set(names) <= set(exported), (path.name, module, names)


# ----------------------------------------------------------- a small schema, directly

CALLS: list[str] = []


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Leafy(Named):
    nick: str | None
    count: int
    color: Color
    when: datetime
    tags: list[str]
    maybe: list[str | None] | None


@strawberry.type
class Custom:
    size: int

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, cls)


@strawberry.type
class Holder:
    label: str
    leaf: Leafy
    maybe_leaf: Leafy | None
    leaves: list[Leafy]
    custom: Custom | None = None
    known: strawberry.Private[Leafy | None] = None

    @strawberry.field(metadata={KNOWN_VALUE: "known"})
    def via(self) -> Leafy:
        CALLS.append("via")
        if self.known is not None:  # what KNOWN_VALUE promises
            return self.known
        return leafy(name="from the resolver")


def leafy(**changes: Any) -> Leafy:
    values: dict[str, Any] = {
        "name": "a", "nick": None, "count": 3, "color": Color.BLUE,
        "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "tags": ["x", "y"], "maybe": None,
    }  # fmt: skip
    values.update(changes)
    return Leafy(**values)


class Duck:
    """Not a Strawberry object, but with the attributes of one (no is_type_of asks)."""

    def __init__(self, **attributes: Any) -> None:
        self.__dict__.update(attributes)


class Stringy:
    """Not a string, but String serializes it (through ``str``)."""

    def __str__(self) -> str:
        return "stringy"


class Boom(Duck):
    @property
    def label(self) -> str:
        raise ValueError("boom")


AWAITABLES: list[Any] = []


def later(value: Any) -> Any:
    """An awaitable of the value (closed at the end of the run if nobody awaited it)."""

    async def wait() -> Any:
        await asyncio.sleep(0)
        return value

    AWAITABLES.append(awaitable := wait())
    return awaitable


def holder(**changes: Any) -> Any:
    values: dict[str, Any] = {
        "label": "h", "leaf": leafy(), "maybe_leaf": None,
        "leaves": [leafy(name="b"), leafy(name="c", nick="cc")], "known": None,
    }  # fmt: skip
    values.update(changes)
    return Holder(**values)


# What the Query's fields return, per test (the resolvers read it).
SOURCES: dict[str, Any] = {}


@strawberry.type
class Query:
    @strawberry.field
    def holder(self) -> Holder | None:
        return SOURCES["holder"]  # type: ignore[no-any-return]

    @strawberry.field
    def holders(self) -> list[Holder | None]:
        return SOURCES["holders"]  # type: ignore[no-any-return]

    @strawberry.field
    def named(self) -> Named | None:
        return SOURCES.get("named")


class CountingExtension(SchemaExtension):
    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        CALLS.append(f"resolve {info.field_name}")
        return _next(root, info, *args, **kwargs)


ALL = """{
  holder {
    label leaf { ...L } maybeLeaf { name } leaves { ...L } via { name count }
    custom { size }
  }
  holders { label leaves { name tags } }
}
fragment L on Leafy { __typename name nick count color when tags maybe }"""
# the same without __typename (the shortcuts handle it; this checks them without it)
ALL_PLAIN = ALL.replace("__typename", "")

# the holder's attributes that differ from holder()'s, made anew for each run (an
# awaitable is awaited once)
CASES: dict[str, Any] = {
    "plain": lambda: {},
    "null where none is allowed": lambda: {"leaf": leafy(name=None)},
    "null in a list that allows none": lambda: {"leaves": [leafy(), None]},
    "int out of range": lambda: {"leaf": leafy(count=2**40)},
    "not an enum value": lambda: {"leaf": leafy(color="purple")},
    "not a datetime": lambda: {"leaf": leafy(when="yesterday")},
    "not a string": lambda: {"leaf": leafy(name=Color.RED)},
    "a string list with a null": lambda: {"leaves": [leafy(tags=["x", None])]},
    "a list that allows nulls, with one": lambda: {"leaf": leafy(maybe=["x", None, "z"])},
    "an awaitable in a list": lambda: {"leaves": [leafy(), later(leafy(name="late"))]},
    "an awaitable string in a list": lambda: {"leaf": leafy(tags=["x", later("y")])},
    "an object for a string": lambda: {"label": Stringy()},
    "a custom is_type_of": lambda: {"custom": Custom(size=2)},
    "a custom is_type_of refusing": lambda: {"custom": Duck(size=2)},
    "awaitable leaf": lambda: {"label": later("soon")},
    "awaitable object": lambda: {"leaf": later(leafy(name="late"))},
    "awaitable list": lambda: {"leaves": later([leafy(name="late")])},
    "exception as a value": lambda: {"label": ValueError("a value")},
    "an object of another class": lambda: {"leaf": Duck(**vars(leafy(name="duck")))},
    "a tuple for a list": lambda: {"leaves": (leafy(name="t"),)},
    "a string for a list": lambda: {"leaves": "abc"},
    "known value": lambda: {"known": leafy(name="known")},
    "known value of another class": lambda: {"known": Duck(name="duck")},
}


async def run(schema: strawberry.Schema, query: str) -> str:
    result = await schema.execute(query)
    return json.dumps(
        {"data": result.data, "errors": [e.formatted for e in result.errors or []]},
        default=str,
    )


@pytest.fixture
def schemas() -> Iterator[tuple[strawberry.Schema, strawberry.Schema]]:
    fast = strawberry.Schema(query=Query, types=[Leafy], execution_context_class=ShortcutExecutor)
    slow = strawberry.Schema(query=Query, types=[Leafy])
    yield fast, slow
    SOURCES.clear()
    CALLS.clear()


async def both(
    schemas: tuple[strawberry.Schema, strawberry.Schema], query: str, sources: Any
) -> tuple[list[str], list[list[str]]]:
    """Each schema's answer and the resolvers it called, ``sources()`` made anew each time."""
    answers, calls = [], []
    for schema in schemas:
        SOURCES.clear()
        SOURCES.update(sources())
        CALLS.clear()
        answers.append(await run(schema, query))
        calls.append(list(CALLS))
        for awaitable in AWAITABLES:  # those in fields the query does not ask for
            awaitable.close()
        AWAITABLES.clear()
    return answers, calls


@pytest.mark.parametrize("query", [ALL, ALL_PLAIN], ids=["typename", "plain"])
@pytest.mark.parametrize("case", list(CASES))
async def test_the_same_data_and_errors(
    case: str, query: str, schemas: tuple[strawberry.Schema, strawberry.Schema]
) -> None:
    def sources() -> dict[str, Any]:
        return {
            "holder": holder(**CASES[case]()),
            "holders": [holder(**CASES[case]()), None, holder(label="second")],
        }

    (fast, slow), (fast_calls, slow_calls) = await both(schemas, query, sources)
    assert fast == slow
    if "known" in CASES[case]():  # the one resolver the shortcuts may skip
        slow_calls = [call for call in slow_calls if call != "via"]
    assert fast_calls == slow_calls


async def test_attributes_that_raise_or_are_missing(
    schemas: tuple[strawberry.Schema, strawberry.Schema],
) -> None:
    attributes = {k: v for k, v in vars(holder()).items() if k != "label"}
    for source in (
        lambda: Boom(**attributes),  # its label raises
        lambda: Duck(label="d", leaf=leafy()),  # no leaves, no maybe_leaf
    ):
        (fast, slow), _ = await both(
            schemas, ALL, lambda source=source: {"holder": source(), "holders": []}
        )
        assert fast == slow
        assert '"errors": [{' in fast


async def test_known_values_skip_the_resolver_only_when_known(
    schemas: tuple[strawberry.Schema, strawberry.Schema],
) -> None:
    fast, _ = schemas
    SOURCES.update(holder=holder(known=leafy(name="known")), holders=[])
    assert '"via": {"name": "known"' in await run(fast, ALL)
    assert CALLS == []
    SOURCES["holder"] = holder()
    assert '"via": {"name": "from the resolver"' in await run(fast, ALL)
    assert CALLS == ["via"]


async def test_interfaces_and_objects_of_other_classes(
    schemas: tuple[strawberry.Schema, strawberry.Schema],
) -> None:
    query = "{ named { __typename name ... on Leafy { count } } }"
    for value in (leafy(), Duck(name="duck", count=2), None):
        (fast, slow), _ = await both(schemas, query, lambda: {"named": value})  # noqa: B023
        assert fast == slow


async def test_a_middleware_turns_the_shortcuts_off() -> None:
    schemas = (
        strawberry.Schema(
            query=Query, types=[Leafy], extensions=[CountingExtension],
            execution_context_class=ShortcutExecutor,
        ),
        strawberry.Schema(query=Query, types=[Leafy], extensions=[CountingExtension]),
    )  # fmt: skip
    (fast, slow), (fast_calls, slow_calls) = await both(
        schemas, ALL, lambda: {"holder": holder(known=leafy(name="known")), "holders": [holder()]}
    )
    SOURCES.clear()
    assert fast == slow
    assert fast_calls == slow_calls
    assert "resolve count" in fast_calls and "via" in fast_calls
