"""Counting a sequence's enrollments per step: the funnel a dashboard draws.

Where an enrollment is counted:

- still going through the sequence (ACTIVE, PAUSED, NOT_SENT): at its current step, the
  step it waits to send; once every step is sent (no current step), at the last step sent
  (an ACTIVE one there is waiting out the reply window);
- ended (FINISHED, BOUNCED, FAILED, OPTED_OUT, OMITTED, REMOVED): at the last step it was
  sent (``last_sent_step``: a message accepted by the transport), or before the first
  step when it was sent none;

so each enrollment is counted once. ``reached`` counts, at each step, the enrollments
whose last step sent is that one or a later one, whatever their status. ``activities``
counts what the step's messages met (sent, delivered, opened, clicked, replied, bounced,
deferred...), from the activities in the event log.

Two statements read any number of sequences: their enrollments grouped by status,
outcome, current step and last step sent (a few rows per step), tallied here, and their
activities grouped by step and kind.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from seqgql.domain.kinds import ActivityKind
from seqgql.domain.status import EnrollmentStatus, Outcome
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments, events

_S = EnrollmentStatus
_e = enrollments.c
GROUPED = (_e.sequence_id, _e.status, _e.outcome, _e.current_step, _e.last_sent_step)
GOING = frozenset({_S.ACTIVE, _S.PAUSED, _S.NOT_SENT})
# enrollments alike: (status, outcome, current step, last step sent, how many)
Group = tuple[EnrollmentStatus, Outcome | None, int | None, int, int]


@dataclass(slots=True)
class EndedTally:
    """Enrollments that ended (at one step, or before the first)."""

    responded: int = 0
    no_response: int = 0
    stopped: int = 0
    finished: int = 0  # all FINISHED ones, the three outcomes and any without one
    bounced: int = 0
    failed: int = 0
    opted_out: int = 0
    omitted: int = 0
    removed: int = 0

    @property
    def total(self) -> int:
        terminal = self.bounced + self.failed + self.opted_out + self.omitted + self.removed
        return self.finished + terminal

    def add(self, status: EnrollmentStatus, outcome: Outcome | None, count: int) -> None:
        if status is _S.FINISHED:
            self.finished += count
            if outcome is Outcome.RESPONDED:
                self.responded += count
            elif outcome is Outcome.NO_RESPONSE:
                self.no_response += count
            elif outcome is Outcome.STOPPED:
                self.stopped += count
            return
        name = {
            _S.BOUNCED: "bounced",
            _S.FAILED: "failed",
            _S.OPTED_OUT: "opted_out",
            _S.OMITTED: "omitted",
            _S.REMOVED: "removed",
        }[status]
        setattr(self, name, getattr(self, name) + count)


@dataclass(slots=True)
class StepTally:
    """The enrollments at one step (see the module), and how many reached it."""

    reached: int = 0  # filled in by StepCounts.at
    active: int = 0  # ACTIVE, waiting to send this step
    paused: int = 0
    not_sent: int = 0
    awaiting_reply: int = 0  # ACTIVE with every step sent, this one the last
    ended: EndedTally = field(default_factory=EndedTally)
    activities: dict[ActivityKind, int] = field(default_factory=dict)  # of this step


@dataclass(slots=True)
class StepCounts:
    """One sequence's enrollments per step position (positions with none are missing
    from ``steps``), those that ended before the first, and how many enrollments have
    each last step sent (what ``reached`` adds up)."""

    steps: dict[int, StepTally] = field(default_factory=dict)
    before_first_step: EndedTally = field(default_factory=EndedTally)
    last_sent: dict[int, int] = field(default_factory=dict)

    def at(self, position: int) -> StepTally:
        """The tally at ``position`` (zeros where none), ``reached`` filled in."""
        found = self.steps.get(position) or StepTally()
        reached = sum(count for last, count in self.last_sent.items() if last >= position)
        return replace(found, reached=reached)


def tally(rows: list[Group]) -> StepCounts:
    """Counts per step from groups of enrollments alike."""
    counts = StepCounts()
    sent = counts.last_sent
    for status, outcome, current_step, last_sent_step, count in rows:
        sent[last_sent_step] = sent.get(last_sent_step, 0) + count
        if status in GOING:
            position = current_step if current_step is not None else last_sent_step
            if position < 1:
                continue  # a sequence without steps: nowhere to count it
            at = counts.steps.setdefault(position, StepTally())
            if status is _S.ACTIVE and current_step is None:
                at.awaiting_reply += count
            elif status is _S.ACTIVE:
                at.active += count
            elif status is _S.PAUSED:
                at.paused += count
            else:
                at.not_sent += count
        elif last_sent_step < 1:
            counts.before_first_step.add(status, outcome, count)
        else:
            counts.steps.setdefault(last_sent_step, StepTally()).ended.add(status, outcome, count)
    return counts


def step_counts_statement(workspace_id: int, sequence_ids: list[int]) -> sa.Select[Any]:
    """The sequences' enrollments grouped by status, outcome, current and last sent step.
    On PostgreSQL it reads each sequence's rows through an index on sequence_id
    (tests/services/test_step_counts.py looks at the plan)."""
    return (
        sa.select(*GROUPED, sa.func.count())
        .where(_e.workspace_id == workspace_id, _e.sequence_id.in_(sequence_ids))
        .group_by(*GROUPED)
    )


async def step_counts_by_sequence(
    db: Database, workspace_id: int, sequence_ids: list[int]
) -> dict[int, StepCounts]:
    """The counts per step of each sequence (the ids already checked by the caller; the
    workspace bounds them anyway); a sequence without enrollments is missing."""
    groups: dict[int, list[Group]] = defaultdict(list)
    async with db.read() as conn:
        rows = await conn.execute(step_counts_statement(workspace_id, sequence_ids))
        for sequence_id, status, outcome, current_step, last_sent_step, count in rows:
            groups[sequence_id].append(
                (
                    EnrollmentStatus(status),
                    None if outcome is None else Outcome(outcome),
                    current_step,
                    last_sent_step,
                    count,
                )
            )
        found = {sequence_id: tally(alike) for sequence_id, alike in groups.items()}
        activity = await conn.execute(activity_counts_statement(workspace_id, sequence_ids))
        for sequence_id, step, kind, count in activity:
            at = found.setdefault(sequence_id, StepCounts()).steps.setdefault(step, StepTally())
            at.activities[ActivityKind(kind)] = count
    return found


def activity_counts_statement(workspace_id: int, sequence_ids: list[int]) -> sa.Select[Any]:
    """The sequences' activities of a step (their events in the log) counted per step and
    kind; sendMessage messages (no step) are not counted."""
    v = events.c
    return (
        sa.select(v.sequence_id, v.to_step, v.activity, sa.func.count())
        .where(
            v.workspace_id == workspace_id,
            v.sequence_id.in_(sequence_ids),
            v.activity.is_not(None),
            v.to_step.is_not(None),
        )
        .group_by(v.sequence_id, v.to_step, v.activity)
    )
