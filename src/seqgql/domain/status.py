"""The enrollment status model: statuses, reasons, actions and the transition table.

This module is the single definition. The database columns, the services and the
GraphQL enums all import these names; nothing else may restate them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class EnrollmentStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    FINISHED = "FINISHED"
    BOUNCED = "BOUNCED"
    FAILED = "FAILED"
    NOT_SENT = "NOT_SENT"
    OPTED_OUT = "OPTED_OUT"
    OMITTED = "OMITTED"
    REMOVED = "REMOVED"


class StatusReason(enum.StrEnum):
    # PAUSED
    MANUAL = "MANUAL"
    OUT_OF_OFFICE = "OUT_OF_OFFICE"
    ACTIVE_IN_OTHER_SEQUENCE = "ACTIVE_IN_OTHER_SEQUENCE"
    # FINISHED
    REPLIED = "REPLIED"
    MEETING_BOOKED = "MEETING_BOOKED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    CHANGED_JOBS = "CHANGED_JOBS"
    NO_LONGER_NEEDED = "NO_LONGER_NEEDED"
    OTHER = "OTHER"
    COMPLETED_NO_RESPONSE = "COMPLETED_NO_RESPONSE"
    COMPANY_REPLIED = "COMPANY_REPLIED"
    # NOT_SENT
    MISSING_EMAIL = "MISSING_EMAIL"
    MISSING_PHONE = "MISSING_PHONE"
    BLOCKED_BY_RULE = "BLOCKED_BY_RULE"
    # OMITTED
    OPTED_OUT = "OPTED_OUT"
    LANDLINE = "LANDLINE"
    # REMOVED (optional)
    MOVED = "MOVED"


class FinishReason(enum.StrEnum):
    """The reasons a user may give when marking enrollments finished."""

    REPLIED = StatusReason.REPLIED.value
    MEETING_BOOKED = StatusReason.MEETING_BOOKED.value
    UNSUBSCRIBED = StatusReason.UNSUBSCRIBED.value
    CHANGED_JOBS = StatusReason.CHANGED_JOBS.value
    NO_LONGER_NEEDED = StatusReason.NO_LONGER_NEEDED.value
    OTHER = StatusReason.OTHER.value

    @property
    def status_reason(self) -> StatusReason:
        return StatusReason(self.value)


REASONS_BY_STATUS: dict[EnrollmentStatus, frozenset[StatusReason]] = {
    EnrollmentStatus.ACTIVE: frozenset(),
    EnrollmentStatus.PAUSED: frozenset(
        {StatusReason.MANUAL, StatusReason.OUT_OF_OFFICE, StatusReason.ACTIVE_IN_OTHER_SEQUENCE}
    ),
    EnrollmentStatus.FINISHED: frozenset(
        {StatusReason(r.value) for r in FinishReason}
        | {StatusReason.COMPLETED_NO_RESPONSE, StatusReason.COMPANY_REPLIED}
    ),
    EnrollmentStatus.BOUNCED: frozenset(),
    EnrollmentStatus.FAILED: frozenset(),
    EnrollmentStatus.NOT_SENT: frozenset(
        {StatusReason.MISSING_EMAIL, StatusReason.MISSING_PHONE, StatusReason.BLOCKED_BY_RULE}
    ),
    EnrollmentStatus.OPTED_OUT: frozenset(),
    EnrollmentStatus.OMITTED: frozenset({StatusReason.OPTED_OUT, StatusReason.LANDLINE}),
    EnrollmentStatus.REMOVED: frozenset({StatusReason.MOVED}),
}
# Statuses whose reason may also be null.
REASON_OPTIONAL = frozenset({EnrollmentStatus.REMOVED})


class Outcome(enum.StrEnum):
    """How a FINISHED enrollment ended, in TextUs's three finished states."""

    RESPONDED = "RESPONDED"
    NO_RESPONSE = "NO_RESPONSE"
    STOPPED = "STOPPED"


def outcome_of(
    status: EnrollmentStatus, reason: StatusReason | None, *, by_user: bool
) -> Outcome | None:
    """The outcome of an enrollment that became ``status`` (only FINISHED has one): a
    user's finish is STOPPED whatever its reason; otherwise a reply detected is
    RESPONDED, the reply window passing is NO_RESPONSE, and a rule's finish (another
    contact of the company replied) is STOPPED."""
    if status is not EnrollmentStatus.FINISHED:
        return None
    if by_user:
        return Outcome.STOPPED
    if reason is StatusReason.COMPLETED_NO_RESPONSE:
        return Outcome.NO_RESPONSE
    if reason is StatusReason.REPLIED:
        return Outcome.RESPONDED
    return Outcome.STOPPED


class Action(enum.StrEnum):
    """Everything that can change an enrollment's status."""

    ENROLL = "ENROLL"
    REENROLL = "REENROLL"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    OUT_OF_OFFICE = "OUT_OF_OFFICE"
    REPLY = "REPLY"
    BOUNCE = "BOUNCE"
    FAIL = "FAIL"
    OPT_OUT = "OPT_OUT"
    FINISH = "FINISH"
    REMOVE = "REMOVE"
    COMPLETE = "COMPLETE"
    SKIP_STEP = "SKIP_STEP"
    RESTART = "RESTART"
    MOVE_STEP = "MOVE_STEP"
    MOVE = "MOVE"


class SkipReason(enum.StrEnum):
    """Why a bulk action left an enrollment as it was."""

    INVALID_TRANSITION = "INVALID_TRANSITION"
    ALREADY_IN_STATUS = "ALREADY_IN_STATUS"
    ALREADY_ENROLLED = "ALREADY_ENROLLED"
    ALL_STEPS_SENT = "ALL_STEPS_SENT"
    ALREADY_IN_GROUP = "ALREADY_IN_GROUP"
    CONTACT_OPTED_OUT = "CONTACT_OPTED_OUT"
    MISSING_EMAIL = "MISSING_EMAIL"
    MISSING_PHONE = "MISSING_PHONE"
    LANDLINE = "LANDLINE"
    ACTIVE_IN_OTHER_SEQUENCE = "ACTIVE_IN_OTHER_SEQUENCE"
    ALREADY_AT_STEP = "ALREADY_AT_STEP"
    CHANGED_SINCE = "CHANGED_SINCE"


_ALL = frozenset(EnrollmentStatus)
_S = EnrollmentStatus


@dataclass(frozen=True, slots=True)
class Transition:
    """What an action does: the statuses it applies to and the status it leads to.

    ``to_status`` is ``None`` for actions that change no status (resume with a date,
    restart, whose effect is in another sequence).
    """

    allowed_from: frozenset[EnrollmentStatus]
    to_status: EnrollmentStatus | None
    to_reason: StatusReason | None = None
    # of ``allowed_from``, those it applies to only when the contact can now receive the
    # step to send (otherwise skipped with why not: MISSING_EMAIL, LANDLINE, ...)
    if_reachable: frozenset[EnrollmentStatus] = frozenset()


TRANSITIONS: dict[Action, Transition] = {
    # A new enrollment has no "from"; the service decides ACTIVE or OMITTED(reason).
    Action.ENROLL: Transition(frozenset(), _S.ACTIVE),
    Action.REENROLL: Transition(frozenset({_S.REMOVED, _S.FINISHED}), _S.ACTIVE),
    Action.PAUSE: Transition(frozenset({_S.ACTIVE, _S.NOT_SENT}), _S.PAUSED, StatusReason.MANUAL),
    # NOT_SENT too: once the contact is fixed, resuming sends the step that was not sent.
    # FAILED and BOUNCED: a retry of the step that failed, when the contact can receive it.
    Action.RESUME: Transition(
        frozenset({_S.PAUSED, _S.NOT_SENT, _S.FAILED, _S.BOUNCED}),
        _S.ACTIVE,
        if_reachable=frozenset({_S.FAILED, _S.BOUNCED}),
    ),
    Action.OUT_OF_OFFICE: Transition(frozenset({_S.ACTIVE}), _S.PAUSED, StatusReason.OUT_OF_OFFICE),
    Action.REPLY: Transition(frozenset({_S.ACTIVE, _S.PAUSED}), _S.FINISHED, StatusReason.REPLIED),
    Action.BOUNCE: Transition(frozenset({_S.ACTIVE, _S.PAUSED, _S.NOT_SENT}), _S.BOUNCED),
    Action.FAIL: Transition(frozenset({_S.ACTIVE, _S.PAUSED, _S.NOT_SENT}), _S.FAILED),
    Action.OPT_OUT: Transition(
        frozenset({_S.ACTIVE, _S.PAUSED, _S.NOT_SENT, _S.BOUNCED, _S.FAILED}), _S.OPTED_OUT
    ),
    # The reason is the user's choice (a FinishReason).
    Action.FINISH: Transition(_ALL - {_S.REMOVED, _S.FINISHED}, _S.FINISHED),
    Action.REMOVE: Transition(_ALL - {_S.REMOVED}, _S.REMOVED),
    Action.COMPLETE: Transition(
        frozenset({_S.ACTIVE}), _S.FINISHED, StatusReason.COMPLETED_NO_RESPONSE
    ),
    # The reason is why the step could not be sent.
    Action.SKIP_STEP: Transition(frozenset({_S.ACTIVE}), _S.NOT_SENT),
    # Restart leaves the source enrollment as it is and enrolls its contact in a clone.
    Action.RESTART: Transition(frozenset({_S.REMOVED, _S.FINISHED}), None),
    # A step move changes the step only, of enrollments still going through the sequence.
    Action.MOVE_STEP: Transition(frozenset({_S.ACTIVE, _S.PAUSED, _S.NOT_SENT}), None),
    # A move to another sequence removes the source (linked to the new enrollment).
    Action.MOVE: Transition(_ALL - {_S.REMOVED}, _S.REMOVED, StatusReason.MOVED),
}

# Statuses of a contact "active in another sequence" (addContactsToSequence's
# ifActiveElsewhere): still going through it, not finished.
ACTIVE_ELSEWHERE = frozenset({_S.ACTIVE, _S.PAUSED, _S.NOT_SENT})
# What the rule whileActiveElsewhere counts as busy in another sequence: ACTIVE_ELSEWHERE,
# except an enrollment that rule paused itself (two sequences pausing for each other
# would wait forever); see busy_elsewhere in engine.rule_blocks.

# Statuses in which an enrollment takes part in a sequence: adding its contact
# again is refused as ALREADY_ENROLLED rather than re-enrolled.
ENROLLED_STATUSES = _ALL - TRANSITIONS[Action.REENROLL].allowed_from


def transition(action: Action) -> Transition:
    return TRANSITIONS[action]


def can_apply(action: Action, status: EnrollmentStatus) -> bool:
    return status in TRANSITIONS[action].allowed_from


def skip_reason(action: Action, status: EnrollmentStatus) -> SkipReason | None:
    """Why ``action`` leaves an enrollment in ``status`` unchanged, or None if it applies."""
    rule = TRANSITIONS[action]
    if status in rule.allowed_from:
        return None
    if action in (Action.ENROLL, Action.REENROLL):
        return SkipReason.ALREADY_ENROLLED
    if rule.to_status is not None and status == rule.to_status:
        return SkipReason.ALREADY_IN_STATUS
    return SkipReason.INVALID_TRANSITION


def is_valid_state(status: EnrollmentStatus, reason: StatusReason | None) -> bool:
    """Whether (status, reason) is a combination the model allows."""
    allowed = REASONS_BY_STATUS[status]
    if reason is None:
        return not allowed or status in REASON_OPTIONAL
    return reason in allowed


# Statuses shown unless removed ones are asked for.
VISIBLE_BY_DEFAULT = _ALL - {_S.REMOVED}
