"""The layers stay visible: a pure domain, and SQL only below the GraphQL layer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "seqgql"

FORBIDDEN_IN_DOMAIN = (
    "strawberry",
    "starlette",
    "sqlalchemy",
    "sqlmodel",
    "asyncpg",
    "aiosqlite",
    "broadcaster",
    "uvicorn",
    "seqgql.persistence",
    "seqgql.services",
    "seqgql.graphql",
    "seqgql.events",
    "seqgql.app",
)


def imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, as absolute dotted names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = "seqgql." + ".".join(path.relative_to(PACKAGE).parent.parts)
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rstrip(".").split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.append(module)
            names.extend(f"{module}.{alias.name}" for alias in node.names)
    return names


def _is_under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCE_FILES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)
MODULES = {module_name(p): p for p in SOURCE_FILES}


def imported_seqgql_modules(path: Path) -> set[str]:
    """The seqgql modules ``path`` imports anywhere in it (lazy and TYPE_CHECKING imports
    included): ``from a.b import c`` names ``a.b.c`` when that is a module, else ``a.b``."""
    found: set[str] = set()
    for name in imported_modules(path):
        if name in MODULES:
            found.add(name)
    # an imported name that is not a module stands for its module
    for name in imported_modules(path):
        if name not in MODULES and name.rpartition(".")[0] in MODULES:
            found.add(name.rpartition(".")[0])
    found.discard(module_name(path))
    return found


def import_cycles() -> list[list[str]]:
    """Every cycle of the import graph (its strongly connected components of 2+ modules,
    and modules importing themselves), as sorted module lists."""
    graph = {name: imported_seqgql_modules(path) for name, path in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def test_no_import_cycles() -> None:
    """No two modules of seqgql import each other, directly or around a loop (not even
    lazily inside a function, nor for type checking only)."""
    assert import_cycles() == []


def test_the_cycle_finder_sees_imports() -> None:
    """The check above would pass vacuously if the graph saw no edges."""
    edges = {name: imported_seqgql_modules(path) for name, path in MODULES.items()}
    assert "seqgql.graphql.relay" in edges["seqgql.graphql.enrollment_types"]
    assert "seqgql.services.enrollments" in edges["seqgql.graphql.mutations.enrollment_mutations"]
    assert "seqgql.services.enrollments.actions" in edges["seqgql.services.enrollments"]


INNER_LAYERS = ("domain", "persistence", "events", "outbound", "services", "engine")


@pytest.mark.parametrize(
    "path",
    [p for p in SOURCE_FILES if p.relative_to(PACKAGE).parts[0] in INNER_LAYERS],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_inner_layers_do_not_import_the_graphql_layer(path: Path) -> None:
    """The GraphQL layer sits on top: services, the engine, the domain (and what they use)
    know nothing of it."""
    offending = sorted(n for n in imported_modules(path) if _is_under(n, "seqgql.graphql"))
    assert not offending, f"src/seqgql/{path.relative_to(PACKAGE)} imports {offending}"


def test_no_two_modules_share_a_name() -> None:
    """A module's name says what it holds, once: no two modules of seqgql have the same
    file name (packages' __init__ aside)."""
    names = [p.name for p in SOURCE_FILES if p.name != "__init__.py"]
    assert sorted({n for n in names if names.count(n) > 1}) == []


DOMAIN_FILES = sorted((PACKAGE / "domain").glob("*.py"))
GRAPHQL_FILES = sorted((PACKAGE / "graphql").rglob("*.py"))


def test_the_layers_exist() -> None:
    assert (PACKAGE / "domain" / "status.py") in DOMAIN_FILES
    assert (PACKAGE / "graphql" / "schema.py") in GRAPHQL_FILES


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.name)
def test_domain_imports_no_framework_driver_or_outer_layer(path: Path) -> None:
    offending = sorted(
        {
            name
            for name in imported_modules(path)
            for prefix in FORBIDDEN_IN_DOMAIN
            if _is_under(name, prefix)
        }
    )
    assert not offending, f"src/seqgql/domain/{path.name} imports {offending}"


SQL_CALLS = re.compile(
    r"\bsa\.(select|insert|update|delete|text)\s*\("
    r"|\bsqlalchemy\.(select|insert|update|delete|text)\s*\("
    # a connection's execute (a schema's executes GraphQL)
    r"|(?<!schema)(?<!super\(\))\.execute\s*\("
    r"|\.scalars?\s*\("
)


@pytest.mark.parametrize("path", GRAPHQL_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_graphql_layer_runs_no_sql(path: Path) -> None:
    """Resolvers call services; the SQL lives in services/ and persistence/."""
    source = path.read_text()
    hits = [
        f"{n}: {line.strip()}"
        for n, line in enumerate(source.splitlines(), start=1)
        if SQL_CALLS.search(line)
    ]
    assert not hits, f"SQL in src/seqgql/graphql/{path.relative_to(PACKAGE / 'graphql')}: {hits}"
    tables = [
        name for name in imported_modules(path) if _is_under(name, "seqgql.persistence.tables")
    ]
    assert not tables, f"{path.name} imports the tables {tables}: query them in a service"


def test_the_import_walker_sees_imports() -> None:
    """The checks above would pass vacuously if the walker saw nothing."""
    names = imported_modules(PACKAGE / "graphql" / "queries.py")
    assert "strawberry" in names
    assert any(_is_under(n, "seqgql.services") for n in names)
    assert SQL_CALLS.search("rows = await conn.execute(sa.select(t))")
