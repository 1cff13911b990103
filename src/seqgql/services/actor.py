"""Who is acting: every service call is confined to the actor's workspace."""

from __future__ import annotations

from dataclasses import dataclass

from seqgql.domain.kinds import Role


@dataclass(frozen=True, slots=True)
class Actor:
    workspace_id: int
    user_id: int | None
    role: Role

    @property
    def can_mutate(self) -> bool:
        return self.role.can_mutate
