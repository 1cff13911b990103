"""sendMessage through a real SMTP server that refuses one recipient: the others get
their email, and the refused one is recorded as the engine records it (an email refused
for good BOUNCED; outbound.sending.failure_kind decides both)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.outbound.smtp import SmtpTransport
from seqgql.persistence.database import Database
from seqgql.persistence.tables import activities
from seqgql.settings import Settings
from tests.helpers.factories import gids, make_enrolled
from tests.helpers.graphql_client import GraphQLClient, mutate
from tests.helpers.smtp import RecordingHandler, settings_for
from tests.helpers.workspace import Workspace


@pytest.fixture
async def smtp_gql(
    database_url: str, clock: FrozenClock, smtp_port: int, workspace: Workspace
) -> AsyncIterator[GraphQLClient]:
    settings = Settings(database_url=database_url, auto_migrate=False, run_engine=False)
    app = create_app(settings, clock=clock, transport=SmtpTransport(settings_for(smtp_port)))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        yield GraphQLClient(http, workspace.token)


async def test_a_refused_email_is_recorded_bounced_and_the_others_go_out(
    smtp_gql: GraphQLClient, smtp_handler: RecordingHandler, db: Database, clock: FrozenClock,
    workspace: Workspace,
) -> None:  # fmt: skip
    prefix = f"Mail{workspace.name[-6:]}"
    _, ids = await make_enrolled(db, clock, workspace.actor, 2, prefix=prefix)
    refused = f"{prefix.lower()}0@example.com"
    smtp_handler.refuse[refused] = "550 5.1.1 <refused>: no such mailbox"
    payload = await mutate(
        smtp_gql,
        "sendMessage",
        {"selection": {"ids": gids("Enrollment", ids)}, "channel": "EMAIL",
         "subject": "Quick one", "body": "Are you there?"},
        "sentCount userErrors { code }",
    )  # fmt: skip
    assert payload == {"sentCount": 2, "userErrors": []}
    assert [d.rcpt_tos for d in smtp_handler.delivered] == [[f"{prefix.lower()}1@example.com"]]
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(activities.c.enrollment_id, activities.c.kind, activities.c.detail)
            .where(activities.c.enrollment_id.in_(ids))
            .order_by(activities.c.id)
        )
        kinds = [(r.enrollment_id, str(r.kind), r.detail) for r in rows]
    assert [(pk, kind) for pk, kind, _ in kinds] == [
        (ids[0], "SENT"), (ids[1], "SENT"), (ids[0], "BOUNCED"),
    ]  # fmt: skip
    assert "550" in kinds[-1][2] and "no such mailbox" in kinds[-1][2]
