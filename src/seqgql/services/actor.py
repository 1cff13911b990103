"""Who is acting: every service call is confined to the actor's workspace."""

from __future__ import annotations

from dataclasses import dataclass, field

from seqgql.domain.kinds import Role


@dataclass(frozen=True, slots=True)
class Actor:
    workspace_id: int
    user_id: int | None
    role: Role
    # the API token it acts through: its rate limits are the token's (not part of who
    # acts: two actors alike compare equal whichever token they came by)
    token_id: int | None = field(default=None, compare=False)

    @property
    def can_mutate(self) -> bool:
        return self.role.can_mutate
