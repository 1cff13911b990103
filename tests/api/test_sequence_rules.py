"""A sequence's rules (issue 12, point 7, first part): set on create, changed by
updateSequence, copied by cloneSequence; finish on reply (default on) and the
out-of-office default absence applied to delivery reports."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from seqgql.clock import FrozenClock
from seqgql.graphql.relay import parse_global_id
from seqgql.persistence.database import Database
from tests.helpers.bulk import moment, node, snapshot
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace

SEQUENCE = (
    "sequence { id rules { finishOnReply outOfOfficeDefaultDays } } userErrors { field code }"
)
STEPS = [{"channel": "EMAIL", "waitMinutes": 60, "subject": "Hi", "body": "Hello"}]
REPORT = "enrollment { status reason resumeAt } statusChanged userErrors { field code }"


async def create(gql: GraphQLClient, **extra: Any) -> dict[str, Any]:
    return await mutate(gql, "createSequence", {"name": "Rules", "steps": STEPS, **extra}, SEQUENCE)


async def test_rules_are_set_changed_and_copied(gql: GraphQLClient) -> None:
    plain = await create(gql)
    assert plain["sequence"]["rules"] == {"finishOnReply": True, "outOfOfficeDefaultDays": None}
    made = await create(gql, rules={"finishOnReply": False, "outOfOfficeDefaultDays": 5})
    rules = made["sequence"]["rules"]
    assert rules == {"finishOnReply": False, "outOfOfficeDefaultDays": 5}
    seq = made["sequence"]["id"]
    changed = await mutate(
        gql, "updateSequence", {"sequenceId": seq, "rules": {"outOfOfficeDefaultDays": 10}},
        SEQUENCE,
    )  # fmt: skip
    # rules are replaced whole: a field left out takes its default
    assert changed["sequence"]["rules"] == {"finishOnReply": True, "outOfOfficeDefaultDays": 10}
    untouched = await mutate(gql, "updateSequence", {"sequenceId": seq, "name": "R2"}, SEQUENCE)
    assert untouched["sequence"]["rules"] == changed["sequence"]["rules"]
    clone = await mutate(gql, "cloneSequence", {"sequenceId": seq}, SEQUENCE)
    assert clone["sequence"]["rules"] == changed["sequence"]["rules"]


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"outOfOfficeDefaultDays": 0}, "outOfOfficeDefaultDays"),
        ({"outOfOfficeDefaultDays": 366}, "outOfOfficeDefaultDays"),
        ({"outOfOfficeDefaultDays": -(2**31)}, "outOfOfficeDefaultDays"),
        ({"maxMessagesPerContactPerDay": 0}, "maxMessagesPerContactPerDay"),
        ({"maxMessagesPerContactPerDay": 101}, "maxMessagesPerContactPerDay"),
    ],
)
async def test_a_rule_out_of_range_is_refused(
    gql: GraphQLClient, db: Database, workspace: Workspace, rules: dict[str, int], field: str
) -> None:
    before = await snapshot(db, workspace.actor.workspace_id)
    refused = await create(gql, rules=rules)
    assert refused["userErrors"] == [{"field": ["input", "rules", field], "code": "OUT_OF_RANGE"}]
    assert await snapshot(db, workspace.actor.workspace_id) == before


async def enrolled_in(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace, **rules: Any
) -> int:
    made = await create(gql, rules=rules)
    seq = parse_global_id(made["sequence"]["id"])[1]
    _, (pk,) = await make_enrolled(db, clock, workspace.actor, 1, sequence_id=seq)
    return pk


async def test_a_reply_does_not_finish_when_the_rule_is_off(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    pk = await enrolled_in(gql, db, clock, workspace, finishOnReply=False)
    report = {"enrollmentId": gid("Enrollment", pk), "kind": "REPLIED"}
    payload = await mutate(gql, "recordDeliveryEvent", report, REPORT)
    assert payload["statusChanged"] is False and payload["userErrors"] == []
    got = await node(gql, pk)
    assert got["status"] == "ACTIVE"
    assert [a["node"]["kind"] for a in got["activities"]["edges"]] == ["REPLIED"]


async def test_an_absence_without_a_return_date_lasts_the_default_days(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    pk = await enrolled_in(gql, db, clock, workspace, outOfOfficeDefaultDays=3)
    report = {"enrollmentId": gid("Enrollment", pk), "kind": "OUT_OF_OFFICE"}
    payload = await mutate(gql, "recordDeliveryEvent", report, REPORT)
    assert (payload["enrollment"]["status"], payload["enrollment"]["reason"]) == (
        "PAUSED", "OUT_OF_OFFICE",
    )  # fmt: skip
    back = datetime.combine(clock.now().date() + timedelta(days=3), time.min, UTC)
    assert moment(payload["enrollment"]["resumeAt"]) == back  # the contact has no zone: UTC


COMPANY = "query($seq: ID!) { enrollments(sequenceId: $seq, first: 10, orderBy: {field: CONTACT_NAME, direction: ASC}) { edges { node { id status reason outcome contact { firstName } } } } }"  # noqa: E501
CHANGES = "query($id: ID!) { bulkOperation(id: $id) { events { edges { node { toStatus reason rule enrollment { contact { firstName } } } } } } }"  # noqa: E501


async def test_a_reply_finishes_the_companys_other_contacts_when_the_rule_says_so(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    made = await create(gql, rules={"finishCompanyOnReply": True})
    seq = made["sequence"]["id"]
    people = [
        {"firstName": "Ann", "email": "ann@acme-widgets.com"},
        {"firstName": "Bob", "email": "BOB@Acme-Widgets.com"},
        {"firstName": "Cid", "email": "cid@other-widgets.com"},
        {"firstName": "Dee", "email": "dee@gmail.com"},
        {"firstName": "Eve", "email": "eve@gmail.com"},
    ]
    created = await mutate(
        gql, "createContacts", {"contacts": people}, "contacts { id } userErrors { code }"
    )
    assert created["userErrors"] == [], created
    ids = [c["id"] for c in created["contacts"]]
    added = await mutate(
        gql, "addContactsToSequence", {"sequenceId": seq, "contactIds": ids}, "changedCount"
    )
    assert added["changedCount"] == 5
    rows = {
        e["node"]["contact"]["firstName"]: e["node"]
        for e in (await gql.execute(COMPANY, {"seq": seq}))["enrollments"]["edges"]
    }
    for replier in ("Ann", "Dee"):
        report = {"enrollmentId": rows[replier]["id"], "kind": "REPLIED"}
        done = await mutate(
            gql, "recordDeliveryEvent", report,
            "statusChanged userErrors { code } enrollment { id }",
        )  # fmt: skip
        assert done["statusChanged"] is True
    after = {
        e["node"]["contact"]["firstName"]: e["node"]
        for e in (await gql.execute(COMPANY, {"seq": seq}))["enrollments"]["edges"]
    }
    shown = {n: (r["status"], r["reason"], r["outcome"]) for n, r in after.items()}
    assert shown == {
        "Ann": ("FINISHED", "REPLIED", "RESPONDED"),
        "Bob": ("FINISHED", "COMPANY_REPLIED", "STOPPED"),  # the same domain, any case
        "Cid": ("ACTIVE", None, None),  # another company
        "Dee": ("FINISHED", "REPLIED", "RESPONDED"),
        "Eve": ("ACTIVE", None, None),  # gmail.com names no company
    }


async def test_the_active_elsewhere_rule_decides_when_the_call_does_not(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    busy_pk = await enrolled_in(gql, db, clock, workspace)  # ACTIVE in a first sequence
    contact = (await node(gql, busy_pk))["contact"]["id"]
    here = (await create(gql, rules={"activeElsewhere": "SKIP"}))["sequence"]["id"]
    fields = "changedCount skipped { reason ids rule } bulkOperationId userErrors { code }"
    skipped = await mutate(
        gql, "addContactsToSequence", {"sequenceId": here, "contactIds": [contact]}, fields
    )
    assert skipped["changedCount"] == 0
    assert skipped["skipped"] == [
        {"reason": "ACTIVE_IN_OTHER_SEQUENCE", "ids": [contact], "rule": "activeElsewhere"}
    ]
    # the call says otherwise: it wins, and nothing is the rule's doing
    moved = await mutate(
        gql, "addContactsToSequence",
        {"sequenceId": here, "contactIds": [contact], "ifActiveElsewhere": "MOVE"}, fields,
    )  # fmt: skip
    assert moved["changedCount"] == 1 and moved["skipped"] == []
    events = (await gql.execute(CHANGES, {"id": moved["bulkOperationId"]}))["bulkOperation"]
    assert {(e["node"]["toStatus"], e["node"]["rule"]) for e in events["events"]["edges"]} == {
        ("ACTIVE", None), ("REMOVED", None),
    }  # fmt: skip


LIMITS = "sequence { dailyLimitPerSender rules { dailyLimitPerSender } } userErrors { field code }"


async def test_the_per_sender_daily_limit_is_one_of_the_rules(
    gql: GraphQLClient, db: Database, workspace: Workspace
) -> None:
    name = {"name": "Limited", "steps": STEPS}
    made = await mutate(
        gql, "createSequence", {**name, "rules": {"dailyLimitPerSender": 30}}, LIMITS
    )
    assert made == {
        "sequence": {"dailyLimitPerSender": 30, "rules": {"dailyLimitPerSender": 30}},
        "userErrors": [],
    }
    seq = (await mutate(gql, "createSequence", name, "sequence { id }"))["sequence"]["id"]

    async def update(**fields: Any) -> dict[str, Any]:
        return await mutate(gql, "updateSequence", {"sequenceId": seq, **fields}, LIMITS)

    assert (await update(rules={"dailyLimitPerSender": 5}))["sequence"]["dailyLimitPerSender"] == 5
    # rules without the limit leave it as it is; the sequence's own field changes it too
    assert (await update(rules={"finishOnReply": False}))["sequence"]["rules"] == {
        "dailyLimitPerSender": 5
    }
    assert (await update(dailyLimitPerSender=7))["sequence"]["rules"] == {"dailyLimitPerSender": 7}
    assert (await update(rules={"dailyLimitPerSender": None}))["sequence"] == {
        "dailyLimitPerSender": None, "rules": {"dailyLimitPerSender": None},
    }  # fmt: skip
    same = await update(dailyLimitPerSender=9, rules={"dailyLimitPerSender": 9})
    assert same["sequence"]["dailyLimitPerSender"] == 9
    before = await snapshot(db, workspace.actor.workspace_id)
    for fields, code in [
        ({"dailyLimitPerSender": 9, "rules": {"dailyLimitPerSender": 10}}, "INVALID"),
        ({"rules": {"dailyLimitPerSender": 0}}, "OUT_OF_RANGE"),
        ({"rules": {"dailyLimitPerSender": 10**6}}, "OUT_OF_RANGE"),
    ]:
        refused = await update(**fields)
        assert refused["userErrors"] == [
            {"field": ["input", "rules", "dailyLimitPerSender"], "code": code}
        ]
        assert refused["sequence"] is None
    assert await snapshot(db, workspace.actor.workspace_id) == before
