"""One POST of a webhook, and what came of it: the status, the start of the answer, the
time it took, or why there was none. The whole exchange has one deadline; an answer is
read up to 64 KB (so that its connection can be kept: ``http11``) and its first KB
kept, as text that any database stores."""

from __future__ import annotations

import asyncio
import codecs
import time
from dataclasses import dataclass

from seqgql.domain.webhooks import MAX_RESPONSE_EXCERPT
from seqgql.webhooks.http11 import Client, HTTPError, Target

_ERROR_LENGTH = 500


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int | None
    response: str | None
    error: str | None
    latency_ms: float


async def post(
    client: Client,
    target: Target,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    seconds: float,
) -> Answer:
    """POST ``body`` within ``seconds``; only a 2xx answer is a success (a redirect is
    not followed)."""
    status: int | None = None
    response = error = None
    started = time.perf_counter()
    try:
        async with asyncio.timeout(seconds):
            answer = await client.post(target, headers, body)
        status = answer.status
        response = _excerpt(answer.start)
    except TimeoutError:
        error = f"no answer within {seconds:g} s"
    except (HTTPError, OSError) as exc:
        error = _text(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    if status is not None and not 200 <= status < 300:
        error = f"HTTP {status}: only a 2xx answer counts as delivered"
    return Answer(status, response, error, latency_ms)


def _excerpt(start: bytes) -> str | None:
    """The start of an answer's body (at most 1 KB) as text; a character cut at the end
    is left out rather than shown as a replacement."""
    if not start:
        return None
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(start, final=False)
    return _text(text, MAX_RESPONSE_EXCERPT)


def _text(value: str, length: int = _ERROR_LENGTH) -> str:
    """Storable text: no NUL characters (PostgreSQL refuses them), at most ``length``."""
    return value.replace("\x00", "\ufffd")[:length]
