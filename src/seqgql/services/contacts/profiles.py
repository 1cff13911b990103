"""Creating and changing contacts: every value validated and normalised as it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.clock import Clock
from seqgql.domain import validation
from seqgql.domain.errors import ErrorCode, UserError, error
from seqgql.domain.kinds import PhoneType
from seqgql.persistence.database import Database
from seqgql.persistence.tables import contacts
from seqgql.services.actor import Actor

MAX_CONTACTS_PER_CALL = 1_000


@dataclass(frozen=True, slots=True)
class ContactSpec:
    first_name: str
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_type: PhoneType | None = None
    time_zone: str | None = None
    opted_out: bool = False


@dataclass(slots=True)
class CreatedContacts:
    ids: list[int] = field(default_factory=list)
    errors: list[UserError] = field(default_factory=list)


@dataclass(slots=True)
class UpdatedContact:
    contact_id: int | None = None
    errors: list[UserError] = field(default_factory=list)


# What updateContact may change, by attribute.
EDITABLE = ("first_name", "last_name", "email", "phone", "phone_type", "time_zone", "opted_out")


def contact_row(
    spec: ContactSpec, path: list[str | int]
) -> tuple[dict[str, object], list[UserError]]:
    """Validate and normalise one contact; the row to insert, or the errors."""
    errors: list[UserError] = []
    values: dict[str, object] = {}
    for attr, label in (("first_name", "firstName"), ("last_name", "lastName")):
        raw = getattr(spec, attr)
        if raw is None:
            values[attr] = None
            continue
        try:
            values[attr] = validation.name(raw, what=label)
        except validation.Invalid as exc:
            if attr == "last_name" and not raw.strip():
                values[attr] = None
                continue
            errors.append(error([*path, label], ErrorCode.INVALID, str(exc)))
    checks = (
        ("email", "email", validation.email, ErrorCode.INVALID_EMAIL),
        ("phone", "phone", validation.phone, ErrorCode.INVALID_PHONE),
        ("time_zone", "timeZone", validation.time_zone, ErrorCode.INVALID_TIME_ZONE),
    )
    for attr, label, check, code in checks:
        raw = getattr(spec, attr)
        if raw is None or not raw.strip():
            values[attr] = None
            continue
        try:
            values[attr] = check(raw)
        except validation.Invalid as exc:
            errors.append(error([*path, label], code, str(exc)))
    if errors:
        return {}, errors
    first = str(values["first_name"])
    last = values["last_name"] or ""
    values["phone_type"] = spec.phone_type or PhoneType.UNKNOWN
    values["opted_out"] = spec.opted_out
    values["sort_name"] = f"{first} {last}".strip().lower()
    values["search_text"] = " ".join(
        str(v) for v in (first, last, values["email"] or "") if v
    ).lower()
    return values, []


async def create_contacts(
    db: Database, clock: Clock, actor: Actor, specs: list[ContactSpec]
) -> CreatedContacts:
    """Create all the contacts, or none when any is invalid."""
    if not specs:
        return CreatedContacts(
            errors=[error(["input", "contacts"], ErrorCode.REQUIRED, "give at least one contact")]
        )
    if len(specs) > MAX_CONTACTS_PER_CALL:
        return CreatedContacts(
            errors=[
                error(
                    ["input", "contacts"],
                    ErrorCode.TOO_MANY,
                    f"at most {MAX_CONTACTS_PER_CALL} contacts per call",
                )
            ]
        )
    rows: list[dict[str, object]] = []
    errors: list[UserError] = []
    now = clock.now()
    for i, spec in enumerate(specs):
        row, row_errors = contact_row(spec, ["input", "contacts", i])
        errors += row_errors
        rows.append({**row, "workspace_id": actor.workspace_id, "created_at": now})
    if errors:
        return CreatedContacts(errors=errors)
    async with db.write() as conn:
        ids = await insert_contacts(conn, rows)
    return CreatedContacts(ids=ids)


async def insert_contacts(conn: AsyncConnection, rows: list[dict[str, object]]) -> list[int]:
    """Insert validated rows (``contact_row``'s, with workspace and creation time) in one
    statement; their ids, in the rows' order."""
    result = await conn.execute(
        contacts.insert().returning(contacts.c.id, sort_by_parameter_order=True), rows
    )
    return [r.id for r in result]


async def update_contact(
    db: Database, actor: Actor, contact_id: int, changes: dict[str, Any]
) -> UpdatedContact:
    """Change the given fields of one contact (validated as on creation). Fixing an
    address lets a step that was not sent go out once its enrollment is resumed."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    async with db.write() as conn:
        current = (
            await conn.execute(
                sa.select(*(contacts.c[a] for a in EDITABLE)).where(
                    contacts.c.id == contact_id, contacts.c.workspace_id == actor.workspace_id
                )
            )
        ).first()
        if current is None:
            return UpdatedContact(
                errors=[error(["input", "contactId"], ErrorCode.NOT_FOUND, "no such contact")]
            )
        spec = replace(ContactSpec(**current._asdict()), **changes)
        required = [
            error(["input", label], ErrorCode.REQUIRED, "must not be null")
            for attr, label in (("first_name", "firstName"), ("opted_out", "optedOut"))
            if getattr(spec, attr) is None
        ]
        if required:
            return UpdatedContact(errors=required)
        row, errors = contact_row(spec, ["input"])
        if errors:
            return UpdatedContact(errors=errors)
        await conn.execute(contacts.update().where(contacts.c.id == contact_id).values(**row))
    return UpdatedContact(contact_id)
