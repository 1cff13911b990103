"""A CSV file of contacts read into validated contact rows: its columns named by the
header (in any case and order), each row through the same rules as ``createContacts``
(``profiles.contact_row``), every problem reported with its row and column."""

from __future__ import annotations

from dataclasses import dataclass

from seqgql.domain.errors import ErrorCode
from seqgql.domain.kinds import PhoneType
from seqgql.domain.spreadsheets import CsvTable
from seqgql.services.contacts.profiles import ContactSpec, contact_row

# The columns a file may have, as ContactSpec names its fields.
COLUMNS = ("first_name", "last_name", "email", "phone", "phone_type", "time_zone", "opted_out")
REQUIRED_COLUMNS = ("first_name",)
# What contact_row names a field by (GraphQL's names), and its column here.
_COLUMN_OF_FIELD = {
    "firstName": "first_name",
    "lastName": "last_name",
    "email": "email",
    "phone": "phone",
    "timeZone": "time_zone",
}
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one cell (``column`` None: with the row as a whole)."""

    row: int
    column: str | None
    code: ErrorCode
    message: str


class BadHeader(ValueError):
    """The header row names columns this API does not take, twice, or misses one."""

    def __init__(self, code: str, message: str, columns: list[str]) -> None:
        super().__init__(message)
        self.code = code
        self.columns = columns


@dataclass(slots=True)
class ContactRows:
    """The file's rows, validated: the rows to insert (``contact_row``'s), in order, or
    the errors."""

    rows: list[dict[str, object]]
    errors: list[RowError]


def column_positions(header: list[str]) -> dict[str, int]:
    """Where each column is, by its name; raises ``BadHeader``."""
    names = [cell.strip().lower() for cell in header]
    unknown = [cell for cell, name in zip(header, names, strict=True) if name not in COLUMNS]
    if unknown:
        raise BadHeader(
            "UNKNOWN_COLUMN",
            f"unknown column(s) {', '.join(map(repr, unknown))}; "
            f"the columns are {', '.join(COLUMNS)}",
            unknown,
        )
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise BadHeader("DUPLICATE_COLUMN", f"column(s) named twice: {', '.join(twice)}", twice)
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise BadHeader(
            "MISSING_COLUMN", f"the header must name the column(s) {', '.join(missing)}", missing
        )
    return {name: i for i, name in enumerate(names)}


def contact_rows(table: CsvTable) -> ContactRows:
    """Every row of the file as a contact row; raises ``BadHeader``."""
    positions = column_positions(table.header)
    width = len(table.header)
    result = ContactRows([], [])
    for record in table.records:
        if len(record.cells) > width:
            message = f"the row has {len(record.cells)} cells, the header names {width} columns"
            result.errors.append(RowError(record.row, None, ErrorCode.INVALID, message))
            continue
        cells = {name: _cell(record.cells, i) for name, i in positions.items()}
        spec, errors = _spec(record.row, cells)
        if spec is not None:
            row, invalid = contact_row(spec, [])
            errors += [
                RowError(record.row, _COLUMN_OF_FIELD.get(e.field[-1]), e.code, e.message)
                for e in invalid
            ]
            if not errors:
                result.rows.append(row)
        result.errors += errors
    return result


def _cell(cells: list[str], i: int) -> str | None:
    """A cell's text, None when blank or missing (a short row)."""
    value = cells[i].strip() if i < len(cells) else ""
    return value or None


def _spec(row: int, cells: dict[str, str | None]) -> tuple[ContactSpec | None, list[RowError]]:
    errors: list[RowError] = []
    first_name = cells.get("first_name")
    if first_name is None:
        errors.append(RowError(row, "first_name", ErrorCode.REQUIRED, "a first name is required"))
    phone_type = None
    if (raw := cells.get("phone_type")) is not None:
        try:
            phone_type = PhoneType(raw.upper())
        except ValueError:
            choices = ", ".join(t.value for t in PhoneType)
            message = f"{raw!r} is not a phone type: one of {choices} (or blank)"
            errors.append(RowError(row, "phone_type", ErrorCode.INVALID, message))
    opted_out = False
    if (raw := cells.get("opted_out")) is not None:
        if raw.lower() in _TRUE | _FALSE:
            opted_out = raw.lower() in _TRUE
        else:
            message = f"{raw!r} is not true or false (true/false, yes/no, 1/0, or blank)"
            errors.append(RowError(row, "opted_out", ErrorCode.INVALID, message))
    if first_name is None:
        return None, errors
    spec = ContactSpec(
        first_name=first_name,
        last_name=cells.get("last_name"),
        email=cells.get("email"),
        phone=cells.get("phone"),
        phone_type=phone_type,
        time_zone=cells.get("time_zone"),
        opted_out=opted_out,
    )
    return spec, errors
