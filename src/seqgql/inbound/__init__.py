"""Inbound email: replies, bounces, out-of-office answers and unsubscribe requests read
from the mail.

The classifier is pure (``classify``: raw bytes in, a ``Classification`` out), built of
``reading`` (a message's headers, addresses and text, whatever its shape), ``dsn``
(delivery status notifications), ``autoreply`` and ``dates`` (out-of-office answers and
their return dates), ``unsubscribe`` and ``reply_text`` (the reply without its quoted
history). ``imap`` fetches messages from a mailbox and ``polling`` feeds them to the
service that matches and applies them (``services.inbound_mail``)."""
