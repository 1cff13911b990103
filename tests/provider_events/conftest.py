"""Provider events tests' fixtures: an app that knows the test run's SendGrid verification
key and Mailgun signing key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.outbound.transport import RecordingTransport
from seqgql.settings import Settings
from tests.helpers.provider_events import SendGridKey
from tests.helpers.tokens import token_cache

MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


@pytest.fixture(scope="session")
def sendgrid_key() -> SendGridKey:
    return SendGridKey.generate()


@pytest.fixture
def mailgun_key() -> str:
    return MAILGUN_KEY


@pytest.fixture
async def app(
    database_url: str, clock: FrozenClock, transport: RecordingTransport,
    sendgrid_key: SendGridKey,
) -> AsyncIterator[Starlette]:  # fmt: skip
    application = create_app(
        Settings(
            database_url=database_url,
            auto_migrate=False,
            allowed_origins=[],
            run_engine=False,
            sendgrid_webhook_public_key=sendgrid_key.public,
            mailgun_webhook_signing_key=SecretStr(MAILGUN_KEY),
        ),
        clock=clock,
        transport=transport,
    )
    token_cache(application).clock = clock
    async with application.router.lifespan_context(application):
        yield application
