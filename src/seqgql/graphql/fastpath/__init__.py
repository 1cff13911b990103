"""The fast path of GraphQL execution: ``ShortcutExecutor`` (executor.py) completes the
fields that only read an attribute without graphql-core's per-field machinery, with the
programs of programs.py. Every use of a Strawberry or graphql-core internal is in
compat.py, with the versions it was proven on. Switched off by GRAPHQL_FAST_PATH=false.

Imports nothing else of seqgql.graphql: the types import ``KNOWN_VALUE`` from here."""

from seqgql.graphql.fastpath.executor import ShortcutExecutor
from seqgql.graphql.fastpath.programs import KNOWN_VALUE

__all__ = ["KNOWN_VALUE", "ShortcutExecutor"]
