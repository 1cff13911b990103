"""The CSV routes as a client uses them: an export read back with Python's csv reader,
an import posted as a file; and an ASGI call that keeps each piece of the answer as it
was sent (httpx's ASGI transport joins them)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import httpx
import sqlalchemy as sa
from starlette.types import ASGIApp, Message

from seqgql.clock import Clock
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments
from seqgql.services.actor import Actor
from seqgql.services.contacts.bulk_import import MAX_IMPORT_ROWS, import_contacts
from seqgql.services.contacts.profiles import ContactSpec, contact_row

EXPORT = "/export/enrollments.csv"
IMPORT = "/import/contacts.csv"


def export_params(
    sequence: str | None, flt: dict[str, Any] | None = None, order: dict[str, Any] | None = None
) -> dict[str, str]:
    params: dict[str, str] = {}
    if sequence is not None:
        params["sequenceId"] = sequence
    if flt is not None:
        params["filter"] = json.dumps(flt)
    if order is not None:
        params["orderBy"] = json.dumps(order)
    return params


async def export(
    http: httpx.AsyncClient,
    token: str | None,
    sequence: str | None,
    flt: dict[str, Any] | None = None,
    order: dict[str, Any] | None = None,
    **extra: str,
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    params = {**export_params(sequence, flt, order), **extra}
    return await http.get(EXPORT, params=params, headers=headers)


def table(response: httpx.Response) -> list[list[str]]:
    """The rows of an exported file (the header first), as Python's csv reader reads it."""
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))


def as_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


async def upload(
    http: httpx.AsyncClient,
    token: str,
    body: bytes,
    *,
    content_type: str = "text/csv",
    **params: str,
) -> httpx.Response:
    return await http.post(
        IMPORT,
        content=body,
        params=params,
        headers={"authorization": f"Bearer {token}", "content-type": content_type},
    )


async def sent_messages(app: ASGIApp, path: str, query: str, token: str) -> list[Message]:
    """What the app sends for a GET of ``path?query``, message by message."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    messages: list[Message] = []
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays until the answer is complete
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, send)
    return messages


async def enroll_many(
    db: Database, clock: Clock, actor: Actor, sequence_id: int, count: int
) -> list[int]:
    """``count`` new contacts enrolled in the sequence, 10,000 per transaction (the
    import's service); the enrollment ids."""
    for start in range(0, count, MAX_IMPORT_ROWS):
        rows = []
        for i in range(start, min(count, start + MAX_IMPORT_ROWS)):
            spec = ContactSpec(first_name=f"Bulk{i}", last_name="Tester", email=f"b{i}@example.com")
            row, errors = contact_row(spec, [])
            assert not errors, errors
            rows.append(row)
        result = await import_contacts(db, clock, actor, rows, sequence_id=sequence_id)
        assert not result.errors and result.enrolled == len(rows), result
    async with db.read() as conn:
        found = await conn.execute(
            sa.select(enrollments.c.id).where(enrollments.c.sequence_id == sequence_id)
        )
        return [r.id for r in found]
