"""Keyset pagination: opaque cursors holding the sort key of the last row seen."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from seqgql.domain.selection import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

T = TypeVar("T")
MAX_CURSOR_LENGTH = 1_000  # longer than any cursor given out


class BadPageRequest(ValueError):
    """`first` or `after` is not acceptable; ``argument`` names which."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    has_next: bool
    cursors: list[str]


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0:
        raise BadPageRequest("first", "`first` must not be negative")
    if first > MAX_PAGE_SIZE:
        raise BadPageRequest("first", f"`first` must be at most {MAX_PAGE_SIZE} ({first} given)")
    return first


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode()


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadPageRequest("after", "`after` is not a cursor this list gave out")
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadPageRequest("after", "`after` is not a cursor this list gave out") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise BadPageRequest("after", "`after` is not a cursor this list gave out")
    return values


def decode_id_cursor(cursor: str) -> int:
    """The id of the last row seen, from a cursor of a list ordered by id."""
    (last_id,) = decode_cursor(cursor, 1)
    return row_id(last_id)


def row_id(value: Any) -> int:
    """A row id read from a cursor: an int a row can have (1 to 2**63 - 1)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        raise BadPageRequest("after", "`after` is not a cursor this list gave out")
    return value
