"""Sequences through GraphQL: create, update (steps, sending window), clone, archive."""

from __future__ import annotations

from typing import Any

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from tests.helpers.bulk import by_reason, enroll_input, ids_of, snapshot
from tests.helpers.factories import gid, make_contacts, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

FIELDS = """id name archived replyWindowMinutes clonedFrom { id name }
  sendingWindow { days start end timeZone }
  steps { position channel waitMinutes subject body }"""
SEQUENCE = f"sequence {{ {FIELDS} }} userErrors {{ field code message }}"
GET = f"query($id: ID!) {{ sequence(id: $id) {{ {FIELDS} }} }}"

LIST = """query($arch: Boolean!) { sequences(first: 100, includeArchived: $arch) {
  totalCount edges { node { id name archived } } } }"""

STEPS = [
    {"channel": "EMAIL", "waitMinutes": 0, "subject": "Hello {{first_name}}", "body": "Intro"},
    {"channel": "SMS", "waitMinutes": 1440, "body": "Quick text"},
    {"channel": "EMAIL", "waitMinutes": 2880, "subject": "Last try", "body": "Bye"},
]
WINDOW = {
    "days": ["MONDAY", "TUESDAY"],
    "start": "09:00",
    "end": "17:30",
    "timeZone": "Europe/Paris",
}


async def create(gql: GraphQLClient, **input: Any) -> dict[str, Any]:
    payload = await mutate(gql, "createSequence", {"name": "Q1", "steps": STEPS, **input}, SEQUENCE)
    assert payload["userErrors"] == []
    return payload["sequence"]  # type: ignore[no-any-return]


async def fetch(gql: GraphQLClient, id: str) -> dict[str, Any]:
    data = await gql.execute(GET, {"id": id})
    return data["sequence"]  # type: ignore[no-any-return]


def expected_steps(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"position": i, "subject": None, **spec} for i, spec in enumerate(specs, start=1)]


async def test_create_sequence(gql: GraphQLClient) -> None:
    created = await create(gql, sendingWindow=WINDOW)
    assert created["name"] == "Q1"
    assert created["archived"] is False and created["clonedFrom"] is None
    assert created["replyWindowMinutes"] == 4320  # 3 days by default
    assert created["steps"] == expected_steps(STEPS)
    assert created["sendingWindow"] == WINDOW
    assert await fetch(gql, created["id"]) == created
    no_window = await create(gql, name="Anytime", replyWindowMinutes=60)
    assert no_window["sendingWindow"] is None and no_window["replyWindowMinutes"] == 60


async def test_update_replaces_steps_in_order(gql: GraphQLClient) -> None:
    created = await create(gql)
    new_steps = [STEPS[2], {"channel": "SMS", "waitMinutes": 30, "body": "New text"}]
    payload = await mutate(
        gql, "updateSequence",
        {"sequenceId": created["id"], "name": "Q1 revised", "steps": new_steps}, SEQUENCE,
    )  # fmt: skip
    assert payload["userErrors"] == []
    got = await fetch(gql, created["id"])
    assert got["name"] == "Q1 revised"
    assert got["steps"] == expected_steps(new_steps)

    # only what is given changes
    payload = await mutate(gql, "updateSequence", {"sequenceId": created["id"]}, SEQUENCE)
    assert payload["userErrors"] == []
    assert await fetch(gql, created["id"]) == got


async def test_update_sets_and_clears_the_sending_window(gql: GraphQLClient) -> None:
    created = await create(gql)
    assert created["sendingWindow"] is None
    await mutate(
        gql, "updateSequence", {"sequenceId": created["id"], "sendingWindow": WINDOW}, SEQUENCE
    )
    assert (await fetch(gql, created["id"]))["sendingWindow"] == WINDOW
    await mutate(gql, "updateSequence", {"sequenceId": created["id"], "name": "Renamed"}, SEQUENCE)
    assert (await fetch(gql, created["id"]))["sendingWindow"] == WINDOW  # not given: kept
    await mutate(
        gql, "updateSequence", {"sequenceId": created["id"], "sendingWindow": None}, SEQUENCE
    )
    got = await fetch(gql, created["id"])
    assert got["sendingWindow"] is None
    assert got["steps"] == expected_steps(STEPS)


async def test_clone_copies_steps_and_remembers_its_origin(gql: GraphQLClient) -> None:
    original = await create(gql, sendingWindow=WINDOW)
    payload = await mutate(
        gql, "cloneSequence", {"sequenceId": original["id"], "name": "Q1 again"}, SEQUENCE
    )
    assert payload["userErrors"] == []
    clone = payload["sequence"]
    assert clone["id"] != original["id"]
    assert clone["name"] == "Q1 again"
    assert clone["clonedFrom"] == {"id": original["id"], "name": "Q1"}
    assert clone["steps"] == original["steps"]
    assert clone["sendingWindow"] == WINDOW
    default = await mutate(gql, "cloneSequence", {"sequenceId": original["id"]}, SEQUENCE)
    assert default["sequence"]["name"] == "Q1 (copy)"

    # the clone is independent of its original
    await mutate(gql, "updateSequence", {"sequenceId": clone["id"], "steps": STEPS[:1]}, SEQUENCE)
    assert len((await fetch(gql, clone["id"]))["steps"]) == 1
    assert (await fetch(gql, original["id"]))["steps"] == expected_steps(STEPS)


async def test_clone_does_not_copy_enrollments(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 3)
    payload = await mutate(gql, "cloneSequence", {"sequenceId": gid("Sequence", seq)}, SEQUENCE)
    listing = """query($seq: ID!) { enrollments(sequenceId: $seq) { totalCount } }"""
    data = await gql.execute(listing, {"seq": payload["sequence"]["id"]})
    assert data["enrollments"]["totalCount"] == 0


async def test_archive_hides_the_sequence_and_refuses_enrollment(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    kept = await create(gql, name="Kept")
    seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
    archived_id = gid("Sequence", seq)
    payload = await mutate(gql, "archiveSequence", {"sequenceId": archived_id}, SEQUENCE)
    assert payload["userErrors"] == [] and payload["sequence"]["archived"] is True

    shown = await gql.execute(LIST, {"arch": False})
    assert [e["node"]["id"] for e in shown["sequences"]["edges"]] == [kept["id"]]
    assert shown["sequences"]["totalCount"] == 1
    everything = await gql.execute(LIST, {"arch": True})
    assert {e["node"]["id"] for e in everything["sequences"]["edges"]} == {
        kept["id"], archived_id,
    }  # fmt: skip
    assert (await fetch(gql, archived_id))["archived"] is True  # still readable by id

    newcomer = await make_contacts(db, clock, workspace.actor, 1, prefix="Late")
    before = await snapshot(db, workspace.actor.workspace_id)
    refused = await mutate(gql, "addContactsToSequence", enroll_input(seq, newcomer))
    assert refused["changedCount"] == 0
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "sequenceId"], "ARCHIVED")
    ]
    restart = await mutate(
        gql, "restartEnrollments",
        {"selection": ids_of(ids), "targetSequenceId": archived_id},
        "changedCount userErrors { field code }",
    )  # fmt: skip
    assert [(e["field"], e["code"]) for e in restart["userErrors"]] == [
        (["input", "targetSequenceId"], "ARCHIVED")
    ]
    assert await snapshot(db, workspace.actor.workspace_id) == before

    # restoring it makes it usable again
    await mutate(gql, "archiveSequence", {"sequenceId": archived_id, "archived": False}, SEQUENCE)
    accepted = await mutate(gql, "addContactsToSequence", enroll_input(seq, newcomer))
    assert accepted["changedCount"] == 1 and by_reason(accepted) == {}
