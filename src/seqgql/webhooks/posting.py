"""One POST of a webhook, and what came of it: the status, the start of the answer, the
time it took, or why there was none. The whole exchange has one deadline; an answer is
read up to 64 KB (so that its connection can be kept) and its first KB kept, as text
that any database stores."""

from __future__ import annotations

import asyncio
import codecs
import time
from dataclasses import dataclass

import httpx

from seqgql.domain.webhooks import MAX_RESPONSE_EXCERPT

_READ_AT_MOST = 64 * 1024
_ERROR_LENGTH = 500


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int | None
    response: str | None
    error: str | None
    latency_ms: float


async def post(
    transport: httpx.AsyncBaseTransport,
    url: httpx.URL,
    body: bytes,
    headers: dict[str, str],
    seconds: float,
) -> Answer:
    """POST ``body`` within ``seconds``; only a 2xx answer is a success (a redirect is
    not followed)."""
    status: int | None = None
    response = error = None
    started = time.perf_counter()
    try:
        async with asyncio.timeout(seconds):
            request = httpx.Request("POST", url, content=body, headers=headers)
            answer = await transport.handle_async_request(request)
            try:
                status = answer.status_code
                response = await _excerpt(answer)
            finally:
                await answer.aclose()
    except TimeoutError:
        error = f"no answer within {seconds:g} s"
    except (httpx.HTTPError, OSError) as exc:
        error = _text(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    if status is not None and not 200 <= status < 300:
        error = f"HTTP {status}: only a 2xx answer counts as delivered"
    return Answer(status, response, error, latency_ms)


async def _excerpt(answer: httpx.Response) -> str | None:
    """The start of an answer's body (at most 1 KB, as text); what follows is read (up
    to 64 KB, so the connection can be kept) and dropped."""
    kept = bytearray()
    read = 0
    async for part in answer.aiter_raw():
        if len(kept) < MAX_RESPONSE_EXCERPT:
            kept += part[: MAX_RESPONSE_EXCERPT - len(kept)]
        read += len(part)
        if read > _READ_AT_MOST:
            break
    # a character cut at the end is left out rather than shown as a replacement
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(bytes(kept), final=False)
    return _text(text, MAX_RESPONSE_EXCERPT) if kept else None


def _text(value: str, length: int = _ERROR_LENGTH) -> str:
    """Storable text: no NUL characters (PostgreSQL refuses them), at most ``length``."""
    return value.replace("\x00", "\ufffd")[:length]
