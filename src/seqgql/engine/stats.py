"""What a batch of the engine did, counted."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from seqgql.observability.metrics import ENGINE_STEPS


@dataclass
class BatchStats:
    sent: int = 0
    rescheduled: int = 0
    completed: int = 0
    not_sent: int = 0
    opted_out: int = 0
    resumed: int = 0
    bounced: int = 0
    failed: int = 0
    retried: int = 0  # transient transport failures, tried again later
    held: int = 0  # over the sequence's daily limit for the sender: waiting for tomorrow
    deferred: int = 0  # status changes left for a later batch (sequence lock busy)
    not_attempted: int = 0  # the worker was stopping: left due

    @property
    def processed(self) -> int:
        return (
            self.sent
            + self.rescheduled
            + self.completed
            + self.not_sent
            + self.opted_out
            + self.bounced
            + self.failed
            + self.retried
            + self.held
        )

    def add(self, other: BatchStats) -> None:
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)


def count_steps(stats: BatchStats) -> None:
    """Add a batch's counts to the engine's metrics (by outcome)."""
    for outcome, count in asdict(stats).items():
        if count:
            ENGINE_STEPS.labels(outcome).inc(count)
