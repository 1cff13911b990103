"""Authentication, the VIEWER role, and workspace isolation, seen through the HTTP API."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import httpx
import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.outbound.transport import RecordingTransport
from seqgql.persistence.database import Database
from seqgql.services.auth import issue_token
from tests.helpers.factories import gid, gids, make_contacts, make_enrolled
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.workspace import Workspace, make_workspace

NEVER = 987_654_321  # a primary key no test ever reaches

VIEWER_QUERY = "{ viewer { email } }"


# --- authentication --------------------------------------------------------------------


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"}
    [err] = body["errors"]
    assert set(err) == {"message", "extensions"}
    assert isinstance(err["message"], str) and err["message"]
    assert err["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "data" not in body


async def test_no_token_is_401_with_a_graphql_error_body(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": VIEWER_QUERY})
    assert_unauthenticated(response)
    assert response.headers["www-authenticate"].lower().startswith("bearer")


async def test_bad_tokens_are_401(http: httpx.AsyncClient, workspace: Workspace) -> None:
    for header in (
        "Bearer sqg_not-a-token-this-server-issued",
        "Bearer nonsense",
        f"Bearer {workspace.token}x",
        f"Basic {workspace.token}",  # the right secret under the wrong scheme
        "Bearer ",
    ):
        response = await http.post(
            "/graphql", json={"query": VIEWER_QUERY}, headers={"authorization": header}
        )
        assert_unauthenticated(response)
    # the same request with the real token goes through
    ok = await http.post(
        "/graphql",
        json={"query": VIEWER_QUERY},
        headers={"authorization": f"Bearer {workspace.token}"},
    )
    assert ok.status_code == 200
    assert ok.json()["data"]["viewer"]["email"].startswith("admin@")


async def test_a_query_over_get_needs_a_token(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": VIEWER_QUERY})
    assert_unauthenticated(response)


async def test_graphiql_is_served_without_a_token(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


async def test_a_body_that_is_not_json_is_415(
    http: httpx.AsyncClient, workspace: Workspace, gql: GraphQLClient
) -> None:
    """A form or text/plain POST (what a cross-site form can send) is never executed."""
    mutation = '{"query": "mutation { createGroup(input: {name: \\"sneaky\\"}) { group { id } } }"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = await http.post(
            "/graphql",
            content=mutation,
            headers={"authorization": f"Bearer {workspace.token}", "content-type": content_type},
        )
        assert response.status_code == 415, (content_type, response.text)
    assert (await gql.execute("{ groups { totalCount } }"))["groups"] == {"totalCount": 0}


# --- what a workspace looks like, read through the API ----------------------------------

SNAPSHOT = """
query {
  sequences(includeArchived: true, first: 100) {
    totalCount
    edges { node { id name archived replyWindowMinutes
                   steps { position channel waitMinutes subject body } } }
  }
  contacts(first: 100) { totalCount edges { node { id firstName email optedOut } } }
  groups { edges { node { id name contacts(first: 100) { totalCount edges { node { id } } } } } }
  users { edges { node { id email role } } }
}"""

SNAPSHOT_ENROLLMENTS = """
query($seq: ID!) {
  enrollments(sequenceId: $seq, filter: {includeRemoved: true}, first: 100) {
    totalCount
    edges { node { id status reason currentStep resumeAt nextRunAt finishedAt
                   activities(first: 100) { totalCount edges { node { kind detail } } } } }
  }
}"""


async def snapshot(gql: GraphQLClient, token: str) -> dict[str, Any]:
    """Everything a user of the workspace can see that a mutation could change."""
    data = await gql.execute(SNAPSHOT, token=token)
    data["enrollments"] = {}
    for edge in data["sequences"]["edges"]:
        seq = edge["node"]["id"]
        listing = await gql.execute(SNAPSHOT_ENROLLMENTS, {"seq": seq}, token=token)
        data["enrollments"][seq] = listing["enrollments"]
    return data


# --- VIEWER ------------------------------------------------------------------------------

PAYLOAD = "userErrors { field code message }"
BULK = f"changedCount dryRun bulkOperationId skipped {{ reason count }} {PAYLOAD}"

MUTATIONS: dict[str, str] = {
    "createSequence": f"sequence {{ id }} {PAYLOAD}",
    "updateSequence": f"sequence {{ id name }} {PAYLOAD}",
    "cloneSequence": f"sequence {{ id }} {PAYLOAD}",
    "createContacts": f"contacts {{ id }} {PAYLOAD}",
    "createGroup": f"group {{ id }} {PAYLOAD}",
    "addContactsToSequence": BULK,
    "pauseEnrollments": BULK,
    "resumeEnrollments": BULK,
    "finishEnrollments": BULK,
    "removeEnrollments": BULK,
    "restartEnrollments": f"sequence {{ id }} changedCount {PAYLOAD}",
    "addEnrollmentsToGroup": BULK,
    "sendMessage": f"sentCount {PAYLOAD}",
    "recordDeliveryEvent": f"enrollment {{ id status }} {PAYLOAD}",
    "archiveSequence": f"sequence {{ id archived }} {PAYLOAD}",
}

INPUT_TYPES = {
    "createSequence": "CreateSequenceInput",
    "updateSequence": "UpdateSequenceInput",
    "cloneSequence": "CloneSequenceInput",
    "archiveSequence": "ArchiveSequenceInput",
    "createContacts": "CreateContactsInput",
    "createGroup": "CreateGroupInput",
    "addContactsToSequence": "AddContactsToSequenceInput",
    "pauseEnrollments": "PauseEnrollmentsInput",
    "resumeEnrollments": "ResumeEnrollmentsInput",
    "finishEnrollments": "FinishEnrollmentsInput",
    "removeEnrollments": "RemoveEnrollmentsInput",
    "restartEnrollments": "RestartEnrollmentsInput",
    "addEnrollmentsToGroup": "AddEnrollmentsToGroupInput",
    "sendMessage": "SendMessageInput",
    "recordDeliveryEvent": "RecordDeliveryEventInput",
}


def mutation(name: str, selection: str | None = None) -> str:
    return (
        f"mutation($input: {INPUT_TYPES[name]}!) "
        f"{{ {name}(input: $input) {{ {selection or MUTATIONS[name]} }} }}"
    )


class Viewer(NamedTuple):
    token: str
    inputs: dict[str, dict[str, Any]]


@pytest.fixture
async def viewer(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> Viewer:
    """A workspace with data, a VIEWER token in it, and one input per mutation that an
    admin could send (in this order)."""
    admin = workspace.actor
    seq, enrolled = await make_enrolled(db, clock, admin, 3)
    spare = await make_contacts(db, clock, admin, 2, prefix="Spare")
    group = await gql.execute(mutation("createGroup"), {"input": {"name": "Team"}})
    group_id = group["createGroup"]["group"]["id"]
    issued = await issue_token(
        db, clock, email=f"viewer@{workspace.name}.test", workspace=workspace.name,
        role=Role.VIEWER,
    )  # fmt: skip
    seq_gid, e = gid("Sequence", seq), gids("Enrollment", enrolled)
    step = {"channel": "EMAIL", "waitMinutes": 0, "subject": "Hi", "body": "Hello"}
    inputs: dict[str, dict[str, Any]] = {
        "createSequence": {"name": "Viewer's", "steps": [step]},
        "updateSequence": {"sequenceId": seq_gid, "name": "Renamed"},
        "cloneSequence": {"sequenceId": seq_gid, "name": "Cloned"},
        "createContacts": {"contacts": [{"firstName": "New", "email": "new@example.com"}]},
        "createGroup": {"name": "Viewers"},
        "addContactsToSequence": {"sequenceId": seq_gid, "contactIds": gids("Contact", spare)},
        "pauseEnrollments": {"selection": {"ids": [e[0]]}},
        "resumeEnrollments": {"selection": {"ids": [e[0]]}},
        "finishEnrollments": {"selection": {"ids": [e[1]]}, "reason": "MEETING_BOOKED"},
        "removeEnrollments": {"selection": {"ids": [e[2]]}},
        "restartEnrollments": {"selection": {"ids": [e[1], e[2]]}, "newSequenceName": "Again"},
        "addEnrollmentsToGroup": {"selection": {"ids": [e[0]]}, "groupId": group_id},
        "sendMessage": {"selection": {"ids": [e[0]]}, "body": "Are you there?"},
        "recordDeliveryEvent": {"enrollmentId": e[0], "kind": "REPLIED"},
        "archiveSequence": {"sequenceId": seq_gid},
    }
    assert set(inputs) == set(MUTATIONS)
    return Viewer(issued.token, inputs)


async def test_viewer_cannot_change_anything(
    gql: GraphQLClient, workspace: Workspace, transport: RecordingTransport, viewer: Viewer
) -> None:
    before = await snapshot(gql, workspace.token)
    sent_before = len(transport.sent)

    for name, value in viewer.inputs.items():
        data = await gql.execute(mutation(name), {"input": value}, token=viewer.token)
        payload = data[name]
        codes = [err["code"] for err in payload["userErrors"]]
        assert codes == ["FORBIDDEN"], (name, payload)
        for key in ("sequence", "group", "enrollment"):
            assert payload.get(key) is None, (name, payload)
        assert payload.get("contacts", []) == [], (name, payload)
        assert payload.get("changedCount", 0) == 0, (name, payload)
        assert payload.get("sentCount", 0) == 0, (name, payload)
        assert payload.get("bulkOperationId") is None, (name, payload)

    assert await snapshot(gql, workspace.token) == before
    assert await snapshot(gql, viewer.token) == before  # the viewer reads the same workspace
    assert len(transport.sent) == sent_before


async def test_the_inputs_refused_to_the_viewer_are_valid_for_an_admin(
    gql: GraphQLClient, workspace: Workspace, transport: RecordingTransport, viewer: Viewer
) -> None:
    """Keeps the test above honest: its refusals are the role's doing, not bad input."""
    before = await snapshot(gql, workspace.token)
    failures = {}
    for name, value in viewer.inputs.items():
        response = await gql.post(mutation(name), {"input": value})
        body = response.json()
        if body.get("errors") or body["data"][name]["userErrors"]:
            failures[name] = body.get("errors") or body["data"][name]["userErrors"]
    assert not failures, failures
    assert len(transport.sent) == 1
    assert await snapshot(gql, workspace.token) != before


# --- isolation ---------------------------------------------------------------------------


def normalized(response: httpx.Response, global_id: str, pk: int) -> dict[str, Any]:
    """The response with the id asked about replaced by a placeholder, so a foreign id and
    a missing one can be compared."""
    assert response.status_code == 200, response.text

    def walk(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            value = value.replace(global_id, "<ID>")
            if key == "message":
                value = re.sub(rf"\b{pk}\b", "<PK>", value)
        return value

    return walk(response.json())  # type: ignore[no-any-return]


async def assert_like_missing(
    gql: GraphQLClient,
    query: str,
    variables: Any,
    type_name: str,
    foreign_pk: int,
) -> dict[str, Any]:
    """``variables(id)`` with another workspace's id answers exactly as with an id that
    never existed. Returns the (normalized) answer."""
    foreign, missing = gid(type_name, foreign_pk), gid(type_name, NEVER)
    got = normalized(await gql.post(query, variables(foreign)), foreign, foreign_pk)
    expected = normalized(await gql.post(query, variables(missing)), missing, NEVER)
    assert got == expected, (query, got, expected)
    return got


@pytest.fixture
async def two_workspaces(
    gql: GraphQLClient, workspace: Workspace, db: Database, clock: FrozenClock
) -> dict[str, Any]:
    """A: the fixture's workspace; B: another one, whose token `gql` is switched to.
    Both get a sequence with enrollments (one finished), contacts, and a group with members;
    names and emails are alike so a search cannot tell them apart."""
    a = workspace
    b = await make_workspace(db, clock)
    made: dict[str, Any] = {"A": a, "B": b}
    for label, ws in (("a", a), ("b", b)):
        seq, enrolled = await make_enrolled(db, clock, ws.actor, 3, prefix="Same")
        spare = await make_contacts(db, clock, ws.actor, 1, prefix="Spare")
        grp = await gql.execute(
            mutation("createGroup"), {"input": {"name": "Team"}}, token=ws.token
        )
        group_id = grp["createGroup"]["group"]["id"]
        e = gids("Enrollment", enrolled)
        added = await gql.execute(
            mutation("addEnrollmentsToGroup"),
            {"input": {"selection": {"ids": e[:2]}, "groupId": group_id}},
            token=ws.token,
        )
        assert added["addEnrollmentsToGroup"]["changedCount"] == 2
        finished = await gql.execute(
            mutation("finishEnrollments"),
            {"input": {"selection": {"ids": [e[2]]}, "reason": "OTHER"}},
            token=ws.token,
        )
        assert finished["finishEnrollments"]["changedCount"] == 1
        viewer = await gql.execute("{ viewer { id } }", token=ws.token)
        contact_rows = await gql.execute("{ contacts(first: 100) { edges { node { id } } } }",
                                         token=ws.token)  # fmt: skip
        made[label] = {
            "seq": seq,
            "enrollments": enrolled,
            "spare": spare,
            "group": group_id,
            "user": viewer["viewer"]["id"],
            "contacts": [edge["node"]["id"] for edge in contact_rows["contacts"]["edges"]],
        }
    gql.token = b.token
    return made


def pk_of(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


async def test_another_workspaces_objects_read_as_missing(
    gql: GraphQLClient, two_workspaces: dict[str, Any]
) -> None:
    w = two_workspaces
    a, b = w["a"], w["b"]
    node = "query($id: ID!) { node(id: $id) { __typename id } }"
    for type_name, pk in (
        ("Sequence", a["seq"]),
        ("Enrollment", a["enrollments"][0]),
        ("Contact", pk_of(a["contacts"][0])),
        ("Group", pk_of(a["group"])),
        ("User", pk_of(a["user"])),
    ):
        got = await assert_like_missing(gql, node, lambda i: {"id": i}, type_name, pk)
        assert got == {"data": {"node": None}}, (type_name, got)
        # ...while the owner sees it
        own = await gql.execute(node, {"id": gid(type_name, pk)}, token=w["A"].token)
        assert own["node"]["__typename"] == type_name

    sequence = "query($id: ID!) { sequence(id: $id) { id name steps { body } } }"
    got = await assert_like_missing(gql, sequence, lambda i: {"id": i}, "Sequence", a["seq"])
    assert got == {"data": {"sequence": None}}

    listing = """query($seq: ID!) { enrollments(sequenceId: $seq) {
        totalCount statusCounts { status count } edges { node { id } } } }"""
    got = await assert_like_missing(gql, listing, lambda i: {"seq": i}, "Sequence", a["seq"])
    assert got["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert not got.get("data")

    # Filtering one's own sequence by another workspace's group or user finds nothing,
    # as with a group or user that does not exist.
    by_group = """query($seq: ID!, $group: ID!) { enrollments(sequenceId: $seq,
        filter: {groupId: $group}) { totalCount edges { node { id } } } }"""
    got = await assert_like_missing(
        gql, by_group, lambda i: {"seq": gid("Sequence", b["seq"]), "group": i},
        "Group", pk_of(a["group"]),
    )  # fmt: skip
    by_user = """query($seq: ID!, $user: ID!) { enrollments(sequenceId: $seq,
        filter: {enrolledByIds: [$user]}) { totalCount edges { node { id } } } }"""
    await assert_like_missing(
        gql, by_user, lambda i: {"seq": gid("Sequence", b["seq"]), "user": i},
        "User", pk_of(a["user"]),
    )  # fmt: skip


async def test_lists_show_only_the_callers_workspace(
    gql: GraphQLClient, two_workspaces: dict[str, Any]
) -> None:
    w = two_workspaces
    b = w["b"]
    data = await gql.execute(
        """{ sequences(includeArchived: true) { totalCount edges { node { id } } }
             contacts(first: 100) { totalCount edges { node { id } } }
             same: contacts(search: "same", first: 100) { totalCount edges { node { id } } }
             users { edges { node { id email } } }
             groups { edges { node { id contacts { totalCount edges { node { id } } } } } } }"""
    )
    assert data["sequences"]["totalCount"] == 1
    assert [e["node"]["id"] for e in data["sequences"]["edges"]] == [gid("Sequence", b["seq"])]
    assert data["contacts"]["totalCount"] == 4
    assert sorted(e["node"]["id"] for e in data["contacts"]["edges"]) == sorted(b["contacts"])
    assert data["same"]["totalCount"] == 3
    assert {e["node"]["id"] for e in data["same"]["edges"]} <= set(b["contacts"])
    users = [e["node"] for e in data["users"]["edges"]]
    groups = [e["node"] for e in data["groups"]["edges"]]
    assert users == [{"id": b["user"], "email": f"admin@{w['B'].name}.test"}]
    assert [g["id"] for g in groups] == [b["group"]]
    assert groups[0]["contacts"]["totalCount"] == 2
    members = {e["node"]["id"] for e in groups[0]["contacts"]["edges"]}
    assert members <= set(b["contacts"])


async def test_mutations_with_another_workspaces_ids_find_nothing_and_change_nothing(
    gql: GraphQLClient, transport: RecordingTransport, two_workspaces: dict[str, Any]
) -> None:
    w = two_workspaces
    a, b = w["a"], w["b"]
    a_before = await snapshot(gql, w["A"].token)
    b_before = await snapshot(gql, w["B"].token)
    sent_before = len(transport.sent)

    b_seq = gid("Sequence", b["seq"])
    b_active = gid("Enrollment", b["enrollments"][0])
    b_finished = gid("Enrollment", b["enrollments"][2])

    a_enr, a_seq, a_contact = a["enrollments"][0], a["seq"], a["spare"][0]
    a_group, a_user = pk_of(a["group"]), pk_of(a["user"])
    b_spare = gid("Contact", b["spare"][0])

    # Ways a selection can name another workspace's object: (its type, its pk, selection).
    selections: list[tuple[str, int, Callable[[str], dict[str, Any]]]] = [
        ("Enrollment", a_enr, lambda i: {"ids": [i]}),
        ("Enrollment", a_enr, lambda i: {"ids": [b_active, i]}),
        ("Sequence", a_seq, lambda i: {"sequenceId": i}),
        ("Group", a_group, lambda i: {"sequenceId": b_seq, "filter": {"groupId": i}}),
        ("User", a_user, lambda i: {"sequenceId": b_seq, "filter": {"enrolledByIds": [i]}}),
    ]
    bulk_actions: dict[str, dict[str, Any]] = {
        "pauseEnrollments": {},
        "resumeEnrollments": {},
        "finishEnrollments": {"reason": "OTHER"},
        "removeEnrollments": {},
        "restartEnrollments": {},
        "addEnrollmentsToGroup": {"groupId": b["group"]},
        "sendMessage": {"body": "hello"},
    }

    def with_selection(
        extra: dict[str, Any], select: Callable[[str], dict[str, Any]]
    ) -> Callable[[str], dict[str, Any]]:
        return lambda i: {"selection": select(i), **extra}

    # (mutation, type of the foreign id, its pk, the input built around the id)
    cases: list[tuple[str, str, int, Callable[[str], dict[str, Any]]]] = [
        (name, type_name, pk, with_selection(extra, select))
        for name, extra in bulk_actions.items()
        for type_name, pk, select in selections
    ]
    step = {"channel": "EMAIL", "waitMinutes": 0, "body": "Hello"}
    cases += [
        ("addContactsToSequence", "Sequence", a_seq,
         lambda i: {"sequenceId": i, "contactIds": [b_spare]}),
        ("addContactsToSequence", "Contact", a_contact,
         lambda i: {"sequenceId": b_seq, "contactIds": [i]}),
        ("addContactsToSequence", "Contact", a_contact,
         lambda i: {"sequenceId": b_seq, "contactIds": [b_spare, i]}),
        ("addEnrollmentsToGroup", "Group", a_group,
         lambda i: {"selection": {"ids": [b_active]}, "groupId": i}),
        ("restartEnrollments", "Sequence", a_seq,
         lambda i: {"selection": {"ids": [b_finished]}, "targetSequenceId": i}),
        ("recordDeliveryEvent", "Enrollment", a_enr,
         lambda i: {"enrollmentId": i, "kind": "REPLIED"}),
        ("recordDeliveryEvent", "Enrollment", a_enr,
         lambda i: {"enrollmentId": i, "kind": "OPTED_OUT"}),
        ("updateSequence", "Sequence", a_seq,
         lambda i: {"sequenceId": i, "name": "Hijacked", "steps": [step]}),
        ("cloneSequence", "Sequence", a_seq, lambda i: {"sequenceId": i, "name": "Stolen"}),
        ("archiveSequence", "Sequence", a_seq, lambda i: {"sequenceId": i}),
    ]  # fmt: skip
    covered = {name for name, *_ in cases}
    assert covered == set(MUTATIONS) - {"createSequence", "createContacts", "createGroup"}

    for name, type_name, pk, build in cases:
        got = await assert_like_missing(
            gql, mutation(name), lambda i, f=build: {"input": f(i)}, type_name, pk
        )
        assert "errors" not in got, (name, type_name, got)
        payload = got["data"][name]
        codes = {err["code"] for err in payload["userErrors"]}
        assert codes == {"NOT_FOUND"}, (name, type_name, payload)
        assert payload.get("changedCount", 0) == 0
        assert payload.get("sentCount", 0) == 0

    assert await snapshot(gql, w["A"].token) == a_before
    assert await snapshot(gql, w["B"].token) == b_before
    assert len(transport.sent) == sent_before


async def test_concurrent_requests_read_a_token_once(db: Database, workspace: Workspace) -> None:
    """32 calls at once for a token the cache does not hold read it once and all get its
    actor; an unknown token is read once too and refused to all; later calls are read
    again once the cache forgets (here at once)."""
    from sqlalchemy import event

    from seqgql.services.auth import TokenCache

    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM api_tokens" in statement and statement.lstrip().startswith("SELECT"):
            reads.append(statement)

    cache = TokenCache(db, seconds=0)
    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        actors = await asyncio.gather(*(cache.authenticate(workspace.token) for _ in range(32)))
        assert len(reads) == 1
        assert {a.workspace_id if a else None for a in actors} == {workspace.actor.workspace_id}
        reads.clear()
        unknown = workspace.token[:-4] + "zzzz"
        assert await asyncio.gather(*(cache.authenticate(unknown) for _ in range(8))) == [None] * 8
        assert len(reads) == 1
        reads.clear()
        assert await cache.authenticate(workspace.token) is not None
        assert len(reads) == 1
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
