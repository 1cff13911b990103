"""Keyset pagination: opaque cursors holding the sort key of a row, and the page a client
asks for — Relay's ``first``/``after`` (forward) or ``last``/``before`` (backward)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import sqlalchemy as sa

from seqgql.domain.selection import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

T = TypeVar("T")
MAX_CURSOR_LENGTH = 1_000  # longer than any cursor given out
CursorArgument = Literal["after", "before"]


class BadPageRequest(ValueError):
    """`first`, `after`, `last` or `before` is not acceptable; ``argument`` names which."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    has_next: bool
    cursors: list[str]
    has_previous: bool = False


def _size(argument: str, value: int, most: int = MAX_PAGE_SIZE) -> int:
    if value < 0:
        raise BadPageRequest(argument, f"`{argument}` must not be negative")
    if value > most:
        raise BadPageRequest(argument, f"`{argument}` must be at most {most} ({value} given)")
    return value


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page of a list: the first ``first`` items after ``after``, or the last
    ``last`` items before ``before`` (each bound optional; both bounds may be given).
    Neither size: 50 items, forward, unless only ``before`` is given (then backward)."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None
    # the largest page: what a client may ask for; an export reads larger batches
    max_size: int = MAX_PAGE_SIZE

    def __post_init__(self) -> None:
        if self.first is not None and self.last is not None:
            raise BadPageRequest(
                "last",
                "`first` and `last` cannot be used together: page forward with "
                "`first`/`after`, backward with `last`/`before`",
            )
        if self.first is not None:
            _size("first", self.first, self.max_size)
        if self.last is not None:
            _size("last", self.last, self.max_size)

    @property
    def backward(self) -> bool:
        """Whether the page is read from its end (``last``, or ``before`` alone)."""
        return self.last is not None or (self.before is not None and self.first is None)

    @property
    def size(self) -> int:
        if self.first is not None:
            return self.first
        if self.last is not None:
            return self.last
        return DEFAULT_PAGE_SIZE

    def cut(self, rows: Sequence[T], cursor: Callable[[T], str]) -> Page[T]:
        """The page from the rows read in scan order (the list's order, reversed when
        backward), one more than ``size`` when more follow in that direction."""
        more = len(rows) > self.size
        kept = list(rows[: self.size])
        if self.backward:
            kept.reverse()
        return Page(
            rows=kept,
            has_next=(self.before is not None) if self.backward else more,
            has_previous=more if self.backward else (self.after is not None),
            cursors=[cursor(r) for r in kept],
        )


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode()


def decode_cursor(cursor: str, arity: int, argument: CursorArgument = "after") -> list[Any]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise not_a_cursor(argument)
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise not_a_cursor(argument) from exc
    if not isinstance(values, list) or len(values) != arity:
        raise not_a_cursor(argument)
    return values


def not_a_cursor(argument: CursorArgument) -> BadPageRequest:
    return BadPageRequest(argument, f"`{argument}` is not a cursor this list gave out")


def row_id(value: Any, argument: CursorArgument = "after") -> int:
    """A row id read from a cursor: an int a row can have (1 to 2**63 - 1)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise not_a_cursor(argument)
    return value


def keyset_bounds(
    request: PageRequest,
    key: Sequence[sa.ColumnElement[Any]],
    decode: Callable[[str, CursorArgument], Sequence[Any]],
    *,
    descending: bool = False,
) -> list[sa.ColumnElement[bool]]:
    """The conditions keeping rows strictly between the request's cursors, for a list
    ordered by ``key`` (ascending unless ``descending``); ``decode`` turns a cursor into
    the key's values (raising ``BadPageRequest`` naming the argument)."""
    conditions = []
    given: tuple[tuple[CursorArgument, str | None], ...] = (
        ("after", request.after),
        ("before", request.before),
    )
    for argument, cursor in given:
        if cursor is None:
            continue
        values = decode(cursor, argument)
        left: sa.ColumnElement[Any] = key[0] if len(key) == 1 else sa.tuple_(*key)
        right: sa.ColumnElement[Any] = (
            sa.literal(values[0], key[0].type)
            if len(key) == 1
            else sa.tuple_(*(sa.literal(v, k.type) for v, k in zip(values, key, strict=True)))
        )
        beyond = (argument == "after") != descending
        conditions.append(left > right if beyond else left < right)
    return conditions


def scan_order(
    request: PageRequest, key: Sequence[sa.ColumnElement[Any]], *, descending: bool = False
) -> list[sa.ColumnElement[Any]]:
    """The ORDER BY that reads the request's page first: the list's order, reversed when
    reading backward."""
    reverse = request.backward != descending
    return [k.desc() if reverse else k.asc() for k in key]
