"""The domain enums, registered with GraphQL under their public names, with a description
of the type and of each value (what GraphiQL's Docs pane shows).

The classes are the domain's own (defined once, in seqgql.domain, which knows nothing of
GraphQL); importing this module registers them, and the GraphQL modules import them from
here so that registration always happens first. A value added to a domain enum without a
description here stops the import (``describe``)."""

from __future__ import annotations

import enum
from collections.abc import Mapping

import strawberry
from strawberry.types.enum import has_enum_definition

from seqgql.domain.errors import ErrorCode
from seqgql.domain.kinds import (
    ActiveElsewhere,
    ActivityKind,
    BulkActionKind,
    DeliveryEventKind,
    PhoneType,
    ResumeMode,
    Role,
    StepChannel,
    WaitingFor,
    Weekday,
    WhileActiveElsewhere,
)
from seqgql.domain.selection import OrderDirection
from seqgql.domain.selection import OrderField as EnrollmentOrderField
from seqgql.domain.status import EnrollmentStatus, FinishReason, SkipReason, StatusReason
from seqgql.domain.status import Outcome as EnrollmentOutcome


def describe(
    cls: type[enum.Enum], name: str, description: str, values: Mapping[enum.Enum, str]
) -> None:
    """Register ``cls`` as the GraphQL enum ``name``, each value with its description
    (one for every member, no more)."""
    if set(values) != set(cls):
        missing = sorted(m.name for m in set(cls) - set(values))
        extra = sorted(str(m) for m in set(values) - set(cls))
        raise ValueError(f"{name}: values without a description {missing}, unknown {extra}")
    members = {member.name: member for member in cls}
    registered = strawberry.enum(cls, name=name, description=description)
    assert has_enum_definition(registered)
    for value in registered.__strawberry_definition__.values:
        value.description = values[members[value.name]]


_S = EnrollmentStatus
describe(
    EnrollmentStatus,
    "EnrollmentStatus",
    "Where an enrollment stands. PAUSED, FINISHED, NOT_SENT and OMITTED come with a "
    "`reason` (StatusReason); every change is an event (`enrollmentStatusChanged`).",
    {
        _S.ACTIVE: "Receiving steps: the engine sends the current step once `nextRunAt` has "
        "come, inside the sequence's sending window. Set on enrollment, on resume (by a user "
        "or at `resumeAt`) and on re-enrollment.",
        _S.PAUSED: "Outreach stopped for this contact only: by a user (MANUAL) or by an "
        "out-of-office reply (OUT_OF_OFFICE). With `resumeAt`, the engine makes it ACTIVE "
        "again at that moment.",
        _S.FINISHED: "Done; history kept. Set by a reply (REPLIED), by a user's "
        "finishEnrollments (its reason), or by the engine when the reply window after the "
        "last step passed without a reply (COMPLETED_NO_RESPONSE).",
        _S.BOUNCED: "An email step bounced: the mail provider refused it for good, or a "
        "BOUNCED delivery report came. Nothing more is sent.",
        _S.FAILED: "The provider failed to deliver a message (an SMS refused, or a step "
        "whose every retry failed), or a FAILED delivery report came. Nothing more is sent.",
        _S.NOT_SENT: "A step could not be sent (reason MISSING_EMAIL, MISSING_PHONE or "
        "BLOCKED_BY_RULE). Fix the contact (updateContact), then resume to send it.",
        _S.OPTED_OUT: "The contact asked to stop during the sequence (an OPTED_OUT delivery "
        "report, or found opted out when a step fell due); the contact's global `optedOut` "
        "is set, so no sequence sends to them.",
        _S.OMITTED: "Enrolled, but never sent anything: the contact had opted out "
        "(OPTED_OUT), or the first step to send is an SMS and their phone is a landline "
        "(LANDLINE).",
        _S.REMOVED: "Taken out of the sequence by removeEnrollments (a mistaken enrollment); "
        "history kept. Hidden from lists unless `includeRemoved` is set or `statuses` names "
        "it; adding the contact again re-enrolls them.",
    },
)

_R = StatusReason
describe(
    StatusReason,
    "StatusReason",
    "Why an enrollment is in its status: PAUSED (MANUAL, OUT_OF_OFFICE, "
    "ACTIVE_IN_OTHER_SEQUENCE), FINISHED (the "
    "FinishReason values, COMPLETED_NO_RESPONSE), NOT_SENT (MISSING_EMAIL, MISSING_PHONE, "
    "BLOCKED_BY_RULE), OMITTED (OPTED_OUT, LANDLINE).",
    {
        _R.MANUAL: "PAUSED by a user: pauseEnrollments, or resumeEnrollments with a "
        "`resumeAt` for a NOT_SENT enrollment.",
        _R.OUT_OF_OFFICE: "PAUSED by an out-of-office reply (an OUT_OF_OFFICE delivery "
        "report); it resumes at the start of the return date, in the contact's time zone, "
        "when the report gave one.",
        _R.ACTIVE_IN_OTHER_SEQUENCE: "PAUSED by the engine under the sequence's rule "
        "whileActiveElsewhere (PAUSE): a step fell due while the contact was ACTIVE, PAUSED "
        "or NOT_SENT in another sequence. It resumes by itself once the contact is in no "
        "other sequence (or by resumeEnrollments).",
        _R.REPLIED: "FINISHED: the contact replied (a REPLIED delivery report), or a user "
        "marked it so.",
        _R.MEETING_BOOKED: "FINISHED by a user: a meeting was booked.",
        _R.UNSUBSCRIBED: "FINISHED by a user: the contact unsubscribed.",
        _R.CHANGED_JOBS: "FINISHED by a user: the contact changed jobs.",
        _R.NO_LONGER_NEEDED: "FINISHED by a user: outreach is no longer needed.",
        _R.OTHER: "FINISHED by a user, for another reason.",
        _R.COMPLETED_NO_RESPONSE: "FINISHED by the engine: every step was sent and the "
        "sequence's reply window passed without a reply.",
        _R.MISSING_EMAIL: "NOT_SENT: an email step fell due and the contact has no email address.",
        _R.MISSING_PHONE: "NOT_SENT: an SMS step fell due and the contact has no phone number.",
        _R.BLOCKED_BY_RULE: "NOT_SENT: a sending rule blocked the step; today, an SMS step "
        "due for a contact whose phone is a landline.",
        _R.OPTED_OUT: "OMITTED: the contact had opted out (globally) when enrolled.",
        _R.LANDLINE: "OMITTED: the first step to send is an SMS and the contact's phone is a "
        "landline.",
        _R.COMPANY_REPLIED: "FINISHED by the sequence rule `finishCompanyOnReply`: "
        "another contact of the same company (the same email domain) replied.",
        _R.MOVED: "REMOVED by a move to another sequence (moveEnrollments, or "
        "addContactsToSequence with `ifActiveElsewhere: MOVE`): `movedTo` is the new "
        "enrollment. A REMOVED enrollment without a reason was removed by removeEnrollments.",
    },
)

_F = FinishReason
describe(
    FinishReason,
    "FinishReason",
    "The reasons a user may give when marking enrollments finished; the enrollment's "
    "`reason` becomes the StatusReason of the same name.",
    {
        _F.REPLIED: "The contact replied.",
        _F.MEETING_BOOKED: "A meeting was booked.",
        _F.UNSUBSCRIBED: "The contact unsubscribed.",
        _F.CHANGED_JOBS: "The contact changed jobs.",
        _F.NO_LONGER_NEEDED: "Outreach is no longer needed.",
        _F.OTHER: "Another reason.",
    },
)

_K = SkipReason
describe(
    SkipReason,
    "SkipReason",
    "Why an action left a selected item as it was (the others were changed).",
    {
        _K.INVALID_TRANSITION: "The action does not apply to enrollments in this status "
        "(e.g. pausing a FINISHED one, restarting an ACTIVE one).",
        _K.ALREADY_IN_STATUS: "The enrollment is already in the status the action leads to "
        "(e.g. pausing a PAUSED one).",
        _K.ALREADY_ENROLLED: "The contact is already enrolled in the sequence, in a status "
        "other than REMOVED or FINISHED (the ids are contact ids; for moveEnrollments, "
        "the selected enrollments, left where they were).",
        _K.ALL_STEPS_SENT: "The removed or finished contact was already sent every step: "
        "restartEnrollments starts them over in a clone, or give a step to start at (the "
        "ids are contact ids; for moveEnrollments, the selected enrollments, left where "
        "they were).",
        _K.ALREADY_IN_GROUP: "The enrollment's contact is already in the group.",
        _K.CONTACT_OPTED_OUT: "sendMessage, or a retry (resumeEnrollments on a FAILED or "
        "BOUNCED enrollment): the contact has opted out of all messages.",
        _K.MISSING_EMAIL: "sendMessage by EMAIL, or a retry of an email step: the contact "
        "has no email address.",
        _K.MISSING_PHONE: "sendMessage by SMS, or a retry of an SMS step: the contact has no "
        "phone number.",
        _K.LANDLINE: "sendMessage by SMS, or a retry of an SMS step: the contact's phone is a "
        "landline.",
        _K.ACTIVE_IN_OTHER_SEQUENCE: "addContactsToSequence with `ifActiveElsewhere: SKIP`: "
        "the contact is ACTIVE, PAUSED or NOT_SENT in another sequence (the group's "
        "`sequence`); the ids are contact ids.",
        _K.ALREADY_AT_STEP: "moveEnrollmentsToStep: the enrollment is at that step already.",
        _K.CHANGED_SINCE: "undoBulkOperation: the enrollment changed after the operation "
        "(another action, the engine), so going back would lose that change.",
    },
)

describe(
    Role,
    "Role",
    "What a user may do in their workspace.",
    {
        Role.ADMIN: "Reads and changes everything in the workspace (through this API, the "
        "same rights as MEMBER).",
        Role.MEMBER: "Reads and changes everything in the workspace.",
        Role.VIEWER: "Reads only: every mutation answers a FORBIDDEN user error and changes "
        "nothing.",
    },
)

describe(
    PhoneType,
    "PhoneType",
    "What kind of line a contact's phone is: whether it can receive SMS.",
    {
        PhoneType.MOBILE: "A mobile phone: receives SMS.",
        PhoneType.LANDLINE: "A landline: cannot receive SMS, so SMS steps are not sent to "
        "it (OMITTED when the first step is an SMS, NOT_SENT with BLOCKED_BY_RULE later).",
        PhoneType.UNKNOWN: "Not known (the default): SMS steps are sent to it.",
    },
)

describe(
    StepChannel,
    "StepChannel",
    "How a message is sent.",
    {
        StepChannel.EMAIL: "An email to the contact's address, with a subject.",
        StepChannel.SMS: "A text message to the contact's phone, without a subject.",
    },
)

describe(
    Weekday,
    "Weekday",
    "A day of the week, in the time zone the sending window is read in.",
    {
        Weekday.MONDAY: "Monday.",
        Weekday.TUESDAY: "Tuesday.",
        Weekday.WEDNESDAY: "Wednesday.",
        Weekday.THURSDAY: "Thursday.",
        Weekday.FRIDAY: "Friday.",
        Weekday.SATURDAY: "Saturday.",
        Weekday.SUNDAY: "Sunday.",
    },
)

_A = ActivityKind
describe(
    ActivityKind,
    "ActivityKind",
    "What an entry of an enrollment's history records: a message sent, or what came back.",
    {
        _A.SENT: "A message went out: a sequence step (`step` set) or a sendMessage message "
        "(`step` null).",
        _A.DELIVERED: "The provider reported the message delivered.",
        _A.OPENED: "The provider reported the email opened.",
        _A.CLICKED: "The provider reported a link in the message clicked.",
        _A.REPLIED: "The contact replied (a delivery report).",
        _A.BOUNCED: "An email bounced: refused by the mail provider, or reported so.",
        _A.FAILED: "A message could not be delivered: refused (an SMS), retried in vain, or "
        "reported so.",
        _A.OUT_OF_OFFICE: "An automatic out-of-office reply came (a delivery report).",
        _A.OPTED_OUT: "The contact asked to stop receiving messages (a delivery report).",
        _A.NOTE: "A note about the enrollment. Nothing in this API writes one yet.",
        _A.DEFERRED: "A message did not go through for now and will be tried again: the "
        "engine's retry after a transient failure, a delivery status notification saying the "
        "receiving server will retry, or a provider's report. The status does not change.",
    },
)

_D = DeliveryEventKind
describe(
    DeliveryEventKind,
    "DeliveryEventKind",
    "What a mail/SMS provider reports about a message. Each is recorded as activity; some "
    "change the status, from the statuses listed (from others, `skippedReason` says why "
    "not).",
    {
        _D.DELIVERED: "The message reached the contact; the status does not change.",
        _D.OPENED: "The email was opened; the status does not change.",
        _D.CLICKED: "A link was clicked; the status does not change.",
        _D.REPLIED: "The contact replied: ACTIVE or PAUSED becomes FINISHED (REPLIED).",
        _D.BOUNCED: "The email bounced: ACTIVE, PAUSED or NOT_SENT becomes BOUNCED.",
        _D.FAILED: "The message failed: ACTIVE, PAUSED or NOT_SENT becomes FAILED.",
        _D.OUT_OF_OFFICE: "An automatic out-of-office reply: ACTIVE becomes PAUSED "
        "(OUT_OF_OFFICE), resuming at the start of `returnDate` in the contact's time zone "
        "when one is given.",
        _D.OPTED_OUT: "The contact asked to stop: their global `optedOut` is set, and "
        "ACTIVE, PAUSED, NOT_SENT, BOUNCED or FAILED becomes OPTED_OUT.",
        _D.DEFERRED: "Delivery is delayed (a transient failure; the receiving server "
        "retries); the status does not change.",
    },
)

describe(
    EnrollmentOrderField,
    "EnrollmentOrderField",
    "What enrollments are sorted by; ties are broken by id, in the same direction.",
    {
        EnrollmentOrderField.ENROLLED_AT: "When the contact was enrolled (or last re-enrolled).",
        EnrollmentOrderField.CONTACT_NAME: "The contact's first and last name, ignoring case.",
        EnrollmentOrderField.NEXT_SEND_AT: "When the engine next acts (`nextRunAt`); "
        "enrollments with nothing scheduled (not ACTIVE) come after all the others.",
        EnrollmentOrderField.STATUS_CHANGED_AT: "When the status last changed (`statusChangedAt`).",
        EnrollmentOrderField.CURRENT_STEP: "The step to send next (`currentStep`); those "
        "with none (all sent, OMITTED) come after all the others.",
        EnrollmentOrderField.STATUS: "The status, by its name (ACTIVE, BOUNCED, FAILED, "
        "FINISHED, ...).",
    },
)

describe(
    OrderDirection,
    "OrderDirection",
    "Which way a list is sorted.",
    {
        OrderDirection.ASC: "Ascending: oldest or A first.",
        OrderDirection.DESC: "Descending: newest or Z first.",
    },
)

_E = ErrorCode
describe(
    ErrorCode,
    "UserErrorCode",
    "What kind of problem a user error reports: a stable code to act on (the `message` "
    "explains it to a person).",
    {
        _E.REQUIRED: "A value that must be given is missing or empty (e.g. a sequence's "
        "name, a step's body, at least one id).",
        _E.INVALID: "The value is not acceptable; the message says why (e.g. a time of day "
        "not HH:MM, a moment without an offset, a subject on an SMS).",
        _E.INVALID_ID: "Not a global id this API gave out, or the id of another type.",
        _E.NOT_FOUND: "Nothing with this id in your workspace (another workspace's objects "
        "answer the same).",
        _E.TOO_MANY: "Over a limit on a list: more than 1,000 ids, filter values or "
        "contacts, more than 50 steps, or a message to more than 10 contacts.",
        _E.TOO_LONG: "Text over its limit: a sequence's name, a search or an idempotency key "
        "over 200 characters, a subject over 500, a body over 20,000.",
        _E.OUT_OF_RANGE: "A number outside its range: a wait or reply window outside 0 to "
        "525,600 minutes (365 days), a daily limit outside 1 to 100,000.",
        _E.INVALID_SELECTION: "A selection that does not give exactly one of `ids` or "
        "`sequenceId`, or a restart into a new clone selecting several sequences.",
        _E.IN_THE_PAST: "A `resumeAt` that is not in the future.",
        _E.INVALID_EMAIL: "Not a valid email address.",
        _E.INVALID_PHONE: "Not a valid phone number (one without a country code is read as "
        "North American).",
        _E.INVALID_TIME_ZONE: "Not an IANA time zone name, such as `Europe/Paris`.",
        _E.DUPLICATE: "The name is taken: a group of that name exists.",
        _E.ARCHIVED: "The sequence is archived: contacts cannot be added or restarted into it.",
        _E.IDEMPOTENCY_KEY_REUSED: "The idempotency key was used before for a different "
        "request (another action, or other input).",
        _E.FORBIDDEN: "Your role may not do this: a VIEWER cannot change anything.",
        _E.INVALID_URL: "Not a URL a webhook can be sent to: not https://, not a URL, with "
        "credentials or a #fragment, or a host name that does not resolve.",
        _E.PRIVATE_ADDRESS: "The URL's host is, or resolves to, a private, loopback, "
        "link-local or reserved address: webhooks go to public addresses only.",
    },
)


_B = BulkActionKind
describe(
    BulkActionKind,
    "BulkAction",
    "What a bulk operation did: the mutation it was recorded for.",
    {
        _B.ENROLL: "addContactsToSequence: contacts enrolled (or re-enrolled).",
        _B.PAUSE: "pauseEnrollments.",
        _B.RESUME: "resumeEnrollments.",
        _B.FINISH: "finishEnrollments.",
        _B.REMOVE: "removeEnrollments.",
        _B.RESTART: "restartEnrollments: contacts enrolled into a clone or another sequence.",
        _B.ADD_TO_GROUP: "addEnrollmentsToGroup: contacts added to a group (no status changes).",
        _B.SEND_MESSAGE: "sendMessage: one message to each selected contact (activities, "
        "no status changes).",
        _B.DELIVERY_EVENT: "recordDeliveryEvent: a provider's report.",
        _B.MOVE_STEP: "moveEnrollmentsToStep: enrollments put on another step.",
        _B.MOVE: "moveEnrollments: enrollments moved to another sequence.",
        _B.UNDO: "undoBulkOperation: what an earlier operation changed, put back.",
    },
)

_M = ResumeMode
describe(
    ResumeMode,
    "ResumeMode",
    "When the step of a resumed enrollment falls due.",
    {
        _M.KEEP_REMAINING_WAIT: "When it would have been had the pause not happened: the "
        "wait left at the pause, counted from the resume (due at once if it was due when "
        "paused, or for a NOT_SENT, FAILED or BOUNCED one). The default.",
        _M.SEND_NOW: "At once (in the sending window's next opening).",
    },
)


_O = EnrollmentOutcome
describe(
    EnrollmentOutcome,
    "EnrollmentOutcome",
    "How a FINISHED enrollment ended (TextUs's three finished states), read from how it "
    "finished rather than from its reason alone.",
    {
        _O.RESPONDED: "The contact replied: a reply was detected (a REPLIED delivery report).",
        _O.NO_RESPONSE: "Every step was sent and the reply window passed without a reply "
        "(COMPLETED_NO_RESPONSE).",
        _O.STOPPED: "A user finished it (finishEnrollments), whatever reason they gave, "
        "REPLIED included.",
    },
)


_AE = ActiveElsewhere
describe(
    ActiveElsewhere,
    "ActiveElsewhere",
    "What addContactsToSequence does with a contact ACTIVE, PAUSED or NOT_SENT in another "
    "sequence.",
    {
        _AE.ENROLL: "Enroll it here too (it stays in the other sequence).",
        _AE.SKIP: "Leave it out: skipped with ACTIVE_IN_OTHER_SEQUENCE, naming that sequence.",
        _AE.MOVE: "Move it here: its other enrollment ends REMOVED, reason MOVED, linked to "
        "the new one (`movedTo`).",
    },
)


_W = WaitingFor
describe(
    WaitingFor,
    "WaitingFor",
    "What an enrollment's next step waits for. The engine records the first six when it "
    "schedules or defers a step (not guessed afterwards); the last two come from the "
    "enrollment's and the sequence's state.",
    {
        _W.WAIT: "The step's own wait after the previous step (or after enrollment).",
        _W.SENDING_WINDOW: "It fell due outside the sequence's sending window: it goes at "
        "the window's next opening, in the contact's time zone.",
        _W.DAILY_LIMIT: "The sender (the user who enrolled the contact) reached the "
        "sequence's daily limit: it goes in the next day's window.",
        _W.CONTACT_DAILY_CAP: "The contact was sent the sequence rule's "
        "`maxMessagesPerContactPerDay` today (UTC), by any sequence: it goes tomorrow.",
        _W.RETRY_BACKOFF: "The last attempt failed for a reason that may pass (the mail "
        "server was busy, a timeout): it is tried again after a backoff.",
        _W.TRANSPORT_UNAVAILABLE: "The transport is not usable (e.g. the SMTP login is "
        "refused): the step waits, nobody's status changes; fix the settings.",
        _W.SEQUENCE_INACTIVE: "The sequence is turned off (deactivateSequence) or archived: "
        "nothing is sent until it is on again.",
        _W.PAUSED: "The enrollment is PAUSED: it waits for a resume (at `resumeAt` if set).",
    },
)


describe(
    WhileActiveElsewhere,
    "WhileActiveElsewhere",
    "What the engine does with a step due for a contact ACTIVE, PAUSED or NOT_SENT in "
    "another sequence (the sequence rule `whileActiveElsewhere`).",
    {
        WhileActiveElsewhere.SEND: "Send it anyway (the default).",
        WhileActiveElsewhere.SKIP: "Do not send it: the enrollment becomes NOT_SENT, reason "
        "BLOCKED_BY_RULE, its event naming the rule; resume it once the other sequence is "
        "done.",
        WhileActiveElsewhere.PAUSE: "Do not send it: the enrollment becomes PAUSED (MANUAL), "
        "its event naming the rule.",
    },
)


__all__ = [
    "ActiveElsewhere",
    "ActivityKind",
    "BulkActionKind",
    "DeliveryEventKind",
    "EnrollmentOrderField",
    "EnrollmentOutcome",
    "EnrollmentStatus",
    "ErrorCode",
    "FinishReason",
    "OrderDirection",
    "PhoneType",
    "ResumeMode",
    "Role",
    "SkipReason",
    "StatusReason",
    "StepChannel",
    "WaitingFor",
    "Weekday",
    "WhileActiveElsewhere",
]
