"""SMS through Twilio's Messaging API (the official ``twilio`` package), behind the
Transport interface.

``TwilioTransport.send`` creates one Message (``POST /2010-04-01/Accounts/{Sid}/Messages.json``)
and either returns (Twilio accepted it: 201) or raises what the engine acts on:

* ``ConfigurationError``: our setup is wrong: a credential refused (401, error 20003), an
  unknown account (404), a sender Twilio will not send from (21212, 21606, 21659, the
  Messaging Service errors 21701-21712). Nobody's status changes; the step waits.
* ``TransientFailure``: 429 (or 20429), a 5xx, a refused or dropped connection, a timeout.
* ``PermanentFailure``: any other refusal of the message (e.g. 21211 an invalid 'To'
  number, 21610 the recipient replied STOP, 21614 no mobile number): the SMS FAILED.

Each message asks Twilio to report its delivery to ``status_callback_base`` +
``/hooks/twilio/status?message=<key>``: the key names the enrollment and step, and Twilio
signs the whole URL, so the report needs no lookup table and cannot be forged.

The HTTP client is ``twilio.http.AsyncHttpClient`` (the package's extension point) on
aiohttp: it sends the request to ``api_base_url`` (a local server in tests), with a
timeout, and Basic credentials as a header (the package's own async client passes them
as aiohttp's deprecated ``auth=`` and sets no timeout)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from seqgql.domain.kinds import StepChannel
from seqgql.outbound.transport import (
    ConfigurationError,
    OutboundMessage,
    PermanentFailure,
    TransientFailure,
)

log = logging.getLogger(__name__)

STATUS_HOOK_PATH = "/hooks/twilio/status"
TWILIO_API = "https://api.twilio.com"
# Twilio error codes that say our own setup is wrong, not the recipient
_OUR_SETUP = frozenset({20003, 20005, 20404, 21212, 21606, 21659, *range(21701, 21713)})
_NETWORK_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    account_sid: str
    username: str  # the account SID (with the Auth Token) or an API key SID
    password: str = field(repr=False)  # the Auth Token or the API key's secret
    messaging_service_sid: str | None = None
    from_number: str | None = None
    api_base_url: str = TWILIO_API
    status_callback_base: str | None = None  # this server as Twilio reaches it
    timeout: float = 30.0


def status_callback_url(base: str, message: OutboundMessage) -> str:
    """Where Twilio reports what became of ``message``."""
    key = message.key or str(message.enrollment_id)
    return f"{base.rstrip('/')}{STATUS_HOOK_PATH}?message={key}"


class _HttpClient(AsyncHttpClient):  # type: ignore[misc]  # twilio ships no types
    """Twilio's requests over one aiohttp session, to ``base_url``."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(log, True, timeout)
        # Twilio's own address is left as the package makes it (TWILIO_EDGE/TWILIO_REGION)
        self.base = None if base_url.rstrip("/") == TWILIO_API else urlsplit(base_url.rstrip("/"))
        self.session: aiohttp.ClientSession | None = None

    def _rebased(self, url: str) -> str:
        if self.base is None:
            return url
        parts = urlsplit(url)
        return urlunsplit(
            (self.base.scheme, self.base.netloc, self.base.path + parts.path, parts.query, "")
        )

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  (the package's interface)
        allow_redirects: bool = False,
    ) -> Response:
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = aiohttp.encode_basic_auth(auth[0], auth[1])
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession()
        async with self.session.request(
            method,
            self._rebased(url),
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout or self.timeout),
            allow_redirects=allow_redirects,
        ) as response:
            return Response(response.status, await response.text(), response.headers)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None


def _failure(exc: TwilioRestException | TwilioServiceException) -> Exception:
    status = int(exc.status)
    code = exc.code if isinstance(exc.code, int) else None
    said = [getattr(exc, name, None) for name in ("msg", "detail", "title")]
    reason = str(next((text for text in said if text), "refused"))
    reason = reason.removeprefix("Unable to create record: ")
    described = f"Twilio error {code}: {reason}" if code else f"HTTP {status}: {reason}"
    if status == 401 or status == 404 or code in _OUR_SETUP:
        return ConfigurationError(described, code=code)
    if status == 429 or status >= 500 or code == 20429:
        return TransientFailure(described, code=code)
    return PermanentFailure(described, code=code)


class TwilioTransport:
    """Sends SMS messages through Twilio; one HTTP session, opened at the first send."""

    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings
        self._http: _HttpClient | None = None
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _twilio(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:  # a session serves one loop
            s = self.settings
            self._http = _HttpClient(s.api_base_url, s.timeout)
            self._client = Client(s.username, s.password, s.account_sid, http_client=self._http)
            self._loop = loop
        return self._client

    async def send(self, message: OutboundMessage) -> None:
        if message.channel is not StepChannel.SMS:
            raise ValueError(f"TwilioTransport sends SMS messages, not {message.channel}")
        s = self.settings
        options: dict[str, str] = {"to": message.to, "body": message.body}
        if s.messaging_service_sid:
            options["messaging_service_sid"] = s.messaging_service_sid
        else:
            assert s.from_number is not None  # checked by Settings
            options["from_"] = s.from_number
        if s.status_callback_base:
            options["status_callback"] = status_callback_url(s.status_callback_base, message)
        try:
            created = await self._twilio().messages.create_async(**options)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _failure(exc) from exc
        except _NETWORK_ERRORS as exc:
            raise TransientFailure(f"cannot reach Twilio: {exc!r}") from exc
        log.debug("Twilio accepted %s for enrollment %s", created.sid, message.enrollment_id)

    async def aclose(self) -> None:
        """Close the HTTP session (the app's lifespan and the worker do, at the end)."""
        if self._http is not None:
            await self._http.close()
        self._client = self._http = self._loop = None
