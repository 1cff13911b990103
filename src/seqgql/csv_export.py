"""``GET /export/enrollments.csv``: a sequence's enrollments that match a filter, as the
Contacts tab lists them, in a CSV file.

The parameters are the ``enrollments`` query's, its inputs as JSON: ``sequenceId``,
``filter`` (an ``EnrollmentFilter``), ``orderBy`` (an ``EnrollmentOrder``); ``bom=true``
starts the file with a byte order mark, for Excel. The token is checked as on /graphql
(a VIEWER may export), and every refusal is JSON with a code, before the file starts.
The rows are read a batch at a time (``services.enrollments.export``) and written as
each batch arrives, so a million rows take the memory of one batch."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import strawberry
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from seqgql.domain.selection import EnrollmentFilter, EnrollmentOrder
from seqgql.domain.spreadsheets import BOM, csv_chunk
from seqgql.gateway import Refused, authenticated_actor, charged
from seqgql.graphql.json_inputs import BadInput, filter_from_json, order_from_json
from seqgql.graphql.over_http import error_response
from seqgql.graphql.public_errors import UNAVAILABLE
from seqgql.graphql.relay import InvalidId, from_global_id, to_global_id
from seqgql.persistence.database import Database, first_line, is_unavailable
from seqgql.services.actor import Actor
from seqgql.services.auth import TokenCache
from seqgql.services.enrollments.export import enrollment_batches
from seqgql.services.enrollments.page_read import PageRow
from seqgql.services.rate_limits import RateLimiter
from seqgql.services.sequences.catalog import sequences_by_ids

log = logging.getLogger("seqgql")

HEADER = (
    "enrollment_id", "status", "reason", "current_step", "enrolled_at", "resume_at",
    "next_run_at", "finished_at", "contact_id", "first_name", "last_name", "email", "phone",
    "phone_type", "time_zone", "opted_out", "enrolled_by_name", "enrolled_by_email",
)  # fmt: skip
PARAMETERS = frozenset({"sequenceId", "filter", "orderBy", "bom"})
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def bad_parameter(parameter: str, message: str, code: str = "BAD_USER_INPUT") -> Refused:
    return Refused(error_response(400, message, code, field=parameter))


def unknown_parameters(request: Request, known: frozenset[str]) -> None:
    """Refuse a parameter this route does not take: a misspelt ``filter`` must not export
    everything."""
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise bad_parameter(
            unknown[0],
            f"unknown parameter(s) {', '.join(unknown)}; this route takes "
            f"{', '.join(sorted(known))}",
        )


def flag(request: Request, name: str) -> bool:
    """A true/false query parameter (absent: false)."""
    value = request.query_params.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise bad_parameter(name, f"`{name}` must be true or false")
    return value in ("true", "1")


def sequence_pk(request: Request, *, required: bool) -> int | None:
    raw = request.query_params.get("sequenceId")
    if raw is None or not raw.strip():
        if required:
            raise bad_parameter("sequenceId", "`sequenceId` is required (a Sequence id)")
        return None
    try:
        return from_global_id(raw.strip(), "Sequence")
    except InvalidId as exc:
        raise bad_parameter("sequenceId", str(exc), "INVALID_ID") from None


def unavailable(exc: Exception) -> Refused:
    log.warning("the database is unavailable: %s", first_line(exc))
    return Refused(
        error_response(503, UNAVAILABLE, "SERVICE_UNAVAILABLE", headers={"Retry-After": "1"})
    )


@dataclass(frozen=True, slots=True)
class _Export:
    actor: Actor
    sequence_id: int
    sequence_name: str
    flt: EnrollmentFilter
    order: EnrollmentOrder
    bom: bool


class EnrollmentExport:
    """The route's ASGI app (see the module)."""

    def __init__(
        self, db: Database, tokens: TokenCache, schema: strawberry.Schema, limiter: RateLimiter
    ) -> None:
        self.db = db
        self.tokens = tokens
        self.schema = schema
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            if request.method != "GET":
                raise Refused(
                    error_response(
                        405, "export with GET", "METHOD_NOT_ALLOWED", headers={"Allow": "GET"}
                    )
                )
            actor = await authenticated_actor(self.tokens, request)
            headers = await charged(self.limiter, actor)
            export = await self._export(request, actor)
        except Refused as refused:
            await refused.response(scope, receive, send)
            return
        response = StreamingResponse(
            self._csv(export),
            media_type=CSV_MEDIA_TYPE,
            headers={
                **headers,
                "Content-Disposition": attachment(export.sequence_name),
                "Cache-Control": "no-store",
            },
        )
        try:
            await response(scope, receive, send)
        except Exception as exc:
            # The file has begun: the connection is closed without ending it, so that the
            # client sees it cut short rather than complete.
            log.warning(
                "the export of sequence %s stopped: %s", export.sequence_id, first_line(exc)
            )

    async def _export(self, request: Request, actor: Actor) -> _Export:
        unknown_parameters(request, PARAMETERS)
        pk = sequence_pk(request, required=True)
        assert pk is not None
        try:
            flt = filter_from_json(self.schema, request.query_params.get("filter"))
            order = order_from_json(self.schema, request.query_params.get("orderBy"))
        except BadInput as bad:
            raise bad_parameter(bad.argument, bad.message, bad.code) from None
        bom = flag(request, "bom")
        try:
            found = await sequences_by_ids(self.db, actor.workspace_id, [pk])
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            raise unavailable(exc) from None
        if pk not in found:
            raise Refused(error_response(404, "no such sequence", "NOT_FOUND", field="sequenceId"))
        return _Export(actor, pk, found[pk].name, flt, order, bom)

    async def _csv(self, export: _Export) -> AsyncIterator[bytes]:
        yield (BOM.encode() if export.bom else b"") + csv_chunk([HEADER])
        batches = enrollment_batches(
            self.db, export.actor, export.sequence_id, export.flt, export.order
        )
        async for batch in batches:
            yield csv_chunk(map(cells, batch))


def cells(row: PageRow) -> list[str]:
    """One enrollment's row of the file (``HEADER``'s columns)."""
    return [
        to_global_id("Enrollment", row.id),
        row.status.value,
        row.reason.value if row.reason is not None else "",
        "" if row.current_step is None else str(row.current_step),
        _moment(row.enrolled_at),
        _moment(row.resume_at),
        _moment(row.next_run_at),
        _moment(row.finished_at),
        to_global_id("Contact", row.contact_id),
        row.contact_first_name,
        row.contact_last_name or "",
        row.contact_email or "",
        row.contact_phone or "",
        row.contact_phone_type.value,
        row.contact_time_zone or "",
        "true" if row.contact_opted_out else "false",
        row.enrolled_by_name or "",
        row.enrolled_by_email or "",
    ]


def _moment(value: datetime | None) -> str:
    """ISO 8601 in UTC, as the GraphQL API writes a DateTime."""
    return "" if value is None else value.isoformat()


def attachment(sequence_name: str) -> str:
    """A Content-Disposition naming the file ``<sequence name>-enrollments.csv``: a plain
    ASCII name every client takes, and the name as it is (RFC 6266's ``filename*``) for
    those that read it."""
    ascii_name = unicodedata.normalize("NFKD", sequence_name).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name).strip("-.")[:100] or "sequence"
    encoded = quote(f"{sequence_name}-enrollments.csv", safe="")
    return f"attachment; filename=\"{stem}-enrollments.csv\"; filename*=UTF-8''{encoded}"
