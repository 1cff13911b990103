"""The Contacts tab's sorts by next send, status change, step and status, and its filters
on a scheduled auto-resume, the next send and the last status change (issue 12, point
9): every order pages both ways through the same rows, and on PostgreSQL each is served
by an index (no sequential scan of enrollments)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from starlette.applications import Starlette

from seqgql.clock import FrozenClock
from seqgql.domain.selection import Selection
from seqgql.domain.status import FinishReason
from seqgql.persistence.database import Database
from seqgql.services.enrollments import finish, move_to_step, pause
from tests.helpers.bulk import moment
from tests.helpers.factories import gid, make_enrolled
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.workspace import Workspace

PAGE = """
query($seq: ID!, $first: Int, $after: String, $last: Int, $before: String,
      $order: EnrollmentOrder, $filter: EnrollmentFilter) {
  enrollments(sequenceId: $seq, first: $first, after: $after, last: $last, before: $before,
              orderBy: $order, filter: $filter) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { id status currentStep nextRunAt statusChangedAt resumeAt } }
  }
}"""
FAR = datetime(9999, 12, 31, tzinfo=UTC)
LAST = 2_147_483_647


@pytest.fixture
async def board(db: Database, clock: FrozenClock, workspace: Workspace) -> tuple[int, list[int]]:
    """Eight enrollments: ACTIVE at steps 1 and 2, PAUSED (with and without an
    auto-resume), FINISHED (no step), changed at different moments."""
    actor = workspace.actor
    seq, ids = await make_enrolled(db, clock, actor, 8)
    clock.advance(timedelta(minutes=5))
    await move_to_step(db, clock, actor, Selection(ids=tuple(ids[:2])), 2)
    clock.advance(timedelta(minutes=5))
    await pause(
        db, clock, actor, Selection(ids=(ids[2],)), resume_at=clock.now() + timedelta(days=2)
    )
    clock.advance(timedelta(minutes=5))
    await pause(db, clock, actor, Selection(ids=(ids[3],)))
    clock.advance(timedelta(minutes=5))
    await finish(db, clock, actor, Selection(ids=(ids[4], ids[5])), FinishReason.OTHER)
    return seq, ids


async def page(gql: GraphQLClient, seq: int, **variables: Any) -> dict[str, Any]:
    data = await gql.execute(PAGE, {"seq": gid("Sequence", seq), **variables})
    return data["enrollments"]  # type: ignore[no-any-return]


def key(field: str, node: dict[str, Any]) -> Any:
    if field == "NEXT_SEND_AT":
        return moment(node["nextRunAt"]) or FAR
    if field == "STATUS_CHANGED_AT":
        return moment(node["statusChangedAt"])
    if field == "CURRENT_STEP":
        return LAST if node["currentStep"] is None else node["currentStep"]
    return node["status"]


def pk(node: dict[str, Any]) -> int:
    from seqgql.graphql.relay import parse_global_id

    return parse_global_id(node["id"])[1]


@pytest.mark.parametrize("field", ["NEXT_SEND_AT", "STATUS_CHANGED_AT", "CURRENT_STEP", "STATUS"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_each_sort_pages_both_ways_in_order(
    gql: GraphQLClient, board: tuple[int, list[int]], field: str, direction: str
) -> None:
    seq, ids = board
    order = {"field": field, "direction": direction}
    forward: list[dict[str, Any]] = []
    after = None
    while True:
        result = await page(gql, seq, first=3, after=after, order=order)
        forward += [e["node"] for e in result["edges"]]
        if not result["pageInfo"]["hasNextPage"]:
            break
        after = result["pageInfo"]["endCursor"]
    expected = sorted(forward, key=lambda n: (key(field, n), pk(n)), reverse=direction == "DESC")
    assert [n["id"] for n in forward] == [n["id"] for n in expected]
    assert len(forward) == len(ids)
    backward: list[dict[str, Any]] = []
    before = None
    while True:
        result = await page(gql, seq, last=3, before=before, order=order)
        backward = [e["node"] for e in result["edges"]] + backward
        if not result["pageInfo"]["hasPreviousPage"]:
            break
        before = result["pageInfo"]["startCursor"]
    assert [n["id"] for n in backward] == [n["id"] for n in forward]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("steps", [[2], [1, 2], [2, 1, 2]])
async def test_the_step_sort_with_a_steps_filter_pages_through_those_steps(
    gql: GraphQLClient, board: tuple[int, list[int]], direction: str, steps: list[int]
) -> None:
    """Sorting by step while filtering on steps (the range of the steps also bounds the
    sort key, for its index) lists exactly the enrollments at those steps, both ways."""
    seq, _ = board
    order = {"field": "CURRENT_STEP", "direction": direction}
    everything = await page(gql, seq, first=100, order=order)
    expected = [e["node"]["id"] for e in everything["edges"]
                if e["node"]["currentStep"] in steps]  # fmt: skip
    assert expected
    forward: list[str] = []
    after = None
    while True:
        result = await page(gql, seq, first=2, after=after, order=order, filter={"steps": steps})
        forward += [e["node"]["id"] for e in result["edges"]]
        if not result["pageInfo"]["hasNextPage"]:
            break
        after = result["pageInfo"]["endCursor"]
    assert forward == expected
    last = await page(gql, seq, last=1, order=order, filter={"steps": steps})
    assert [e["node"]["id"] for e in last["edges"]] == expected[-1:]
    assert last["totalCount"] == len(expected)


async def test_the_new_filters(
    gql: GraphQLClient, board: tuple[int, list[int]], clock: FrozenClock
) -> None:
    seq, ids = board
    ids_of = lambda result: {pk(e["node"]) for e in result["edges"]}  # noqa: E731
    assert ids_of(await page(gql, seq, filter={"resumeScheduled": True})) == {ids[2]}
    unscheduled = await page(gql, seq, filter={"resumeScheduled": False})
    assert ids[2] not in ids_of(unscheduled) and unscheduled["totalCount"] == 7
    everything = await page(gql, seq, first=100)
    due = {pk(e["node"]): moment(e["node"]["nextRunAt"]) for e in everything["edges"]}
    soonest = min(d for d in due.values() if d is not None)
    window = {"from": soonest.isoformat(), "to": (soonest + timedelta(seconds=1)).isoformat()}
    within = ids_of(await page(gql, seq, filter={"nextSendBetween": window}))
    assert within == {i for i, d in due.items() if d == soonest} and within
    changed = {pk(e["node"]): moment(e["node"]["statusChangedAt"]) for e in everything["edges"]}
    since = clock.now() - timedelta(minutes=1)
    assert (
        ids_of(await page(gql, seq, filter={"statusChangedBetween": {"from": since.isoformat()}}))
        == {i for i, c in changed.items() if c is not None and c >= since}
        == {ids[4], ids[5]}
    )
    # a date without a time is UTC midnight
    day = await page(gql, seq, filter={"statusChangedBetween": {"to": "2000-01-01"}})
    assert day["totalCount"] == 0


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"order": {"field": "STATUS", "direction": "ASC"},
          "after": "WyJTVEFUVVMiLCAiQVNDIiwgIk5PUEUiLCAxXQ=="}, "after"),
        ({"order": {"field": "CURRENT_STEP", "direction": "ASC"},
          "after": "WyJDVVJSRU5UX1NURVAiLCAiQVNDIiwgIjIiLCAxXQ=="}, "after"),
    ],
)  # fmt: skip
async def test_a_forged_cursor_of_a_new_order_names_the_argument(
    gql: GraphQLClient, board: tuple[int, list[int]], variables: dict[str, Any], argument: str
) -> None:
    seq, _ = board
    errors = await gql.errors(PAGE, {"seq": gid("Sequence", seq), **variables})
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}


async def test_a_bad_range_names_its_field(
    gql: GraphQLClient, board: tuple[int, list[int]]
) -> None:
    seq, _ = board
    errors = await gql.errors(
        PAGE, {"seq": gid("Sequence", seq), "filter": {"nextSendBetween": {"from": "soon"}}}
    )
    assert errors[0]["extensions"]["code"] in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED")


SERVED = [
    ({"order": {"field": "NEXT_SEND_AT", "direction": "ASC"}}, None),
    ({"order": {"field": "STATUS_CHANGED_AT", "direction": "DESC"}}, None),
    ({"order": {"field": "CURRENT_STEP", "direction": "ASC"}}, None),
    ({"order": {"field": "STATUS", "direction": "ASC"}}, None),
    ({}, {"resumeScheduled": True}),
    ({}, {"nextSendBetween": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}}),
    ({}, {"statusChangedBetween": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}}),
    ({}, {"outcomes": ["RESPONDED"]}),
    ({"order": {"field": "CURRENT_STEP", "direction": "ASC"}}, {"steps": [1]}),
]


@pytest.mark.postgres_only
@pytest.mark.parametrize(("order", "flt"), SERVED, ids=[str(i) for i in range(len(SERVED))])
async def test_postgresql_serves_each_from_an_index(
    app: Starlette, gql: GraphQLClient, db: Database, workspace: Workspace,
    order: dict[str, Any], flt: dict[str, Any] | None,
) -> None:  # fmt: skip
    """50,000 enrollments over five sequences, analyzed: the page's statements for one
    sequence read it through an index, never a sequential scan of enrollments."""
    ws = workspace.actor.workspace_id
    async with db.write() as conn:
        for n in range(5):
            seq = (await conn.execute(sa.text(
                "INSERT INTO sequences (workspace_id, name, archived, active, reply_window_minutes,"
                " last_event_number, created_at) VALUES (:ws, :name, false, true, 60, 0, now())"
                " RETURNING id"), {"ws": ws, "name": f"Big {n}"})).scalar_one()  # fmt: skip
            await conn.execute(sa.text(
                "INSERT INTO steps (sequence_id, position, channel, wait_minutes, body)"
                " VALUES (:seq, 1, 'EMAIL', 0, 'Hi')"), {"seq": seq})  # fmt: skip
            await conn.execute(sa.text(f"""
                WITH c AS (
                  INSERT INTO contacts (workspace_id, first_name, sort_name, search_text,
                                        phone_type, opted_out, created_at)
                  SELECT :ws, 'C' || g, 'c' || g, 'c' || g, 'MOBILE', false, now()
                  FROM generate_series(1, 10000) g RETURNING id)
                INSERT INTO enrollments (workspace_id, sequence_id, contact_id, status,
                  current_step, last_sent_step, enrolled_at, next_run_at, updated_at,
                  status_changed_at, resume_at, outcome, version)
                SELECT :ws, {seq}, c.id,
                  (ARRAY['ACTIVE','PAUSED','FINISHED'])[1 + c.id % 3],
                  CASE WHEN c.id % 3 = 2 THEN NULL ELSE 1 END, 0, now(),
                  CASE WHEN c.id % 3 = 0 THEN now() + (c.id % 1000) * interval '1 minute' END,
                  now(), now() - (c.id % 5000) * interval '1 minute',
                  CASE WHEN c.id % 97 = 0 THEN now() + interval '1 day' END,
                  CASE WHEN c.id % 3 = 2 THEN 'RESPONDED' END, 0
                FROM c"""), {"ws": ws})  # fmt: skip
        await conn.execute(sa.text("ANALYZE enrollments"))
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM enrollments" in statement or "JOIN enrollments" in statement:
            statements.append((statement, parameters))

    def observe(statement: str, args: Any, _sources: Any) -> None:  # the page's (asyncpg)
        capture(None, None, statement, args)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    app.state.db.direct.observers.append(observe)
    try:
        await page(gql, seq, first=50, filter=flt, **order)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
        app.state.db.direct.observers.remove(observe)
    assert statements
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        for statement, parameters in statements:
            plan = await raw.driver_connection.fetch(f"EXPLAIN {statement}", *parameters)
            text = "\n".join(r[0] for r in plan)
            assert "Seq Scan on enrollments" not in text, text
