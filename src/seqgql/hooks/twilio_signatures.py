"""A Twilio webhook's form, read and trusted only once its ``X-Twilio-Signature`` is the
one the package's ``RequestValidator`` computes with the account's Auth Token over the URL
Twilio requested and the form's fields.

The URL Twilio requested is this server's public address (``PUBLIC_BASE_URL``, as Twilio
reaches it through any proxy; else the request's own) with the path as it was sent and
its query. Refused before anything is read or changed: 415 (not a form), 413 (over
``MAX_HOOK_BYTES``), 403 (no signature, or not the right one); and, once signed, 400 for
a form that is not UTF-8 or holds NUL characters."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.types import Receive
from twilio.request_validator import RequestValidator

from seqgql.gateway import BodyLimits, Refused, read_body
from seqgql.graphql.over_http import error_response

FORM = "application/x-www-form-urlencoded"
# Twilio's webhooks are a few kilobytes (a text is at most 1,600 characters)
MAX_HOOK_BYTES = 64 * 1024
MAX_FIELDS = 200

Form = ImmutableMultiDict[str, str]


class SignedForms:
    """Reads the forms of requests Twilio signed with ``auth_token``."""

    def __init__(self, auth_token: str, public_base_url: str | None, limits: BodyLimits) -> None:
        self.validator = RequestValidator(auth_token)
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.limits = BodyLimits(min(limits.max_bytes, MAX_HOOK_BYTES), limits.timeout_seconds)

    def requested_url(self, request: Request) -> str:
        path = request.scope.get("raw_path") or request.url.path.encode()
        query = request.scope.get("query_string", b"")
        base = self.public_base_url or f"{request.url.scheme}://{request.url.netloc}"
        url = base + path.decode("latin-1")
        return f"{url}?{query.decode('latin-1')}" if query else url

    async def read(self, request: Request, receive: Receive) -> Form:
        if request.method != "POST":
            raise Refused(
                error_response(405, "Twilio posts here", "METHOD_NOT_ALLOWED",
                               headers={"Allow": "POST"})
            )  # fmt: skip
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != FORM:
            raise Refused(error_response(415, f"send the fields as {FORM}", "UNSUPPORTED_MEDIA"))
        body = await read_body(request, receive, self.limits)
        try:
            text = body.decode("utf-8")
            fields = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except (UnicodeDecodeError, ValueError):
            fields = None  # refused below, once it is known whether Twilio sent it
        signature = request.headers.get("x-twilio-signature", "")
        form: Form = ImmutableMultiDict(fields or [])
        if not signature or not self.validator.validate(
            self.requested_url(request), form, signature
        ):
            raise Refused(error_response(403, "the Twilio signature is wrong", "FORBIDDEN"))
        if fields is None or any("\x00" in k or "\x00" in v for k, v in fields):
            raise Refused(error_response(400, "the form is not UTF-8 text", "BAD_REQUEST"))
        return form
