"""Restart contacts in a clone, and add the selected contacts to a group."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.selection import Selection
from seqgql.domain.status import FinishReason
from seqgql.graphql.relay import from_global_id
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments, sequences
from seqgql.services.enrollments import finish, remove
from tests.helpers.bulk import by_reason, ids_of, set_columns, snapshot, states
from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.graphql_client import BULK, GraphQLClient, mutate
from tests.helpers.workspace import Workspace

RESTART = (
    f"sequence {{ id name archived clonedFrom {{ id }} steps {{ position channel body }} }} {BULK}"
)

SEQUENCE_STEPS = """query($id: ID!) { sequence(id: $id) {
  name steps { position channel waitMinutes subject body } } }"""


async def enrollments_in(db: Database, sequence_id: int) -> dict[int, tuple[str, int | None]]:
    """contact id -> (status, current step) of every enrollment in the sequence."""
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(
                enrollments.c.contact_id, enrollments.c.status, enrollments.c.current_step
            ).where(enrollments.c.sequence_id == sequence_id)
        )
        return {r.contact_id: (str(r.status), r.current_step) for r in rows}


async def contacts_of(db: Database, ids: list[int]) -> list[int]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.contact_id)
            .where(enrollments.c.id.in_(ids))
            .order_by(enrollments.c.id)
        )
        return [r.contact_id for r in rows]


async def sequence_count(db: Database, workspace_id: int) -> int:
    async with db.read() as conn:
        query = sa.select(sa.func.count()).where(sequences.c.workspace_id == workspace_id)
        return int((await conn.execute(query)).scalar_one())


async def finish_and_remove(
    db: Database, clock: FrozenClock, workspace: Workspace, finished: list[int], removed: list[int]
) -> None:
    actor = workspace.actor
    await finish(
        db, clock, actor, Selection(ids=tuple(finished)), reason=FinishReason.NO_LONGER_NEEDED
    )
    await remove(db, clock, actor, Selection(ids=tuple(removed)))


async def test_restart_clones_the_sequence_and_enrolls_at_step_one(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 4)
    await set_columns(db, ids, last_sent_step=3)  # everything was sent already
    await finish_and_remove(db, clock, workspace, finished=ids[:2], removed=ids[2:3])
    payload = await mutate(
        gql, "restartEnrollments",
        {"selection": ids_of(ids), "newSequenceName": "Outbound, take two"}, RESTART,
    )  # fmt: skip
    assert payload["userErrors"] == []
    assert payload["changedCount"] == 3
    assert by_reason(payload)["INVALID_TRANSITION"]["ids"] == gids("Enrollment", [ids[3]])
    clone = payload["sequence"]
    assert clone["name"] == "Outbound, take two"
    assert clone["clonedFrom"] == {"id": gid("Sequence", seq)}
    assert clone["id"] != gid("Sequence", seq)
    original = await gql.execute(SEQUENCE_STEPS, {"id": gid("Sequence", seq)})
    copied = await gql.execute(SEQUENCE_STEPS, {"id": clone["id"]})
    assert copied["sequence"]["steps"] == original["sequence"]["steps"]
    assert len(copied["sequence"]["steps"]) == 3

    clone_id = from_global_id(clone["id"], "Sequence")
    contact_ids = await contacts_of(db, ids)
    assert await enrollments_in(db, clone_id) == dict.fromkeys(contact_ids[:3], ("ACTIVE", 1))
    # the originals keep their status and history
    assert await states(db, ids) == {
        ids[0]: ("FINISHED", "NO_LONGER_NEEDED"),
        ids[1]: ("FINISHED", "NO_LONGER_NEEDED"),
        ids[2]: ("REMOVED", None),
        ids[3]: ("ACTIVE", None),
    }


async def test_restart_default_clone_name(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 1)
    await finish_and_remove(db, clock, workspace, finished=ids, removed=[])
    payload = await mutate(gql, "restartEnrollments", {"selection": ids_of(ids)}, RESTART)
    assert payload["changedCount"] == 1
    assert payload["sequence"]["name"] == "Outbound (copy)"
    assert payload["sequence"]["archived"] is False


async def test_restart_into_an_existing_target_sequence(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 3)
    await finish_and_remove(db, clock, workspace, finished=ids[:1], removed=ids[1:2])
    cloned = await mutate(
        gql, "cloneSequence", {"sequenceId": gid("Sequence", seq), "name": "Second round"},
        "sequence { id } userErrors { code }",
    )  # fmt: skip
    target = cloned["sequence"]["id"]
    count = await sequence_count(db, workspace.actor.workspace_id)
    payload = await mutate(
        gql, "restartEnrollments", {"selection": ids_of(ids), "targetSequenceId": target}, RESTART
    )
    assert payload["userErrors"] == []
    assert payload["changedCount"] == 2
    assert payload["sequence"]["id"] == target
    assert payload["sequence"]["name"] == "Second round"
    assert await sequence_count(db, workspace.actor.workspace_id) == count  # no new clone
    contact_ids = await contacts_of(db, ids)
    target_id = from_global_id(target, "Sequence")
    assert await enrollments_in(db, target_id) == dict.fromkeys(contact_ids[:2], ("ACTIVE", 1))

    # restarting them again into the same target: they are already enrolled there
    again = await mutate(
        gql, "restartEnrollments", {"selection": ids_of(ids[:2]), "targetSequenceId": target},
        RESTART,
    )  # fmt: skip
    assert again["changedCount"] == 0
    group = by_reason(again)["ALREADY_ENROLLED"]
    assert group["count"] == 2
    assert sorted(group["ids"]) == sorted(gids("Contact", contact_ids[:2]))


async def test_restart_of_several_sequences_needs_a_target(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, first = await make_enrolled(db, clock, workspace.actor, 1)
    _, second = await make_enrolled(db, clock, workspace.actor, 1)
    await finish_and_remove(db, clock, workspace, finished=first + second, removed=[])
    before = await snapshot(db, workspace.actor.workspace_id)
    payload = await mutate(
        gql, "restartEnrollments", {"selection": ids_of(first + second)}, RESTART
    )
    assert payload["sequence"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "selection"], "INVALID_SELECTION")
    ]
    assert await snapshot(db, workspace.actor.workspace_id) == before


# ---------------------------------------------------------------- groups

GROUP_CONTACTS = """query($id: ID!) { node(id: $id) { ... on Group {
  name contacts(first: 100) { totalCount edges { node { id } } } } } }"""


async def make_group(gql: GraphQLClient, name: str) -> str:
    payload = await mutate(
        gql, "createGroup", {"name": name}, "group { id name } userErrors { code }"
    )
    assert payload["userErrors"] == []
    return payload["group"]["id"]  # type: ignore[no-any-return]


async def group_members(gql: GraphQLClient, group: str) -> list[str]:
    data = await gql.execute(GROUP_CONTACTS, {"id": group})
    return sorted(e["node"]["id"] for e in data["node"]["contacts"]["edges"])


async def test_add_enrollments_to_group(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _seq, ids = await make_enrolled(db, clock, workspace.actor, 5)
    group = await make_group(gql, "Hot leads")
    contact_ids = await contacts_of(db, ids)
    payload = await mutate(
        gql, "addEnrollmentsToGroup", {"selection": ids_of(ids[:3]), "groupId": group}
    )
    assert payload["userErrors"] == []
    assert payload["changedCount"] == 3 and payload["skipped"] == []
    assert await group_members(gql, group) == sorted(gids("Contact", contact_ids[:3]))

    payload = await mutate(
        gql, "addEnrollmentsToGroup", {"selection": ids_of(ids[1:]), "groupId": group}
    )
    assert payload["changedCount"] == 2
    skipped = by_reason(payload)["ALREADY_IN_GROUP"]
    assert skipped["count"] == 2
    assert skipped["ids"] == gids("Enrollment", ids[1:3])
    assert await group_members(gql, group) == sorted(gids("Contact", contact_ids))
    # statuses are untouched
    assert set((await states(db, ids)).values()) == {("ACTIVE", None)}


async def test_group_then_act_on_all_that_match_the_group(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 6)
    group = await make_group(gql, "Nurture")
    await mutate(gql, "addEnrollmentsToGroup", {"selection": ids_of(ids[::2]), "groupId": group})
    selection: dict[str, Any] = {"sequenceId": gid("Sequence", seq), "filter": {"groupId": group}}
    payload = await mutate(gql, "pauseEnrollments", {"selection": selection})
    assert payload["changedCount"] == 3
    assert await states(db, ids) == {
        pk: ("PAUSED", "MANUAL") if i % 2 == 0 else ("ACTIVE", None) for i, pk in enumerate(ids)
    }
