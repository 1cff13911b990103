"""POST /import/contacts.csv: contacts from a spreadsheet's CSV file, as createContacts
makes them, all or none; every bad cell answered with its row (as the spreadsheet numbers
it) and column; hostile files refused with a code, never a 500."""

from __future__ import annotations

import httpx
import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from tests.helpers.csv_files import as_csv, export, table, upload
from tests.helpers.factories import gid, make_sequence
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.workspace import Workspace, make_workspace

CONTACTS = """query($first: Int) { contacts(first: $first) { totalCount edges { node {
  id firstName lastName email phone phoneType timeZone optedOut } } } }"""
HEADER = ["first_name", "last_name", "email", "phone", "phone_type", "time_zone", "opted_out"]


async def contacts_of(gql: GraphQLClient) -> list[dict[str, object]]:
    data = await gql.execute(CONTACTS, {"first": 100})
    return [edge["node"] for edge in data["contacts"]["edges"]]


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


async def test_created_contacts_are_there_as_the_file_gave_them(
    http: httpx.AsyncClient, gql: GraphQLClient, workspace: Workspace
) -> None:
    body = as_csv([
        ["First_Name", "EMAIL", "last_name", "phone", "Phone_Type", "time_zone", "opted_out"],
        ["Ada", "ada@example.com", "Lovelace, Countess", "+1 415 555 0100", "mobile",
         "Europe/London", "no"],
        ["Grace", "", 'Hopper "Amazing"', "", "", "", "TRUE"],
        [" Alan ", "ALAN@Example.com", "", "", "landline", "", ""],
    ])  # fmt: skip
    response = await upload(http, workspace.token, body)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["created"] == 3 and answer["dryRun"] is False and "enrolled" not in answer
    listed = await contacts_of(gql)
    assert [c["id"] for c in listed] == answer["contactIds"]
    ada, grace, alan = listed
    assert ada == {
        "id": answer["contactIds"][0], "firstName": "Ada", "lastName": "Lovelace, Countess",
        "email": "ada@example.com", "phone": "+14155550100", "phoneType": "MOBILE",
        "timeZone": "Europe/London", "optedOut": False,
    }  # fmt: skip
    assert (grace["lastName"], grace["email"]) == ('Hopper "Amazing"', None)
    assert grace["optedOut"] is True
    assert (alan["firstName"], alan["phoneType"], alan["lastName"]) == ("Alan", "LANDLINE", None)
    assert alan["email"] in ("ALAN@example.com", "alan@example.com")


async def test_invalid_rows_are_listed_by_row_and_column_and_nothing_is_created(
    http: httpx.AsyncClient, gql: GraphQLClient, workspace: Workspace
) -> None:
    body = as_csv([
        HEADER,
        ["Ada", "Lovelace", "ada@example.com", "", "", "", ""],  # row 2: fine
        ["Bad", "Email", "not-an-email", "", "", "", ""],  # row 3
        ["Two\nlines", "Name", "", "", "", "", ""],  # row 4: one row in a spreadsheet
        ["", "Nofirst", "", "", "", "", ""],  # row 5
        ["Zed", "", "", "12", "fax", "Mars/Olympus", "maybe"],  # row 6
        ["Extra", "", "", "", "", "", "", "surplus"],  # row 7
    ])  # fmt: skip
    response = await upload(http, workspace.token, body)
    assert response.status_code == 422, response.text
    answer = response.json()
    found = [(e["row"], e["column"], e["code"]) for e in answer["errors"]]
    assert found == [
        (3, "email", "INVALID_EMAIL"),
        (4, "first_name", "INVALID"),
        (5, "first_name", "REQUIRED"),
        (6, "phone_type", "INVALID"),
        (6, "opted_out", "INVALID"),
        (6, "phone", "INVALID_PHONE"),
        (6, "time_zone", "INVALID_TIME_ZONE"),
        (7, None, "INVALID"),
    ]
    assert all(e["message"] and e["extensions"]["code"] == e["code"] for e in answer["errors"])
    assert answer["created"] == 0 and answer["errorCount"] == 8
    assert "maybe" in answer["errors"][4]["message"]
    assert await contacts_of(gql) == []


async def test_a_byte_order_mark_and_a_spreadsheets_escapes_are_read(
    http: httpx.AsyncClient, gql: GraphQLClient, workspace: Workspace
) -> None:
    """Excel's "CSV UTF-8" starts with a byte order mark; an exported phone number
    (+1...) comes back after the quote the export put before it."""
    body = "\ufeff" + "first_name,phone\r\nÉmile,'+14155550100\r\n\r\n"
    response = await upload(http, workspace.token, body.encode())
    assert response.status_code == 201, response.text
    [emile] = await contacts_of(gql)
    assert (emile["firstName"], emile["phone"]) == ("Émile", "+14155550100")


async def test_a_dry_run_counts_and_creates_nothing(
    http: httpx.AsyncClient, gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    seq = await make_sequence(db, clock, workspace.actor)
    body = as_csv([["first_name", "email"], ["Ada", "a@example.com"], ["Bo", "b@example.com"]])
    response = await upload(
        http, workspace.token, body, sequenceId=gid("Sequence", seq), dryRun="true"
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "created": 2, "contactIds": [], "dryRun": True, "enrolled": 2, "bulkOperationId": None,
    }  # fmt: skip
    assert await contacts_of(gql) == []
    assert table(await export(http, workspace.token, gid("Sequence", seq)))[1:] == []


async def test_contacts_are_enrolled_in_the_sequence_named(
    http: httpx.AsyncClient, gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    seq = await make_sequence(db, clock, workspace.actor)
    body = as_csv([
        ["first_name", "email", "opted_out"],
        ["Ada", "ada@example.com", "false"],
        ["Optout", "o@example.com", "true"],
    ])  # fmt: skip
    response = await upload(http, workspace.token, body, sequenceId=gid("Sequence", seq))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["created"], answer["enrolled"]) == (2, 2)
    rows = table(await export(http, workspace.token, gid("Sequence", seq), None,
                              {"field": "CONTACT_NAME", "direction": "ASC"}))  # fmt: skip
    assert [(r[9], r[1], r[2], r[8]) for r in rows[1:]] == [
        ("Ada", "ACTIVE", "", answer["contactIds"][0]),
        ("Optout", "OMITTED", "OPTED_OUT", answer["contactIds"][1]),
    ]
    operation = await gql.execute(
        "query($id: ID!) { bulkOperation(id: $id) { action events { totalCount } } }",
        {"id": answer["bulkOperationId"]},
    )
    assert operation["bulkOperation"] == {"action": "ENROLL", "events": {"totalCount": 2}}


async def test_a_sequence_that_cannot_take_them_creates_nothing(
    http: httpx.AsyncClient, gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    body = as_csv([["first_name"], ["Ada"]])
    other = await make_workspace(db, clock)
    foreign = await make_sequence(db, clock, other.actor)
    response = await upload(http, workspace.token, body, sequenceId=gid("Sequence", foreign))
    assert response.status_code == 404
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "sequenceId"}
    bad = await upload(http, workspace.token, body, sequenceId="bad")
    assert bad.status_code == 400 and codes(bad) == ["INVALID_ID"]
    assert await contacts_of(gql) == []


async def test_an_idempotency_key_makes_a_retry_create_nothing_more(
    http: httpx.AsyncClient, gql: GraphQLClient, workspace: Workspace
) -> None:
    body = as_csv([["first_name"], ["Ada"], ["Bo"]])
    first = await upload(http, workspace.token, body, idempotencyKey="weekly-import-1")
    again = await upload(http, workspace.token, body, idempotencyKey="weekly-import-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(await contacts_of(gql)) == 2
    other = await upload(http, workspace.token, as_csv([["first_name"], ["Cy"]]),
                         idempotencyKey="weekly-import-1")  # fmt: skip
    assert other.status_code == 409 and codes(other) == ["IDEMPOTENCY_KEY_REUSED"]


async def test_only_a_token_that_may_write_imports(
    http: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    body = as_csv([["first_name"], ["Ada"]])
    anonymous = await http.post("/import/contacts.csv", content=body,
                                headers={"content-type": "text/csv"})  # fmt: skip
    assert anonymous.status_code == 401 and codes(anonymous) == ["UNAUTHENTICATED"]
    viewer = await make_workspace(db, clock, role=Role.VIEWER)
    refused = await upload(http, viewer.token, body)
    assert refused.status_code == 403 and codes(refused) == ["FORBIDDEN"]


HOSTILE: list[tuple[str, bytes, dict[str, str], int, str]] = [
    ("empty body", b"", {}, 400, "INVALID_CSV"),
    ("blank lines", b"\r\n\r\n", {}, 400, "INVALID_CSV"),
    ("header only", b"first_name\r\n", {}, 400, "NO_ROWS"),
    ("not UTF-8", "first_name\r\nJosé\r\n".encode("latin-1"), {}, 400, "INVALID_CSV"),
    ("NUL byte", b"first_name\r\nA\x00da\r\n", {}, 400, "INVALID_CSV"),
    ("open quote", b'first_name\r\n"Ada\r\n', {}, 400, "INVALID_CSV"),
    ("text after a quote", b'first_name\r\n"Ada"x\r\n', {}, 400, "INVALID_CSV"),
    ("unknown column", b"first_name,colour\r\nAda,red\r\n", {}, 400, "UNKNOWN_COLUMN"),
    ("no first_name column", b"email\r\na@example.com\r\n", {}, 400, "MISSING_COLUMN"),
    ("a column twice", b"first_name,First_Name\r\nA,B\r\n", {}, 400, "DUPLICATE_COLUMN"),
    ("huge cell", b"first_name\r\n" + b"a" * 200_000 + b"\r\n", {}, 400, "INVALID_CSV"),
    ("bad dryRun", b"first_name\r\nAda\r\n", {"dryRun": "maybe"}, 400, "BAD_USER_INPUT"),
    ("unknown parameter", b"first_name\r\nAda\r\n", {"sequence": "x"}, 400, "BAD_USER_INPUT"),
    ("blank key", b"first_name\r\nAda\r\n", {"idempotencyKey": " "}, 400, "BAD_USER_INPUT"),
    ("too many rows", b"first_name\r\n" + b"Ada\r\n" * 10_001, {}, 413, "TOO_MANY_ROWS"),
    ("over MAX_BODY_BYTES", b"first_name\r\n" + b"a,\r\n" * 700_000, {}, 413,
     "PAYLOAD_TOO_LARGE"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "params", "status", "code"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
async def test_hostile_files_are_refused_with_a_code(
    http: httpx.AsyncClient, gql: GraphQLClient, workspace: Workspace,
    body: bytes, params: dict[str, str], status: int, code: str,
) -> None:  # fmt: skip
    response = await upload(http, workspace.token, body, **params)
    assert response.status_code == status, response.text
    assert codes(response) == [code]
    assert await contacts_of(gql) == []


async def test_a_body_that_is_not_csv_is_refused(
    http: httpx.AsyncClient, workspace: Workspace
) -> None:
    response = await upload(http, workspace.token, b'{"first_name": "Ada"}',
                            content_type="application/json")  # fmt: skip
    assert response.status_code == 415 and codes(response) == ["UNSUPPORTED_MEDIA"]
    got = await http.get("/import/contacts.csv", headers={"authorization": "Bearer x"})
    assert got.status_code == 405 and got.headers["allow"] == "POST"


async def test_ten_thousand_rows_import_at_once(
    http: httpx.AsyncClient, gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    seq = await make_sequence(db, clock, workspace.actor)
    rows = [["first_name", "email"]] + [[f"P{i}", f"p{i}@example.com"] for i in range(10_000)]
    response = await upload(http, workspace.token, as_csv(rows), sequenceId=gid("Sequence", seq))
    assert response.status_code == 201, response.text
    assert (response.json()["created"], response.json()["enrolled"]) == (10_000, 10_000)
    data = await gql.execute(CONTACTS, {"first": 1})
    assert data["contacts"]["totalCount"] == 10_000
    exported = table(await export(http, workspace.token, gid("Sequence", seq)))
    assert len(exported) == 10_001


async def test_an_export_imports_back_as_the_same_contacts(
    http: httpx.AsyncClient, gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    seq = await make_sequence(db, clock, workspace.actor)
    body = as_csv([
        HEADER,
        ["=cmd|' /C calc'!A0", 'O"Neil, Jr.', "a@example.com", "+14155550100", "MOBILE",
         "America/New_York", "false"],
        ["@Bo", "-dash", "", "", "", "", "true"],
    ])  # fmt: skip
    first = await upload(http, workspace.token, body, sequenceId=gid("Sequence", seq))
    assert first.status_code == 201, first.text
    exported = table(await export(http, workspace.token, gid("Sequence", seq)))
    columns = exported[0]
    back = [HEADER] + [[row[columns.index(c)] for c in HEADER] for row in exported[1:]]
    other = await make_workspace(db, clock)
    again = await upload(http, other.token, as_csv(back))
    assert again.status_code == 201, again.text

    def kept(contacts: list[dict[str, object]]) -> list[tuple[object, ...]]:
        fields = ("firstName", "lastName", "phone", "optedOut")
        return sorted((tuple(c[f] for f in fields) for c in contacts), key=str)

    before = kept(await contacts_of(gql))
    after = kept(await contacts_of(GraphQLClient(http, other.token)))
    assert before == after
    assert ("=cmd|' /C calc'!A0", 'O"Neil, Jr.', "+14155550100", False) in before
