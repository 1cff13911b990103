"""The README's map of the tree names files and packages that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "seqgql"


def development_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Development")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def named_paths() -> set[str]:
    """Every `backticked` file (…py) or package (…/) the section names."""
    names: set[str] = set()
    for token in re.findall(r"`([^`]+)`", development_section()):
        for word in re.split(r"[\s(),]+", token):
            if re.fullmatch(r"[\w/]+\.py|[\w/]+/", word):
                names.add(word)
    return names


def test_the_map_names_only_what_exists() -> None:
    sources = [p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")]
    packages = {p.relative_to(PACKAGE).as_posix() + "/" for p in PACKAGE.rglob("*") if p.is_dir()}
    missing = []
    for name in sorted(n for n in named_paths() - {"src/seqgql/"} if not n.startswith("tests/")):
        if name.endswith("/"):
            found = name in packages or any(p.endswith("/" + name) for p in packages)
        else:
            found = any(s == name or s.endswith("/" + name) for s in sources)
        if not found:
            missing.append(name)
    assert missing == []


def test_the_map_covers_every_package() -> None:
    named = named_paths()
    for package in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        assert f"{package.name}/" in named, f"the README's map does not name {package.name}/"
    assert len(named) > 40  # the section was read


def test_the_guarantees_point_at_tests_that_exist() -> None:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Guarantees") : text.index("## Development")]
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", section))
    assert len(named) >= 10
    assert sorted(p for p in named if not (ROOT / p).exists()) == []
