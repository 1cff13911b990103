"""``POST /hooks/sendgrid`` and ``POST /hooks/mailgun``: an email provider's events about
the messages sent through it (delivered, opened, bounced, unsubscribed…), checked, read
(``seqgql.provider_events``) and applied to their enrollments
(``services.provider_events``).

Authenticated like the inbound email hook: an API token of the workspace the events are
for (ADMIN or MEMBER), as ``Authorization: Bearer <token>`` or as the password of HTTP
Basic credentials (a webhook URL ``https://events:<token>@api.example.com/hooks/sendgrid``);
and on top, the provider's signature with the key of the setting
(``SENDGRID_WEBHOOK_PUBLIC_KEY``, ``MAILGUN_WEBHOOK_SIGNING_KEY``): missing, wrong, older
than 10 minutes, or (Mailgun) a token seen before → 403 and nothing changes; no key set
→ 403 ``NOT_CONFIGURED``.

Answers 200 once the batch is processed: ``{"received", "applied", "recorded",
"unmatched", "ignored", "duplicates", "invalid", "problems"}`` (counts of events by what
was decided; ``problems``: why events could not be read, at most 20), each event's result
logged; an event that could not be read leaves the others be. 400 for a body that is not
the provider's JSON, 401, 403, 405, 413 (over ``PROVIDER_EVENTS_MAX_BYTES``, or over
5,000 events: ``TOO_MANY_EVENTS``), 415, 429, 503 as JSON with a code."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive

from seqgql.clock import Clock
from seqgql.csv_export import unavailable
from seqgql.domain.kinds import EmailProvider
from seqgql.gateway import (
    BodyLimits,
    Refused,
    WritingRoute,
    read_body,
)
from seqgql.graphql.over_http import error_response
from seqgql.persistence.database import Database, is_unavailable
from seqgql.provider_events.events import (
    Batch,
    EventSource,
    TooManyEvents,
    Unreadable,
    Unsigned,
)
from seqgql.provider_events.mailgun_events import MailgunEvents
from seqgql.provider_events.sendgrid_events import SendGridEvents
from seqgql.services.auth import TokenCache
from seqgql.services.provider_events import EventResult, Replayed, process_provider_events
from seqgql.services.rate_limits import RateLimiter
from seqgql.settings import Settings

log = logging.getLogger("seqgql.provider_events")
MAX_PROBLEMS_ANSWERED = 20
_SETTINGS = {
    EmailProvider.SENDGRID: "SENDGRID_WEBHOOK_PUBLIC_KEY",
    EmailProvider.MAILGUN: "MAILGUN_WEBHOOK_SIGNING_KEY",
}


def event_sources(settings: Settings) -> dict[EmailProvider, EventSource | None]:
    """Each provider's reader, with the key of its setting (None where it is not set);
    raises ValueError for a key that is no key."""
    mailgun_key = settings.mailgun_webhook_signing_key
    sendgrid_key = settings.sendgrid_webhook_public_key
    return {
        EmailProvider.SENDGRID: SendGridEvents(sendgrid_key) if sendgrid_key else None,
        EmailProvider.MAILGUN: (
            MailgunEvents(mailgun_key.get_secret_value()) if mailgun_key else None
        ),
    }


class ProviderEventHook(WritingRoute):
    """One provider's route (see the module); ``source`` None: its key is not set."""

    def __init__(
        self,
        provider: EmailProvider,
        source: EventSource | None,
        db: Database,
        clock: Clock,
        tokens: TokenCache,
        limits: BodyLimits,
        limiter: RateLimiter,
    ) -> None:
        super().__init__(db, clock, tokens, limits, limiter)
        self.provider = provider
        self.source = source

    async def answer(self, request: Request, receive: Receive) -> Response:
        actor, headers = await self.posted(request, "post the events", basic=True)
        if self.source is None:
            setting = _SETTINGS[self.provider]
            raise Refused(
                error_response(
                    403, f"{setting} is not set: no event can be verified", "NOT_CONFIGURED"
                )
            )
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            raise Refused(
                error_response(415, "post the events as application/json", "UNSUPPORTED_MEDIA")
            )
        body = await read_body(request, receive, self.limits)
        batch = self._read(request, body)
        try:
            results = await process_provider_events(
                self.db, self.clock, actor, self.provider, batch.events, token=batch.token
            )
        except Replayed as exc:
            raise Refused(error_response(403, str(exc), "REPLAYED")) from None
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            raise unavailable(exc) from None
        name = self.provider.value.lower()
        for result in results:
            log.info(
                "%s event %s (%s): %s, enrollment %s%s; %s",
                name,
                result.event_id,
                result.name,
                result.decision.value,
                result.enrollment_id,
                " (seen before)" if result.duplicate else "",
                result.detail,
            )
        for problem in batch.invalid:
            log.info("%s event not read: %s", name, problem)
        return JSONResponse(_answered(batch, results), headers=headers)

    def _read(self, request: Request, body: bytes) -> Batch:
        assert self.source is not None
        try:
            return self.source.read(request.headers, body, self.clock.now())
        except Unsigned as exc:
            log.warning("%s events refused: %s", self.provider.value.lower(), exc)
            raise Refused(error_response(403, str(exc), "INVALID_SIGNATURE")) from None
        except TooManyEvents as exc:
            raise Refused(error_response(413, str(exc), "TOO_MANY_EVENTS")) from None
        except Unreadable as exc:
            raise Refused(error_response(400, str(exc), "BAD_REQUEST")) from None


def _answered(batch: Batch, results: list[EventResult]) -> dict[str, Any]:
    decided = Counter(r.decision.value.lower() for r in results if not r.duplicate)
    return {
        "received": len(results) + len(batch.invalid),
        "applied": decided["applied"],
        "recorded": decided["recorded"],
        "unmatched": decided["unmatched"],
        "ignored": decided["ignored"],
        "duplicates": sum(r.duplicate for r in results),
        "invalid": len(batch.invalid),
        "problems": batch.invalid[:MAX_PROBLEMS_ANSWERED],
    }
