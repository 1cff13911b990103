"""What every node type shares: the ``Node`` interface, the resolver ``info`` type, and the
metadata key that lets the fast path read a resolver's known value."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from seqgql.graphql.context import Context

ContextInfo = Info[Context, None]

# Metadata of a field with a resolver: {KNOWN_VALUE: "attr"} promises that whenever the
# source object's `attr` is not None, the resolver returns it unchanged, so the executor
# (seqgql.graphql.shortcuts.ShortcutExecutor) may take it without calling the resolver.
KNOWN_VALUE = "seqgql.known_value"


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="The global id: stable, opaque, unique across types."
    )
