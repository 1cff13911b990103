"""What every node type shares: the ``Node`` interface, the resolver ``info`` type, and the
metadata key that lets the fast path read a resolver's known value."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from seqgql.graphql.context import Context
from seqgql.graphql.fastpath import KNOWN_VALUE

ContextInfo = Info[Context, None]

# KNOWN_VALUE (defined by the fast path): metadata of a field with a resolver,
# {KNOWN_VALUE: "attr"}, promising that whenever the source object's `attr` is not None
# the resolver returns it unchanged, so the executor may take it without the resolver.
__all__ = ["KNOWN_VALUE", "ContextInfo", "Node"]


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="The global id: stable, opaque, unique across types."
    )
