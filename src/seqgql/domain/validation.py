"""Validation of contact and sequence fields. Returns normalised values or an error text."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MAX_NAME_LENGTH = 200
MAX_BODY_LENGTH = 20_000
MAX_SUBJECT_LENGTH = 500
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # line breaks, tabs, NUL, escape...


class Invalid(ValueError):
    """The value is not acceptable; the message says why."""


def name(value: str, *, what: str = "name") -> str:
    """One line of text: trimmed, not empty, no control characters."""
    cleaned = value.strip()
    if not cleaned:
        raise Invalid(f"{what} must not be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise Invalid(f"{what} must be at most {MAX_NAME_LENGTH} characters")
    one_line(cleaned, what=what)
    return cleaned


def one_line(value: str, *, what: str) -> str:
    """``value``, when it holds no line break or other control character."""
    if _CONTROL.search(value):
        raise Invalid(f"{what} must be one line, without control characters")
    return value


def moment(value: datetime) -> datetime:
    """A moment with its offset that exists in UTC (``0001-01-01T00:00:00+14:00`` does
    not: it is before the first moment there is)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid("give a time zone offset, e.g. 2026-12-01T09:00:00Z")
    try:
        value.astimezone(UTC)
    except OverflowError as exc:
        raise Invalid("is outside the range of moments (years 1 to 9999 in UTC)") from exc
    return value


def email(value: str) -> str:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid(f"{value!r} is not a valid email address: {exc}") from exc
    return result.normalized


def phone(value: str) -> str:
    """Normalise to E.164. Numbers without a country code are read as North American."""
    try:
        parsed = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException as exc:
        raise Invalid(f"{value!r} is not a valid phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise Invalid(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def time_zone(value: str) -> str:
    if value not in _zones():
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise Invalid(f"{value!r} is not a known IANA time zone") from exc
    return value


def time_of_day(value: str) -> str:
    if not _TIME_OF_DAY.match(value):
        raise Invalid(f"{value!r} is not a time of day as HH:MM (24-hour)")
    return value


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def nul_in(value: object) -> str | None:
    """Where a NUL character is in a request's JSON (``variables.input.name``), if
    anywhere: no text may hold one (PostgreSQL cannot store it)."""
    pending: list[tuple[str, object]] = [("", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path or "body"
            continue
        if isinstance(item, dict):
            children: list[tuple[object, object]] = list(item.items())
        elif isinstance(item, list):
            children = list(enumerate(item))
        else:
            continue
        for key, child in reversed(children):
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return where
            pending.append((where, child))
    return None


def nul_message(where: str) -> str:
    """What to answer for a NUL character found at ``where``."""
    return f"{where} holds a NUL character (\\u0000), which no text may hold"
