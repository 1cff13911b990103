#!/usr/bin/env python3
"""Refresh the browser files seqgql ships from the npm registry, at exact versions.

    python scripts/vendor_npm.py graphiql   # src/seqgql/web/static/graphiql/
    python scripts/vendor_npm.py axe        # tests/browser/vendor/ (the tests' axe-core)
    python scripts/vendor_npm.py            # both

Each package is fetched with `npm pack NAME@VERSION` (npm checks the tarball against the
registry's integrity hash), the files listed below are copied out of it, and a
LICENSES.txt beside them lists each package, its version, its licence and the tarball's
integrity, followed by the licence text. To upgrade, change a version here and run it;
the page names the files, not the versions, and the URLs carry content hashes.
Needs Node.js's npm (only here: the package ships the files).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: dict[str, str]  # path in the tarball (under package/) -> file name here
    licence_file: str | None = "LICENSE"
    licence_of: str = ""  # without a licence file: the text of this package (listed earlier)
    note: str = ""


# GraphiQL 3 is the last line with a UMD build on React 18 (what Strawberry's own page
# loads from a CDN); the explorer plugin 3.2.x is the one built for GraphiQL 3.8's
# @graphiql/react 0.28. graphiql.min.js bundles graphql-js, graphql-ws (subscriptions
# over graphql-transport-ws), CodeMirror 5 and @graphiql/react (all MIT).
GRAPHIQL = [
    Package("react", "18.3.1", {"umd/react.production.min.js": "react.production.min.js"}),
    Package(
        "react-dom", "18.3.1", {"umd/react-dom.production.min.js": "react-dom.production.min.js"}
    ),
    Package(
        "graphiql",
        "3.8.3",
        {"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css"},
        note="bundles @graphiql/react, @graphiql/toolkit, graphql, graphql-ws, codemirror "
        "(MIT each)",
    ),
    Package(
        "@graphiql/plugin-explorer",
        "3.2.5",
        {"dist/index.umd.js": "plugin-explorer.umd.js", "dist/style.css": "plugin-explorer.css"},
        licence_file=None,  # MIT per its package.json; the repository's LICENSE is graphiql's
        licence_of="graphiql",
        note="bundles graphiql-explorer (MIT); no LICENSE file in its tarball: the text "
        "below is that of its repository (graphql/graphiql), shipped in the graphiql package",
    ),
]
AXE = [
    Package(
        "axe-core",
        "4.14.1",
        {"axe.min.js": "axe.min.js"},
        note="third-party notices: LICENSE-3RD-PARTY.txt in its tarball",
    ),
]
TARGETS = {
    "graphiql": (ROOT / "src/seqgql/web/static/graphiql", GRAPHIQL),
    "axe": (ROOT / "tests/browser/vendor", AXE),
}


def pack(package: Package, workdir: Path) -> tuple[tarfile.TarFile, dict[str, object]]:
    spec = f"{package.name}@{package.version}"
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(workdir)],
        capture_output=True, text=True, check=True, cwd=workdir,
    ).stdout  # fmt: skip
    info: dict[str, object] = json.loads(out)[0]
    if info["version"] != package.version:
        raise SystemExit(f"npm gave {info['version']} for {spec}")
    return tarfile.open(workdir / str(info["filename"])), info


def read(archive: tarfile.TarFile, member: str) -> bytes:
    handle = archive.extractfile(f"package/{member}")
    if handle is None:
        raise SystemExit(f"{member} is not a file")
    return handle.read()


def vendor(dest: Path, packages: list[Package]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    notices = ["Browser files shipped with seqgql, fetched by scripts/vendor_npm.py.\n"]
    licences: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for package in packages:
            archive, info = pack(package, Path(tmp))
            with archive:
                for member, target in package.files.items():
                    (dest / target).write_bytes(read(archive, member))
                manifest = json.loads(read(archive, "package.json"))
                if package.licence_file:
                    text = read(archive, package.licence_file).decode()
                else:
                    text = licences[package.licence_of]
                licences[package.name] = text
            notices.append(
                "=" * 78 + "\n"
                f"{package.name} {package.version} ({manifest.get('license')})\n"
                f"files: {', '.join(package.files.values())}\n"
                f"tarball integrity: {info['integrity']}\n"
                + (f"note: {package.note}\n" if package.note else "")
                + "\n"
                + text.strip()
                + "\n"
            )
            print(f"{package.name}@{package.version} -> {dest.relative_to(ROOT)}")
    (dest / "LICENSES.txt").write_text("\n".join(notices))


def main(argv: list[str]) -> int:
    names = argv or list(TARGETS)
    for name in names:
        if name not in TARGETS:
            print(f"unknown set {name!r}; choose from {', '.join(TARGETS)}", file=sys.stderr)
            return 2
        vendor(*TARGETS[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
