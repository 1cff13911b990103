"""TwilioTransport against a local server that speaks Twilio's Messages API: what it
sends, and how each answer becomes the engine's outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from pydantic import ValidationError

from seqgql.domain.kinds import StepChannel
from seqgql.outbound.routing import ChannelRouter, transport_from_settings
from seqgql.outbound.transport import (
    ConfigurationError,
    OutboundMessage,
    PermanentFailure,
    RecordingTransport,
    TransientFailure,
    send_with_retry,
)
from seqgql.outbound.twilio_sms import TwilioTransport
from seqgql.settings import Settings
from tests.helpers.processes import free_port
from tests.helpers.twilio import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    FROM_NUMBER,
    MESSAGING_SERVICE_SID,
    PUBLIC_BASE_URL,
    Answer,
    FakeTwilio,
    settings_for,
)

MESSAGE = OutboundMessage(
    enrollment_id=42,
    contact_id=7,
    channel=StepChannel.SMS,
    to="+14155550123",
    body="Hi Ada, quick question — café at 3?",
    key="42.2.0",
)


@pytest.fixture
async def transport(twilio_url: str) -> AsyncIterator[TwilioTransport]:
    sms = TwilioTransport(settings_for(twilio_url))
    yield sms
    await sms.aclose()


async def no_sleep(_delay: float) -> None:
    pass


async def test_a_message_reaches_twilio_with_to_body_from_and_its_callback(
    transport: TwilioTransport, fake_twilio: FakeTwilio
) -> None:
    await transport.send(MESSAGE)

    [received] = fake_twilio.accepted
    assert received.login == ACCOUNT_SID
    assert received.fields == {
        "To": MESSAGE.to,
        "Body": MESSAGE.body,
        "From": FROM_NUMBER,
        "StatusCallback": f"{PUBLIC_BASE_URL}/hooks/twilio/status?message=42.2.0",
    }


async def test_an_api_key_and_a_messaging_service(twilio_url: str, fake_twilio: FakeTwilio) -> None:
    sms = TwilioTransport(
        settings_for(
            twilio_url, username=API_KEY_SID, password=API_KEY_SECRET, from_number=None,
            messaging_service_sid=MESSAGING_SERVICE_SID, status_callback_base=None,
        )
    )  # fmt: skip
    try:
        await sms.send(MESSAGE)
    finally:
        await sms.aclose()
    [received] = fake_twilio.accepted
    assert received.login == API_KEY_SID
    assert received.fields == {
        "To": MESSAGE.to, "Body": MESSAGE.body, "MessagingServiceSid": MESSAGING_SERVICE_SID,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("code", "message"),
    [(21211, "The 'To' number +1 is not a valid phone number."),
     (21610, "Attempt to send to unsubscribed recipient"),
     (21614, "'To' number is not a valid mobile number")],
)  # fmt: skip
async def test_a_refused_message_is_a_permanent_failure_not_retried(
    transport: TwilioTransport, fake_twilio: FakeTwilio, code: int, message: str
) -> None:
    fake_twilio.refuse[MESSAGE.to] = Answer(400, code, message)

    with pytest.raises(PermanentFailure) as caught:
        await send_with_retry(transport, MESSAGE, attempts=3, sleep=no_sleep)

    assert caught.value.code == code
    assert message in str(caught.value)
    assert len(fake_twilio.requests) == 1
    assert fake_twilio.accepted == []


async def test_wrong_credentials_are_our_configuration_not_retried(
    twilio_url: str, fake_twilio: FakeTwilio
) -> None:
    sms = TwilioTransport(settings_for(twilio_url, password="not-the-token"))
    try:
        with pytest.raises(ConfigurationError) as caught:
            await send_with_retry(sms, MESSAGE, attempts=3, sleep=no_sleep)
    finally:
        await sms.aclose()
    assert caught.value.code == 20003
    assert len(fake_twilio.requests) == 1


async def test_an_unknown_account_is_our_configuration(
    twilio_url: str, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.credentials["AC" + "9" * 32] = "other"
    sms = TwilioTransport(
        settings_for(twilio_url, account_sid="AC" + "9" * 32, username="AC" + "9" * 32,
                     password="other")
    )  # fmt: skip
    try:
        with pytest.raises(ConfigurationError):
            await sms.send(MESSAGE)
    finally:
        await sms.aclose()


@pytest.mark.parametrize(
    "answer", [Answer(429, 20429, "Too Many Requests"), Answer(503, 20500, "Unavailable")]
)
async def test_a_transient_answer_is_retried_until_accepted(
    transport: TwilioTransport, fake_twilio: FakeTwilio, answer: Answer
) -> None:
    fake_twilio.next_answers = [answer, answer]

    await send_with_retry(transport, MESSAGE, attempts=3, sleep=no_sleep)

    assert len(fake_twilio.requests) == 3
    assert len(fake_twilio.accepted) == 1


async def test_a_transient_answer_every_time_is_a_transient_failure(
    transport: TwilioTransport, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.next_answers = [Answer(503, 20500, "Unavailable")] * 3
    with pytest.raises(TransientFailure) as caught:
        await send_with_retry(transport, MESSAGE, attempts=3, sleep=no_sleep)
    assert not isinstance(caught.value, ConfigurationError)
    assert fake_twilio.accepted == []


async def test_no_server_is_a_transient_failure() -> None:
    sms = TwilioTransport(settings_for(f"http://127.0.0.1:{free_port()}"))
    try:
        with pytest.raises(TransientFailure) as caught:
            await sms.send(MESSAGE)
    finally:
        await sms.aclose()
    assert not isinstance(caught.value, ConfigurationError)
    assert "cannot reach Twilio" in str(caught.value)


async def test_a_server_that_does_not_answer_in_time_is_a_transient_failure(
    twilio_url: str, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.delay = 1.0
    sms = TwilioTransport(settings_for(twilio_url, timeout=0.2))
    try:
        with pytest.raises(TransientFailure):
            await sms.send(MESSAGE)
    finally:
        await sms.aclose()


async def test_it_sends_only_sms(transport: TwilioTransport) -> None:
    with pytest.raises(ValueError, match="SMS"):
        await transport.send(replace(MESSAGE, channel=StepChannel.EMAIL))


def test_the_settings_send_sms_through_twilio_and_email_as_before() -> None:
    settings = Settings(
        twilio_account_sid=ACCOUNT_SID, twilio_api_key_sid=API_KEY_SID,
        twilio_api_key_secret=API_KEY_SECRET, twilio_messaging_service_sid=MESSAGING_SERVICE_SID,
    )  # fmt: skip
    router = transport_from_settings(settings)
    assert isinstance(router, ChannelRouter)
    sms = router.by_channel[StepChannel.SMS]
    assert isinstance(sms, TwilioTransport)
    assert (sms.settings.username, sms.settings.password) == (API_KEY_SID, API_KEY_SECRET)
    assert sms.settings.status_callback_base is None
    assert StepChannel.EMAIL not in router.by_channel
    assert isinstance(transport_from_settings(Settings()), RecordingTransport)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"twilio_from_number": FROM_NUMBER}, "TWILIO_AUTH_TOKEN"),
        ({"twilio_auth_token": "t"}, "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER"),
        ({"twilio_api_key_sid": API_KEY_SID, "twilio_from_number": FROM_NUMBER},
         "TWILIO_API_KEY_SECRET"),
    ],
)  # fmt: skip
def test_incomplete_twilio_settings_are_refused(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(twilio_account_sid=ACCOUNT_SID, **values)  # type: ignore[arg-type]
