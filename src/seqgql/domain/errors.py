"""Expected errors: data returned to the caller, never exceptions that escape."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class ErrorCode(enum.StrEnum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    INVALID_ID = "INVALID_ID"
    NOT_FOUND = "NOT_FOUND"
    TOO_MANY = "TOO_MANY"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_SELECTION = "INVALID_SELECTION"
    IN_THE_PAST = "IN_THE_PAST"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_TIME_ZONE = "INVALID_TIME_ZONE"
    DUPLICATE = "DUPLICATE"
    ARCHIVED = "ARCHIVED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    FORBIDDEN = "FORBIDDEN"
    INVALID_URL = "INVALID_URL"
    PRIVATE_ADDRESS = "PRIVATE_ADDRESS"


@dataclass(frozen=True, slots=True)
class UserError:
    """An invalid input, named by its path in the mutation's arguments."""

    field: tuple[str, ...]
    code: ErrorCode
    message: str


class InputErrors(Exception):
    """Raised inside a unit of work to abandon it; the errors go back as data."""

    def __init__(self, errors: Sequence[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


def error(field: Sequence[str | int], code: ErrorCode, message: str) -> UserError:
    return UserError(tuple(str(part) for part in field), code, message)
