"""The inputs that create and change sequences and contacts."""

from __future__ import annotations

import strawberry
from strawberry.types.unset import UnsetType

from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.domain.rules import Ruleset
from seqgql.domain.sequence import SendingWindow as WindowSpec
from seqgql.domain.sequence import StepSpec, check_daily_limit
from seqgql.graphql.enums import (
    ActiveElsewhere,
    PhoneType,
    StepChannel,
    Weekday,
    WhileActiveElsewhere,
)


@strawberry.input(description="One step of a sequence; its position is its place in the list.")
class StepInput:
    channel: StepChannel = strawberry.field(description="How it is sent.")
    wait_minutes: int = strawberry.field(
        description="Minutes after the previous step was sent (for the first step, after "
        "enrollment) before it falls due: 0 to 525,600 (365 days)."
    )
    body: str = strawberry.field(
        description="The message, 1 to 20,000 characters; `{{first_name}}`, `{{last_name}}` "
        "and `{{email}}` are filled in from the contact."
    )
    subject: str | None = strawberry.field(
        default=None,
        description="An email step's subject: one line, at most 500 characters, filled in "
        "like the body. SMS steps have none.",
    )

    def to_spec(self) -> StepSpec:
        return StepSpec(self.channel, self.wait_minutes, self.body, self.subject)


@strawberry.input(
    description="When steps may be sent: on these days, from `start` to `end`, wall-clock "
    "time in the contact's time zone. No window means at any time."
)
class SendingWindowInput:
    days: list[Weekday] = strawberry.field(
        description="The days steps may be sent on (one or more)."
    )
    start: str = strawberry.field(description='Opening time, "HH:MM" (24-hour).')
    end: str = strawberry.field(
        description='Closing time, "HH:MM" (24-hour), later than `start`; nothing is sent '
        "at or after it."
    )
    time_zone: str = strawberry.field(
        description="IANA time zone (e.g. `Europe/Paris`) for contacts without one; also "
        "the zone whose days the daily limit counts."
    )

    def to_spec(self) -> WindowSpec:
        return WindowSpec(tuple(self.days), self.start, self.end, self.time_zone)


DAILY_LIMIT_DESCRIPTION = (
    "At most this many steps (1 to 100,000) sent per sender (the user who enrolled the "
    "contact) per day, in the sending window's time zone (UTC without a window); over it, "
    "a step waits for the next day's window."
)
NAME = "The sequence's name: one line, 1 to 200 characters."
REPLY_WINDOW = (
    "Minutes to wait for a reply after the last step before the enrollment is FINISHED "
    "(COMPLETED_NO_RESPONSE): 0 to 525,600."
)


@strawberry.input(
    description="A sequence's rules: all of them are set (a field left out takes its default)."
)
class SequenceRulesInput:
    finish_on_reply: bool = strawberry.field(
        default=True, description="A reply detected finishes the enrollment (default on)."
    )
    out_of_office_default_days: int | None = strawberry.field(
        default=None,
        description="Days an out-of-office reply without a return date pauses (1 to 365); "
        "null: until resumed.",
    )
    finish_company_on_reply: bool = strawberry.field(
        default=False,
        description="A reply detected also finishes the company's other contacts in the "
        "sequence (default off).",
    )
    active_elsewhere: ActiveElsewhere = strawberry.field(
        default=ActiveElsewhere.ENROLL,
        description="addContactsToSequence's default for contacts active in another "
        "sequence (default ENROLL).",
    )

    while_active_elsewhere: WhileActiveElsewhere = strawberry.field(
        default=WhileActiveElsewhere.SEND,
        description="What the engine does with a step due for a contact active in another "
        "sequence (default SEND).",
    )
    max_messages_per_contact_per_day: int | None = strawberry.field(
        default=None,
        description="At most this many messages a day (UTC) to one contact, by any "
        "sequence, before this sequence's steps wait for tomorrow (1 to 100); null: no cap.",
    )
    daily_limit_per_sender: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="The sequence's per-sender daily limit, the same setting as the "
        "sequence input's `dailyLimitPerSender` (give it in one place, or the same value in "
        "both): " + DAILY_LIMIT_DESCRIPTION + " null removes it; left out: unchanged (no "
        "limit for a new sequence).",
    )

    def to_spec(self) -> Ruleset:
        return Ruleset(
            finish_on_reply=self.finish_on_reply,
            out_of_office_default_days=self.out_of_office_default_days,
            finish_company_on_reply=self.finish_company_on_reply,
            active_elsewhere=self.active_elsewhere,
            while_active_elsewhere=self.while_active_elsewhere,
            max_messages_per_contact_per_day=self.max_messages_per_contact_per_day,
        )


def chosen_daily_limit(
    given: int | UnsetType | None, rules: SequenceRulesInput | None
) -> int | UnsetType | UserError | None:
    """The daily limit per sender an input sets (UNSET: none given), from the sequence
    input or its rules; an error if the two give different values."""
    in_rules = strawberry.UNSET if rules is None else rules.daily_limit_per_sender
    if isinstance(in_rules, UnsetType):
        return given
    path: list[str | int] = ["input", "rules", "dailyLimitPerSender"]
    if not isinstance(given, UnsetType) and given != in_rules:
        message = f"differs from input.dailyLimitPerSender ({given}); give it in one place"
        return error(path, ErrorCode.INVALID, message)
    for refused in check_daily_limit(in_rules, path):
        return refused
    return in_rules


@strawberry.input(description="A new sequence: its name, steps and sending rules.")
class CreateSequenceInput:
    name: str = strawberry.field(description=NAME)
    steps: list[StepInput] = strawberry.field(description="Its steps, in order: 1 to 50.")
    sending_window: SendingWindowInput | None = strawberry.field(
        default=None, description="When steps may be sent; null: at any time."
    )
    reply_window_minutes: int = strawberry.field(
        default=4320, description=REPLY_WINDOW + " Default 4,320 (3 days)."
    )
    daily_limit_per_sender: int | None = strawberry.field(
        default=None, description=DAILY_LIMIT_DESCRIPTION
    )
    rules: SequenceRulesInput | None = strawberry.field(
        default=None, description="Its rules; null: the defaults."
    )


@strawberry.input(description="Only what is given changes; `steps` replaces all steps.")
class UpdateSequenceInput:
    sequence_id: strawberry.ID = strawberry.field(description="The sequence to change.")
    name: str | None = strawberry.field(default=None, description=NAME)
    steps: list[StepInput] | None = strawberry.field(
        default=None,
        description="All its steps, in order (1 to 50); enrollments keep their current "
        "step's position.",
    )
    sending_window: SendingWindowInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new sending window; null removes it (steps go at any time).",
    )
    reply_window_minutes: int | None = strawberry.field(default=None, description=REPLY_WINDOW)
    daily_limit_per_sender: int | None = strawberry.field(
        default=strawberry.UNSET, description=DAILY_LIMIT_DESCRIPTION + " null removes it."
    )
    rules: SequenceRulesInput | None = strawberry.field(
        default=None, description="New rules, replacing them all; null: unchanged."
    )


@strawberry.input(description="Which sequence to copy, and the copy's name.")
class CloneSequenceInput:
    sequence_id: strawberry.ID = strawberry.field(
        description="The sequence to copy: its steps, sending window, reply window and daily limit."
    )
    name: str | None = strawberry.field(
        default=None, description="The copy's name (default: the name plus ' (copy)')."
    )


@strawberry.input(description="Which sequence to archive or restore.")
class ArchiveSequenceInput:
    sequence_id: strawberry.ID = strawberry.field(description="The sequence.")
    archived: bool = strawberry.field(
        default=True, description="true (the default) archives it; false restores it."
    )


@strawberry.input(description="The sequence to turn on.")
class ActivateSequenceInput:
    sequence_id: strawberry.ID = strawberry.field(description="The sequence (its global id).")


@strawberry.input(description="The sequence to turn off.")
class DeactivateSequenceInput:
    sequence_id: strawberry.ID = strawberry.field(description="The sequence (its global id).")


@strawberry.input(description="A contact to create.")
class ContactInput:
    first_name: str = strawberry.field(description="Given name: one line, 1 to 200 characters.")
    last_name: str | None = strawberry.field(
        default=None, description="Family name, at most 200 characters; empty: none."
    )
    email: str | None = strawberry.field(
        default=None, description="Email address, validated and normalised; empty: none."
    )
    phone: str | None = strawberry.field(
        default=None,
        description="Phone number in any common format, stored as E.164; without a country "
        "code it is read as North American. Empty: none.",
    )
    phone_type: PhoneType | None = strawberry.field(
        default=None, description="Whether it can receive SMS (default UNKNOWN: it can)."
    )
    time_zone: str | None = strawberry.field(
        default=None,
        description="IANA time zone (e.g. `America/Chicago`) sending windows are read in; "
        "null: the window's own.",
    )
    opted_out: bool = strawberry.field(
        default=False,
        description="Already opted out of all messages: their enrollments are OMITTED.",
    )


@strawberry.input(
    description="Only the fields given change; null clears an optional one. Fixing an "
    "email or phone, then resuming, sends a step that was not sent."
)
class UpdateContactInput:
    contact_id: strawberry.ID = strawberry.field(description="The contact to change.")
    first_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new given name (null is refused)."
    )
    last_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new family name; null clears it."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new email address; null clears it."
    )
    phone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new phone number (stored as E.164); null clears it.",
    )
    phone_type: PhoneType | None = strawberry.field(
        default=strawberry.UNSET, description="A new phone type; null makes it UNKNOWN."
    )
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new IANA time zone; null clears it."
    )
    opted_out: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Set or clear the global opt-out (null is refused).",
    )


@strawberry.input(description="Contacts to create, all at once.")
class CreateContactsInput:
    contacts: list[ContactInput] = strawberry.field(
        description="1 to 1,000 contacts. If any is invalid none is created, and each "
        "error's `field` names its index."
    )


@strawberry.input(description="A group to create.")
class CreateGroupInput:
    name: str = strawberry.field(
        description="Its name: one line, 1 to 200 characters, unique in the workspace."
    )
