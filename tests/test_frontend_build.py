"""The dashboard's bundle in the package is the build of the sources in frontend/: the
manifest `npm run build` writes lists the SHA-256 of every source and every output, and
both must match the files as committed (a source changed without a rebuild, or a bundle
edited by hand, fails here). A machine without Node never builds: it serves the bundle."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "frontend"
BUNDLE = ROOT / "src" / "seqgql" / "web" / "static" / "app"
REBUILD = "run `cd frontend && npm ci && npm run build` and commit what it writes"


def digests(folder: Path, files: list[Path]) -> dict[str, str]:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}


def manifest() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = json.loads((FRONTEND / "build-manifest.json").read_text())
    return found


def test_the_sources_are_those_the_bundle_was_built_from() -> None:
    sources = [FRONTEND / n for n in ("package.json", "package-lock.json", "build.mjs")]
    sources += sorted(p for p in (FRONTEND / "src").rglob("*") if p.is_file())
    assert digests(FRONTEND, sources) == manifest()["sources"], REBUILD


def test_the_bundle_is_the_build_output() -> None:
    outputs = sorted(p for p in BUNDLE.rglob("*") if p.is_file())
    assert {"dashboard.js", "dashboard.css", "LICENSES.txt"} <= {p.name for p in outputs}
    assert digests(BUNDLE, outputs) == manifest()["outputs"], REBUILD


def test_every_npm_package_is_locked_and_named_in_the_readme() -> None:
    """One build command on a lockfile: every dependency pinned there, each one's reason
    given in the README."""
    package = json.loads((FRONTEND / "package.json").read_text())
    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    readme = (ROOT / "README.md").read_text()
    assert package["scripts"]["build"] == "node build.mjs"
    for name in {**package["dependencies"], **package["devDependencies"]}:
        assert f"node_modules/{name}" in lock["packages"], name
        assert f"`{name}`" in readme, f"README: say why {name} is there"
