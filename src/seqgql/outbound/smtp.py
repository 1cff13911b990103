"""Email over SMTP, behind the Transport interface.

``SmtpTransport.send`` either returns (the server accepted the message) or raises one of
the outcomes below, which the engine can act on:

* ``PermanentFailure``: the server refused the recipient or the message for good (a 5xx
  answer to MAIL, RCPT or DATA). Sending again will not help; for email the engine marks
  the enrollment BOUNCED.
* ``TransientFailure``: a 4xx answer, a refused or dropped connection, a timeout. Try again
  later (``send_with_retry`` does so a few times with exponential backoff).
* ``ConfigurationError`` (a ``TransientFailure``): our own setup is wrong (credentials,
  TLS). Not the recipient's fault, so nothing bounces; retrying quickly will not help either,
  so ``send_with_retry`` gives up at once and the engine retries later, after a fix.

Once the server has accepted the message (its 250 to the end of DATA), ``send`` never raises:
a failure while saying goodbye is ignored, so a retry can never send the message twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from seqgql.domain.kinds import StepChannel
from seqgql.outbound.transport import (
    ConfigurationError,
    DeliveryFailure,
    OutboundMessage,
    PermanentFailure,
    TransientFailure,
)

log = logging.getLogger(__name__)

# Errors that mean "the exchange with the server broke down": no answer about the message.
_NETWORK_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    from_address: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_tls: bool = False  # implicit TLS from the first byte (usually port 465)
    start_tls: bool | None = None  # None: upgrade when the server offers it; True: require
    validate_certs: bool = True
    timeout: float = 30.0  # seconds, per network operation
    local_hostname: str | None = None  # sent in EHLO; None: this machine's FQDN


def message_id(message: OutboundMessage, domain: str, *, idempotency_key: str | None = None) -> str:
    """A Message-ID that is the same every time the same logical message is sent.

    With an ``idempotency_key`` (when callers supply one) it is derived from that; else
    from the message's ``key`` (a step's enrollment, position and attempt: two steps of
    the same text get two ids); else from the enrollment and the content. A retried send
    carries the same Message-ID, so receivers can drop the duplicate if a send was ever
    repeated."""
    if idempotency_key is not None:
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
        return f"<{digest}@{domain}>"
    if message.key is not None:
        return f"<seqgql.{message.key}@{domain}>"
    content = f"{message.subject or ''}\x00{message.body}".encode()
    digest = hashlib.sha256(content).hexdigest()[:32]
    return f"<seqgql.{message.enrollment_id}.{digest}@{domain}>"


@dataclass(frozen=True, slots=True)
class SentMessageRef:
    """What a Message-ID made by ``message_id`` says of the message it names: the
    enrollment, and the step and attempt (a sequence step) or the bulk operation (a
    sendMessage message); neither for an id derived from the content."""

    enrollment_id: int
    step: int | None = None
    attempt: int | None = None
    bulk_operation_id: int | None = None


# <seqgql.{enrollment}.{step}.{attempt}@domain>, <seqgql.{enrollment}.message.{operation}@
# domain>, <seqgql.{enrollment}.{content digest}@domain>: the ids ``message_id`` makes
_SENT_ID = re.compile(
    r"<seqgql\.(?P<enrollment>[0-9]{1,18})\."
    r"(?:(?P<step>[0-9]{1,9})\.(?P<attempt>[0-9]{1,9})"
    r"|message\.(?P<operation>[0-9]{1,18}|None)"
    r"|[0-9a-f]{32})"
    r"@[^<>@\s]{1,255}>",
    re.IGNORECASE,
)


def sent_message_refs(text: str) -> list[SentMessageRef]:
    """Every Message-ID of ours in ``text`` (a header such as In-Reply-To or References,
    or the text of a bounce), in order, each once; ids of other senders are left out."""
    found: list[SentMessageRef] = []
    for match in _SENT_ID.finditer(text):
        step, attempt, operation = match["step"], match["attempt"], match["operation"]
        ref = SentMessageRef(
            int(match["enrollment"]),
            int(step) if step else None,
            int(attempt) if attempt else None,
            int(operation) if operation and operation != "None" else None,
        )
        if ref not in found:
            found.append(ref)
    return found


def build_email(
    message: OutboundMessage, from_address: str, *, idempotency_key: str | None = None
) -> EmailMessage:
    domain = from_address.rpartition("@")[2] or "localhost"
    email = EmailMessage()
    email["From"] = from_address
    email["To"] = message.to
    email["Subject"] = message.subject or ""
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = message_id(message, domain, idempotency_key=idempotency_key)
    email.set_content(message.body)
    return email


def _from_response(exc: aiosmtplib.SMTPResponseException) -> DeliveryFailure:
    if 500 <= exc.code < 600:
        return PermanentFailure(exc.message, code=exc.code)
    return TransientFailure(exc.message, code=exc.code)


def _from_refused(exc: aiosmtplib.SMTPRecipientsRefused) -> DeliveryFailure:
    """All recipients refused: permanent only if every refusal was a 5xx (a 4xx on RCPT is
    typically greylisting, which goes away)."""
    refusals = exc.recipients
    if refusals and all(500 <= r.code < 600 for r in refusals):
        first = refusals[0]
        return PermanentFailure(f"{first.recipient}: {first.message}", code=first.code)
    transient = next((r for r in refusals if not 500 <= r.code < 600), None)
    if transient is None:
        return TransientFailure(str(exc))
    return TransientFailure(f"{transient.recipient}: {transient.message}", code=transient.code)


class SmtpTransport:
    """Sends EMAIL messages through an SMTP server, one connection per message."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            username=s.username,
            password=s.password,
            use_tls=s.use_tls,
            start_tls=s.start_tls,
            validate_certs=s.validate_certs,
            timeout=s.timeout,
            local_hostname=s.local_hostname,
        )

    async def send(self, message: OutboundMessage) -> None:
        if message.channel is not StepChannel.EMAIL:
            raise ValueError(f"SmtpTransport sends EMAIL messages, not {message.channel}")
        email = build_email(message, self.settings.from_address)
        client = self._client()

        # 1. Connect, greet, TLS, log in. Nothing about this message has been said yet.
        try:
            await client.connect()
        except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPNotSupported) as exc:
            raise ConfigurationError(str(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # A refusal at greeting/EHLO concerns us, not the recipient: never a bounce.
            raise TransientFailure(exc.message, code=exc.code) from exc
        except _NETWORK_ERRORS as exc:
            raise TransientFailure(f"cannot connect: {exc!r}") from exc

        # 2. MAIL, RCPT, DATA. Until the final 250 the message is not accepted.
        try:
            await client.send_message(
                email, sender=self.settings.from_address, recipients=[message.to]
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            client.close()
            raise _from_refused(exc) from exc
        except aiosmtplib.SMTPResponseException as exc:
            client.close()
            raise _from_response(exc) from exc
        except _NETWORK_ERRORS as exc:
            client.close()
            raise TransientFailure(f"send interrupted: {exc!r}") from exc
        except BaseException:
            client.close()
            raise

        # 3. Accepted. Whatever happens now, the message must not be sent again.
        try:
            await client.quit()
        except _NETWORK_ERRORS as exc:
            log.debug("SMTP QUIT failed after the message was accepted: %r", exc)
            client.close()
