"""The User node and the connection that lists users."""

from __future__ import annotations

import strawberry

from seqgql.graphql.enums import Role
from seqgql.graphql.node import Node
from seqgql.graphql.relay import Connection, global_id
from seqgql.persistence.types import Row


@strawberry.type(
    name="User",
    description="A member of the workspace: enrolls contacts and owns API tokens.",
)
class UserType(Node):
    name: str = strawberry.field(description="Display name.")
    email: str = strawberry.field(description="Email address, unique in the workspace.")
    role: Role = strawberry.field(description="What the user may do: a VIEWER only reads.")

    @classmethod
    def from_row(cls, row: Row) -> UserType:
        return cls(id=global_id("User", row.id), name=row.name, email=row.email, role=row.role)


@strawberry.type(description="Users, a page at a time, by name.")
class UserConnection(Connection[UserType]):
    pass
