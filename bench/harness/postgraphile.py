"""PostGraphile 4 as a peer: installed from the npm registry into a cache folder (exact
versions, once), run as a node process on 127.0.0.1 over the benchmark's database, with
the connection-filter plugin (and its relation filters, for the contact's search)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import httpx

from bench.harness.servers import Process, free_loopback_socket, stop_process

POSTGRAPHILE = "4.14.1"
CONNECTION_FILTER = "2.3.0"  # the plugin's line for PostGraphile 4 (3.x and later: 5)
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "seqgql-bench"
# its options that the command line has no flag for
RC = """module.exports = {
  options: {
    appendPlugins: [require("postgraphile-plugin-connection-filter")],
    graphileBuildOptions: { connectionFilterRelations: true },
  },
};
"""


def install() -> Path:
    """The folder holding PostGraphile and the plugin (``npm install`` there the first
    time, or when the versions changed)."""
    folder = CACHE / "postgraphile"
    wanted = {"postgraphile": POSTGRAPHILE, "postgraphile-plugin-connection-filter":
              CONNECTION_FILTER}  # fmt: skip
    manifest = folder / "package.json"
    installed = json.loads(manifest.read_text()).get("dependencies") if manifest.exists() else None
    if installed != wanted or not (folder / "node_modules" / "postgraphile").exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("--peer postgraphile needs node and npm on PATH")
        folder.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps({"name": "seqgql-bench-peer", "private": True}))
        packages = [f"{name}@{version}" for name, version in wanted.items()]
        import subprocess

        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--save-exact", *packages],
            cwd=folder, check=True, timeout=600,
        )  # fmt: skip
    (folder / ".postgraphilerc.js").write_text(RC)
    return folder


async def start(url: str, pool: int) -> tuple[Process, int]:
    """PostGraphile serving ``url``'s public schema; returns the node process and its port
    once /graphql answers."""
    folder = install()
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("--peer postgraphile needs node on PATH")
    with free_loopback_socket() as sock:
        port = sock.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        node, str(folder / "node_modules" / "postgraphile" / "cli.js"),
        "--connection", url, "--schema", "public", "--host", "127.0.0.1",
        "--port", str(port), "--max-pool-size", str(pool), "--disable-query-log",
        "--disable-graphiql", "--no-setof-functions-contain-nulls",
        cwd=folder, stdout=asyncio.subprocess.DEVNULL, env={**os.environ, "NODE_ENV": "production"},
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as c:
            for _ in range(600):
                try:
                    answer = await c.post("/graphql", json={"query": "{ __typename }"})
                    if answer.status_code == 200:
                        return process, port
                except httpx.TransportError:
                    pass
                if process.returncode is not None:
                    break
                await asyncio.sleep(0.1)
        raise RuntimeError("PostGraphile did not start")
    except BaseException:
        await stop_process(process)
        raise


def page_document(search: bool, steps: bool) -> str:
    """The page's query in PostGraphile's schema: the same filter (the workspace, the
    sequence, statuses, steps, the contact's search text), order and fields."""
    parts = ["workspaceId: {equalTo: $ws}", "sequenceId: {equalTo: $seq}",
             "status: {in: $statuses}"]  # fmt: skip
    params = ["$ws: BigInt!", "$seq: BigInt!", "$statuses: [String!]", "$first: Int"]
    if steps:
        parts.append("currentStep: {in: $steps}")
        params.append("$steps: [Int!]")
    if search:
        parts.append("contactByContactId: {searchText: {includes: $search}}")
        params.append("$search: String")
    return (
        f"query Page({', '.join(params)}) {{\n"
        f"  allEnrollments(first: $first, orderBy: [ENROLLED_AT_DESC, ID_DESC],\n"
        f"    filter: {{{', '.join(parts)}}}) {{\n"
        "    edges { cursor node { id status reason currentStep enrolledAt nextRunAt\n"
        "      contactByContactId { id firstName lastName email } userByEnrolledById { name } } }\n"
        "    pageInfo { hasNextPage endCursor }\n  }\n}"
    )
