"""The Contacts tab: `enrollments(sequenceId, filter)` through GraphQL, every filter,
with `totalCount` and the per-status `statusCounts` of the same filter."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import DeliveryEventKind, PhoneType
from seqgql.domain.selection import Selection
from seqgql.domain.status import FinishReason
from seqgql.persistence.database import Database
from seqgql.persistence.tables import enrollments
from seqgql.services.actor import Actor
from seqgql.services.auth import issue_token
from seqgql.services.contacts import ContactSpec, create_contacts
from seqgql.services.enrollments import add_contacts, finish, pause, record_delivery_event, remove
from tests.helpers.clocks import START
from tests.helpers.factories import ALL_STATUSES, gid, gids, make_sequence
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace, make_workspace

LIST = """
query($seq: ID!, $filter: EnrollmentFilter, $first: Int, $after: String) {
  enrollments(sequenceId: $seq, filter: $filter, first: $first, after: $after) {
    totalCount
    statusCounts { status count }
    pageInfo { hasNextPage endCursor }
    edges { node {
      id status reason currentStep enrolledAt
      enrolledBy { id email }
      contact { firstName lastName email }
    } }
  }
}"""


# The status board: one contact per row, by first name -> (status, reason, last name).
BOARD: dict[str, tuple[str, str | None, str]] = {
    "Ava": ("ACTIVE", None, "Smith"),
    "Ben": ("ACTIVE", None, "Jones"),
    "Cal": ("ACTIVE", None, "Jones"),
    "Dan": ("PAUSED", "MANUAL", "Smith"),
    "Eve": ("PAUSED", "MANUAL", "Jones"),
    "Fay": ("PAUSED", "OUT_OF_OFFICE", "Jones"),
    "Gus": ("FINISHED", "MEETING_BOOKED", "Smith"),
    "Hal": ("FINISHED", "MEETING_BOOKED", "Jones"),
    "Ivy": ("FINISHED", "REPLIED", "Jones"),
    "Jon": ("BOUNCED", None, "Smith"),
    "Kim": ("FAILED", None, "Jones"),
    "Lea": ("OPTED_OUT", None, "Jones"),
    "Max": ("OMITTED", "OPTED_OUT", "Jones"),
    "Ned": ("REMOVED", None, "Smith"),
    "Oli": ("REMOVED", None, "Jones"),
}


async def enroll_people(
    db: Database,
    clock: FrozenClock,
    actor: Actor,
    sequence_id: int,
    people: list[tuple[str, str | None, str | None]],
    *,
    opted_out: bool = False,
) -> dict[str, int]:
    """Create contacts (first, last, email) and enroll them; first name -> enrollment id."""
    specs = [
        ContactSpec(
            first_name=first,
            last_name=last,
            email=email,
            phone="+14155550100",
            phone_type=PhoneType.MOBILE,
            opted_out=opted_out,
        )
        for first, last, email in people
    ]
    created = await create_contacts(db, clock, actor, specs)
    assert not created.errors, created.errors
    result = await add_contacts(db, clock, actor, sequence_id, created.ids)
    assert not result.errors, result.errors
    assert result.changed_count == len(people)
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrollments.c.id, enrollments.c.contact_id).where(
                enrollments.c.sequence_id == sequence_id,
                enrollments.c.contact_id.in_(created.ids),
            )
        )
        by_contact = {r.contact_id: r.id for r in rows}
    return {p[0]: by_contact[cid] for p, cid in zip(people, created.ids, strict=True)}


def _sel(*ids: int) -> Selection:
    return Selection(ids=tuple(ids))


async def status_board(
    db: Database, clock: FrozenClock, ws: Workspace
) -> tuple[int, dict[str, int]]:
    """A sequence whose enrollments are in the states of BOARD (reached through services)."""
    actor = ws.actor
    seq = await make_sequence(db, clock, actor)
    people = [
        (first, last, f"{first.lower()}.{last.lower()}@example.com")
        for first, (status, _, last) in BOARD.items()
        if status != "OMITTED"
    ]
    ids = await enroll_people(db, clock, actor, seq, people)
    ids |= await enroll_people(
        db, clock, actor, seq, [("Max", "Jones", "max.jones@example.com")], opted_out=True
    )
    results = [
        await pause(db, clock, actor, _sel(ids["Dan"], ids["Eve"])),
        await finish(
            db, clock, actor, _sel(ids["Gus"], ids["Hal"]), reason=FinishReason.MEETING_BOOKED
        ),
        await remove(db, clock, actor, _sel(ids["Ned"], ids["Oli"])),
    ]
    for result in results:
        assert not result.errors and result.changed_count == 2, result
    for name, kind in (
        ("Fay", DeliveryEventKind.OUT_OF_OFFICE),
        ("Ivy", DeliveryEventKind.REPLIED),
        ("Jon", DeliveryEventKind.BOUNCED),
        ("Kim", DeliveryEventKind.FAILED),
        ("Lea", DeliveryEventKind.OPTED_OUT),
    ):
        outcome = await record_delivery_event(db, clock, actor, ids[name], kind)
        assert not outcome.errors and outcome.status_changed, (name, outcome)
    return seq, ids


async def listing(
    gql: GraphQLClient, seq: int, flt: dict[str, Any] | None = None, **variables: Any
) -> dict[str, Any]:
    data = await gql.execute(LIST, {"seq": gid("Sequence", seq), "filter": flt, **variables})
    return data["enrollments"]  # type: ignore[no-any-return]


def names(connection: dict[str, Any]) -> set[str]:
    found = [e["node"]["contact"]["firstName"] for e in connection["edges"]]
    assert len(found) == len(set(found)), f"a row was listed twice: {found}"
    return set(found)


def counts(connection: dict[str, Any]) -> dict[str, int]:
    listed = [c["status"] for c in connection["statusCounts"]]
    assert sorted(listed) == sorted(ALL_STATUSES), f"every status once: {listed}"
    return {c["status"]: c["count"] for c in connection["statusCounts"]}


def board(
    *, statuses: set[str] | None = None, reasons: set[str] | None = None, last: str | None = None
) -> set[str]:
    """Who on the board a filter should list (removed only when statuses name it)."""
    return {
        first
        for first, (status, reason, last_name) in BOARD.items()
        if ((statuses is None and status != "REMOVED") or (statuses and status in statuses))
        and (reasons is None or reason in reasons)
        and (last is None or last_name == last)
    }


def board_counts(**kw: Any) -> dict[str, int]:
    wanted = dict.fromkeys(ALL_STATUSES, 0)
    for first in board(statuses=set(ALL_STATUSES), **kw):
        wanted[BOARD[first][0]] += 1
    return wanted


async def walk_names(
    gql: GraphQLClient, seq: int, flt: dict[str, Any] | None, first: int
) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(50):
        page = await listing(gql, seq, flt, first=first, after=after)
        seen += [e["node"]["contact"]["firstName"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("pagination never ended")


async def test_status_filter_takes_several_statuses(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await status_board(db, clock, workspace)
    for statuses in (
        ["ACTIVE"],
        ["PAUSED", "BOUNCED"],
        ["FINISHED", "FAILED", "OPTED_OUT"],
        ["OMITTED"],
        ["NOT_SENT"],
    ):
        result = await listing(gql, seq, {"statuses": statuses})
        assert names(result) == board(statuses=set(statuses)), statuses
        assert result["totalCount"] == len(board(statuses=set(statuses)))
        for edge in result["edges"]:
            node = edge["node"]
            status, reason, _ = BOARD[node["contact"]["firstName"]]
            assert (node["status"], node["reason"]) == (status, reason)


async def test_removed_are_hidden_unless_asked_for(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await status_board(db, clock, workspace)
    default = await listing(gql, seq)
    assert names(default) == board()
    assert "Ned" not in names(default) and default["totalCount"] == 13
    assert {e["node"]["status"] for e in default["edges"]} == set(ALL_STATUSES) - {
        "REMOVED",
        "NOT_SENT",
    }

    everything = await listing(gql, seq, {"includeRemoved": True})
    assert names(everything) == set(BOARD) and everything["totalCount"] == 15

    removed = await listing(gql, seq, {"statuses": ["REMOVED"]})
    assert names(removed) == {"Ned", "Oli"} and removed["totalCount"] == 2
    mixed = await listing(gql, seq, {"statuses": ["ACTIVE", "REMOVED"]})
    assert names(mixed) == {"Ava", "Ben", "Cal", "Ned", "Oli"} and mixed["totalCount"] == 5
    # includeRemoved does not widen an explicit status list
    active = await listing(gql, seq, {"statuses": ["ACTIVE"], "includeRemoved": True})
    assert names(active) == {"Ava", "Ben", "Cal"} and active["totalCount"] == 3


async def test_reason_filter(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await status_board(db, clock, workspace)
    for reasons in (["MANUAL"], ["OUT_OF_OFFICE"], ["MEETING_BOOKED", "REPLIED"], ["OPTED_OUT"]):
        result = await listing(gql, seq, {"reasons": reasons})
        assert names(result) == board(reasons=set(reasons)), reasons
        assert result["totalCount"] == len(board(reasons=set(reasons)))
    # OMITTED(OPTED_OUT) has the reason; the OPTED_OUT status has none
    assert names(await listing(gql, seq, {"reasons": ["OPTED_OUT"]})) == {"Max"}
    both = await listing(gql, seq, {"statuses": ["PAUSED"], "reasons": ["OUT_OF_OFFICE"]})
    assert names(both) == {"Fay"} and both["totalCount"] == 1


async def test_status_counts_ignore_the_status_part_and_include_removed(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await status_board(db, clock, workspace)
    expected = {
        "ACTIVE": 3,
        "PAUSED": 3,
        "FINISHED": 3,
        "BOUNCED": 1,
        "FAILED": 1,
        "NOT_SENT": 0,
        "OPTED_OUT": 1,
        "OMITTED": 1,
        "REMOVED": 2,
    }
    assert counts(await listing(gql, seq)) == expected
    paused = await listing(gql, seq, {"statuses": ["PAUSED"]})
    assert counts(paused) == expected and paused["totalCount"] == 3
    removed = await listing(gql, seq, {"statuses": ["REMOVED"]})
    assert counts(removed) == expected and removed["totalCount"] == 2

    # the other parts of the filter do narrow the counts
    smith = await listing(gql, seq, {"search": "smith", "statuses": ["ACTIVE"]})
    assert names(smith) == {"Ava"} and smith["totalCount"] == 1
    assert counts(smith) == board_counts(last="Smith")
    assert counts(smith)["REMOVED"] == 1 and counts(smith)["PAUSED"] == 1
    manual = await listing(gql, seq, {"reasons": ["MANUAL"]})
    assert counts(manual) == board_counts(reasons={"MANUAL"}) and counts(manual)["PAUSED"] == 2


async def test_total_count_matches_the_rows_over_all_pages(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, _ = await status_board(db, clock, workspace)
    cases: list[tuple[dict[str, Any] | None, set[str]]] = [
        (None, board()),
        ({"includeRemoved": True}, set(BOARD)),
        (
            {"statuses": ["ACTIVE", "FINISHED", "REMOVED"]},
            board(statuses={"ACTIVE", "FINISHED", "REMOVED"}),
        ),
        ({"search": "jones"}, board(last="Jones")),
    ]
    for flt, expected in cases:
        first_page = await listing(gql, seq, flt, first=4)
        assert len(first_page["edges"]) == 4 and first_page["pageInfo"]["hasNextPage"]
        assert first_page["totalCount"] == len(expected), flt
        walked = await walk_names(gql, seq, flt, first=4)
        assert len(walked) == len(set(walked)) == first_page["totalCount"], flt
        assert set(walked) == expected, flt


async def test_step_filter(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq = await make_sequence(db, clock, workspace.actor)
    ids = await enroll_people(
        db,
        clock,
        workspace.actor,
        seq,
        [(n, "Step", None) for n in ("S1a", "S1b", "S2a", "S2b", "S3")],
    )
    # No engine runs in these tests: move contacts along their steps as the engine would.
    async with db.write() as conn:
        for name, step in (("S2a", 2), ("S2b", 2), ("S3", 3)):
            await conn.execute(
                enrollments.update().where(enrollments.c.id == ids[name]).values(current_step=step)
            )
    two = await listing(gql, seq, {"steps": [2]})
    assert names(two) == {"S2a", "S2b"} and two["totalCount"] == 2
    assert {e["node"]["currentStep"] for e in two["edges"]} == {2}
    later = await listing(gql, seq, {"steps": [2, 3]})
    assert names(later) == {"S2a", "S2b", "S3"} and later["totalCount"] == 3
    first = await listing(gql, seq, {"steps": [1]})
    assert names(first) == {"S1a", "S1b"}
    assert counts(first)["ACTIVE"] == 2
    assert (await listing(gql, seq, {"steps": [4]}))["totalCount"] == 0


async def test_enrolled_by_filter(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    second = await issue_token(
        db, clock, email=f"second@{workspace.name}.test", workspace=workspace.name, name="Second"
    )
    assert second.workspace_id == workspace.actor.workspace_id
    colleague = Actor(second.workspace_id, second.user_id, workspace.actor.role)
    seq = await make_sequence(db, clock, workspace.actor)
    await enroll_people(
        db, clock, workspace.actor, seq, [(n, "Mine", None) for n in ("M1", "M2", "M3")]
    )
    await enroll_people(db, clock, colleague, seq, [(n, "Theirs", None) for n in ("T1", "T2")])
    admin_id = gid("User", workspace.actor.user_id or 0)
    second_id = gid("User", second.user_id)

    theirs = await listing(gql, seq, {"enrolledByIds": [second_id]})
    assert names(theirs) == {"T1", "T2"} and theirs["totalCount"] == 2
    assert {e["node"]["enrolledBy"]["id"] for e in theirs["edges"]} == {second_id}
    assert {e["node"]["enrolledBy"]["email"] for e in theirs["edges"]} == {
        f"second@{workspace.name}.test"
    }
    assert counts(theirs)["ACTIVE"] == 2
    mine = await listing(gql, seq, {"enrolledByIds": [admin_id]})
    assert names(mine) == {"M1", "M2", "M3"}
    both = await listing(gql, seq, {"enrolledByIds": [admin_id, second_id]})
    assert names(both) == {"M1", "M2", "M3", "T1", "T2"} and both["totalCount"] == 5

    # a user of another workspace enrolled nobody here
    other = await make_workspace(db, clock)
    foreign = await listing(gql, seq, {"enrolledByIds": [gid("User", other.actor.user_id or 0)]})
    assert foreign["edges"] == [] and foreign["totalCount"] == 0


CREATE_GROUP = """
mutation($input: CreateGroupInput!) {
  createGroup(input: $input) { group { id name } userErrors { code message } }
}"""

ADD_TO_GROUP = """
mutation($input: AddEnrollmentsToGroupInput!) {
  addEnrollmentsToGroup(input: $input) { changedCount userErrors { field code message } }
}"""


async def test_group_filter(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    actor = workspace.actor
    seq = await make_sequence(db, clock, actor)
    ids = await enroll_people(
        db, clock, actor, seq, [(n, "Grp", None) for n in ("G1", "G2", "G3", "N1")]
    )
    created = await gql.execute(CREATE_GROUP, {"input": {"name": "Conference leads"}})
    assert created["createGroup"]["userErrors"] == []
    group = created["createGroup"]["group"]["id"]
    empty = (await gql.execute(CREATE_GROUP, {"input": {"name": "Nobody"}}))["createGroup"]
    added = await gql.execute(
        ADD_TO_GROUP,
        {
            "input": {
                "selection": {"ids": gids("Enrollment", [ids["G1"], ids["G2"], ids["G3"]])},
                "groupId": group,
            }
        },
    )
    assert added["addEnrollmentsToGroup"] == {"changedCount": 3, "userErrors": []}

    grouped = await listing(gql, seq, {"groupId": group})
    assert names(grouped) == {"G1", "G2", "G3"} and grouped["totalCount"] == 3
    assert (await listing(gql, seq, {"groupId": empty["group"]["id"]}))["totalCount"] == 0

    # a removed member is hidden like any removed enrollment
    await remove(db, clock, actor, _sel(ids["G3"]))
    grouped = await listing(gql, seq, {"groupId": group})
    assert names(grouped) == {"G1", "G2"} and grouped["totalCount"] == 2
    assert counts(grouped) == {**dict.fromkeys(ALL_STATUSES, 0), "ACTIVE": 2, "REMOVED": 1}
    with_removed = await listing(gql, seq, {"groupId": group, "includeRemoved": True})
    assert names(with_removed) == {"G1", "G2", "G3"}

    # the group holds contacts: in another sequence the same contacts match
    other_seq = await make_sequence(db, clock, actor, name="Second")
    async with db.read() as conn:
        contact_ids = [
            r.contact_id
            for r in await conn.execute(
                sa.select(enrollments.c.contact_id).where(enrollments.c.sequence_id == seq)
            )
        ]
    await add_contacts(db, clock, actor, other_seq, contact_ids)
    assert names(await listing(gql, other_seq, {"groupId": group})) == {"G1", "G2", "G3"}


SEARCHABLE = [
    ("Ada", "Lovelace", "ada@analytical.example"),
    ("Adam", "Smith", "adam.smith@corp.example"),
    ("Grace", "Hopper", "grace@navy.example"),
    ("Jo", "O_Neil", "jo_oneil@mail.example"),
    ("Joe", "Oxneil", "joxoneil@mail.example"),
    ("Percy", "100%", "percy@pct.example"),
    ("Quentin", "1000", "quentin@pct.example"),
]


async def test_search_on_name_and_email(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq = await make_sequence(db, clock, workspace.actor)
    await enroll_people(db, clock, workspace.actor, seq, SEARCHABLE)
    cases = {
        "ADA": {"Ada", "Adam"},  # case-insensitive, part of a first name
        "lOvElAcE": {"Ada"},  # last name
        "NAVY.example": {"Grace"},  # email
        "ada lovelace": {"Ada"},  # first and last name together
        "smith@corp": {"Adam"},
        "hopper": {"Grace"},
        "nobody-like-this": set(),
        # % and _ are literal characters, not wildcards
        "%": {"Percy"},
        "0%": {"Percy"},
        "a%e": set(),
        "_": {"Jo"},
        "o_n": {"Jo"},
    }
    for text, expected in cases.items():
        result = await listing(gql, seq, {"search": text})
        assert names(result) == expected, text
        assert result["totalCount"] == len(expected), text
        assert sum(counts(result).values()) == len(expected), text


async def test_enrolled_at_range(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    actor = workspace.actor
    seq = await make_sequence(db, clock, actor)
    await enroll_people(db, clock, actor, seq, [("Early1", "T", None), ("Early2", "T", None)])
    clock.advance(timedelta(hours=1))
    await enroll_people(db, clock, actor, seq, [("Mid1", "T", None), ("Mid2", "T", None)])
    clock.advance(timedelta(hours=1))
    await enroll_people(db, clock, actor, seq, [("Late", "T", None)])

    def at(minutes: int) -> str:
        return (START + timedelta(minutes=minutes)).isoformat()

    after = await listing(gql, seq, {"enrolledAfter": at(30)})
    assert names(after) == {"Mid1", "Mid2", "Late"} and after["totalCount"] == 3
    before = await listing(gql, seq, {"enrolledBefore": at(90)})
    assert names(before) == {"Early1", "Early2", "Mid1", "Mid2"} and before["totalCount"] == 4
    between = await listing(gql, seq, {"enrolledAfter": at(30), "enrolledBefore": at(90)})
    assert names(between) == {"Mid1", "Mid2"}
    assert counts(between)["ACTIVE"] == 2
    enrolled_at = {e["node"]["enrolledAt"] for e in between["edges"]}
    assert len(enrolled_at) == 1
    assert enrolled_at.pop().replace("Z", "+00:00") == at(60)
    # the same moment written with another offset
    paris = (START + timedelta(minutes=90)).astimezone(ZoneInfo("Europe/Paris"))
    assert names(await listing(gql, seq, {"enrolledAfter": paris.isoformat()})) == {"Late"}
    assert (await listing(gql, seq, {"enrolledAfter": at(150)}))["totalCount"] == 0


async def test_dates_and_times_without_an_offset_are_taken_as_utc(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    """What a date picker sends (`2026-11-24`, `2026-11-24T00:00:00`), in a listing's
    filter and in a bulk action's: UTC, not an internal error."""
    actor = workspace.actor
    seq = await make_sequence(db, clock, actor)
    await enroll_people(db, clock, actor, seq, [("Monday", "T", None)])  # 2026-11-23 09:00Z
    clock.advance(timedelta(days=1))
    await enroll_people(db, clock, actor, seq, [("Tuesday", "T", None)])
    for day in ("2026-11-24", "2026-11-24T00:00:00"):
        assert names(await listing(gql, seq, {"enrolledAfter": day})) == {"Tuesday"}, day
        assert names(await listing(gql, seq, {"enrolledBefore": day})) == {"Monday"}, day
    selection = {"sequenceId": gid("Sequence", seq), "filter": {"enrolledAfter": "2026-11-24"}}
    paused = await mutate(gql, "pauseEnrollments", {"selection": selection})
    assert (paused["changedCount"], paused["userErrors"]) == (1, [])
    assert counts(await listing(gql, seq))["PAUSED"] == 1
    # a moment that does not exist in UTC: refused, naming the field
    selection["filter"] = {"enrolledBefore": "0001-01-01T00:00:00+14:00"}
    refused = await mutate(gql, "resumeEnrollments", {"selection": selection})
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["input", "selection", "filter", "enrolledBefore"], "INVALID")
    ]
    assert refused["changedCount"] == 0
