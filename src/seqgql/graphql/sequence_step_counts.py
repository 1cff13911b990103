"""What the ``sequenceStepCounts`` subscription sends: a sequence's counts per step."""

from __future__ import annotations

import strawberry

from seqgql.graphql.node import ContextInfo
from seqgql.graphql.relay import to_global_id
from seqgql.graphql.sequence_types import SequenceType
from seqgql.graphql.step_count_types import EndedCounts, StepCount, step_count_list
from seqgql.persistence.types import Row
from seqgql.services.sequences.step_counts import StepCounts


@strawberry.type(
    description="A sequence's enrollments counted per step (see StepCount). Its `id` is "
    "the sequence's, so a client cache keeps one per sequence; select `sequence { id "
    "stepCounts { … } }` to have a cache's Sequence take the pushed counts too."
)
class SequenceStepCounts:
    id: strawberry.ID = strawberry.field(
        description="The sequence's global id (the same as `sequenceId`): these counts' "
        "identity in a client cache."
    )
    sequence_id: strawberry.ID = strawberry.field(description="The sequence counted.")
    steps: list[StepCount] = strawberry.field(
        description="One entry per step of the sequence, in order, zeros where none."
    )
    ended_before_first_step: EndedCounts = strawberry.field(
        description="Those that ended before any step was sent to them."
    )
    pk: strawberry.Private[int]
    known: strawberry.Private[StepCounts]

    @strawberry.field(
        description="The sequence counted, its `stepCounts` and `endedBeforeFirstStep` "
        "being these counts (a client cache that holds the Sequence updates with them)."
    )
    async def sequence(self, info: ContextInfo) -> SequenceType | None:
        loaders = info.context.loaders
        loaders.step_counts.prime(self.pk, self.known, force=True)
        row = await loaders.sequences.load(self.pk)
        return SequenceType.from_row(row) if row else None

    @classmethod
    def of(cls, pk: int, steps: list[Row], counts: StepCounts) -> SequenceStepCounts:
        sequence_id = strawberry.ID(to_global_id("Sequence", pk))
        return cls(
            id=sequence_id,
            sequence_id=sequence_id,
            steps=step_count_list(steps, counts),
            ended_before_first_step=EndedCounts.of(counts.before_first_step),
            pk=pk,
            known=counts,
        )
