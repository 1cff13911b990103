"""SmtpTransport against a real SMTP server (aiosmtpd on 127.0.0.1, in its own thread)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from seqgql.domain.kinds import StepChannel
from seqgql.outbound.smtp import SmtpTransport, build_email
from seqgql.outbound.transport import (
    ConfigurationError,
    OutboundMessage,
    PermanentFailure,
    TransientFailure,
    send_with_retry,
)
from tests.helpers.processes import free_port
from tests.helpers.smtp import SENDER, RecordingHandler, settings_for

MESSAGE = OutboundMessage(
    enrollment_id=42,
    contact_id=7,
    channel=StepChannel.EMAIL,
    to="ada@example.org",
    subject="Hello Ada",
    body="Line one.\nLine two, with unicode: café.\n",
)


@pytest.fixture
def transport(smtp_port: int) -> SmtpTransport:
    return SmtpTransport(settings_for(smtp_port))


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_delivers_with_from_to_subject_and_body(
    transport: SmtpTransport, smtp_handler: RecordingHandler
) -> None:
    await transport.send(MESSAGE)

    assert len(smtp_handler.delivered) == 1
    delivered = smtp_handler.delivered[0]
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


def test_a_keyed_message_has_one_id_per_key() -> None:
    """A step's key (enrollment.step.attempt) names the logical message, whatever its
    text: the same for every try, different for another step or attempt."""
    step_1 = replace(MESSAGE, key="42.1.0")
    ids = {
        build_email(step_1, SENDER)["Message-ID"],
        build_email(replace(MESSAGE, key="42.2.0"), SENDER)["Message-ID"],
        build_email(replace(MESSAGE, key="42.1.1"), SENDER)["Message-ID"],
    }
    assert len(ids) == 3
    assert build_email(step_1, SENDER)["Message-ID"] == "<seqgql.42.1.0@example.com>"
    assert build_email(replace(step_1, body="edited"), SENDER)["Message-ID"] == (
        "<seqgql.42.1.0@example.com>"
    )


async def test_refused_recipient_is_a_permanent_failure_and_not_retried(
    transport: SmtpTransport, smtp_handler: RecordingHandler
) -> None:
    smtp_handler.refuse[MESSAGE.to] = "550 5.1.1 No such user"
    sleep = FakeSleep()

    with pytest.raises(PermanentFailure) as caught:
        await send_with_retry(transport, MESSAGE, attempts=3, sleep=sleep)

    assert caught.value.code == 550
    assert "No such user" in str(caught.value)
    assert sleep.delays == []  # no retry
    assert smtp_handler.data_attempts == 0
    assert smtp_handler.delivered == []


async def test_data_rejected_with_5xx_is_permanent(
    transport: SmtpTransport, smtp_handler: RecordingHandler
) -> None:
    async def reject(server: SMTP, session: Session, envelope: Envelope) -> str:
        return "554 5.7.1 Message rejected as spam"

    smtp_handler.handle_DATA = reject  # type: ignore[method-assign]

    with pytest.raises(PermanentFailure) as caught:
        await transport.send(MESSAGE)
    assert caught.value.code == 554


async def test_451_twice_then_success_is_delivered_exactly_once(
    transport: SmtpTransport, smtp_handler: RecordingHandler
) -> None:
    smtp_handler.data_failures = 2
    sleep = FakeSleep()

    await send_with_retry(transport, MESSAGE, attempts=3, base_delay=0.2, sleep=sleep)

    assert smtp_handler.data_attempts == 3
    assert len(smtp_handler.delivered) == 1
    assert smtp_handler.delivered[0].rcpt_tos == [MESSAGE.to]
    assert sleep.delays == pytest.approx([0.2, 0.4])


async def test_451_on_every_attempt_raises_the_last_transient_failure(
    transport: SmtpTransport, smtp_handler: RecordingHandler
) -> None:
    smtp_handler.data_failures = 10
    sleep = FakeSleep()

    with pytest.raises(TransientFailure) as caught:
        await send_with_retry(transport, MESSAGE, attempts=3, sleep=sleep)

    assert caught.value.code == 451
    assert smtp_handler.data_attempts == 3
    assert smtp_handler.delivered == []
    assert sleep.delays == pytest.approx([0.2, 0.4])


async def test_greylisted_recipient_4xx_is_transient(
    transport: SmtpTransport, smtp_handler: RecordingHandler
) -> None:
    smtp_handler.rcpt_failures = 1

    with pytest.raises(TransientFailure) as caught:
        await transport.send(MESSAGE)
    assert not isinstance(caught.value, PermanentFailure)
    assert caught.value.code == 451

    await transport.send(MESSAGE)  # greylisting passed
    assert len(smtp_handler.delivered) == 1


async def test_failure_after_acceptance_is_not_an_error_and_not_resent(
    transport: SmtpTransport, smtp_handler: RecordingHandler
) -> None:
    smtp_handler.quit_reply = "421 4.3.2 Shutting down"  # the goodbye fails, the message is in
    sleep = FakeSleep()

    await send_with_retry(transport, MESSAGE, attempts=3, sleep=sleep)

    assert len(smtp_handler.delivered) == 1
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
