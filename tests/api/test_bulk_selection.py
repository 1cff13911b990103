"""What every bulk action shares: selections (ids, "all that match", excludeIds),
skipped groups, dryRun and idempotency keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.selection import Selection
from seqgql.domain.status import FinishReason
from seqgql.outbound.transport import RecordingTransport
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments
from seqgql.services.enrollments import finish, pause, remove
from tests.helpers.bulk import (
    by_reason,
    enroll_input,
    event_count,
    ids_of,
    set_columns,
    snapshot,
    states,
)
from tests.helpers.clocks import START
from tests.helpers.factories import gid, gids, make_contacts, make_enrolled, make_sequence
from tests.helpers.graphql_client import BULK, GraphQLClient, mutate
from tests.helpers.workspace import Workspace

# ---------------------------------------------------------------- selections


async def test_all_that_match_a_filter(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 6)
    await mutate(gql, "pauseEnrollments", {"selection": ids_of(ids[:2])})
    await mutate(gql, "removeEnrollments", {"selection": ids_of(ids[5:])})
    selection = {"sequenceId": gid("Sequence", seq), "filter": {"statuses": ["PAUSED"]}}
    payload = await mutate(gql, "finishEnrollments", {"selection": selection, "reason": "OTHER"})
    assert payload["changedCount"] == 2 and payload["skipped"] == []
    assert {pk for pk, s in (await states(db, ids)).items() if s[0] == "FINISHED"} == set(ids[:2])

    # without a status filter removed enrollments are not selected (nor reported as skipped)
    payload = await mutate(
        gql, "pauseEnrollments", {"selection": {"sequenceId": gid("Sequence", seq)}}
    )
    assert payload["changedCount"] == 3
    assert [(g["reason"], g["count"]) for g in payload["skipped"]] == [("INVALID_TRANSITION", 2)]
    assert (await states(db, ids[5:]))[ids[5]] == ("REMOVED", None)


async def test_filter_selection_by_search_only_touches_matches(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq = await make_sequence(db, clock, workspace.actor)
    _, alphas = await make_enrolled(db, clock, workspace.actor, 3, sequence_id=seq)
    people = await make_contacts(db, clock, workspace.actor, 2, prefix="Zed")
    await mutate(gql, "addContactsToSequence", enroll_input(seq, people))
    selection = {"sequenceId": gid("Sequence", seq), "filter": {"search": "zed"}}
    payload = await mutate(gql, "pauseEnrollments", {"selection": selection})
    assert payload["changedCount"] == 2
    assert set((await states(db, alphas)).values()) == {("ACTIVE", None)}


async def test_exclude_ids(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 5)
    everyone_but = {"sequenceId": gid("Sequence", seq), "excludeIds": gids("Enrollment", ids[:2])}
    payload = await mutate(gql, "pauseEnrollments", {"selection": everyone_but})
    assert payload["changedCount"] == 3
    only_first = {**ids_of(ids), "excludeIds": gids("Enrollment", ids[1:])}
    payload = await mutate(gql, "finishEnrollments", {"selection": only_first, "reason": "OTHER"})
    assert payload["changedCount"] == 1
    assert await states(db, ids) == {
        ids[0]: ("FINISHED", "OTHER"),
        ids[1]: ("ACTIVE", None),
        **dict.fromkeys(ids[2:], ("PAUSED", "MANUAL")),
    }


async def test_a_filter_beside_ids_is_refused_not_ignored(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    """`ids` select exactly those enrollments: a filter there would be silently ignored,
    so it is refused, naming it, and nothing changes."""
    _, ids = await make_enrolled(db, clock, workspace.actor, 2)
    selection = {**ids_of(ids), "filter": {"statuses": ["PAUSED"]}}
    payload = await mutate(gql, "pauseEnrollments", {"selection": selection})
    assert payload["changedCount"] == 0
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "selection", "filter"], "INVALID_SELECTION")
    ]
    assert await states(db, ids) == dict.fromkeys(ids, ("ACTIVE", None))
    # an empty filter says nothing: the ids alone
    empty = {**ids_of(ids), "filter": {}}
    assert (await mutate(gql, "pauseEnrollments", {"selection": empty}))["changedCount"] == 2


async def test_filter_selection_has_no_1000_limit(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ids = await make_enrolled(db, clock, workspace.actor, 1000)
    await make_enrolled(db, clock, workspace.actor, 150, sequence_id=seq, prefix="More")
    payload = await mutate(
        gql, "pauseEnrollments", {"selection": {"sequenceId": gid("Sequence", seq)}}
    )
    assert payload["userErrors"] == []
    assert payload["changedCount"] == 1150
    listing = """query($seq: ID!) { enrollments(sequenceId: $seq, first: 1) {
      statusCounts { status count } } }"""
    counts = await gql.execute(listing, {"seq": gid("Sequence", seq)})
    assert {"status": "PAUSED", "count": 1150} in counts["enrollments"]["statusCounts"]


async def test_skipped_grouped_by_reason_with_at_most_100_ids(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 130)
    actor = workspace.actor
    await pause(db, clock, actor, Selection(ids=tuple(ids[:120])))
    await finish(db, clock, actor, Selection(ids=tuple(ids[120:125])), reason=FinishReason.OTHER)
    payload = await mutate(
        gql, "pauseEnrollments", {"selection": {"sequenceId": gid("Sequence", seq)}}
    )
    assert payload["changedCount"] == 5
    groups = by_reason(payload)
    assert set(groups) == {"ALREADY_IN_STATUS", "INVALID_TRANSITION"}
    assert groups["ALREADY_IN_STATUS"]["count"] == 120
    assert groups["ALREADY_IN_STATUS"]["ids"] == gids("Enrollment", ids[:100])
    assert groups["INVALID_TRANSITION"]["count"] == 5
    assert groups["INVALID_TRANSITION"]["ids"] == gids("Enrollment", ids[120:125])
    assert all(g["message"] for g in payload["skipped"])


# ---------------------------------------------------------------- dry runs


async def mixed_board(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> tuple[int, list[int], list[int], str]:
    """A sequence with ACTIVE x2, PAUSED, FINISHED, REMOVED, BOUNCED; a group holding the
    first contact. Returns (sequence, enrollment ids, their contact ids + a new one, group)."""
    seq, ids = await make_enrolled(db, clock, workspace.actor, 6)
    actor = workspace.actor
    await pause(db, clock, actor, Selection(ids=(ids[2],)))
    await finish(db, clock, actor, Selection(ids=(ids[3],)), reason=FinishReason.OTHER)
    await remove(db, clock, actor, Selection(ids=(ids[4],)))
    await set_columns(db, [ids[5]], status="BOUNCED", reason=None)
    await set_columns(db, [ids[3]], last_sent_step=3)
    group = await mutate(gql, "createGroup", {"name": "VIPs"}, "group { id }")
    group_id = group["group"]["id"]
    await mutate(gql, "addEnrollmentsToGroup", {"selection": ids_of(ids[:1]), "groupId": group_id})
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.contact_id)
            .where(enrollments.c.id.in_(ids))
            .order_by(enrollments.c.id)
        )
        contact_ids = [r.contact_id for r in rows]
    contact_ids += await make_contacts(db, clock, workspace.actor, 1, prefix="Fresh")
    return seq, ids, contact_ids, group_id


LATER = (START + timedelta(days=5)).isoformat()
DRY_RUN_CASES: dict[str, tuple[str, str, Any]] = {
    # name: (mutation, payload fields, input builder(seq, ids, contacts, group))
    "pause": ("pauseEnrollments", BULK, lambda s, i, c, g: {"selection": ids_of(i)}),
    "pause-until": (
        "pauseEnrollments", BULK, lambda s, i, c, g: {"selection": ids_of(i), "resumeAt": LATER},
    ),
    "resume": ("resumeEnrollments", BULK, lambda s, i, c, g: {"selection": ids_of(i)}),
    "resume-at": (
        "resumeEnrollments", BULK, lambda s, i, c, g: {"selection": ids_of(i), "resumeAt": LATER},
    ),
    "finish": (
        "finishEnrollments", BULK, lambda s, i, c, g: {"selection": ids_of(i), "reason": "OTHER"},
    ),
    "remove": ("removeEnrollments", BULK, lambda s, i, c, g: {"selection": ids_of(i)}),
    "restart": (
        "restartEnrollments", f"sequence {{ id }} {BULK}",
        lambda s, i, c, g: {"selection": ids_of(i), "newSequenceName": "Again"},
    ),
    "group": (
        "addEnrollmentsToGroup", BULK, lambda s, i, c, g: {"selection": ids_of(i), "groupId": g},
    ),
    "enroll": ("addContactsToSequence", BULK, lambda s, i, c, g: enroll_input(s, c)),
    "filter": (
        "finishEnrollments", BULK,
        lambda s, i, c, g: {
            "selection": {"sequenceId": gid("Sequence", s), "filter": {"includeRemoved": True}},
            "reason": "UNSUBSCRIBED",
        },
    ),
    "send": (
        "sendMessage", "sentCount dryRun skipped { reason count ids } userErrors { code }",
        lambda s, i, c, g: {"selection": ids_of(i), "body": "Ping"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(DRY_RUN_CASES))
async def test_dry_run_reports_exactly_what_the_real_call_does(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock,
    transport: RecordingTransport, case: str,
) -> None:  # fmt: skip
    name, fields, build = DRY_RUN_CASES[case]
    seq, ids, contact_ids, group = await mixed_board(gql, db, clock, workspace)
    if case == "resume-at":
        await pause(db, clock, workspace.actor, Selection(ids=(ids[0],)))
    input = build(seq, ids, contact_ids, group)
    ws = workspace.actor.workspace_id
    before = await snapshot(db, ws)

    dry = await mutate(gql, name, {**input, "dryRun": True}, fields)
    assert dry["dryRun"] is True
    assert await snapshot(db, ws) == before
    assert transport.sent == []
    again = await mutate(gql, name, {**input, "dryRun": True}, fields)
    assert again == dry

    real = await mutate(gql, name, input, fields)
    assert real["dryRun"] is False
    count = "sentCount" if name == "sendMessage" else "changedCount"
    assert real[count] == dry[count] > 0
    assert real["skipped"] == dry["skipped"]
    assert real["userErrors"] == dry["userErrors"] == []
    if "bulkOperationId" in real:
        assert dry["bulkOperationId"] is None and real["bulkOperationId"] is not None
    if name == "restartEnrollments":
        assert dry["sequence"] is None and real["sequence"] is not None
    assert await snapshot(db, ws) != before


# ---------------------------------------------------------------- idempotency keys


async def test_same_key_returns_the_first_result_and_changes_nothing_more(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 4)
    await mutate(gql, "finishEnrollments", {"selection": ids_of(ids[3:]), "reason": "OTHER"})
    ws = workspace.actor.workspace_id
    call = {"selection": ids_of(ids), "idempotencyKey": "pause-4711"}
    first = await mutate(gql, "pauseEnrollments", call)
    assert first["changedCount"] == 3 and first["bulkOperationId"] is not None
    after_first = await snapshot(db, ws)

    retry = await mutate(gql, "pauseEnrollments", call)
    assert retry == first
    assert await snapshot(db, ws) == after_first

    # someone resumes them; the retried pause must not pause them again
    await mutate(gql, "resumeEnrollments", {"selection": ids_of(ids[:3])})
    events_now = await event_count(db, ws)
    late_retry = await mutate(gql, "pauseEnrollments", call)
    assert late_retry == first
    assert await event_count(db, ws) == events_now
    assert set((await states(db, ids[:3])).values()) == {("ACTIVE", None)}


async def test_same_key_with_a_different_input_is_refused(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 3)
    ws = workspace.actor.workspace_id
    await mutate(gql, "pauseEnrollments", {"selection": ids_of(ids[:1]), "idempotencyKey": "k"})
    before = await snapshot(db, ws)
    for name, input in (
        ("pauseEnrollments", {"selection": ids_of(ids[1:])}),
        ("pauseEnrollments", {"selection": ids_of(ids[:1]), "resumeAt": LATER}),
        ("removeEnrollments", {"selection": ids_of(ids[:1])}),
    ):
        payload = await mutate(gql, name, {**input, "idempotencyKey": "k"})
        assert payload["changedCount"] == 0
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["input", "idempotencyKey"], "IDEMPOTENCY_KEY_REUSED")
        ]
    assert await snapshot(db, ws) == before


async def test_retried_enroll_send_and_delivery_do_nothing_twice(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock,
    transport: RecordingTransport,
) -> None:  # fmt: skip
    seq = await make_sequence(db, clock, workspace.actor)
    people = await make_contacts(db, clock, workspace.actor, 2)
    ws = workspace.actor.workspace_id
    enroll = enroll_input(seq, people, idempotencyKey="enroll-1")
    first = await mutate(gql, "addContactsToSequence", enroll)
    assert first["changedCount"] == 2
    retry = await mutate(gql, "addContactsToSequence", enroll)
    assert retry == first  # not "2 already enrolled"

    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.id).where(enrollments.c.sequence_id == seq)
        )
        ids = sorted(r.id for r in rows)
    send = {"selection": ids_of(ids), "body": "Hello!", "idempotencyKey": "send-1"}
    fields = "sentCount userErrors { code }"
    assert (await mutate(gql, "sendMessage", send, fields))["sentCount"] == 2
    snap = await snapshot(db, ws)
    assert (await mutate(gql, "sendMessage", send, fields))["sentCount"] == 2
    assert len(transport.sent) == 2
    assert await snapshot(db, ws) == snap

    report = {"enrollmentId": gid("Enrollment", ids[0]), "kind": "OPENED", "idempotencyKey": "d1"}
    await mutate(gql, "recordDeliveryEvent", report, "userErrors { code }")
    snap = await snapshot(db, ws)
    await mutate(gql, "recordDeliveryEvent", report, "userErrors { code }")
    assert await snapshot(db, ws) == snap


async def test_dry_runs_and_failed_calls_do_not_use_up_a_key(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 2)
    call = {"selection": ids_of(ids), "idempotencyKey": "later"}
    dry = await mutate(gql, "pauseEnrollments", {**call, "dryRun": True})
    assert dry["changedCount"] == 2
    past = (START - timedelta(days=1)).isoformat()
    failed = await mutate(gql, "pauseEnrollments", {**call, "resumeAt": past})
    assert [e["code"] for e in failed["userErrors"]] == ["IN_THE_PAST"]
    real = await mutate(gql, "pauseEnrollments", call)
    assert real["changedCount"] == 2 and real["dryRun"] is False
    assert set((await states(db, ids)).values()) == {("PAUSED", "MANUAL")}
