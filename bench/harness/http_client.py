"""A minimal HTTP/1.1 keep-alive client connection, and the same interface over httpx.

The minimal one sends a request line, headers and a Content-Length body, and reads a
Content-Length answer: the latency figures are the server's, not a client library's
(httpx spends ~1-2 ms of this machine's CPU per request)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Connection:
    """One keep-alive connection, one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        host, port = base_url.removeprefix("http://").split(":")
        return cls(*await asyncio.open_connection(host, int(port)))

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Answer:
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.writer.write(head.encode() + b"\r\n" + body)
        raw_head = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"no Content-Length in the answer: {lines[:3]}")
        return Answer(int(lines[0].split()[1]), await self.reader.readexactly(length))

    async def close(self) -> None:
        self.writer.close()


class HttpxConnection:
    """The same interface over an httpx client."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    @classmethod
    async def open(cls, base_url: str) -> HttpxConnection:
        return cls(httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=60))

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Answer:
        response = await self.client.request(method, path, content=body or None, headers=headers)
        return Answer(response.status_code, response.content)

    async def close(self) -> None:
        await self.client.aclose()


Conn = Connection | HttpxConnection
Send = Callable[[Conn], Awaitable[Answer]]


def check(response: Answer | httpx.Response) -> None:
    """A 200 without GraphQL errors, or a RuntimeError."""
    if response.status_code != 200 or b'"errors"' in response.content:
        raise RuntimeError(f"bad answer {response.status_code}: {response.text[:500]}")
