"""The User node."""

from __future__ import annotations

import strawberry

from seqgql.graphql.enums import Role
from seqgql.graphql.node import Node
from seqgql.graphql.relay import global_id
from seqgql.persistence.types import Row


@strawberry.type(name="User", description="A member of the workspace.")
class UserType(Node):
    name: str
    email: str
    role: Role

    @classmethod
    def from_row(cls, row: Row) -> UserType:
        return cls(id=global_id("User", row.id), name=row.name, email=row.email, role=row.role)
