"""What every resolver gets: the database, the clock, the caller and batch loaders."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from seqgql.clock import Clock
from seqgql.domain.status import EnrollmentStatus
from seqgql.events.bus import EventBus
from seqgql.persistence.database import Database
from seqgql.persistence.types import Row
from seqgql.services import enrollment_queries, lookups
from seqgql.services.actor import Actor
from seqgql.services.transport import Transport

K = TypeVar("K")
V = TypeVar("V")


def _loader(
    fetch: Callable[[list[K]], Awaitable[dict[K, V]]], default: Callable[[], V | None]
) -> DataLoader[K, V | None]:
    async def load(keys: Sequence[K]) -> list[V | None]:
        found = await fetch(list(keys))
        return [found.get(k, default()) for k in keys]

    return DataLoader(load_fn=load)


@dataclass
class Loaders:
    sequences: DataLoader[int, Row | None]
    contacts: DataLoader[int, Row | None]
    users: DataLoader[int, Row | None]
    groups: DataLoader[int, Row | None]
    enrollments: DataLoader[int, Row | None]
    steps: DataLoader[int, list[Row] | None]
    sequence_counts: DataLoader[int, dict[EnrollmentStatus, int] | None]

    def forget(self, key: int, *names: str) -> None:
        """Drop a cached row (after a mutation changed it) from the named loaders."""
        for name in names:
            loader: DataLoader[int, Any] = getattr(self, name)
            with contextlib.suppress(KeyError):
                loader.clear(key)

    @classmethod
    def create(cls, db: Database, workspace_id: int) -> Loaders:
        def scoped(
            fetch: Callable[[Database, int, list[int]], Awaitable[dict[int, Row]]],
        ) -> DataLoader[int, Row | None]:
            return _loader(lambda ids: fetch(db, workspace_id, ids), lambda: None)

        return cls(
            sequences=scoped(lookups.sequences_by_ids),
            contacts=scoped(lookups.contacts_by_ids),
            users=scoped(lookups.users_by_ids),
            groups=scoped(lookups.groups_by_ids),
            enrollments=scoped(enrollment_queries.enrollments_by_ids),
            steps=_loader(lambda ids: lookups.steps_by_sequence(db, ids), list),
            sequence_counts=_loader(
                lambda ids: lookups.status_counts_by_sequence(db, workspace_id, ids), dict
            ),
        )


@dataclass
class Context:
    db: Database
    clock: Clock
    actor: Actor
    transport: Transport
    loaders: Loaders
    bus: EventBus
    poll_seconds: float = 1.0
    # set by Strawberry from a websocket's connection_init payload
    connection_params: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def workspace_id(self) -> int:
        return self.actor.workspace_id
