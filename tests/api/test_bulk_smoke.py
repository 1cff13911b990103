from __future__ import annotations

from tests.helpers.bulk import PAUSE
from tests.helpers.factories import gid, gids, make_enrolled
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.workspace import Workspace

LIST = """
query($seq: ID!, $filter: EnrollmentFilter) {
  enrollments(sequenceId: $seq, filter: $filter) {
    totalCount
    statusCounts { status count }
    edges { node { id status reason contact { firstName } enrolledBy { email } } }
  }
}"""


async def test_pause_by_filter_then_list(
    gql: GraphQLClient, workspace: Workspace, db, clock
) -> None:
    seq, ids = await make_enrolled(db, clock, workspace.actor, 5)
    data = await gql.execute(PAUSE, {"input": {"selection": {"ids": gids("Enrollment", ids[:2])}}})
    assert data["pauseEnrollments"]["changedCount"] == 2
    data = await gql.execute(PAUSE, {"input": {"selection": {"sequenceId": gid("Sequence", seq)}}})
    result = data["pauseEnrollments"]
    assert result["changedCount"] == 3
    assert result["skipped"][0]["reason"] == "ALREADY_IN_STATUS"
    assert result["skipped"][0]["count"] == 2
    listing = await gql.execute(
        LIST, {"seq": gid("Sequence", seq), "filter": {"statuses": ["PAUSED"]}}
    )
    assert listing["enrollments"]["totalCount"] == 5
    assert {e["node"]["status"] for e in listing["enrollments"]["edges"]} == {"PAUSED"}
