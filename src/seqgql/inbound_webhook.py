"""``POST /hooks/inbound-email``: an email as a mail provider's inbound parsing posts it,
classified, matched to its enrollment and applied (``services.inbound_mail``).

Authenticated with an API token of the workspace the mail is for (ADMIN or MEMBER), as
``Authorization: Bearer <token>`` or as HTTP Basic credentials whose password is the
token: what a webhook URL with credentials sends
(``https://inbound:<token>@api.example.com/hooks/inbound-email``).

The message, whole (raw MIME), as the body in one of the shapes providers post:
``message/rfc822`` (or ``text/plain``, ``application/octet-stream``: the bytes as they
are); a form (``multipart/form-data``) with the field ``email`` (SendGrid Inbound Parse
with "POST the raw, full MIME message") or ``body-mime`` (a Mailgun route forwarding to
``/hooks/inbound-email/mime``: Mailgun posts the raw message to a URL ending in
``mime``); JSON with ``RawEmail`` (Postmark inbound with raw content on).

Answers 200 ``{"kind", "decision", "enrollmentId", "duplicate", "detail"}`` (a message
already read answers as the first time, ``duplicate: true``, and changes nothing; one
matching no enrollment is kept: ``UNMATCHED``); 400 for a body that is no email
(``INVALID_EMAIL``) or a form or JSON without it; 401, 403 (a VIEWER), 405, 413 (over
``INBOUND_MAX_BYTES``: ``PAYLOAD_TOO_LARGE``), 415, 429, 503 as JSON with a code."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive

from seqgql.csv_export import unavailable
from seqgql.gateway import (
    Refused,
    WritingRoute,
    read_body,
)
from seqgql.graphql.over_http import error_response
from seqgql.graphql.relay import to_global_id
from seqgql.inbound.classify import NotAMessage
from seqgql.persistence.database import is_unavailable
from seqgql.services.inbound_mail import InboundResult, Source, process_inbound

log = logging.getLogger("seqgql.inbound")
RAW_MEDIA_TYPES = frozenset({"message/rfc822", "text/plain", "application/octet-stream", ""})
FORM_MEDIA_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
# the form fields and JSON member providers put the raw message in
FORM_FIELDS = ("email", "body-mime")
JSON_MEMBER = "RawEmail"


class InboundEmailHook(WritingRoute):
    """The route's ASGI app (see the module)."""

    async def answer(self, request: Request, receive: Receive) -> Response:
        actor, headers = await self.posted(request, "post the email", basic=True)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in RAW_MEDIA_TYPES | FORM_MEDIA_TYPES | {"application/json"}:
            raise Refused(
                error_response(
                    415,
                    "post the email as message/rfc822, a form with the field `email` or "
                    "`body-mime`, or JSON with `RawEmail`",
                    "UNSUPPORTED_MEDIA",
                )
            )
        body = await read_body(request, receive, self.limits)
        raw = await _raw_email(request, media, body)
        if not raw.strip():
            raise Refused(error_response(400, "the email is empty", "INVALID_EMAIL"))
        try:
            result = await process_inbound(self.db, self.clock, actor, raw, source=Source.WEBHOOK)
        except NotAMessage as exc:
            raise Refused(error_response(400, str(exc), "INVALID_EMAIL")) from None
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            raise unavailable(exc) from None
        log.info(
            "inbound email (webhook): %s, %s, enrollment %s%s",
            result.kind.value,
            result.decision.value,
            result.enrollment_id,
            " (read before)" if result.duplicate else "",
        )
        return JSONResponse(_answered(result), headers=headers)


async def _raw_email(request: Request, media: str, body: bytes) -> bytes:
    """The raw message in the body, in whichever shape it was posted."""
    if media in RAW_MEDIA_TYPES:
        return body
    if media == "application/json":
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise Refused(
                error_response(400, "the body is not valid JSON (UTF-8)", "BAD_REQUEST")
            ) from None
        value = parsed.get(JSON_MEMBER) if isinstance(parsed, dict) else None
        if not isinstance(value, str):
            raise Refused(_missing(f"a JSON object with the raw email as `{JSON_MEMBER}`"))
        return value.encode("utf-8", errors="surrogateescape")
    try:
        form = await Request(request.scope, _replay(body)).form(
            max_files=50, max_fields=200, max_part_size=len(body) + 1
        )
    except Exception:  # a form its parser refuses
        raise Refused(error_response(400, "the form cannot be read", "BAD_REQUEST")) from None
    try:
        for name in FORM_FIELDS:
            field = form.get(name)
            if isinstance(field, UploadFile):
                return await field.read()
            if isinstance(field, str):
                return field.encode("utf-8", errors="surrogateescape")
    finally:
        await form.close()
    raise Refused(_missing("a form field `email` (SendGrid) or `body-mime` (Mailgun)"))


def _missing(what: str) -> Response:
    return error_response(400, f"no raw email found: expected {what}", "INVALID_EMAIL")


def _replay(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _answered(result: InboundResult) -> dict[str, Any]:
    return {
        "kind": result.kind.value,
        "decision": result.decision.value,
        "enrollmentId": (
            to_global_id("Enrollment", result.enrollment_id)
            if result.enrollment_id is not None
            else None
        ),
        "duplicate": result.duplicate,
        "detail": result.detail,
    }
