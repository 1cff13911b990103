"""Validation of contact and sequence fields. Returns normalised values or an error text."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

MAX_NAME_LENGTH = 200
MAX_BODY_LENGTH = 20_000
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Invalid(ValueError):
    """The value is not acceptable; the message says why."""


def name(value: str, *, what: str = "name") -> str:
    cleaned = value.strip()
    if not cleaned:
        raise Invalid(f"{what} must not be empty")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise Invalid(f"{what} must be at most {MAX_NAME_LENGTH} characters")
    return cleaned


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
