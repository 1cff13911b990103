"""The enrollment aggregate: one contact in one sequence, and everything done to it.

What each module holds:
- ``actions``: the bulk actions on selected enrollments (pause, resume, finish, remove,
  add to group), each declared once as a ``BulkAction``.
- ``enroll``: adding contacts to a sequence, and restarting them in a clone.
- ``messaging``: sending one message now to a few selected contacts.
- ``provider_reports``: what a mail/SMS provider reports (reply, bounce, out of office...).
- ``operation``: the frame every bulk action runs in (one transaction, dry runs,
  idempotency keys, the operation record); ``results`` what an action reports.
- ``resolution``: checking a selection and the skip reasons for what it leaves alone.
- ``filters``: the SQL predicates of a filter or a selection.
- ``transitions``: set-based status changes that write their events.
- ``page``: the Contacts tab's page and counts; ``history``: an enrollment's activity.

The commands are exported here."""

from seqgql.services.enrollments.actions import add_to_group, finish, pause, remove, resume
from seqgql.services.enrollments.enroll import add_contacts
from seqgql.services.enrollments.messaging import send_message
from seqgql.services.enrollments.provider_reports import record_delivery_event
from seqgql.services.enrollments.restart import restart

__all__ = [
    "add_contacts",
    "add_to_group",
    "finish",
    "pause",
    "record_delivery_event",
    "remove",
    "restart",
    "resume",
    "send_message",
]
