"""A sequence's rules: what happens to its contacts beyond the steps. Defaults keep the
behaviour a sequence always had; a sequence stores only its rules (JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.domain.kinds import ActiveElsewhere, WhileActiveElsewhere

MAX_OUT_OF_OFFICE_DAYS = 365
MAX_CONTACT_CAP = 100
# Email domains many companies' people share: no company is read from them.
PUBLIC_MAIL_DOMAINS = frozenset(
    {"gmail.com", "googlemail.com", "yahoo.com", "outlook.com", "hotmail.com", "live.com",
     "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de",
     "web.de", "mail.com", "yandex.ru", "qq.com", "163.com"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Ruleset:
    # a reply detected finishes the enrollment (FINISHED, REPLIED); off: it is recorded
    # as activity and the steps go on
    finish_on_reply: bool = True
    # an out-of-office reply without a return date pauses this many days; None: until
    # resumed (or a return date)
    out_of_office_default_days: int | None = None
    # a reply detected finishes the other contacts of the same company (email domain)
    # in the sequence (FINISHED, COMPANY_REPLIED)
    finish_company_on_reply: bool = False
    # what addContactsToSequence does with contacts active in another sequence, when the
    # call does not say
    active_elsewhere: ActiveElsewhere = ActiveElsewhere.ENROLL
    # what the engine does with a step due for a contact active in another sequence
    while_active_elsewhere: WhileActiveElsewhere = WhileActiveElsewhere.SEND
    # a step waits for the next day once its contact was sent this many messages today
    # (UTC), by any sequence; None: no cap
    max_messages_per_contact_per_day: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Ruleset:
        """The rules a sequence stored (unknown keys ignored; missing ones default)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in (data or {}).items() if k in known}
        if "active_elsewhere" in values:
            values["active_elsewhere"] = ActiveElsewhere(values["active_elsewhere"])
        if "while_active_elsewhere" in values:
            values["while_active_elsewhere"] = WhileActiveElsewhere(
                values["while_active_elsewhere"]
            )
        return cls(**values)

    def errors(self, path: list[str | int]) -> list[UserError]:
        errors = []
        days = self.out_of_office_default_days
        if days is not None and not 1 <= days <= MAX_OUT_OF_OFFICE_DAYS:
            message = f"must be from 1 to {MAX_OUT_OF_OFFICE_DAYS} days ({days} given)"
            errors.append(error([*path, "outOfOfficeDefaultDays"], ErrorCode.OUT_OF_RANGE, message))
        cap = self.max_messages_per_contact_per_day
        if cap is not None and not 1 <= cap <= MAX_CONTACT_CAP:
            message = f"must be from 1 to {MAX_CONTACT_CAP} ({cap} given)"
            errors.append(
                error([*path, "maxMessagesPerContactPerDay"], ErrorCode.OUT_OF_RANGE, message)
            )
        return errors


def company_of(email: str | None) -> str | None:
    """The company an email address names: its domain, lower-cased; none for public
    mail domains."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower()
    return None if not domain or domain in PUBLIC_MAIL_DOMAINS else domain
