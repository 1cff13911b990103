"""GET /export/enrollments.csv: the Contacts tab's list as a file, as a user opens it in a
spreadsheet or reads it with Python's csv module: the same rows in the same order as the
`enrollments` query, cells that cannot run as formulas, refusals as JSON with a code."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.domain.selection import Selection
from seqgql.persistence.database import Database
from seqgql.services.contacts import ContactSpec, create_contacts
from seqgql.services.enrollments import add_contacts, pause
from tests.helpers.csv_files import enroll_many, export, export_params, sent_messages, table
from tests.helpers.factories import gid, make_enrolled, make_sequence
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.workspace import Workspace, make_workspace

HEADER = [
    "enrollment_id", "status", "reason", "current_step", "enrolled_at", "resume_at",
    "next_run_at", "finished_at", "contact_id", "first_name", "last_name", "email", "phone",
    "phone_type", "time_zone", "opted_out", "enrolled_by_name", "enrolled_by_email",
]  # fmt: skip

PAGE = """
query($seq: ID!, $filter: EnrollmentFilter, $order: EnrollmentOrder) {
  enrollments(sequenceId: $seq, filter: $filter, orderBy: $order, first: 100) {
    edges { node {
      id status reason currentStep enrolledAt resumeAt nextRunAt finishedAt
      contact { id firstName lastName email phone phoneType timeZone optedOut }
      enrolledBy { name email }
    } }
  }
}"""


def as_text(value: str | None) -> str:
    """A cell a spreadsheet would read as a formula or a number (a phone number, +1...)
    is written as text: after a quote."""
    return "" if value is None else ("'" + value if value[:1] in "=+-@\t\r" else value)


def expected_row(node: dict[str, Any]) -> list[str]:
    """A row of the file, from the same enrollment as the GraphQL API shows it."""
    contact, by = node["contact"], node["enrolledBy"] or {}

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    return [
        node["id"], node["status"], text(node["reason"]), text(node["currentStep"]),
        node["enrolledAt"], text(node["resumeAt"]), text(node["nextRunAt"]),
        text(node["finishedAt"]), contact["id"], contact["firstName"], text(contact["lastName"]),
        text(contact["email"]), as_text(contact["phone"]), contact["phoneType"],
        text(contact["timeZone"]), "true" if contact["optedOut"] else "false",
        text(by.get("name")), text(by.get("email")),
    ]  # fmt: skip


async def listed(
    gql: GraphQLClient, seq: str, flt: dict[str, Any] | None, order: dict[str, Any] | None
) -> list[dict[str, Any]]:
    data = await gql.execute(PAGE, {"seq": seq, "filter": flt, "order": order})
    return [edge["node"] for edge in data["enrollments"]["edges"]]


async def test_the_file_holds_what_the_list_shows_cell_for_cell(
    http: httpx.AsyncClient, gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    seq, ids = await make_enrolled(db, clock, workspace.actor, 6)
    await pause(db, clock, workspace.actor, Selection(ids=tuple(ids[:2])))
    response = await export(http, workspace.token, gid("Sequence", seq))
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Outbound-enrollments.csv"')
    assert response.content.startswith(b"enrollment_id,status,")
    body = response.content
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")  # RFC 4180
    rows = table(response)
    assert rows[0] == HEADER
    nodes = await listed(gql, gid("Sequence", seq), None, None)
    assert rows[1:] == [expected_row(n) for n in nodes]
    assert {r[1] for r in rows[1:]} == {"ACTIVE", "PAUSED"}
    assert [r[2] for r in rows[1:] if r[1] == "PAUSED"] == ["MANUAL", "MANUAL"]


async def test_filters_and_orders_give_the_rows_of_the_enrollments_query(
    http: httpx.AsyncClient, gql: GraphQLClient, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    seq, ids = await make_enrolled(db, clock, workspace.actor, 12)
    await pause(db, clock, workspace.actor, Selection(ids=tuple(ids[::3])))
    seq_id = gid("Sequence", seq)
    user = gid("User", workspace.actor.user_id or 0)
    cases: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [
        ({"statuses": ["PAUSED"]}, None),
        ({"search": "contact1"}, {"field": "CONTACT_NAME", "direction": "ASC"}),
        ({"statuses": ["ACTIVE"], "enrolledByIds": [user]}, {"field": "CONTACT_NAME"}),
        ({"enrolledAfter": "2000-01-01", "includeRemoved": True}, {"direction": "ASC"}),
        (None, {"field": "ENROLLED_AT", "direction": "DESC"}),
    ]
    for flt, order in cases:
        rows = table(await export(http, workspace.token, seq_id, flt, order))
        nodes = await listed(gql, seq_id, flt, order)
        assert [r[0] for r in rows[1:]] == [n["id"] for n in nodes], (flt, order)
        assert rows[1:] == [expected_row(n) for n in nodes]
    assert len(table(await export(http, workspace.token, seq_id, {"statuses": ["PAUSED"]}))) == 5


async def test_a_filter_that_matches_nothing_gives_the_header_alone(
    http: httpx.AsyncClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 3)
    response = await export(http, workspace.token, gid("Sequence", seq), {"search": "nobody"})
    assert response.content == (",".join(HEADER) + "\r\n").encode()
    empty = await make_sequence(db, clock, workspace.actor, name="Empty")
    assert table(await export(http, workspace.token, gid("Sequence", empty))) == [HEADER]


async def test_cells_that_would_run_as_formulas_are_written_as_text(
    http: httpx.AsyncClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq = await make_sequence(db, clock, workspace.actor)
    hostile = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "Ada"]
    specs = [
        ContactSpec(first_name=name, last_name='O"Brien, Jr.', email=f"f{i}@example.com")
        for i, name in enumerate(hostile)
    ]
    created = await create_contacts(db, clock, workspace.actor, specs)
    await add_contacts(db, clock, workspace.actor, seq, created.ids)
    order = {"field": "CONTACT_NAME", "direction": "ASC"}
    response = await export(http, workspace.token, gid("Sequence", seq), None, order)
    rows = table(response)
    first_names = [r[9] for r in rows[1:]]
    assert sorted(first_names) == sorted(["'" + n for n in hostile[:4]] + ["Ada"])
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r)
    # commas and quotes come back as they were, through Python's csv reader
    assert {r[10] for r in rows[1:]} == {'O"Brien, Jr.'}
    assert b'"O""Brien, Jr."' in response.content
    assert b"\x00" not in response.content


async def test_the_file_is_named_after_the_sequence_safely(
    http: httpx.AsyncClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq = await make_sequence(db, clock, workspace.actor, name='Q4 "Big"/..\\Outbound: été')
    response = await export(http, workspace.token, gid("Sequence", seq))
    disposition = response.headers["content-disposition"]
    plain = disposition.split('filename="')[1].split('"')[0]
    assert plain == "Q4-Big-..-Outbound-ete-enrollments.csv"
    assert "filename*=UTF-8''Q4%20%22Big%22%2F..%5COutbound%3A%20%C3%A9t%C3%A9-enrollments.csv" in (
        disposition
    )


async def test_a_token_is_required_and_a_viewer_may_export(
    http: httpx.AsyncClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 2)
    seq_id = gid("Sequence", seq)
    for token in (None, "sqg_" + "x" * 43):
        response = await export(http, token, seq_id)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    viewer = await make_workspace(db, clock, role=Role.VIEWER)
    other = await export(http, viewer.token, seq_id)  # a viewer of another workspace
    assert other.status_code == 404
    assert other.json()["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "sequenceId"}
    own = await make_sequence(db, clock, viewer.actor)
    assert table(await export(http, viewer.token, gid("Sequence", own))) == [HEADER]


async def test_bad_parameters_are_refused_naming_them(
    http: httpx.AsyncClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    seq_id = gid("Sequence", seq)
    cases: list[tuple[dict[str, str], str, str]] = [
        ({}, "BAD_USER_INPUT", "sequenceId"),
        ({"sequenceId": "nope"}, "INVALID_ID", "sequenceId"),
        ({"sequenceId": gid("Contact", 1)}, "INVALID_ID", "sequenceId"),
        ({"sequenceId": gid("Sequence", 2**40)}, "NOT_FOUND", "sequenceId"),
        ({"sequenceId": seq_id, "filter": "{statuses"}, "BAD_USER_INPUT", "filter"),
        ({"sequenceId": seq_id, "filter": "[1]"}, "BAD_USER_INPUT", "filter"),
        ({"sequenceId": seq_id, "filter": '{"statuses": ["GONE"]}'}, "BAD_USER_INPUT",
         "filter.statuses.0"),
        ({"sequenceId": seq_id, "filter": '{"colour": "red"}'}, "BAD_USER_INPUT", "filter"),
        ({"sequenceId": seq_id, "filter": '{"steps": ["one"]}'}, "BAD_USER_INPUT",
         "filter.steps.0"),
        ({"sequenceId": seq_id, "filter": '{"enrolledByIds": ["bad"]}'}, "INVALID_ID",
         "filter.enrolledByIds.0"),
        ({"sequenceId": seq_id, "filter": '{"search": "' + "a" * 201 + '"}'}, "TOO_LONG",
         "filter.search"),
        ({"sequenceId": seq_id, "filter": '{"enrolledAfter": "soon"}'}, "BAD_USER_INPUT",
         "filter.enrolledAfter"),
        ({"sequenceId": seq_id, "orderBy": '{"field": "EMAIL"}'}, "BAD_USER_INPUT",
         "orderBy.field"),
        ({"sequenceId": seq_id, "filters": '{"statuses": ["PAUSED"]}'}, "BAD_USER_INPUT",
         "filters"),
        ({"sequenceId": seq_id, "bom": "maybe"}, "BAD_USER_INPUT", "bom"),
        ({"sequenceId": seq_id + "\x00"}, "INVALID_TEXT", "sequenceId"),
    ]  # fmt: skip
    for params, code, field in cases:
        response = await http.get(
            "/export/enrollments.csv",
            params=params,
            headers={"authorization": f"Bearer {workspace.token}"},
        )
        expected = 404 if code == "NOT_FOUND" else 400
        assert response.status_code == expected, (params, response.text)
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == code, (params, error)
        assert error["extensions"]["field"] == field, (params, error)
    posted = await http.post(
        "/export/enrollments.csv", headers={"authorization": f"Bearer {workspace.token}"}
    )
    assert posted.status_code == 405 and posted.headers["allow"] == "GET"
    assert posted.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_a_byte_order_mark_for_excel_when_asked(
    http: httpx.AsyncClient, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    seq, _ = await make_enrolled(db, clock, workspace.actor, 1)
    response = await export(http, workspace.token, gid("Sequence", seq), bom="true")
    assert response.content.startswith("\ufeffenrollment_id,".encode())


async def test_the_file_is_sent_a_batch_at_a_time(
    app: Starlette, db: Database, clock: FrozenClock, workspace: Workspace
) -> None:
    """20,000 rows leave in several pieces (a header, then one per batch of 5,000): the
    answer is never built whole."""
    seq = await make_sequence(db, clock, workspace.actor)
    ids = await enroll_many(db, clock, workspace.actor, seq, 20_000)
    query = httpx.QueryParams(export_params(gid("Sequence", seq))).__str__()
    messages = await sent_messages(app, "/export/enrollments.csv", query, workspace.token)
    assert messages[0]["type"] == "http.response.start" and messages[0]["status"] == 200
    pieces = [m["body"] for m in messages[1:] if m.get("body")]
    assert len(pieces) == 5
    lines = b"".join(pieces).split(b"\r\n")
    assert len(lines) == 1 + 20_000 + 1 and lines[-1] == b""
    assert max(len(p) for p in pieces) < len(b"".join(pieces)) / 3
    exported = {line.split(b",", 1)[0].decode() for line in lines[1:-1]}
    assert exported == {gid("Enrollment", pk) for pk in ids}
