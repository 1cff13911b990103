"""A workspace of its own for each test: its name, a token and the actor behind it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from seqgql.services.actor import Actor
from seqgql.services.auth import issue_token


@dataclass
class Workspace:
    name: str
    token: str
    actor: Actor


async def make_workspace(db: Database, clock: FrozenClock, role: Role = Role.ADMIN) -> Workspace:
    name = f"ws-{uuid.uuid4().hex[:10]}"
    issued = await issue_token(db, clock, email=f"admin@{name}.test", workspace=name, role=role)
    return Workspace(name, issued.token, Actor(issued.workspace_id, issued.user_id, role))
