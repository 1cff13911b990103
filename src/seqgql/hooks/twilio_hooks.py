"""Twilio's webhooks (served when ``TWILIO_AUTH_TOKEN`` is set; each request's signature
checked first, ``twilio_signatures``):

``POST /hooks/twilio/status?message=<key>``: the StatusCallback every message asks for.
The key names the enrollment (hence the workspace) and the step; Twilio signs the whole
URL. ``delivered`` records a DELIVERED activity; ``undelivered``/``failed`` a provider
failure (FAILED, as ``recordDeliveryEvent`` does), or, for a number that is no mobile
phone (30006, 21614), the landline (``services.enrollments.landlines``); other statuses
(queued, sent...) record nothing. Answers 204.

``POST /hooks/twilio/{workspace}/inbound``: the texts sent to the Twilio number, for the
workspace of that name (what is pasted in the Twilio console names it). Carrier keywords
opt out, opt in or ask for help (``services.enrollments.sms_reports``); anything else is a
reply to the enrollments it answers (REPLIED, under each sequence's rules). Answers an
empty TwiML response (Twilio's own keyword replies are left as they are).

Twilio retries a webhook that failed: each report is recorded under an idempotency key
made of its MessageSid (and status), so a repeated one changes nothing. A webhook about an
unknown enrollment or workspace is answered 404 and changes nothing; the database away,
503 (Twilio tries again)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from seqgql.clock import Clock
from seqgql.csv_export import unavailable
from seqgql.domain import validation
from seqgql.domain.kinds import DeliveryEventKind
from seqgql.domain.sms import DeliveryReport, delivery_report, keyword_of, message_key_parts
from seqgql.gateway import BodyLimits, Refused
from seqgql.graphql.over_http import error_response
from seqgql.hooks.twilio_signatures import Form, SignedForms
from seqgql.persistence.database import Database, is_unavailable
from seqgql.services.enrollments.landlines import report_landline
from seqgql.services.enrollments.provider_reports import record_delivery_event
from seqgql.services.enrollments.sms_reports import (
    answered_enrollments,
    apply_keyword,
    has_contact_with_phone,
    provider_actor,
    workspace_named,
    workspace_of_enrollment,
)

log = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MAX_SID = 64


class _Hook:
    """One webhook's ASGI app: the signed form, then ``answer``."""

    def __init__(self, db: Database, clock: Clock, forms: SignedForms) -> None:
        self.db = db
        self.clock = clock
        self.forms = forms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            form = await self.forms.read(request, receive)
            response = await self._guarded(self.answer, request, form)
        except Refused as refused:
            response = refused.response
        await response(scope, receive, send)

    @staticmethod
    async def _guarded(
        answer: Callable[[Request, Form], Awaitable[Response]], request: Request, form: Form
    ) -> Response:
        try:
            return await answer(request, form)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            raise unavailable(exc) from None

    async def answer(self, request: Request, form: Form) -> Response:
        raise NotImplementedError


class TwilioStatusHook(_Hook):
    async def answer(self, request: Request, form: Form) -> Response:
        parts = message_key_parts(request.query_params.get("message", ""))
        if parts is None:
            raise _bad("message", "not a message key of this server")
        sid = _sid(form)
        status = _field(form, "MessageStatus", 32)
        code = _error_code(form)
        report = delivery_report(status, code)
        if report is DeliveryReport.PENDING:
            return Response(status_code=204)
        enrollment_id, step = parts
        workspace_id = await workspace_of_enrollment(self.db, enrollment_id)
        if workspace_id is None:
            raise _not_found("no such enrollment")
        actor = provider_actor(workspace_id)
        detail = f"Twilio: {status.lower()}" + (f", error {code}" if code is not None else "")
        key = f"twilio:{sid}:{status.lower()}"
        if report is DeliveryReport.LANDLINE:
            result = await report_landline(
                self.db, self.clock, actor, enrollment_id, step, detail, idempotency_key=key
            )
            errors = result.errors
        else:
            kind = (
                DeliveryEventKind.DELIVERED
                if report is DeliveryReport.DELIVERED
                else DeliveryEventKind.FAILED
            )
            recorded = await record_delivery_event(
                self.db, self.clock, actor, enrollment_id, kind, detail=detail,
                idempotency_key=key,
            )  # fmt: skip
            errors = recorded.errors
        if errors:
            raise _not_found("no such enrollment")
        return Response(status_code=204)


class TwilioInboundHook(_Hook):
    async def answer(self, request: Request, form: Form) -> Response:
        sid = _sid(form)
        sender = _field(form, "From", 64)
        body = _field(form, "Body", 4_000, required=False)
        workspace_id = await workspace_named(self.db, request.path_params["workspace"])
        if workspace_id is None:
            raise _not_found("no such workspace")
        try:
            phone = validation.phone(sender)
        except validation.Invalid:
            phone = sender
        actor = provider_actor(workspace_id)
        keyword = keyword_of(body, form.get("OptOutType"))
        if not await has_contact_with_phone(self.db, workspace_id, phone):
            log.info("a text from a number no contact of workspace %s has", workspace_id)
        elif keyword is not None:
            await apply_keyword(
                self.db, self.clock, actor, phone, keyword, body, idempotency_key=f"twilio:{sid}"
            )
        else:
            for enrollment_id in await answered_enrollments(self.db, workspace_id, phone):
                await record_delivery_event(
                    self.db, self.clock, actor, enrollment_id, DeliveryEventKind.REPLIED,
                    detail=body[:500], idempotency_key=f"twilio:{sid}:{enrollment_id}",
                )  # fmt: skip
        return Response(EMPTY_TWIML, media_type="text/xml")


def twilio_routes(
    db: Database,
    clock: Clock,
    auth_token: str,
    public_base_url: str | None,
    limits: BodyLimits,
) -> list[Route]:
    forms = SignedForms(auth_token, public_base_url, limits)
    return [
        Route("/hooks/twilio/status", TwilioStatusHook(db, clock, forms)),
        Route("/hooks/twilio/{workspace}/inbound", TwilioInboundHook(db, clock, forms)),
    ]


def _field(form: Form, name: str, longest: int, *, required: bool = True) -> str:
    value = form.get(name, "")
    if required and not value.strip():
        raise _bad(name, "is required")
    if len(value) > longest:
        raise _bad(name, f"is over {longest} characters")
    return value


def _sid(form: Form) -> str:
    sid = _field(form, "MessageSid", MAX_SID)
    if not sid.isascii() or not sid.isalnum():
        raise _bad("MessageSid", "is not a Twilio SID")
    return sid


def _error_code(form: Form) -> int | None:
    raw = form.get("ErrorCode", "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise _bad("ErrorCode", "is not a number")
    return int(raw)


def _bad(field: str, message: str) -> Refused:
    return Refused(error_response(400, f"{field} {message}", "BAD_REQUEST", field=field))


def _not_found(message: str) -> Refused:
    return Refused(error_response(404, message, "NOT_FOUND"))
