"""SmtpTransport against a real SMTP server (aiosmtpd on 127.0.0.1, in its own thread)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from seqgql.domain.kinds import StepChannel
from seqgql.outbound.smtp import SmtpSettings, SmtpTransport, build_email
from seqgql.outbound.transport import (
    ConfigurationError,
    OutboundMessage,
    PermanentFailure,
    TransientFailure,
    send_with_retry,
)

SENDER = "outreach@example.com"
MESSAGE = OutboundMessage(
    enrollment_id=42,
    contact_id=7,
    channel=StepChannel.EMAIL,
    to="ada@example.org",
    subject="Hello Ada",
    body="Line one.\nLine two, with unicode: café.\n",
)


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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
def smtp_port(handler: RecordingHandler) -> Iterator[int]:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


@pytest.fixture
def transport(smtp_port: int) -> SmtpTransport:
    return SmtpTransport(settings_for(smtp_port))


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_delivers_with_from_to_subject_and_body(
    transport: SmtpTransport, handler: RecordingHandler
) -> None:
    await transport.send(MESSAGE)

    assert len(handler.delivered) == 1
    delivered = handler.delivered[0]
    assert delivered.mail_from == SENDER
    assert delivered.rcpt_tos == [MESSAGE.to]
    msg = delivered.message
    assert msg["From"] == SENDER
    assert msg["To"] == MESSAGE.to
    assert msg["Subject"] == MESSAGE.subject
    assert msg["Message-ID"] == build_email(MESSAGE, SENDER)["Message-ID"]
    assert msg["Date"]
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == MESSAGE.body  # CRLF on the wire


def test_message_id_is_stable_for_the_same_logical_message() -> None:
    first = build_email(MESSAGE, SENDER)["Message-ID"]
    again = build_email(MESSAGE, SENDER)["Message-ID"]
    other_body = build_email(replace(MESSAGE, body="Something else"), SENDER)["Message-ID"]
    other_enrollment = build_email(replace(MESSAGE, enrollment_id=43), SENDER)["Message-ID"]
    keyed = build_email(MESSAGE, SENDER, idempotency_key="step-3")["Message-ID"]

    assert first == again
    assert first.startswith("<seqgql.42.") and first.endswith("@example.com>")
    assert len({first, other_body, other_enrollment, keyed}) == 4
    assert (
        keyed
        == build_email(replace(MESSAGE, body="x"), SENDER, idempotency_key="step-3")["Message-ID"]
    )


async def test_refused_recipient_is_a_permanent_failure_and_not_retried(
    transport: SmtpTransport, handler: RecordingHandler
) -> None:
    handler.refuse[MESSAGE.to] = "550 5.1.1 No such user"
    sleep = FakeSleep()

    with pytest.raises(PermanentFailure) as caught:
        await send_with_retry(transport, MESSAGE, attempts=3, sleep=sleep)

    assert caught.value.code == 550
    assert "No such user" in str(caught.value)
    assert sleep.delays == []  # no retry
    assert handler.data_attempts == 0
    assert handler.delivered == []


async def test_data_rejected_with_5xx_is_permanent(
    transport: SmtpTransport, handler: RecordingHandler
) -> None:
    async def reject(server: SMTP, session: Session, envelope: Envelope) -> str:
        return "554 5.7.1 Message rejected as spam"

    handler.handle_DATA = reject  # type: ignore[method-assign]

    with pytest.raises(PermanentFailure) as caught:
        await transport.send(MESSAGE)
    assert caught.value.code == 554


async def test_451_twice_then_success_is_delivered_exactly_once(
    transport: SmtpTransport, handler: RecordingHandler
) -> None:
    handler.data_failures = 2
    sleep = FakeSleep()

    await send_with_retry(transport, MESSAGE, attempts=3, base_delay=0.2, sleep=sleep)

    assert handler.data_attempts == 3
    assert len(handler.delivered) == 1
    assert handler.delivered[0].rcpt_tos == [MESSAGE.to]
    assert sleep.delays == pytest.approx([0.2, 0.4])


async def test_451_on_every_attempt_raises_the_last_transient_failure(
    transport: SmtpTransport, handler: RecordingHandler
) -> None:
    handler.data_failures = 10
    sleep = FakeSleep()

    with pytest.raises(TransientFailure) as caught:
        await send_with_retry(transport, MESSAGE, attempts=3, sleep=sleep)

    assert caught.value.code == 451
    assert handler.data_attempts == 3
    assert handler.delivered == []
    assert sleep.delays == pytest.approx([0.2, 0.4])


async def test_greylisted_recipient_4xx_is_transient(
    transport: SmtpTransport, handler: RecordingHandler
) -> None:
    handler.rcpt_failures = 1

    with pytest.raises(TransientFailure) as caught:
        await transport.send(MESSAGE)
    assert not isinstance(caught.value, PermanentFailure)
    assert caught.value.code == 451

    await transport.send(MESSAGE)  # greylisting passed
    assert len(handler.delivered) == 1


async def test_failure_after_acceptance_is_not_an_error_and_not_resent(
    transport: SmtpTransport, handler: RecordingHandler
) -> None:
    handler.quit_reply = "421 4.3.2 Shutting down"  # the goodbye fails, the message is in
    sleep = FakeSleep()

    await send_with_retry(transport, MESSAGE, attempts=3, sleep=sleep)

    assert len(handler.delivered) == 1
    assert sleep.delays == []


async def test_server_down_raises_transient_failure_after_the_attempts() -> None:
    transport = SmtpTransport(settings_for(free_port()))  # nothing listens there
    sleep = FakeSleep()

    with pytest.raises(TransientFailure) as caught:
        await send_with_retry(transport, MESSAGE, attempts=4, base_delay=0.5, sleep=sleep)

    assert caught.value.code is None
    assert sleep.delays == pytest.approx([0.5, 1.0, 2.0])


async def test_silent_server_times_out_as_transient_failure() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greet; wait for the client to give up
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        transport = SmtpTransport(settings_for(port, timeout=0.2))
        with pytest.raises(TransientFailure):
            await transport.send(MESSAGE)
    finally:
        server.close()
        await server.wait_closed()


async def test_configuration_error_is_not_retried() -> None:
    class Misconfigured:
        calls = 0

        async def send(self, message: OutboundMessage) -> None:
            self.calls += 1
            raise ConfigurationError("authentication refused", code=535)

    transport = Misconfigured()
    sleep = FakeSleep()
    with pytest.raises(ConfigurationError):
        await send_with_retry(transport, MESSAGE, sleep=sleep)
    assert transport.calls == 1
    assert sleep.delays == []


async def test_only_email_messages(transport: SmtpTransport) -> None:
    with pytest.raises(ValueError, match="EMAIL"):
        await transport.send(replace(MESSAGE, channel=StepChannel.SMS, to="+14155550100"))
