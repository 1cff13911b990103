"""The tests' own layout: what they share lives in tests/helpers/, and no module under tests/
imports a test module (tests/**/test_*.py) or a conftest.py; conftest.py files hold
fixtures. Within tests/, only ``tests.helpers`` may be imported."""

from __future__ import annotations

import ast
from importlib.util import resolve_name
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
HELPERS = "tests.helpers"


def package_of(path: Path) -> str:
    """``tests/api/test_auth.py`` -> ``tests.api``: what its relative imports start from."""
    return ".".join(path.relative_to(ROOT).parent.parts)


def imported_modules(source: str, package: str) -> list[str]:
    """Every module ``source`` (a module of ``package``) imports, as absolute dotted names;
    ``from m import n`` counts as both ``m`` and ``m.n`` (n may be a submodule)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            name = resolve_name("." * node.level + (node.module or ""), package)
            found += [name, *(f"{name}.{alias.name}" for alias in node.names)]
    return found


def _is_under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def forbidden(names: list[str]) -> list[str]:
    """The imports of modules under ``tests`` that are not under ``tests.helpers``.

    ``from tests.helpers import x`` also yields ``tests.helpers.x`` and ``from tests import
    helpers`` yields ``tests`` and ``tests.helpers``: a bare package name counts only
    when nothing under it is named too."""
    own = {n for n in names if _is_under(n, "tests")}
    return sorted(
        n
        for n in own
        if not _is_under(n, HELPERS)
        and not any(other != n and _is_under(other, n) for other in own)
    )


SOURCES = sorted(p for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_under_tests_imports_a_test_module_or_a_conftest() -> None:
    assert TESTS / "conftest.py" in SOURCES
    assert TESTS / "helpers" / "bulk.py" in SOURCES
    offending = {}
    for path in SOURCES:
        if bad := forbidden(imported_modules(path.read_text(), package_of(path))):
            offending[str(path.relative_to(ROOT))] = bad
    assert not offending, f"import shared code from {HELPERS} only: {offending}"


def test_the_check_sees_every_kind_of_import() -> None:
    """The check above would pass vacuously if the walker or the rule saw nothing."""
    package = "tests.engine"  # of tests/engine/test_daily_limit.py
    bad = {
        "from tests.api.test_bulk_actions import mutate": "tests.api.test_bulk_actions.mutate",
        "from tests.conftest import START": "tests.conftest.START",
        "import tests.conftest": "tests.conftest",
        "import tests.api.test_subscriptions as subs": "tests.api.test_subscriptions",
        "from tests.api import test_subscriptions": "tests.api.test_subscriptions",
        "from .test_delivery_outcomes import enroll": "tests.engine.test_delivery_outcomes.enroll",
        "from . import test_shutdown": "tests.engine.test_shutdown",
        "from ..conftest import Workspace": "tests.conftest.Workspace",
        "from tests import conftest": "tests.conftest",
        "from tests.factories import gid": "tests.factories.gid",
    }
    for source, name in bad.items():
        assert forbidden(imported_modules(source, package)) == [name], source
    for fine in (
        "from tests.helpers.bulk import mutate",
        "from tests.helpers import engine",
        "from tests import helpers",
        "import tests.helpers.smtp",
        "from ..helpers.clocks import START",
        "import pytest\nfrom seqgql.clock import FrozenClock",
    ):
        assert forbidden(imported_modules(fine, package)) == [], fine
    helper_source = "from .bulk import node\nfrom ..api.test_auth import snapshot"  # in helpers/
    assert forbidden(imported_modules(helper_source, "tests.helpers")) == [
        "tests.api.test_auth.snapshot"
    ]
