"""Which enrollment a report that came back is about: an inbound email, a provider's event.

One rule for all of them. The Message-IDs of ours a report names count only when the
enrollment's contact has one of the addresses the report is about (the sender of a reply,
the recipient a notice or an event failed for): a forged id names nothing it should not.
Else the contact with one of those addresses: its most recent enrollment still going
(ACTIVE, PAUSED, NOT_SENT). Set-based: a batch of reports is matched in a few statements."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from seqgql.domain.status import ACTIVE_ELSEWHERE
from seqgql.persistence.tables import contacts, enrollments

# ids a report may name that are looked at (a notice quoting a long thread names many)
MAX_IDS_PER_REPORT = 20
# values per IN list: well within both drivers' limits on parameters
_CHUNK = 1_000
e = enrollments.c


@dataclass(frozen=True, slots=True)
class Clues:
    """What a report says about whom it is for."""

    enrollment_ids: Sequence[int]  # named by Message-IDs of ours, in order
    addresses: Sequence[str]  # lower-cased: the contact must have one of them
    role: str  # what those addresses are to the report, e.g. "the sender"


@dataclass(frozen=True, slots=True)
class Match:
    enrollment_id: int
    how: str  # e.g. "Message-ID of enrollment 41, its contact the sender"


@dataclass(frozen=True, slots=True)
class Matched:
    match: Match | None
    notes: list[str] = field(default_factory=list)  # ids that did not count, and why


async def match_enrollments(
    conn: AsyncConnection, workspace_id: int, reports: Sequence[Clues]
) -> list[Matched]:
    """The enrollment each report is about (see the module), in the reports' order."""
    named = {pk for r in reports for pk in _ids(r)}
    emails = await _contact_emails(conn, workspace_id, named)
    by_id: list[Matched] = []
    for report in reports:
        ids = [pk for pk in _ids(report) if pk in emails]
        hit = next((pk for pk in ids if emails[pk] in report.addresses), None)
        if hit is not None:
            how = f"Message-ID of enrollment {hit}, its contact {report.role}"
            by_id.append(Matched(Match(hit, how)))
            continue
        notes = []
        if ids:
            notes.append(
                f"Message-ID of enrollment {', '.join(map(str, ids))} not counted: its "
                f"contact is not {report.role}"
            )
        by_id.append(Matched(None, notes))
    wanted = {
        a for r, m in zip(reports, by_id, strict=True) if m.match is None for a in r.addresses
    }
    going = await _latest_going(conn, workspace_id, wanted)
    return [
        m if m.match is not None else _by_address(r, m.notes, going)
        for r, m in zip(reports, by_id, strict=True)
    ]


def _by_address(report: Clues, notes: list[str], going: dict[str, tuple[Any, int, str]]) -> Matched:
    best = max((going[a] for a in set(report.addresses) if a in going), default=None)
    if best is None:
        return Matched(None, notes)
    how = f"{report.role} {best[2]}: the contact's most recent enrollment still going"
    return Matched(Match(best[1], how), notes)


def _ids(report: Clues) -> list[int]:
    return list(dict.fromkeys(report.enrollment_ids))[:MAX_IDS_PER_REPORT]


async def _contact_emails(
    conn: AsyncConnection, workspace_id: int, enrollment_ids: Iterable[int]
) -> dict[int, str | None]:
    """The (lower-cased) address of each enrollment's contact, for those of the workspace."""
    emails: dict[int, str | None] = {}
    for chunk in _chunks(sorted(enrollment_ids)):
        rows = await conn.execute(
            sa.select(e.id, sa.func.lower(contacts.c.email).label("email"))
            .join(contacts, contacts.c.id == e.contact_id)
            .where(e.id.in_(chunk), e.workspace_id == workspace_id)
        )
        emails.update({r.id: r.email for r in rows})
    return emails


async def _latest_going(
    conn: AsyncConnection, workspace_id: int, addresses: Iterable[str]
) -> dict[str, tuple[Any, int, str]]:
    """For each address, the most recent enrollment still going of a contact with it:
    (enrolled at, enrollment id, address)."""
    latest: dict[str, tuple[Any, int, str]] = {}
    email = sa.func.lower(contacts.c.email)
    for chunk in _chunks(sorted(addresses)):
        ranked = (
            sa.select(
                e.id,
                e.enrolled_at,
                email.label("email"),
                sa.func.row_number()
                .over(partition_by=email, order_by=(e.enrolled_at.desc(), e.id.desc()))
                .label("rank"),
            )
            .join(contacts, contacts.c.id == e.contact_id)
            .where(
                e.workspace_id == workspace_id,
                contacts.c.workspace_id == workspace_id,
                email.in_(chunk),
                e.status.in_(ACTIVE_ELSEWHERE),
            )
            .subquery()
        )
        rows = await conn.execute(
            sa.select(ranked.c.id, ranked.c.enrolled_at, ranked.c.email).where(ranked.c.rank == 1)
        )
        latest.update({r.email: (r.enrolled_at, r.id, r.email) for r in rows})
    return latest


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]
