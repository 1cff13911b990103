"""The transport the engine and sendMessage use, chosen by the settings: EMAIL through
SMTP when ``SMTP_HOST`` is set, SMS through Twilio when ``TWILIO_ACCOUNT_SID`` is set,
everything else recorded and not sent."""

from __future__ import annotations

from seqgql.domain.kinds import StepChannel
from seqgql.outbound.smtp import SmtpSettings, SmtpTransport
from seqgql.outbound.transport import (
    OutboundMessage,
    RecordingTransport,
    Transport,
    close_transport,
)
from seqgql.outbound.twilio_sms import TwilioSettings, TwilioTransport
from seqgql.settings import Settings


class ChannelRouter:
    """Sends each message through its channel's transport."""

    def __init__(self, by_channel: dict[StepChannel, Transport], default: Transport) -> None:
        self.by_channel = by_channel
        self.default = default

    async def send(self, message: OutboundMessage) -> None:
        await self.by_channel.get(message.channel, self.default).send(message)

    async def aclose(self) -> None:
        for transport in {id(t): t for t in [*self.by_channel.values(), self.default]}.values():
            await close_transport(transport)


def transport_from_settings(settings: Settings) -> Transport:
    recording = RecordingTransport()
    by_channel: dict[StepChannel, Transport] = {}
    if settings.smtp_host:
        assert settings.smtp_from is not None  # checked by Settings
        by_channel[StepChannel.EMAIL] = SmtpTransport(
            SmtpSettings(
                host=settings.smtp_host,
                port=settings.smtp_port,
                from_address=settings.smtp_from,
                username=settings.smtp_username,
                password=settings.smtp_password.get_secret_value()
                if settings.smtp_password
                else None,
                use_tls=settings.smtp_tls,
                start_tls=settings.smtp_starttls,
                timeout=settings.smtp_timeout_seconds,
            )
        )
    if (twilio := twilio_settings(settings)) is not None:
        by_channel[StepChannel.SMS] = TwilioTransport(twilio)
    return ChannelRouter(by_channel, recording) if by_channel else recording


def twilio_settings(settings: Settings) -> TwilioSettings | None:
    """What TwilioTransport needs, from the settings (None: Twilio is not configured)."""
    if not settings.twilio_account_sid:
        return None
    if settings.twilio_api_key_sid:  # checked by Settings: the secret is there
        assert settings.twilio_api_key_secret is not None
        username, secret = settings.twilio_api_key_sid, settings.twilio_api_key_secret
    else:
        assert settings.twilio_auth_token is not None
        username, secret = settings.twilio_account_sid, settings.twilio_auth_token
    return TwilioSettings(
        account_sid=settings.twilio_account_sid,
        username=username,
        password=secret.get_secret_value(),
        messaging_service_sid=settings.twilio_messaging_service_sid,
        from_number=settings.twilio_from_number,
        api_base_url=settings.twilio_api_base_url,
        status_callback_base=settings.public_base_url,
        timeout=settings.twilio_timeout_seconds,
    )
