"""What every resolver gets: the database, the clock, the caller and batch loaders."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from seqgql.clock import Clock
from seqgql.domain.status import EnrollmentStatus
from seqgql.domain.webhooks import WebhookRules
from seqgql.events.bus import EventBus
from seqgql.outbound.transport import Transport
from seqgql.persistence.database import Database, patiently
from seqgql.persistence.types import Row
from seqgql.services.actor import Actor
from seqgql.services.contacts.groups import groups_by_ids
from seqgql.services.contacts.roster import contacts_by_ids
from seqgql.services.enrollments.operation_records import operations_by_ids
from seqgql.services.enrollments.page import enrollments_by_ids
from seqgql.services.rate_limits import Allowance
from seqgql.services.sequences.catalog import (
    sequences_by_ids,
    status_counts_by_sequence,
    steps_by_sequence,
)
from seqgql.services.sequences.step_counts import StepCounts, step_counts_by_sequence
from seqgql.services.users import users_by_ids

K = TypeVar("K")
V = TypeVar("V")


def _loader(
    fetch: Callable[[list[K]], Awaitable[dict[K, V]]],
    default: Callable[[], V | None],
    patient: bool = False,
) -> DataLoader[K, V | None]:
    async def load(keys: Sequence[K]) -> list[V | None]:
        if patient:
            found = await patiently(lambda: fetch(list(keys)))
        else:
            found = await fetch(list(keys))
        return [found.get(k, default()) for k in keys]

    return DataLoader(load_fn=load)


class Loaders:
    """The batch loaders of one request (or one subscription's execution), each made on
    first use: a websocket connection that never resolves a row keeps none. ``patient``
    loaders (a subscription's) wait while the database is out of reach instead of failing
    (``persistence.database.patiently``)."""

    def __init__(self, db: Database, workspace_id: int, *, patient: bool = False) -> None:
        self._db = db
        self._workspace_id = workspace_id
        self._patient = patient

    def _scoped(
        self, fetch: Callable[[Database, int, list[int]], Awaitable[dict[int, Row]]]
    ) -> DataLoader[int, Row | None]:
        db, workspace_id = self._db, self._workspace_id
        return _loader(lambda ids: fetch(db, workspace_id, ids), lambda: None, self._patient)

    @cached_property
    def sequences(self) -> DataLoader[int, Row | None]:
        return self._scoped(sequences_by_ids)

    @cached_property
    def contacts(self) -> DataLoader[int, Row | None]:
        return self._scoped(contacts_by_ids)

    @cached_property
    def users(self) -> DataLoader[int, Row | None]:
        return self._scoped(users_by_ids)

    @cached_property
    def groups(self) -> DataLoader[int, Row | None]:
        return self._scoped(groups_by_ids)

    @cached_property
    def enrollments(self) -> DataLoader[int, Row | None]:
        return self._scoped(enrollments_by_ids)

    @cached_property
    def operations(self) -> DataLoader[int, Row | None]:
        return self._scoped(operations_by_ids)

    @cached_property
    def steps(self) -> DataLoader[int, list[Row] | None]:
        db = self._db
        return _loader(lambda ids: steps_by_sequence(db, ids), list, self._patient)

    @cached_property
    def sequence_counts(self) -> DataLoader[int, dict[EnrollmentStatus, int] | None]:
        db, workspace_id = self._db, self._workspace_id
        return _loader(
            lambda ids: status_counts_by_sequence(db, workspace_id, ids), dict, self._patient
        )

    @cached_property
    def step_counts(self) -> DataLoader[int, StepCounts | None]:
        db, workspace_id = self._db, self._workspace_id
        return _loader(
            lambda ids: step_counts_by_sequence(db, workspace_id, ids), StepCounts, self._patient
        )

    def forget(self, key: int, *names: str) -> None:
        """Drop a cached row (after a mutation changed it) from the named loaders."""
        for name in names:
            loader: DataLoader[int, Any] | None = self.__dict__.get(name)
            if loader is not None:
                with contextlib.suppress(KeyError):
                    loader.clear(key)


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
    # the websocket of a subscription's connection (shared payloads are sent on it as
    # text, encoded once for every subscriber)
    socket: WebSocket | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # what this request was charged of its token's rate limits (``rate_limiting``)
    rate_limit: Allowance | None = None
    # where webhook endpoints may point, how long a rotated secret still signs
    webhook_rules: WebhookRules = field(default_factory=WebhookRules)

    @property
    def workspace_id(self) -> int:
        return self.actor.workspace_id


T = TypeVar("T")


async def loaded(
    loader: DataLoader[int, Row | None], pk: int | None, build: Callable[[Row], T]
) -> T | None:
    """The node a batch loader finds for ``pk`` (None: no id, or no such row)."""
    if pk is None:
        return None
    row = await loader.load(pk)
    return build(row) if row is not None else None
