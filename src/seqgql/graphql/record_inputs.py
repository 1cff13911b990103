"""The inputs that create and change sequences and contacts."""

from __future__ import annotations

import strawberry

from seqgql.domain.sequence import SendingWindow as WindowSpec
from seqgql.domain.sequence import StepSpec
from seqgql.graphql.enums import PhoneType, StepChannel, Weekday


@strawberry.input
class StepInput:
    channel: StepChannel
    wait_minutes: int = strawberry.field(description="How long after the previous step.")
    body: str
    subject: str | None = None

    def to_spec(self) -> StepSpec:
        return StepSpec(self.channel, self.wait_minutes, self.body, self.subject)


@strawberry.input(description="No window means steps may be sent at any time.")
class SendingWindowInput:
    days: list[Weekday]
    start: str = strawberry.field(description='Opening time, "HH:MM" (24-hour).')
    end: str = strawberry.field(description='Closing time, "HH:MM" (24-hour).')
    time_zone: str = strawberry.field(description="For contacts without a time zone.")

    def to_spec(self) -> WindowSpec:
        return WindowSpec(tuple(self.days), self.start, self.end, self.time_zone)


DAILY_LIMIT_DESCRIPTION = (
    "At most this many steps sent per sender (the user who enrolled the contact) per day, "
    "in the sending window's time zone (UTC without a window); over it, a step waits for "
    "the next day's window."
)


@strawberry.input
class CreateSequenceInput:
    name: str
    steps: list[StepInput]
    sending_window: SendingWindowInput | None = None
    reply_window_minutes: int = 4320
    daily_limit_per_sender: int | None = strawberry.field(
        default=None, description=DAILY_LIMIT_DESCRIPTION
    )


@strawberry.input(description="Only what is given changes; `steps` replaces all steps.")
class UpdateSequenceInput:
    sequence_id: strawberry.ID
    name: str | None = None
    steps: list[StepInput] | None = None
    sending_window: SendingWindowInput | None = strawberry.UNSET
    reply_window_minutes: int | None = None
    daily_limit_per_sender: int | None = strawberry.field(
        default=strawberry.UNSET, description=DAILY_LIMIT_DESCRIPTION + " null removes it."
    )


@strawberry.input
class CloneSequenceInput:
    sequence_id: strawberry.ID
    name: str | None = None


@strawberry.input
class ArchiveSequenceInput:
    sequence_id: strawberry.ID
    archived: bool = True


@strawberry.input
class ContactInput:
    first_name: str
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_type: PhoneType | None = None
    time_zone: str | None = None
    opted_out: bool = False


@strawberry.input(
    description="Only the fields given change; null clears an optional one. Fixing an "
    "email or phone, then resuming, sends a step that was not sent."
)
class UpdateContactInput:
    contact_id: strawberry.ID
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    phone_type: PhoneType | None = strawberry.UNSET
    time_zone: str | None = strawberry.UNSET
    opted_out: bool | None = strawberry.UNSET


@strawberry.input
class CreateContactsInput:
    contacts: list[ContactInput]


@strawberry.input
class CreateGroupInput:
    name: str
