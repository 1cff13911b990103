"""Enumerations of the domain other than the status model."""

from __future__ import annotations

import enum

from seqgql.domain.status import Action


class Role(enum.StrEnum):
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"
    VIEWER = "VIEWER"

    @property
    def can_mutate(self) -> bool:
        return self is not Role.VIEWER

    @property
    def rank(self) -> int:
        """How much the role may do: VIEWER 0 < MEMBER 1 < ADMIN 2."""
        return _ROLE_RANKS[self]

    def at_most(self, cap: Role) -> Role:
        """The lower of this role and ``cap`` (a token's role capped by its user's)."""
        return self if self.rank <= cap.rank else cap


_ROLE_RANKS = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2}


class PhoneType(enum.StrEnum):
    MOBILE = "MOBILE"
    LANDLINE = "LANDLINE"
    UNKNOWN = "UNKNOWN"


class StepChannel(enum.StrEnum):
    EMAIL = "EMAIL"
    SMS = "SMS"


class Weekday(enum.StrEnum):
    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ActivityKind(enum.StrEnum):
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    OPENED = "OPENED"
    CLICKED = "CLICKED"
    REPLIED = "REPLIED"
    BOUNCED = "BOUNCED"
    FAILED = "FAILED"
    OUT_OF_OFFICE = "OUT_OF_OFFICE"
    OPTED_OUT = "OPTED_OUT"
    NOTE = "NOTE"
    DEFERRED = "DEFERRED"


class DeliveryEventKind(enum.StrEnum):
    """What a mail/SMS provider reports about a message."""

    DELIVERED = "DELIVERED"
    OPENED = "OPENED"
    CLICKED = "CLICKED"
    REPLIED = "REPLIED"
    BOUNCED = "BOUNCED"
    FAILED = "FAILED"
    OUT_OF_OFFICE = "OUT_OF_OFFICE"
    OPTED_OUT = "OPTED_OUT"
    DEFERRED = "DEFERRED"  # delivery delayed (a transient failure): no status change

    @property
    def activity_kind(self) -> ActivityKind:
        return ActivityKind(self.value)

    @property
    def action(self) -> Action | None:
        """The status change this report causes, if any."""
        return _DELIVERY_ACTIONS.get(self)


_DELIVERY_ACTIONS: dict[DeliveryEventKind, Action] = {
    DeliveryEventKind.REPLIED: Action.REPLY,
    DeliveryEventKind.BOUNCED: Action.BOUNCE,
    DeliveryEventKind.FAILED: Action.FAIL,
    DeliveryEventKind.OUT_OF_OFFICE: Action.OUT_OF_OFFICE,
    DeliveryEventKind.OPTED_OUT: Action.OPT_OUT,
}


class InboundKind(enum.StrEnum):
    """What an inbound email is (``seqgql.inbound.classify``)."""

    REPLY = "REPLY"  # a person answered
    OUT_OF_OFFICE = "OUT_OF_OFFICE"  # an automatic absence reply
    UNSUBSCRIBE = "UNSUBSCRIBE"  # a person asked to stop
    BOUNCE = "BOUNCE"  # a delivery status notification: not delivered, for good
    DELAYED = "DELAYED"  # a delivery status notification: not delivered yet
    AUTOMATED = "AUTOMATED"  # a program's message that is no reply: changes nothing

    @property
    def delivery_event(self) -> DeliveryEventKind | None:
        """The report it makes about the message it answers, if any."""
        return _INBOUND_EVENTS.get(self)


_INBOUND_EVENTS: dict[InboundKind, DeliveryEventKind] = {
    InboundKind.REPLY: DeliveryEventKind.REPLIED,
    InboundKind.OUT_OF_OFFICE: DeliveryEventKind.OUT_OF_OFFICE,
    InboundKind.UNSUBSCRIBE: DeliveryEventKind.OPTED_OUT,
    InboundKind.BOUNCE: DeliveryEventKind.BOUNCED,
    InboundKind.DELAYED: DeliveryEventKind.DEFERRED,
}


class ReportDecision(enum.StrEnum):
    """What was done with a report that came back (an inbound email, a provider's event)."""

    APPLIED = "APPLIED"  # the enrollment's status changed
    RECORDED = "RECORDED"  # an activity was recorded; the status stayed (see the detail)
    UNMATCHED = "UNMATCHED"  # no enrollment matched: nothing changed
    IGNORED = "IGNORED"  # nothing to report (not a reply, an event we do not act on)


class EmailProvider(enum.StrEnum):
    """An email provider whose event webhook reports on the messages sent through it."""

    SENDGRID = "SENDGRID"
    MAILGUN = "MAILGUN"


class BulkActionKind(enum.StrEnum):
    """The kinds of bulk operation recorded in the operation log."""

    ENROLL = "ENROLL"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    FINISH = "FINISH"
    REMOVE = "REMOVE"
    RESTART = "RESTART"
    ADD_TO_GROUP = "ADD_TO_GROUP"
    SEND_MESSAGE = "SEND_MESSAGE"
    DELIVERY_EVENT = "DELIVERY_EVENT"
    MOVE_STEP = "MOVE_STEP"
    MOVE = "MOVE"
    UNDO = "UNDO"


class ResumeMode(enum.StrEnum):
    """When the step of a resumed enrollment falls due."""

    KEEP_REMAINING_WAIT = "KEEP_REMAINING_WAIT"
    SEND_NOW = "SEND_NOW"


class WaitingFor(enum.StrEnum):
    """Why a step is not sent yet. The engine stores the first six when it schedules or
    defers a step; the last two are read from the enrollment's and sequence's state."""

    WAIT = "WAIT"  # the step's own wait after the previous one
    SENDING_WINDOW = "SENDING_WINDOW"
    DAILY_LIMIT = "DAILY_LIMIT"
    CONTACT_DAILY_CAP = "CONTACT_DAILY_CAP"
    RETRY_BACKOFF = "RETRY_BACKOFF"
    TRANSPORT_UNAVAILABLE = "TRANSPORT_UNAVAILABLE"
    SEQUENCE_INACTIVE = "SEQUENCE_INACTIVE"
    PAUSED = "PAUSED"


class ActiveElsewhere(enum.StrEnum):
    """What adding a contact does when it is active in another sequence."""

    ENROLL = "ENROLL"
    SKIP = "SKIP"
    MOVE = "MOVE"


class WhileActiveElsewhere(enum.StrEnum):
    """What the engine does with a step due for a contact active in another sequence."""

    SEND = "SEND"
    SKIP = "SKIP"
    PAUSE = "PAUSE"


class Unreachable(enum.StrEnum):
    """Why a message on a channel cannot reach a contact."""

    MISSING_EMAIL = "MISSING_EMAIL"
    MISSING_PHONE = "MISSING_PHONE"
    LANDLINE = "LANDLINE"


def unreachable(
    channel: StepChannel, email: str | None, phone: str | None, phone_type: PhoneType | str
) -> Unreachable | None:
    """The one rule for whether a contact can receive a message on ``channel``."""
    if channel == StepChannel.EMAIL:
        return None if email else Unreachable.MISSING_EMAIL
    if not phone:
        return Unreachable.MISSING_PHONE
    if phone_type == PhoneType.LANDLINE:
        return Unreachable.LANDLINE
    return None
