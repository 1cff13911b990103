"""Test data built through the real services."""

from __future__ import annotations

import sqlalchemy as sa

from seqgql.clock import Clock
from seqgql.domain.kinds import PhoneType, StepChannel
from seqgql.domain.sequence import StepSpec
from seqgql.graphql.relay import to_global_id
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments
from seqgql.services.actor import Actor
from seqgql.services.contacts import ContactSpec, create_contacts
from seqgql.services.enrollments import add_contacts
from seqgql.services.sequences import create_sequence

# The statuses in the order the API lists them (written out: the tests check the code).
ALL_STATUSES = ["ACTIVE", "PAUSED", "FINISHED", "BOUNCED", "FAILED", "NOT_SENT",
                "OPTED_OUT", "OMITTED", "REMOVED"]  # fmt: skip

DEFAULT_STEPS = [
    StepSpec(StepChannel.EMAIL, 0, "Hi {{first_name}}", "Hello"),
    StepSpec(StepChannel.EMAIL, 60 * 24, "Following up"),
    StepSpec(StepChannel.SMS, 60 * 24 * 2, "Quick text"),
]


async def make_sequence(
    db: Database, clock: Clock, actor: Actor, *, name: str = "Outbound",
    steps: list[StepSpec] | None = None,
) -> int:  # fmt: skip
    result = await create_sequence(db, clock, actor, name=name, step_specs=steps or DEFAULT_STEPS)
    assert result.sequence_id is not None, result.errors
    return result.sequence_id


async def make_contacts(
    db: Database, clock: Clock, actor: Actor, count: int, *, prefix: str = "Contact",
    **overrides: object,
) -> list[int]:  # fmt: skip
    specs = []
    for i in range(count):
        fields: dict[str, object] = {
            "first_name": f"{prefix}{i}",
            "last_name": "Tester",
            "email": f"{prefix.lower()}{i}@example.com",
            "phone": "+14155550100",
            "phone_type": PhoneType.MOBILE,
            **overrides,
        }
        specs.append(ContactSpec(**fields))  # type: ignore[arg-type]
    ids: list[int] = []
    for start in range(0, len(specs), 1000):  # the API takes 1,000 contacts per call
        created = await create_contacts(db, clock, actor, specs[start : start + 1000])
        assert not created.errors, created.errors
        ids += created.ids
    return ids


async def make_enrolled(
    db: Database, clock: Clock, actor: Actor, count: int, *, sequence_id: int | None = None,
    **contact_fields: object,
) -> tuple[int, list[int]]:  # fmt: skip
    """A sequence with ``count`` contacts enrolled; returns (sequence id, enrollment ids)."""
    if sequence_id is None:
        sequence_id = await make_sequence(db, clock, actor)
    contact_ids = await make_contacts(db, clock, actor, count, **contact_fields)
    result = await add_contacts(db, clock, actor, sequence_id, contact_ids)
    assert not result.errors, result.errors

    from seqgql.services.enrollments.page import enrollments_by_ids  # noqa: F401

    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.id)
            .where(enrollments.c.sequence_id == sequence_id)
            .order_by(enrollments.c.id)
        )
        return sequence_id, [r.id for r in rows]


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


def gids(type_name: str, pks: list[int]) -> list[str]:
    return [to_global_id(type_name, pk) for pk in pks]


async def enroll_names(
    db: Database, clock: Clock, actor: Actor, seq: int, first_names: list[str]
) -> None:
    """Enroll a new contact "<name> Tester" for each first name."""
    specs = [
        ContactSpec(
            first_name=n,
            last_name="Tester",
            email=f"{n.lower()}{i}@example.com",
            phone="+14155550100",
            phone_type=PhoneType.MOBILE,
        )
        for i, n in enumerate(first_names)
    ]
    created = await create_contacts(db, clock, actor, specs)
    assert not created.errors, created.errors
    result = await add_contacts(db, clock, actor, seq, created.ids)
    assert not result.errors and result.changed_count == len(first_names), result
