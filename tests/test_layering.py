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
    r"|\.execute\s*\("
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
