"""CSV as spreadsheets read and write it (RFC 4180: comma, double quotes, CRLF), with
the two things a CSV file given to a spreadsheet must guard against.

- Formula injection (OWASP's advice): a cell that begins with ``=``, ``+``, ``-``, ``@``,
  a tab or a carriage return would run as a formula; it is written with a leading ``'``,
  which spreadsheets show as text. Reading takes that ``'`` off again, so that a file
  exported here imports as it was.
- Rows are counted as a spreadsheet shows them: the header is row 1, and a cell holding
  a line break is still one row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
LINE_END = "\r\n"


def safe_cell(value: str) -> str:
    """A text cell as written: never a formula, never a NUL."""
    value = value.replace("\x00", "")
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unescaped_cell(value: str) -> str:
    """A cell as read: the ``'`` that ``safe_cell`` put before a formula character
    taken off."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def csv_chunk(rows: Iterable[Sequence[str]]) -> bytes:
    """Rows written as CSV (each cell through ``safe_cell``), UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_END)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode()


class MalformedCsv(ValueError):
    """A body that is not CSV this API reads; ``row`` where it went wrong, when known."""

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


class TooManyRows(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit:,} rows per file (besides the header)")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class CsvRecord:
    """A row under the header: its number as a spreadsheet shows it, and its cells."""

    row: int
    cells: list[str]


@dataclass(frozen=True, slots=True)
class CsvTable:
    header: list[str]
    records: list[CsvRecord]


def read_csv(body: bytes, *, max_rows: int) -> CsvTable:
    """The header and the rows of a UTF-8 CSV body (a byte order mark, as Excel writes
    it, is skipped; blank rows are left out but counted). Raises ``MalformedCsv`` (not
    UTF-8, a NUL byte, a quote left open or followed by text, no header) and
    ``TooManyRows`` once there are more than ``max_rows``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise MalformedCsv(
            f"the file is not UTF-8 text (byte {exc.start + 1}, line {line}); save it as CSV UTF-8",
        ) from None
    text = text.removeprefix(BOM)
    if "\x00" in text:
        raise MalformedCsv("the file holds a NUL character", _row_at(text, text.index("\x00")))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    records: list[CsvRecord] = []
    row = 0
    try:
        for row, cells in enumerate(reader, start=1):
            if header is None:
                header = cells
            elif any(cell.strip() for cell in cells):
                if len(records) == max_rows:
                    raise TooManyRows(max_rows)
                records.append(CsvRecord(row, [unescaped_cell(c) for c in cells]))
    except csv.Error as exc:
        raise MalformedCsv(f"row {row + 1} is not valid CSV: {exc}", row + 1) from None
    if header is None or not any(cell.strip() for cell in header):
        raise MalformedCsv("the file is empty: its first row must name the columns", 1)
    return CsvTable(header, records)


def _row_at(text: str, index: int) -> int:
    """The row of a character, counting line breaks (a guess inside quoted cells)."""
    return text.count("\n", 0, index) + 1
