"""The read side besides the enrollment list: activities, node(id), sequence(s),
contacts, groups, users and viewer, each confined to the caller's workspace."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role, StepChannel
from seqgql.domain.selection import Selection
from seqgql.domain.sequence import StepSpec
from seqgql.persistence.database import Database
from seqgql.services.auth import issue_token
from seqgql.services.contacts.groups import create_group
from seqgql.services.enrollments import pause, remove
from seqgql.services.sequences import archive_sequence, clone_sequence, update_sequence
from tests.helpers.bulk import moment
from tests.helpers.clocks import START
from tests.helpers.factories import (
    ALL_STATUSES,
    gid,
    gids,
    make_contacts,
    make_enrolled,
    make_sequence,
)
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace, make_workspace

RECORDED = "statusChanged enrollment { id status reason } userErrors { field code message }"
CHANGED = "changedCount userErrors { field code message }"

HISTORY = """
query($id: ID!, $first: Int, $after: String) {
  node(id: $id) {
    ... on Enrollment {
      status reason finishedAt
      activities(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { node { id kind step at detail } }
      }
    }
  }
}"""


async def record(gql: GraphQLClient, enrollment: str, kind: str, minutes_ago: int) -> bool:
    occurred = (START - timedelta(minutes=minutes_ago)).isoformat()
    result = await mutate(
        gql,
        "recordDeliveryEvent",
        {
            "enrollmentId": enrollment,
            "kind": kind,
            "occurredAt": occurred,
            "detail": f"{kind.lower()} report",
        },
        RECORDED,
    )
    assert result["userErrors"] == [] and result["enrollment"]["id"] == enrollment, result
    return bool(result["statusChanged"])


async def history(gql: GraphQLClient, enrollment: str, **kw: Any) -> dict[str, Any]:
    return (await gql.execute(HISTORY, {"id": enrollment, **kw}))["node"]  # type: ignore[no-any-return]


async def test_activities_survive_finish_and_remove(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 2)
    first, second = gids("Enrollment", ids)
    assert not await record(gql, first, "DELIVERED", 30)
    assert not await record(gql, first, "OPENED", 20)
    assert not await record(gql, first, "CLICKED", 10)
    assert await record(gql, second, "REPLIED", 5)

    def kinds(node: dict[str, Any]) -> list[str]:
        return [e["node"]["kind"] for e in node["activities"]["edges"]]

    finished = await mutate(
        gql,
        "finishEnrollments",
        {"selection": {"ids": [first]}, "reason": "MEETING_BOOKED"},
        CHANGED,
    )
    assert finished == {"changedCount": 1, "userErrors": []}
    node = await history(gql, first)
    assert (node["status"], node["reason"]) == ("FINISHED", "MEETING_BOOKED")
    assert moment(node["finishedAt"]) == START
    assert kinds(node) == ["DELIVERED", "OPENED", "CLICKED"]
    assert node["activities"]["totalCount"] == 3
    edges = node["activities"]["edges"]
    assert [moment(e["node"]["at"]) for e in edges] == [
        START - timedelta(minutes=m) for m in (30, 20, 10)
    ]
    assert edges[0]["node"]["detail"] == "delivered report"

    removed = await mutate(
        gql, "removeEnrollments", {"selection": {"ids": [first, second]}}, CHANGED
    )
    assert removed == {"changedCount": 2, "userErrors": []}
    node = await history(gql, first)
    assert node["status"] == "REMOVED"
    assert kinds(node) == ["DELIVERED", "OPENED", "CLICKED"]
    assert [e["node"]["id"] for e in node["activities"]["edges"]] == [
        e["node"]["id"] for e in edges
    ]
    replied = await history(gql, second)
    assert replied["status"] == "REMOVED" and kinds(replied) == ["REPLIED"]

    # paging through the history, oldest first
    one = await history(gql, first, first=2)
    assert kinds(one) == ["DELIVERED", "OPENED"] and one["activities"]["pageInfo"]["hasNextPage"]
    two = await history(gql, first, first=2, after=one["activities"]["pageInfo"]["endCursor"])
    assert kinds(two) == ["CLICKED"] and not two["activities"]["pageInfo"]["hasNextPage"]

    # the removed enrollment, listed with includeRemoved, still carries its history
    listed = await gql.execute(
        """query($seq: ID!) { enrollments(sequenceId: $seq, filter: {includeRemoved: true}) {
             edges { node { id activities { totalCount } } } } }""",
        {"seq": gid("Sequence", seq)},
    )
    totals = {
        e["node"]["id"]: e["node"]["activities"]["totalCount"]
        for e in listed["enrollments"]["edges"]
    }
    assert totals == {first: 3, second: 1}

    # re-enrolled, the contact keeps its history
    contact_of = "query($id: ID!) { node(id: $id) { ... on Enrollment { contact { id } } } }"
    contact = (await gql.execute(contact_of, {"id": first}))["node"]["contact"]["id"]
    again = await mutate(
        gql, "addContactsToSequence", {"sequenceId": gid("Sequence", seq), "contactIds": [contact]},
        CHANGED,
    )  # fmt: skip
    assert again == {"changedCount": 1, "userErrors": []}
    node = await history(gql, first)
    assert node["status"] == "ACTIVE" and kinds(node) == ["DELIVERED", "OPENED", "CLICKED"]


NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Enrollment { status contact { firstName } sequence { name } enrolledBy { email } }
    ... on Sequence { name archived }
    ... on Contact { firstName lastName contactEmail: email }
    ... on Group { name contacts { totalCount edges { node { firstName } } } }
    ... on User { name email role }
  }
}"""


async def test_node_fetches_every_type(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    actor = workspace.actor
    seq, (enrollment_pk,) = await make_enrolled(db, clock, actor, 1, prefix="Nodey")
    (contact_pk,) = await make_contacts(db, clock, actor, 1, prefix="Solo")
    group = (
        await gql.execute(
            'mutation { createGroup(input: {name: "VIPs"}) { group { id } userErrors { code } } }'
        )
    )["createGroup"]["group"]["id"]
    added = await gql.execute(
        """mutation($input: AddEnrollmentsToGroupInput!) {
             addEnrollmentsToGroup(input: $input) { changedCount } }""",
        {"input": {"selection": {"ids": [gid("Enrollment", enrollment_pk)]}, "groupId": group}},
    )
    assert added["addEnrollmentsToGroup"]["changedCount"] == 1
    user = gid("User", actor.user_id or 0)
    email = f"admin@{workspace.name}.test"

    expected: dict[str, dict[str, Any]] = {
        gid("Enrollment", enrollment_pk): {
            "__typename": "Enrollment",
            "status": "ACTIVE",
            "contact": {"firstName": "Nodey0"},
            "sequence": {"name": "Outbound"},
            "enrolledBy": {"email": email},
        },
        gid("Sequence", seq): {"__typename": "Sequence", "name": "Outbound", "archived": False},
        gid("Contact", contact_pk): {
            "__typename": "Contact",
            "firstName": "Solo0",
            "lastName": "Tester",
            "contactEmail": "solo0@example.com",
        },
        group: {
            "__typename": "Group",
            "name": "VIPs",
            "contacts": {"totalCount": 1, "edges": [{"node": {"firstName": "Nodey0"}}]},
        },
        user: {"__typename": "User", "name": "admin", "email": email, "role": "ADMIN"},
    }
    for node_id, fields in expected.items():
        node = (await gql.execute(NODE, {"id": node_id}))["node"]
        assert node == {"id": node_id, **fields}

    # another workspace's objects, and missing ones, are simply not there
    other = await make_workspace(db, clock)
    other_seq, (other_enrollment,) = await make_enrolled(db, clock, other.actor, 1)
    for node_id in (
        gid("Sequence", other_seq),
        gid("Enrollment", other_enrollment),
        gid("User", other.actor.user_id or 0),
        gid("Sequence", other_seq + 10_000),
        gid("Contact", contact_pk + 10_000),
    ):
        assert (await gql.execute(NODE, {"id": node_id}))["node"] is None, node_id
    errors = await gql.errors(NODE, {"id": "not-an-id"})
    assert errors[0]["extensions"]["argument"] == "id"


SEQUENCE = """
query($id: ID!) {
  sequence(id: $id) {
    id name archived clonedFrom { id name }
    steps { position channel waitMinutes subject body }
    statusCounts { status count }
  }
}"""

CREATE_SEQUENCE = """
mutation($input: CreateSequenceInput!) {
  createSequence(input: $input) { sequence { id name steps { position body } } userErrors { code } }
}"""

STEPS = [
    StepSpec(StepChannel.EMAIL, 0, "Hello {{first_name}}", "Intro"),
    StepSpec(StepChannel.SMS, 1440, "Quick text"),
    StepSpec(StepChannel.EMAIL, 2880, "Just checking", "Bump"),
]


def shown(spec: StepSpec, position: int) -> dict[str, Any]:
    return {
        "position": position,
        "channel": spec.channel.value,
        "waitMinutes": spec.wait_minutes,
        "subject": spec.subject,
        "body": spec.body,
    }


async def test_sequence_with_steps_in_order_and_status_counts(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    actor = workspace.actor
    seq = await make_sequence(db, clock, actor, name="Launch", steps=STEPS)
    seq_id = gid("Sequence", seq)
    sequence = (await gql.execute(SEQUENCE, {"id": seq_id}))["sequence"]
    assert sequence["id"] == seq_id and sequence["name"] == "Launch"
    assert sequence["archived"] is False and sequence["clonedFrom"] is None
    assert sequence["steps"] == [shown(spec, i + 1) for i, spec in enumerate(STEPS)]
    assert [c["status"] for c in sequence["statusCounts"]] == ALL_STATUSES
    assert all(c["count"] == 0 for c in sequence["statusCounts"])

    # replacing the steps: the new order is the order shown
    changed = await update_sequence(db, clock, actor, seq, step_specs=STEPS[::-1])
    assert not changed.errors
    steps = (await gql.execute(SEQUENCE, {"id": seq_id}))["sequence"]["steps"]
    assert steps == [shown(spec, i + 1) for i, spec in enumerate(STEPS[::-1])]

    _, ids = await make_enrolled(db, clock, actor, 4, sequence_id=seq)
    await remove(db, clock, actor, Selection(ids=(ids[0],)))
    await pause(db, clock, actor, Selection(ids=(ids[1],)))
    counts = (await gql.execute(SEQUENCE, {"id": seq_id}))["sequence"]["statusCounts"]
    assert [c["status"] for c in counts] == ALL_STATUSES
    assert {c["status"]: c["count"] for c in counts if c["count"]} == {
        "ACTIVE": 2,
        "PAUSED": 1,
        "REMOVED": 1,
    }

    clone = await clone_sequence(db, clock, actor, seq, name="Launch again")
    assert clone.sequence_id is not None
    copy = (await gql.execute(SEQUENCE, {"id": gid("Sequence", clone.sequence_id)}))["sequence"]
    assert copy["name"] == "Launch again"
    assert copy["clonedFrom"] == {"id": seq_id, "name": "Launch"}
    assert copy["steps"] == steps
    assert all(c["count"] == 0 for c in copy["statusCounts"])

    other = await make_workspace(db, clock)
    foreign = await make_sequence(db, clock, other.actor)
    for missing in (foreign, foreign + 10_000):
        assert (await gql.execute(SEQUENCE, {"id": gid("Sequence", missing)}))["sequence"] is None


async def test_sequence_mutations_answer_with_the_sequence(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    steps = [
        {"channel": "EMAIL", "waitMinutes": 0, "subject": "Hi", "body": "One"},
        {"channel": "SMS", "waitMinutes": 60, "body": "Two"},
    ]
    response = await gql.post(CREATE_SEQUENCE, {"input": {"name": "Via API", "steps": steps}})
    body = response.json()
    assert "errors" not in body, body["errors"]
    created = body["data"]["createSequence"]
    assert created["userErrors"] == []
    assert created["sequence"]["name"] == "Via API"
    assert created["sequence"]["steps"] == [
        {"position": 1, "body": "One"},
        {"position": 2, "body": "Two"},
    ]
    read = (await gql.execute(SEQUENCE, {"id": created["sequence"]["id"]}))["sequence"]
    assert [s["body"] for s in read["steps"]] == ["One", "Two"]


SEQUENCES = """
query($first: Int, $after: String, $all: Boolean) {
  sequences(first: $first, after: $after, includeArchived: $all) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id name archived } }
  }
}"""


async def test_sequences_hide_archived_unless_asked(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    ids = {
        name: await make_sequence(db, clock, workspace.actor, name=name)
        for name in ("Alpha", "Beta", "Gamma")
    }
    archived = await archive_sequence(db, clock, workspace.actor, ids["Beta"])
    assert not archived.errors
    other = await make_workspace(db, clock)
    await make_sequence(db, clock, other.actor, name="Foreign")

    default = (await gql.execute(SEQUENCES))["sequences"]
    assert {e["node"]["name"] for e in default["edges"]} == {"Alpha", "Gamma"}
    assert default["totalCount"] == 2
    everything = (await gql.execute(SEQUENCES, {"all": True}))["sequences"]
    assert {(e["node"]["name"], e["node"]["archived"]) for e in everything["edges"]} == {
        ("Alpha", False),
        ("Beta", True),
        ("Gamma", False),
    }
    assert everything["totalCount"] == 3

    page_one = (await gql.execute(SEQUENCES, {"first": 1}))["sequences"]
    assert len(page_one["edges"]) == 1 and page_one["pageInfo"]["hasNextPage"]
    page_two = (
        await gql.execute(SEQUENCES, {"first": 1, "after": page_one["pageInfo"]["endCursor"]})
    )["sequences"]
    assert not page_two["pageInfo"]["hasNextPage"]
    assert {e["node"]["name"] for e in page_one["edges"] + page_two["edges"]} == {"Alpha", "Gamma"}


CONTACTS = """
query($search: String, $first: Int, $after: String) {
  contacts(search: $search, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id firstName lastName email } }
  }
}"""


async def test_contacts_search(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    people = [
        {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@analytical.example"},
        {"firstName": "Adam", "lastName": "Smith", "email": "adam@corp.example"},
        {"firstName": "Grace", "lastName": "Hopper", "email": "grace@navy.example"},
        {"firstName": "Jo", "lastName": "O_Neil", "email": "jo@mail.example"},
        {"firstName": "Joe", "lastName": "Oxneil", "email": "joe@mail.example"},
        {"firstName": "Percy", "lastName": "100%"},
    ]
    created = await gql.execute(
        """mutation($input: CreateContactsInput!) {
             createContacts(input: $input) { contacts { id } userErrors { code message } } }""",
        {"input": {"contacts": people}},
    )
    assert created["createContacts"]["userErrors"] == []
    assert len(created["createContacts"]["contacts"]) == len(people)
    other = await make_workspace(db, clock)
    await make_contacts(db, clock, other.actor, 3, prefix="Ada")

    async def found(search: str | None) -> set[str]:
        result = (await gql.execute(CONTACTS, {"search": search}))["contacts"]
        first_names = [e["node"]["firstName"] for e in result["edges"]]
        assert result["totalCount"] == len(first_names)
        return set(first_names)

    assert await found(None) == {p["firstName"] for p in people}
    assert await found("ada") == {"Ada", "Adam"}
    assert await found("LOVELACE") == {"Ada"}
    assert await found("navy.EXAMPLE") == {"Grace"}
    assert await found("o_n") == {"Jo"}
    assert await found("%") == {"Percy"}
    assert await found("zzz") == set()

    one = (await gql.execute(CONTACTS, {"first": 4}))["contacts"]
    assert len(one["edges"]) == 4 and one["totalCount"] == 6 and one["pageInfo"]["hasNextPage"]
    two = (await gql.execute(CONTACTS, {"first": 4, "after": one["pageInfo"]["endCursor"]}))[
        "contacts"
    ]
    assert len(two["edges"]) == 2 and not two["pageInfo"]["hasNextPage"]
    walked = [e["node"]["id"] for e in one["edges"] + two["edges"]]
    assert len(set(walked)) == 6


GROUPS = (
    "{ groups { edges { node { id name contacts { totalCount edges { node { firstName } } } } } } }"
)


async def test_groups_list_with_their_contacts(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    _, ids = await make_enrolled(db, clock, workspace.actor, 3, prefix="Member")
    groups = {}
    for name in ("Zeta", "Alpha"):
        data = await gql.execute(
            "mutation($n: String!) { createGroup(input: {name: $n}) { group { id } } }", {"n": name}
        )
        groups[name] = data["createGroup"]["group"]["id"]
    await gql.execute(
        """mutation($input: AddEnrollmentsToGroupInput!) {
             addEnrollmentsToGroup(input: $input) { changedCount } }""",
        {"input": {"selection": {"ids": gids("Enrollment", ids[:2])}, "groupId": groups["Zeta"]}},
    )
    other = await make_workspace(db, clock)
    await create_group(db, clock, other.actor, "Foreign")

    listed = [e["node"] for e in (await gql.execute(GROUPS))["groups"]["edges"]]
    by_name = {g["name"]: g for g in listed}
    assert set(by_name) == {"Zeta", "Alpha"} and len(listed) == 2
    assert by_name["Zeta"]["id"] == groups["Zeta"]
    assert by_name["Zeta"]["contacts"]["totalCount"] == 2
    assert {e["node"]["firstName"] for e in by_name["Zeta"]["contacts"]["edges"]} == {
        "Member0",
        "Member1",
    }
    assert by_name["Alpha"]["contacts"] == {"totalCount": 0, "edges": []}


async def test_users_and_viewer(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> None:
    second = await issue_token(
        db,
        clock,
        email=f"member@{workspace.name}.test",
        workspace=workspace.name,
        name="Mona Member",
        role=Role.MEMBER,
    )
    await make_workspace(db, clock)  # someone else's workspace and admin

    data = await gql.execute("{ users { edges { node { id name email role } } } }")
    users = [e["node"] for e in data["users"]["edges"]]
    assert sorted((u["email"], u["role"]) for u in users) == [
        (f"admin@{workspace.name}.test", "ADMIN"),
        (f"member@{workspace.name}.test", "MEMBER"),
    ]
    assert {u["id"] for u in users} == {
        gid("User", workspace.actor.user_id or 0),
        gid("User", second.user_id),
    }

    viewer = (await gql.execute("{ viewer { id email role } }"))["viewer"]
    assert viewer == {
        "id": gid("User", workspace.actor.user_id or 0),
        "email": f"admin@{workspace.name}.test",
        "role": "ADMIN",
    }
    theirs = (await gql.execute("{ viewer { id name email role } }", token=second.token))["viewer"]
    assert theirs == {
        "id": gid("User", second.user_id),
        "name": "Mona Member",
        "email": f"member@{workspace.name}.test",
        "role": "MEMBER",
    }
