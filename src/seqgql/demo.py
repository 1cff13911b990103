"""A demo workspace: sequences, contacts and enrollments in every status. Idempotent."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from seqgql.clock import Clock
from seqgql.domain.kinds import (
    ActiveElsewhere,
    DeliveryEventKind,
    PhoneType,
    Role,
    StepChannel,
    Weekday,
    WhileActiveElsewhere,
)
from seqgql.domain.rules import Ruleset
from seqgql.domain.selection import Selection
from seqgql.domain.sequence import SendingWindow, StepSpec
from seqgql.domain.status import FinishReason
from seqgql.persistence.database import Database
from seqgql.persistence.tables import sequences
from seqgql.services.actor import Actor
from seqgql.services.auth import IssuedToken, issue_token
from seqgql.services.contacts import ContactSpec, create_contacts, create_group
from seqgql.services.enrollments import (
    add_contacts,
    add_to_group,
    finish,
    move,
    move_to_step,
    pause,
    record_delivery_event,
    remove,
    undo,
)
from seqgql.services.sequences import create_sequence, set_sequence_active

DEMO_WORKSPACE = "Demo"
DEMO_EMAIL = "admin@demo.seqgql.dev"

FIRST_NAMES = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Margaret",
    "Ken",
    "Radia",
    "Dennis",
    "Hedy",
    "Tim",
    "Katherine",
]
LAST_NAMES = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "McCarthy",
    "Hamilton",
    "Thompson",
    "Perlman",
    "Ritchie",
]


async def seed_demo(db: Database, clock: Clock) -> IssuedToken:
    """Create the demo workspace once; every call returns a fresh admin token."""
    issued = await issue_token(
        db, clock, email=DEMO_EMAIL, workspace=DEMO_WORKSPACE, name="Demo Admin", role=Role.ADMIN
    )
    actor = Actor(issued.workspace_id, issued.user_id, Role.ADMIN)
    async with db.read() as conn:
        seeded = (
            await conn.execute(
                sa.select(sa.func.count()).where(sequences.c.workspace_id == actor.workspace_id)
            )
        ).scalar_one()
    if not seeded:
        await _populate(db, clock, actor)
    return issued


async def _populate(db: Database, clock: Clock, actor: Actor) -> None:
    window = SendingWindow(
        days=(Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY),
        start="09:00",
        end="17:00",
        time_zone="America/New_York",
    )
    outbound = await create_sequence(
        db,
        clock,
        actor,
        name="Q4 Outbound",
        window=window,
        step_specs=[
            StepSpec(StepChannel.EMAIL, 0, "Hi {{first_name}}, quick question…", "Quick question"),
            StepSpec(StepChannel.EMAIL, 2 * 24 * 60, "Following up on my note, {{first_name}}."),
            StepSpec(StepChannel.SMS, 3 * 24 * 60, "Hi {{first_name}}, is now a good time?"),
            StepSpec(StepChannel.EMAIL, 4 * 24 * 60, "Closing the loop.", "Last note"),
        ],
    )
    webinar = await create_sequence(
        db,
        clock,
        actor,
        name="Webinar follow-up",
        step_specs=[StepSpec(StepChannel.SMS, 0, "Thanks for joining, {{first_name}}!")],
    )
    assert outbound.sequence_id is not None
    assert webinar.sequence_id is not None
    specs = []
    for i in range(60):
        first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[i % len(LAST_NAMES)]
        specs.append(
            ContactSpec(
                first_name=first,
                last_name=last,
                email=f"{first}.{last}{i}@example.com".lower() if i % 11 else None,
                phone=f"+1415555{i:04d}",
                phone_type=PhoneType.LANDLINE if i % 13 == 0 else PhoneType.MOBILE,
                time_zone="Europe/London" if i % 3 == 0 else None,
                opted_out=i % 17 == 0,
            )
        )
    created = await create_contacts(db, clock, actor, specs)
    group = await create_group(db, clock, actor, "Conference leads")
    seq_id = outbound.sequence_id
    await add_contacts(db, clock, actor, seq_id, created.ids)
    page = await _enrollment_ids(db, seq_id)
    await pause(db, clock, actor, Selection(ids=tuple(page[0:6])))
    await finish(
        db, clock, actor, Selection(ids=tuple(page[6:10])), reason=FinishReason.MEETING_BOOKED
    )
    await remove(db, clock, actor, Selection(ids=tuple(page[10:12])))
    kinds = [
        DeliveryEventKind.REPLIED,
        DeliveryEventKind.BOUNCED,
        DeliveryEventKind.FAILED,
        DeliveryEventKind.OPTED_OUT,
        DeliveryEventKind.OUT_OF_OFFICE,
    ]
    for offset, kind in enumerate(kinds):
        await record_delivery_event(db, clock, actor, page[12 + offset], kind)
    if group.group_id is not None:
        await add_to_group(
            db, clock, actor, Selection(ids=tuple(page[20:30])), group_id=group.group_id
        )
    # A sequence on a timescale a person can watch: steps a minute apart, any time.
    live = await create_sequence(
        db,
        clock,
        actor,
        name="Live demo (minutes)",
        reply_window_minutes=2,
        step_specs=[
            StepSpec(StepChannel.EMAIL, 0, "Hi {{first_name}}!", "Watch me move"),
            StepSpec(StepChannel.SMS, 1, "Still there, {{first_name}}?"),
            StepSpec(StepChannel.EMAIL, 1, "Last one.", "Bye"),
        ],
    )
    assert live.sequence_id is not None
    await add_contacts(db, clock, actor, live.sequence_id, created.ids[:12])
    await _controls(db, clock, actor, page, webinar.sequence_id, created.ids[40:50])


async def _controls(
    db: Database, clock: Clock, actor: Actor, page: list[int], webinar: int, contacts: list[int]
) -> None:
    """The Contacts tab's controls, each visible: enrollments moved to step 2, two moved
    to the webinar sequence (REMOVED, MOVED), a pause undone, an auto-resume scheduled,
    and a sequence turned off, with rules of its own."""
    await move_to_step(db, clock, actor, Selection(ids=tuple(page[30:33])), 2)
    await move(db, clock, actor, Selection(ids=tuple(page[33:35])), target_sequence_id=webinar)
    paused = await pause(db, clock, actor, Selection(ids=tuple(page[35:38])))
    assert paused.bulk_operation_id is not None
    await undo(db, clock, actor, paused.bulk_operation_id)
    later = clock.now() + timedelta(days=7)
    await pause(db, clock, actor, Selection(ids=tuple(page[38:40])), resume_at=later)
    off = await create_sequence(
        db,
        clock,
        actor,
        name="Spring campaign (turned off)",
        step_specs=[StepSpec(StepChannel.EMAIL, 0, "Spring is here, {{first_name}}.", "Hi")],
        daily_limit_per_sender=50,
        rules=Ruleset(
            out_of_office_default_days=7,
            finish_company_on_reply=True,
            active_elsewhere=ActiveElsewhere.SKIP,
            while_active_elsewhere=WhileActiveElsewhere.PAUSE,
            max_messages_per_contact_per_day=2,
        ),
    )
    assert off.sequence_id is not None
    await add_contacts(db, clock, actor, off.sequence_id, contacts)
    await set_sequence_active(db, clock, actor, off.sequence_id, active=False)


async def _enrollment_ids(db: Database, sequence_id: int) -> list[int]:
    from seqgql.persistence.tables import enrollments

    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.id)
            .where(enrollments.c.sequence_id == sequence_id, enrollments.c.status == "ACTIVE")
            .order_by(enrollments.c.id)
        )
        return [r.id for r in rows]
