"""Sequences as the user describes them: steps and a sending window, validated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seqgql.domain import validation
from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.domain.kinds import StepChannel, Weekday

MAX_STEPS = 50
MAX_WAIT_MINUTES = 365 * 24 * 60
DEFAULT_REPLY_WINDOW_MINUTES = 3 * 24 * 60


@dataclass(frozen=True, slots=True)
class StepSpec:
    channel: StepChannel
    wait_minutes: int
    body: str
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class SendingWindow:
    days: tuple[Weekday, ...]
    start: str
    end: str
    time_zone: str

    def to_json(self) -> dict[str, Any]:
        return {
            "days": [d.value for d in self.days],
            "start": self.start,
            "end": self.end,
            "timeZone": self.time_zone,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SendingWindow:
        return cls(
            days=tuple(Weekday(d) for d in data["days"]),
            start=data["start"],
            end=data["end"],
            time_zone=data["timeZone"],
        )


def check_name(value: str, path: list[str | int]) -> tuple[str | None, list[UserError]]:
    try:
        return validation.name(value), []
    except validation.Invalid as exc:
        code = ErrorCode.REQUIRED if not value.strip() else ErrorCode.TOO_LONG
        return None, [error(path, code, str(exc))]


def check_steps(steps: list[StepSpec], path: list[str | int]) -> list[UserError]:
    errors: list[UserError] = []
    if not steps:
        errors.append(error(path, ErrorCode.REQUIRED, "a sequence needs at least one step"))
    if len(steps) > MAX_STEPS:
        errors.append(error(path, ErrorCode.TOO_MANY, f"at most {MAX_STEPS} steps"))
    for i, step in enumerate(steps):
        here = [*path, i]
        if not 0 <= step.wait_minutes <= MAX_WAIT_MINUTES:
            errors.append(
                error(
                    [*here, "waitMinutes"],
                    ErrorCode.OUT_OF_RANGE,
                    f"must be between 0 and {MAX_WAIT_MINUTES} minutes (365 days)",
                )
            )
        if not step.body.strip():
            errors.append(error([*here, "body"], ErrorCode.REQUIRED, "must not be empty"))
        elif len(step.body) > validation.MAX_BODY_LENGTH:
            errors.append(
                error(
                    [*here, "body"],
                    ErrorCode.TOO_LONG,
                    f"must be at most {validation.MAX_BODY_LENGTH} characters",
                )
            )
        if step.channel is StepChannel.SMS and step.subject:
            errors.append(
                error([*here, "subject"], ErrorCode.INVALID, "an SMS step has no subject")
            )
        elif step.subject is not None:
            errors += _subject_errors(step.subject, [*here, "subject"])
    return errors


def _subject_errors(subject: str, path: list[str | int]) -> list[UserError]:
    """An email subject is one header line."""
    if len(subject) > validation.MAX_SUBJECT_LENGTH:
        limit = validation.MAX_SUBJECT_LENGTH
        return [error(path, ErrorCode.TOO_LONG, f"must be at most {limit} characters")]
    try:
        validation.one_line(subject, what="a subject")
    except validation.Invalid as exc:
        return [error(path, ErrorCode.INVALID, str(exc))]
    return []


def check_window(window: SendingWindow, path: list[str | int]) -> list[UserError]:
    errors: list[UserError] = []
    if not window.days:
        errors.append(error([*path, "days"], ErrorCode.REQUIRED, "name at least one day"))
    for part in ("start", "end"):
        try:
            validation.time_of_day(getattr(window, part))
        except validation.Invalid as exc:
            errors.append(error([*path, part], ErrorCode.INVALID, str(exc)))
    if not errors and window.start >= window.end:
        errors.append(error([*path, "end"], ErrorCode.INVALID, "must be later than start"))
    try:
        validation.time_zone(window.time_zone)
    except validation.Invalid as exc:
        errors.append(error([*path, "timeZone"], ErrorCode.INVALID_TIME_ZONE, str(exc)))
    return errors


MAX_DAILY_LIMIT = 100_000


def check_daily_limit(limit: int | None, path: list[str | int]) -> list[UserError]:
    """A per-sender daily limit is a positive number of steps (None: no limit)."""
    if limit is not None and not 1 <= limit <= MAX_DAILY_LIMIT:
        return [error(path, ErrorCode.OUT_OF_RANGE, f"must be between 1 and {MAX_DAILY_LIMIT}")]
    return []


def check_reply_window(minutes: int, path: list[str | int]) -> list[UserError]:
    if not 0 <= minutes <= MAX_WAIT_MINUTES:
        return [error(path, ErrorCode.OUT_OF_RANGE, f"must be between 0 and {MAX_WAIT_MINUTES}")]
    return []
