"""The transport the engine and sendMessage use, chosen by the settings: EMAIL through
SMTP when ``SMTP_HOST`` is set, everything else recorded and not sent."""

from __future__ import annotations

from seqgql.domain.kinds import StepChannel
from seqgql.outbound.smtp import SmtpSettings, SmtpTransport
from seqgql.outbound.transport import OutboundMessage, RecordingTransport, Transport
from seqgql.settings import Settings


class ChannelRouter:
    """Sends each message through its channel's transport."""

    def __init__(self, by_channel: dict[StepChannel, Transport], default: Transport) -> None:
        self.by_channel = by_channel
        self.default = default

    async def send(self, message: OutboundMessage) -> None:
        await self.by_channel.get(message.channel, self.default).send(message)


def transport_from_settings(settings: Settings) -> Transport:
    recording = RecordingTransport()
    if not settings.smtp_host:
        return recording
    assert settings.smtp_from is not None  # checked by Settings
    smtp = SmtpTransport(
        SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            from_address=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            use_tls=settings.smtp_tls,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )
    )
    return ChannelRouter({StepChannel.EMAIL: smtp}, recording)
