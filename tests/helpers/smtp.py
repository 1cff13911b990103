"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, in its own thread)."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from seqgql.outbound.smtp import SmtpSettings
from tests.helpers.processes import free_port

SENDER = "outreach@example.com"


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class RecordingHandler:
    """Records accepted envelopes. Can refuse recipients, and answer 451 to DATA (or to
    RCPT) a number of times before accepting, and answer QUIT with an error."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.delivered: list[Delivered] = []
        self.refuse: dict[str, str] = {}  # recipient -> full reply, e.g. "550 ..."
        self.data_failures = 0  # answer 451 to this many DATA commands first
        self.rcpt_failures = 0  # answer 451 to this many RCPT commands first
        self.data_attempts = 0
        self.quit_reply: str | None = None

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        with self.lock:
            if address in self.refuse:
                return self.refuse[address]
            if self.rcpt_failures > 0:
                self.rcpt_failures -= 1
                return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.data_attempts += 1
            if self.data_failures > 0:
                self.data_failures -= 1
                return "451 4.3.0 Temporary local problem, try again later"
            content = envelope.original_content or b""
            parsed = email.message_from_bytes(content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.delivered.append(
                Delivered(str(envelope.mail_from), list(envelope.rcpt_tos), parsed)
            )
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self.quit_reply or "221 Bye"


def settings_for(port: int, **overrides: Any) -> SmtpSettings:
    base = SmtpSettings(
        host="127.0.0.1",
        port=port,
        from_address=SENDER,
        start_tls=False,
        timeout=5.0,
        local_hostname="seqgql.test",
    )
    return replace(base, **overrides)


@contextmanager
def smtp_server(handler: RecordingHandler) -> Iterator[int]:
    """An SMTP server answering with ``handler`` while the block runs; yields its port."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()
