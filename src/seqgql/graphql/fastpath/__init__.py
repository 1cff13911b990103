"""The fast path of GraphQL execution: ``ShortcutExecutor`` (executor.py) completes the
fields that only read an attribute without graphql-core's per-field machinery, with the
programs of programs.py. Every use of a Strawberry or graphql-core internal is in
compat.py, with the versions it was proven on. Switched off by GRAPHQL_FAST_PATH=false.

``ShortcutExecutor`` is imported on first use: with the fast path off, an upgrade that
moved an internal compat.py imports cannot stop the app from starting. Imports nothing
else of seqgql.graphql: the types import ``KNOWN_VALUE`` from here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from seqgql.graphql.fastpath.programs import KNOWN_VALUE

if TYPE_CHECKING:
    from seqgql.graphql.fastpath.executor import ShortcutExecutor

__all__ = ["KNOWN_VALUE", "ShortcutExecutor"]


def __getattr__(name: str) -> Any:
    if name == "ShortcutExecutor":
        from seqgql.graphql.fastpath.executor import ShortcutExecutor

        return ShortcutExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
