"""What an inbound email is, from its bytes alone: ``classify(raw) -> Classification``.

In this order: a delivery status notification (``dsn``: BOUNCE or DELAYED), an
automatic answer (``autoreply``: OUT_OF_OFFICE, with the return date its text gives
(``dates``), or AUTOMATED: no reply), a request to stop (``unsubscribe``: UNSUBSCRIBE),
else a person's REPLY (its text without the quoted history: ``reply_text``). Each
carries its evidence (which header or phrase decided it) and the Message-IDs of ours it
answers or reports on (``outbound.smtp.sent_message_refs``). Nothing here touches a
database or the network."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from seqgql.domain.kinds import InboundKind
from seqgql.inbound.autoreply import automatic_answer
from seqgql.inbound.dates import return_date
from seqgql.inbound.dsn import delivery_report
from seqgql.inbound.reading import body_text, header, headers, parse, sender, sent_at
from seqgql.inbound.reply_text import reply_text
from seqgql.inbound.unsubscribe import unsubscribe_request
from seqgql.outbound.smtp import SentMessageRef, sent_message_refs

MAX_MESSAGE_ID_CHARS = 998
# a Date older than this before the receipt, or later than the other after it, is not
# believed (the receipt is used)
_DATE_SKEW = timedelta(days=30)
_DATE_AHEAD = timedelta(days=1)


class NotAMessage(ValueError):
    """The bytes are not an email: no From, no Message-ID."""


@dataclass(frozen=True, slots=True)
class Classification:
    kind: InboundKind
    evidence: str  # which header or phrase decided, e.g. "auto-reply: header ..."
    message_id: str | None
    sender: str | None  # the From address, lower-cased
    subject: str
    sent_at: datetime  # its Date (when believable), else when it was received
    references: tuple[SentMessageRef, ...] = ()  # our messages it answers or reports on
    failed_recipients: tuple[str, ...] = ()  # a delivery report's, lower-cased
    return_date: date | None = None  # an out-of-office answer's
    reply_text: str | None = None  # a reply's own text (no quoted history)

    @property
    def detail(self) -> str:
        """What an activity records: the evidence, then a reply's text."""
        return f"{self.evidence}\n\n{self.reply_text}" if self.reply_text else self.evidence


def classify(raw: bytes, *, received_at: datetime) -> Classification:
    """Classify the email ``raw`` (see the module). Raises ``NotAMessage`` when it has
    neither a From nor a Message-ID header."""
    message = parse(raw)
    message_id = header(message, "Message-ID")[:MAX_MESSAGE_ID_CHARS] or None
    from_address = sender(message)
    if message_id is None and from_address is None:
        raise NotAMessage("not an email: it has neither a From nor a Message-ID header")
    subject = header(message, "Subject")[:500]
    moment = sent_at(message)
    if moment is None or not -_DATE_SKEW <= moment - received_at <= _DATE_AHEAD:
        moment = received_at
    threading = " ".join(headers(message, "In-Reply-To") + headers(message, "References"))
    base = Classification(InboundKind.REPLY, "", message_id, from_address, subject, moment)
    report = delivery_report(message)
    if report is not None:
        return replace(
            base,
            kind=InboundKind.BOUNCE if report.permanent else InboundKind.DELAYED,
            evidence=report.evidence,
            references=tuple(sent_message_refs(threading + "\n" + report.original)),
            failed_recipients=report.recipients,
        )
    base = replace(base, references=tuple(sent_message_refs(threading)))
    text = body_text(message)
    automatic = automatic_answer(message, text)
    if automatic is not None and automatic.out_of_office:
        returns = return_date(f"{subject}\n{text}", moment)
        found = returns.evidence if returns else "no return date found"
        return replace(
            base,
            kind=InboundKind.OUT_OF_OFFICE,
            evidence=f"auto-reply: {automatic.evidence}; {found}",
            return_date=returns.day if returns else None,
        )
    if automatic is not None:
        return replace(
            base,
            kind=InboundKind.AUTOMATED,
            evidence=f"automated: {automatic.evidence}; not a reply",
        )
    reply = reply_text(text) or None
    stop = unsubscribe_request(subject, reply or "")
    if stop is not None:
        return replace(
            base, kind=InboundKind.UNSUBSCRIBE, evidence=f"unsubscribe: {stop}", reply_text=reply
        )
    return replace(
        base,
        evidence="reply: no automatic header or subject, not a delivery notice",
        reply_text=reply,
    )
