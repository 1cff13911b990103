"""The enrollment aggregate: one contact in one sequence, and everything done to it.

What each module holds:
- ``actions``: the bulk actions on selected enrollments (pause, finish, remove, add to
  group), each declared once as a ``BulkAction``; ``resume``: resuming, retrying FAILED
  and BOUNCED ones, and the auto-resume date.
- ``enroll``: adding contacts to a sequence, and restarting them in a clone.
- ``moves``: moving enrollments to another step, or to another sequence; ``undo``:
  putting back what a bulk operation changed.
- ``messaging``: sending one message now to a few selected contacts.
- ``provider_reports``: what a mail/SMS provider reports (reply, bounce, out of office...);
  ``sms_reports``: whose a Twilio webhook is, the enrollments a text answers, the carrier
  keywords (opt out, opt in, help); ``landlines``: a text that reached no mobile phone.
- ``operation``: the frame every bulk action runs in (one transaction, dry runs,
  idempotency keys, the operation record); ``results`` what an action reports.
- ``resolution``: checking a selection and the skip reasons for what it leaves alone.
- ``filters``: the SQL predicates of a filter or a selection.
- ``transitions``: set-based status changes that write their events.
- ``page``: the Contacts tab's page and counts; ``history``: an enrollment's activity;
  ``memberships``: a contact's enrollments; ``operation_records``: bulk operations read
  back (their changes and events).

The commands are exported here."""

from seqgql.services.enrollments.actions import add_to_group, finish, pause, remove
from seqgql.services.enrollments.enroll import add_contacts
from seqgql.services.enrollments.messaging import send_message
from seqgql.services.enrollments.moves import move, move_to_step
from seqgql.services.enrollments.provider_reports import record_delivery_event
from seqgql.services.enrollments.restart import restart
from seqgql.services.enrollments.resume import resume
from seqgql.services.enrollments.undo import undo

__all__ = [
    "add_contacts",
    "add_to_group",
    "finish",
    "move",
    "move_to_step",
    "pause",
    "record_delivery_event",
    "remove",
    "restart",
    "resume",
    "send_message",
    "undo",
]
