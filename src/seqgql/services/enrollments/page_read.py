"""A page of enrollments as read: its rows (``PageRow``, in ``PAGE_COLUMNS``' order),
their cursors, and a page's read made ready (``PreparedPage``, from ``page.prepare_page``)
that turns the rows it reads into the page."""

from __future__ import annotations

import json
from binascii import b2a_base64
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from seqgql.domain.kinds import PhoneType, Role, WaitingFor
from seqgql.domain.selection import EnrollmentOrder, OrderDirection, OrderField
from seqgql.domain.status import EnrollmentStatus, Outcome, StatusReason
from seqgql.iso_times import isoformat, isoformat_json
from seqgql.persistence.database import Database
from seqgql.persistence.direct_reads import PreparedRead
from seqgql.persistence.tables import contacts, enrollments, users
from seqgql.services.pagination import Page, PageRequest, encode_cursor

e = enrollments.c


class PageRow(NamedTuple):
    """One enrollment of a page, with its contact and the user who enrolled it (the
    ``enrolled_by_`` columns are null when there is none)."""

    id: int
    sequence_id: int
    contact_id: int
    status: EnrollmentStatus
    reason: StatusReason | None
    outcome: Outcome | None
    current_step: int | None
    enrolled_by_id: int | None
    enrolled_at: datetime
    resume_at: datetime | None
    next_run_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    status_changed_at: datetime
    moved_to_id: int | None
    waiting_for: WaitingFor | None
    paused_at: datetime | None
    paused_due_at: datetime | None
    contact_first_name: str
    contact_last_name: str | None
    contact_email: str | None
    contact_phone: str | None
    contact_phone_type: PhoneType
    contact_time_zone: str | None
    contact_opted_out: bool
    contact_created_at: datetime
    enrolled_by_name: str | None
    enrolled_by_email: str | None
    enrolled_by_role: Role | None


def _page_column(name: str) -> sa.ColumnElement[Any]:
    """The column a ``PageRow`` field is read from."""
    for prefix, table in (("contact_", contacts), ("enrolled_by_", users)):
        if name.startswith(prefix) and name != prefix + "id":
            return table.c[name.removeprefix(prefix)].label(name)
    return e[name]


# What a page row holds, in PageRow's order (then the sort key when sorting by name).
PAGE_COLUMNS = [_page_column(name) for name in PageRow._fields]
_WIDTH = len(PageRow._fields)
_SORT_KEY = _WIDTH  # the column after them when not sorting by enrollment time
_ID, _ENROLLED_AT = PageRow._fields.index("id"), PageRow._fields.index("enrolled_at")


def only(columns: frozenset[str]) -> list[sa.ColumnElement[Any]]:
    """PAGE_COLUMNS with a NULL in the place of each column not in ``columns``."""
    kept = columns | {"id", "enrolled_at"}  # what cursors and the order are made of
    return [
        column if name in kept else sa.null().label(name)
        for name, column in zip(PageRow._fields, PAGE_COLUMNS, strict=True)
    ]


# The kind of value a cursor holds for each order (then the id).
CURSOR_KINDS = {
    OrderField.ENROLLED_AT: "time",
    OrderField.CONTACT_NAME: "text",
    OrderField.NEXT_SEND_AT: "time",
    OrderField.STATUS_CHANGED_AT: "time",
    OrderField.CURRENT_STEP: "int",
    OrderField.STATUS: "text",
}


def _cursor_writer(field: OrderField, direction: OrderDirection) -> Callable[[Any], str]:
    """The cursor of a row of a page in this order: its sort key and id."""
    # encode_cursor's JSON written out as bytes when sorting by time (an id is an int:
    # %d writes it as str does), base64.urlsafe_b64encode's two steps called directly
    head = json.dumps([field.value, direction.value])[:-1].encode() + b", "
    names, kind = (field.value, direction.value), CURSOR_KINDS[field]

    def cursor_of(r: Any) -> str:
        if field is OrderField.ENROLLED_AT:
            text = b"%s%s, %d]" % (head, isoformat_json(r[_ENROLLED_AT]), r[_ID])
            return b2a_base64(text, newline=False).translate(_URLSAFE).decode()
        value = r[_SORT_KEY]
        if kind == "time":
            value = isoformat(value)
        elif kind == "text":
            value = str(value)
        return encode_cursor([*names, value, r[_ID]])

    return cursor_of


_URLSAFE = bytes.maketrans(b"+/", b"-_")
_CURSORS = {(f, d): _cursor_writer(f, d) for f in OrderField for d in OrderDirection}


class PreparedPage:
    """A page's read made ready (``prepare_page``): its statement with its values, and
    how its rows become the page. Read again and again when kept: a page's execution
    plan keeps the read of the arguments it saw (making it costs ~10 us)."""

    __slots__ = ("cursor_of", "raw", "request", "statement", "with_counts")

    def __init__(
        self,
        statement: PreparedRead,
        request: PageRequest,
        order: EnrollmentOrder,
        with_counts: bool,
        raw: bool,
    ) -> None:
        self.statement = statement
        self.request = request
        self.cursor_of = _CURSORS[order.field, order.direction]
        self.with_counts = with_counts
        self.raw = raw

    async def read(self, db: Database) -> tuple[Page[PageRow], dict[EnrollmentStatus, int] | None]:
        """The page (see ``page.prepare_page``) and its counts."""
        result = await db.rows(self.statement, raw=self.raw)
        counts = None
        if self.with_counts:
            # a count row has a status count, a page row has none
            counts = {EnrollmentStatus(r[-2]): r[-1] for r in result if r[-2] is not None}
            result = [r for r in result if r[-2] is None]
        page = self.request.cut(result, self.cursor_of)
        if self.raw:  # a plan's: it reads the rows by position (PageRow's order)
            return page, counts
        rows = [PageRow._make(r[:_WIDTH]) for r in page.rows]
        return Page(rows, page.has_next, page.cursors, page.has_previous), counts
