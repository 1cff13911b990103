"""Inbound mail in tests: messages of the corpus (tests/inbound/corpus) made to answer a
test's own enrollment, an enrolled contact to answer, posting to the webhook, and what an
enrollment shows over GraphQL and in its events afterwards."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from seqgql.clock import Clock
from seqgql.domain.kinds import StepChannel
from seqgql.domain.sequence import StepSpec
from seqgql.graphql.relay import to_global_id
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments, events
from seqgql.services.actor import Actor
from seqgql.services.enrollments import add_contacts
from seqgql.services.sequences import create_sequence
from tests.helpers.factories import make_contacts
from tests.helpers.graphql_client import GraphQLClient

CORPUS = Path(__file__).resolve().parents[1] / "inbound" / "corpus"
# the corpus's contact and the enrollment its Message-IDs name
CORPUS_CONTACT = "ada@acme.example.com"
CORPUS_ENROLLMENT = 41
STEPS = [
    StepSpec(StepChannel.EMAIL, 0, "Hi {{first_name}}", "Hello {{first_name}}"),
    StepSpec(StepChannel.EMAIL, 60 * 24 * 3, "Following up"),
]

ENROLLMENT = """query($id: ID!) { node(id: $id) { ... on Enrollment {
  status reason resumeAt contact { email optedOut }
  activities(first: 50) { edges { node { kind step detail } } } } } }"""


def corpus_message(name: str, enrollment_id: int, email: str) -> bytes:
    """The corpus's message ``name``, answering ``enrollment_id`` (its Message-IDs) from or
    about ``email`` (its contact's address)."""
    raw = (CORPUS / name).read_bytes()
    raw = raw.replace(f"seqgql.{CORPUS_ENROLLMENT}.".encode(), f"seqgql.{enrollment_id}.".encode())
    return re.sub(re.escape(CORPUS_CONTACT).encode(), email.encode(), raw, flags=re.IGNORECASE)


async def enrolled_contact(
    db: Database, clock: Clock, actor: Actor, *, email: str = CORPUS_CONTACT, **sequence: Any
) -> tuple[int, int]:
    """A new sequence (``sequence``: create_sequence's options) with one contact
    (``email``) enrolled: (sequence id, enrollment id)."""
    created = await create_sequence(db, clock, actor, name="Inbound", step_specs=STEPS, **sequence)
    assert created.sequence_id is not None, created.errors
    sequence_id = created.sequence_id
    [contact_id] = await make_contacts(db, clock, actor, 1, prefix="Ada", email=email)
    result = await add_contacts(db, clock, actor, sequence_id, [contact_id])
    assert not result.errors, result.errors
    async with db.read() as conn:
        enrollment_id = (
            await conn.execute(
                sa.select(enrollments.c.id).where(enrollments.c.sequence_id == sequence_id)
            )
        ).scalar_one()
    return sequence_id, enrollment_id


async def post_email(
    http: httpx.AsyncClient, token: str | None, raw: bytes, *, basic: bool = False,
    content_type: str = "message/rfc822",
) -> httpx.Response:  # fmt: skip
    """POST ``raw`` to /hooks/inbound-email with ``token`` (as Bearer, or as Basic's
    password)."""
    headers = {"content-type": content_type}
    if token and basic:
        headers["authorization"] = "Basic " + base64.b64encode(f"inbound:{token}".encode()).decode()
    elif token:
        headers["authorization"] = f"Bearer {token}"
    return await http.post("/hooks/inbound-email", content=raw, headers=headers)


async def enrollment_view(gql: GraphQLClient, enrollment_id: int) -> dict[str, Any]:
    """The enrollment as GraphQL shows it: status, reason, resumeAt, contact, activities."""
    data = await gql.execute(ENROLLMENT, {"id": to_global_id("Enrollment", enrollment_id)})
    node: dict[str, Any] = data["node"]
    node["activities"] = [e["node"] for e in node["activities"]["edges"]]
    return node


async def status_events(
    db: Database, enrollment_id: int
) -> list[tuple[str | None, str, str | None]]:
    """The enrollment's status changes after its enrollment: (from, to, to reason)."""
    v = events.c
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(v.from_status, v.to_status, v.to_reason)
            .where(v.enrollment_id == enrollment_id, v.from_status.is_not(None))
            .order_by(v.number)
        )
        return [(r.from_status, r.to_status, r.to_reason) for r in rows]
