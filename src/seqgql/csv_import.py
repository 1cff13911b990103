"""``POST /import/contacts.csv``: contacts created from a CSV file, as ``createContacts``
creates them (the same rules for every value), all of them or none.

The body is the file (``Content-Type: text/csv``, UTF-8, a byte order mark allowed), its
first row naming the columns (``services.contacts.csv_rows.COLUMNS``, in any case and
order; ``first_name`` required). Query parameters: ``sequenceId`` (enroll the new contacts
in it, in the same transaction), ``dryRun=true`` (check and count, create nothing),
``idempotencyKey`` (a retried upload answers as the first one and creates nothing more).

Answers: 201 ``{"created", "contactIds", "dryRun"}`` (plus ``enrolled`` and
``bulkOperationId`` with a sequence; 200 for a dry run); 422 with every invalid cell
``{"row", "column", "code", "message"}`` (rows as a spreadsheet numbers them: the header
is row 1) and nothing created; 400 for a file that is not CSV this route reads
(``INVALID_CSV``, ``UNKNOWN_COLUMN``, ``DUPLICATE_COLUMN``, ``MISSING_COLUMN``,
``NO_ROWS``); 413 for a body over ``MAX_BODY_BYTES`` or more than 10,000 rows
(``TOO_MANY_ROWS``); 401, 403 (a VIEWER), 404 (``sequenceId``), 409 (a key reused),
415 (another media type) as JSON with a code."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive

from seqgql.csv_export import flag, sequence_pk, unavailable, unknown_parameters
from seqgql.domain.errors import ErrorCode
from seqgql.domain.spreadsheets import MalformedCsv, TooManyRows, read_csv
from seqgql.gateway import (
    Refused,
    WritingRoute,
    read_body,
)
from seqgql.graphql.over_http import error_response
from seqgql.graphql.relay import to_global_id
from seqgql.persistence.database import is_unavailable
from seqgql.services.contacts.bulk_import import MAX_IMPORT_ROWS, ImportResult, import_contacts
from seqgql.services.contacts.csv_rows import BadHeader, RowError, contact_rows
from seqgql.services.enrollments.operation import MAX_IDEMPOTENCY_KEY_LENGTH

PARAMETERS = frozenset({"sequenceId", "dryRun", "idempotencyKey"})
CSV_MEDIA_TYPES = frozenset({"text/csv", "application/csv"})
# at most this many row errors are listed (``errorCount`` tells how many there are)
MAX_LISTED_ERRORS = 1_000


class ContactImport(WritingRoute):
    """The route's ASGI app (see the module)."""

    async def answer(self, request: Request, receive: Receive) -> Response:
        actor, headers = await self.posted(request, "import with POST")
        unknown_parameters(request, PARAMETERS)
        sequence_id = sequence_pk(request, required=False)
        dry_run = flag(request, "dryRun")
        key = _idempotency_key(request)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in CSV_MEDIA_TYPES:
            raise Refused(
                error_response(415, "send the file as text/csv (UTF-8)", "UNSUPPORTED_MEDIA")
            )
        body = await read_body(request, receive, self.limits)
        rows = _rows(body)
        try:
            result = await import_contacts(
                self.db,
                self.clock,
                actor,
                rows,
                sequence_id=sequence_id,
                dry_run=dry_run,
                idempotency_key=key,
                described={
                    "source": "POST /import/contacts.csv",
                    "sequenceId": request.query_params.get("sequenceId"),
                    "rows": len(rows),
                },
            )
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            raise unavailable(exc) from None
        if result.errors:
            raise _refused_import(result)
        return JSONResponse(
            _created(result, with_sequence=sequence_id is not None),
            status_code=200 if dry_run else 201,
            headers=headers,
        )


def _idempotency_key(request: Request) -> str | None:
    key = request.query_params.get("idempotencyKey")
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise Refused(
            error_response(
                400,
                f"`idempotencyKey` must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters",
                "BAD_USER_INPUT",
                field="idempotencyKey",
            )
        )
    return key


def _rows(body: bytes) -> list[dict[str, object]]:
    """The file's contacts, validated; raises ``Refused`` with what is wrong."""
    try:
        table = read_csv(body, max_rows=MAX_IMPORT_ROWS)
    except TooManyRows as exc:
        raise Refused(error_response(413, str(exc), "TOO_MANY_ROWS")) from None
    except MalformedCsv as exc:
        extensions = {"row": exc.row} if exc.row is not None else None
        raise Refused(error_response(400, str(exc), "INVALID_CSV", extensions=extensions)) from None
    try:
        contacts = contact_rows(table)
    except BadHeader as exc:
        raise Refused(
            error_response(400, str(exc), exc.code, extensions={"row": 1, "columns": exc.columns})
        ) from None
    if contacts.errors:
        raise Refused(_row_errors(contacts.errors))
    if not contacts.rows:
        raise Refused(error_response(400, "the file has a header row but no contacts", "NO_ROWS"))
    return contacts.rows


def _row_errors(errors: list[RowError]) -> JSONResponse:
    listed = [
        {
            "row": e.row,
            "column": e.column,
            "code": e.code.value,
            "message": e.message,
            "extensions": {"code": e.code.value},
        }
        for e in errors[:MAX_LISTED_ERRORS]
    ]
    rows = len({e.row for e in errors})
    return JSONResponse(
        {
            "errors": listed,
            "errorCount": len(errors),
            "created": 0,
            "message": f"nothing was created: {rows:,} row(s) are not valid",
        },
        status_code=422,
    )


def _refused_import(result: ImportResult) -> Refused:
    """An import the database refused (the sequence, the key): nothing was created."""
    err = result.errors[0]
    status = {ErrorCode.NOT_FOUND: 404, ErrorCode.IDEMPOTENCY_KEY_REUSED: 409}.get(err.code, 422)
    field = err.field[0] if err.field else None
    return Refused(error_response(status, err.message, err.code.value, field=field))


def _created(result: ImportResult, *, with_sequence: bool) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "created": result.created,
        "contactIds": [to_global_id("Contact", pk) for pk in result.contact_ids],
        "dryRun": result.dry_run,
    }
    if with_sequence:
        answer["enrolled"] = result.enrolled
        answer["bulkOperationId"] = (
            to_global_id("BulkOperation", result.bulk_operation_id)
            if result.bulk_operation_id is not None
            else None
        )
    return answer
