"""The Contacts-tab actions through GraphQL: selections, an enrollment read back through the
API, and the rows behind them read straight from the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from seqgql.graphql.relay import from_global_id
from seqgql.persistence.database import Database
from seqgql.persistence.tables import (
    activities,
    bulk_operations,
    contacts,
    enrollments,
    events,
    group_members,
    groups,
    idempotency_keys,
    sequences,
    steps,
)
from tests.helpers.factories import gid, gids
from tests.helpers.graphql_client import GraphQLClient, mutate

ENROLLMENT_FIELDS = """id status reason outcome currentStep resumeAt nextRunAt finishedAt enrolledAt
  movedTo { id }
  enrolledBy { email }
  contact { id optedOut }
  sequence { id name }
  activities(first: 100) { totalCount edges { node { kind step detail } } }"""

PAUSE = """
mutation($input: PauseEnrollmentsInput!) {
  pauseEnrollments(input: $input) {
    changedCount dryRun bulkOperationId
    skipped { reason count ids }
    userErrors { field code message }
  }
}"""

CREATE_CONTACTS = "contacts { id firstName phoneType optedOut } userErrors { field code message }"


async def node(gql: GraphQLClient, pk: int) -> dict[str, Any]:
    query = f"query($id: ID!) {{ node(id: $id) {{ ... on Enrollment {{ {ENROLLMENT_FIELDS} }} }} }}"
    data = await gql.execute(query, {"id": gid("Enrollment", pk)})
    assert data["node"] is not None
    return data["node"]  # type: ignore[no-any-return]


def moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def by_reason(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["reason"]: g for g in payload["skipped"]}


def ids_of(selection_ids: list[int]) -> dict[str, Any]:
    return {"ids": gids("Enrollment", selection_ids)}


async def states(db: Database, ids: list[int]) -> dict[int, tuple[str, str | None]]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.id, enrollments.c.status, enrollments.c.reason).where(
                enrollments.c.id.in_(ids)
            )
        )
        return {
            r.id: (str(r.status), str(r.reason) if r.reason is not None else None) for r in rows
        }


async def set_columns(db: Database, ids: list[int], **values: Any) -> None:
    """Put enrollments in a state directly (what the engine would have done)."""
    async with db.write() as conn:
        await conn.execute(enrollments.update().where(enrollments.c.id.in_(ids)).values(**values))


async def snapshot(db: Database, workspace_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the workspace owns, to compare before/after a call that must change nothing."""
    own_sequences = sa.select(sequences.c.id).where(sequences.c.workspace_id == workspace_id)
    own_groups = sa.select(groups.c.id).where(groups.c.workspace_id == workspace_id)
    queries = {
        "enrollments": sa.select(enrollments).where(enrollments.c.workspace_id == workspace_id),
        "events": sa.select(events).where(events.c.workspace_id == workspace_id),
        "activities": sa.select(activities).where(activities.c.workspace_id == workspace_id),
        "contacts": sa.select(contacts).where(contacts.c.workspace_id == workspace_id),
        "sequences": sa.select(sequences).where(sequences.c.workspace_id == workspace_id),
        "steps": sa.select(steps).where(steps.c.sequence_id.in_(own_sequences)),
        "groups": sa.select(groups).where(groups.c.workspace_id == workspace_id),
        "group_members": sa.select(group_members).where(group_members.c.group_id.in_(own_groups)),
        "bulk_operations": sa.select(bulk_operations).where(
            bulk_operations.c.workspace_id == workspace_id
        ),
        "idempotency_keys": sa.select(idempotency_keys).where(
            idempotency_keys.c.workspace_id == workspace_id
        ),
    }
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with db.read() as conn:
        for name, query in queries.items():
            rows = await conn.execute(query)
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


async def event_count(db: Database, workspace_id: int) -> int:
    """The workspace's status changes in the event log (its activities not counted)."""
    async with db.read() as conn:
        query = sa.select(sa.func.count()).where(
            events.c.workspace_id == workspace_id, events.c.to_status.is_not(None)
        )
        return int((await conn.execute(query)).scalar_one())


async def create_contacts(gql: GraphQLClient, specs: list[dict[str, Any]]) -> list[int]:
    """Contacts created through the API; returns their database ids."""
    payload = await mutate(gql, "createContacts", {"contacts": specs}, CREATE_CONTACTS)
    assert payload["userErrors"] == []
    return [from_global_id(c["id"], "Contact") for c in payload["contacts"]]


async def enrollment_of(db: Database, sequence_id: int, contact_id: int) -> int:
    async with db.read() as conn:
        query = sa.select(enrollments.c.id).where(
            enrollments.c.sequence_id == sequence_id, enrollments.c.contact_id == contact_id
        )
        return int((await conn.execute(query)).scalar_one())


def enroll_input(sequence_id: int, contact_ids: list[int], **extra: Any) -> dict[str, Any]:
    return {
        "sequenceId": gid("Sequence", sequence_id),
        "contactIds": gids("Contact", contact_ids),
        **extra,
    }
