"""updateContact through GraphQL: only the fields given change, null clears an optional one,
invalid input changes nothing and names the field, and another workspace's contact looks
exactly like one that does not exist."""

from __future__ import annotations

from typing import Any

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from seqgql.services.auth import issue_token
from tests.helpers.bulk import create_contacts, enroll_input, snapshot
from tests.helpers.factories import gid, make_contacts, make_sequence
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.workspace import Workspace, make_workspace

CONTACT = "id firstName lastName email phone phoneType timeZone optedOut name"
UPDATE = f"contact {{ {CONTACT} }} userErrors {{ field code message }}"
GET = f"query($id: ID!) {{ node(id: $id) {{ ... on Contact {{ {CONTACT} }} }} }}"
SEARCH = (
    "query($q: String!) { contacts(search: $q, first: 50) { totalCount edges { node { id } } } }"
)

ADA = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "phone": "+14155550100",
    "phoneType": "MOBILE",
    "timeZone": "Europe/London",
}


async def update(gql: GraphQLClient, contact_id: int | str, **fields: Any) -> dict[str, Any]:
    ident = contact_id if isinstance(contact_id, str) else gid("Contact", contact_id)
    return await mutate(gql, "updateContact", {"contactId": ident, **fields}, UPDATE)


async def fetch(gql: GraphQLClient, contact_id: int) -> dict[str, Any]:
    data = await gql.execute(GET, {"id": gid("Contact", contact_id)})
    assert data["node"] is not None
    return data["node"]  # type: ignore[no-any-return]


def errors(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def found(gql: GraphQLClient, search: str) -> list[str]:
    data = await gql.execute(SEARCH, {"q": search})
    return [edge["node"]["id"] for edge in data["contacts"]["edges"]]


async def test_only_the_given_fields_change(gql: GraphQLClient) -> None:
    ada, other = await create_contacts(gql, [ADA, {**ADA, "firstName": "Other"}])
    before = await fetch(gql, ada)
    untouched = await fetch(gql, other)

    payload = await update(gql, ada, lastName="King")
    assert payload["userErrors"] == []
    assert payload["contact"] == {**before, "lastName": "King", "name": "Ada King"}
    assert await fetch(gql, ada) == payload["contact"]

    payload = await update(gql, ada, email="  Ada.King@Example.COM ", timeZone="Asia/Tokyo")
    assert payload["userErrors"] == []
    got = payload["contact"]
    assert got["email"].lower() == "ada.king@example.com" and got["email"].strip() == got["email"]
    assert got["timeZone"] == "Asia/Tokyo"
    assert {k: got[k] for k in ("firstName", "lastName", "phone", "phoneType", "optedOut")} == {
        "firstName": "Ada", "lastName": "King", "phone": "+14155550100", "phoneType": "MOBILE",
        "optedOut": False,
    }  # fmt: skip

    payload = await update(gql, ada, phone="(415) 555-0177", optedOut=True, firstName=" Augusta ")
    got = payload["contact"]
    assert (got["phone"], got["optedOut"], got["firstName"]) == ("+14155550177", True, "Augusta")
    assert await fetch(gql, other) == untouched


async def test_null_clears_the_optional_fields(gql: GraphQLClient) -> None:
    (ada,) = await create_contacts(gql, [ADA])
    payload = await update(gql, ada, lastName=None, email=None, phone=None, timeZone=None)
    assert payload["userErrors"] == []
    got = await fetch(gql, ada)
    assert (got["lastName"], got["email"], got["phone"], got["timeZone"]) == (None,) * 4
    assert (got["firstName"], got["name"], got["optedOut"]) == ("Ada", "Ada", False)


INVALID: list[tuple[str, Any, str]] = [
    ("email", "not-an-email", "INVALID_EMAIL"),
    ("phone", "12", "INVALID_PHONE"),
    ("timeZone", "Mars/Olympus_Mons", "INVALID_TIME_ZONE"),
    ("firstName", None, "REQUIRED"),
    ("firstName", "   ", "INVALID"),
    ("optedOut", None, "REQUIRED"),
]


async def test_invalid_input_names_the_field_and_changes_nothing(
    gql: GraphQLClient, db: Database, workspace: Workspace
) -> None:
    (ada,) = await create_contacts(gql, [ADA])
    before = await snapshot(db, workspace.actor.workspace_id)
    for field, value, code in INVALID:
        # a valid change given alongside is not made either
        payload = await update(gql, ada, lastName="Changed", **{field: value})
        assert payload["contact"] is None, field
        assert errors(payload) == [(["input", field], code)], (field, value)
        assert payload["userErrors"][0]["message"]
    assert await snapshot(db, workspace.actor.workspace_id) == before


async def test_every_invalid_field_is_reported_at_once(gql: GraphQLClient) -> None:
    (ada,) = await create_contacts(gql, [ADA])
    payload = await update(gql, ada, email="nope", phone="nope", timeZone="Nowhere/Land")
    assert sorted(errors(payload)) == [
        (["input", "email"], "INVALID_EMAIL"),
        (["input", "phone"], "INVALID_PHONE"),
        (["input", "timeZone"], "INVALID_TIME_ZONE"),
    ]
    got = await fetch(gql, ada)
    assert (got["email"], got["phone"], got["timeZone"]) == (
        "ada@example.com", "+14155550100", "Europe/London",
    )  # fmt: skip


async def test_another_workspaces_contact_looks_exactly_like_a_missing_one(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    elsewhere = await make_workspace(db, clock)
    (foreign,) = await make_contacts(db, clock, elsewhere.actor, 1, prefix="Foreign")
    (mine,) = await create_contacts(gql, [ADA])
    before = await snapshot(db, elsewhere.actor.workspace_id)

    foreign_answer = await update(gql, foreign, firstName="Hijacked")
    missing_answer = await update(gql, mine + 10_000_000, firstName="Hijacked")
    assert errors(foreign_answer) == [(["input", "contactId"], "NOT_FOUND")]
    assert foreign_answer == missing_answer  # same code, field and message; no contact
    assert await snapshot(db, elsewhere.actor.workspace_id) == before
    # with invalid input too: the foreign contact is not validated against
    assert errors(await update(gql, foreign, email="bad")) == [
        (["input", "contactId"], "NOT_FOUND")
    ]


async def test_a_viewer_cannot_update_a_contact(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    (ada,) = await create_contacts(gql, [ADA])
    viewer = await issue_token(
        db, clock, email=f"viewer@{workspace.name}.test", workspace=workspace.name,
        role=Role.VIEWER,
    )  # fmt: skip
    before = await snapshot(db, workspace.actor.workspace_id)
    query = (
        f"mutation($input: UpdateContactInput!) {{ updateContact(input: $input) {{ {UPDATE} }} }}"
    )
    data = await gql.execute(
        query, {"input": {"contactId": gid("Contact", ada), "firstName": "Eve"}}, token=viewer.token
    )
    payload = data["updateContact"]
    assert payload["contact"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    assert await snapshot(db, workspace.actor.workspace_id) == before


async def test_a_malformed_id_is_refused(gql: GraphQLClient) -> None:
    (ada,) = await create_contacts(gql, [ADA])
    # the last two: "Contact:x", and the id of a sequence
    for bad_id in ("bad", "", "Q29udGFjdDp4", gid("Sequence", ada)):
        payload = await update(gql, bad_id, firstName="X")
        assert payload["contact"] is None
        assert errors(payload) == [(["input", "contactId"], "INVALID_ID")], bad_id
    assert (await fetch(gql, ada))["firstName"] == "Ada"


async def test_search_finds_the_contact_by_its_new_name_and_email(
    gql: GraphQLClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    (ada,) = await create_contacts(gql, [ADA])
    seq = await make_sequence(db, clock, workspace.actor)
    await mutate(gql, "addContactsToSequence", enroll_input(seq, [ada]))
    ada_gid = gid("Contact", ada)
    assert await found(gql, "lovelace") == [ada_gid]

    await update(gql, ada, firstName="Grace", lastName="Hopper", email="grace@navy.example")
    assert await found(gql, "lovelace") == []
    assert await found(gql, "ada@example") == []
    assert await found(gql, "hopper") == [ada_gid]
    assert await found(gql, "GRACE") == [ada_gid]
    assert await found(gql, "navy.example") == [ada_gid]
    # the Contacts tab of a sequence searches and shows the new name too
    data = await gql.execute(
        """query($seq: ID!) { enrollments(sequenceId: $seq, filter: {search: "hopper"}) {
             totalCount edges { node { contact { name email } } } } }""",
        {"seq": gid("Sequence", seq)},
    )
    assert data["enrollments"]["totalCount"] == 1
    assert data["enrollments"]["edges"][0]["node"]["contact"] == {
        "name": "Grace Hopper", "email": "grace@navy.example",
    }  # fmt: skip
