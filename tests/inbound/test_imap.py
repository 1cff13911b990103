"""The IMAP poller end to end, against a real Dovecot of the test's own: the engine sends
steps through a real SMTP server; replies to them (a person's, a bounce, an absence) are
delivered into the mailbox by IMAP APPEND; the poller reads them, and GraphQL shows each
enrollment FINISHED (REPLIED), BOUNCED, or PAUSED until the return date, with its
activity; the messages are marked \\Seen, not deleted; read again, they change nothing;
a server that cannot be reached is retried, never a crash."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import httpx
import pytest

from seqgql.clock import FrozenClock
from seqgql.inbound.imap import ImapError, ImapSettings
from seqgql.inbound.polling import InboxPoller
from seqgql.outbound.smtp import SmtpTransport
from seqgql.persistence.database import Database
from seqgql.services.inbound_cursors import Cursor, mailbox_cursor, save_mailbox_cursor
from tests.helpers.engine import engine_for
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.imap import PrivateDovecot, dovecot_program
from tests.helpers.inbound import corpus_message, enrolled_contact, enrollment_view, status_events
from tests.helpers.processes import free_port, require_programs
from tests.helpers.smtp import RecordingHandler, settings_for
from tests.helpers.workspace import Workspace

pytestmark = pytest.mark.isolated_clock


@pytest.fixture
def dovecot() -> Iterator[PrivateDovecot]:
    require_programs(dovecot_program(), why="Dovecot (apt-get install dovecot-imapd) is")
    server = PrivateDovecot()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def reply(to_id: str, sender: str, body: str, now: datetime, **headers: str) -> bytes:
    """A person's (or a responder's) answer to the message ``to_id``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "outreach@example.com"
    message["Subject"] = headers.pop("Subject", "Re: Hi")
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<answer-{abs(hash((to_id, sender, body)))}@acme.example.com>"
    message["In-Reply-To"] = to_id
    message["References"] = to_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


async def test_replies_bounces_and_absences_read_from_the_mailbox(
    db: Database, clock: FrozenClock, workspace: Workspace, http: httpx.AsyncClient,
    gql: GraphQLClient, dovecot: PrivateDovecot, smtp_handler: RecordingHandler,
    smtp_port: int,
) -> None:  # fmt: skip
    actor = workspace.actor
    _, ada = await enrolled_contact(db, clock, actor, email="ada@acme.example.com")
    _, bob = await enrolled_contact(db, clock, actor, email="bob@acme.example.com")
    _, cleo = await enrolled_contact(db, clock, actor, email="cleo@acme.example.com")
    engine = engine_for(db, clock, SmtpTransport(settings_for(smtp_port)))
    await engine.run_once()
    sent = {d.rcpt_tos[0]: str(d.message["Message-ID"]) for d in smtp_handler.delivered}
    assert set(sent) == {"ada@acme.example.com", "bob@acme.example.com", "cleo@acme.example.com"}

    now = clock.now()
    back = (now + timedelta(days=10)).date()
    answers = [
        reply(sent["ada@acme.example.com"], "Ada <ada@acme.example.com>",
              f"Yes, let's talk.\n\nOn {now:%a, %b %d} Sam <outreach@example.com> wrote:\n> Hi",
              now),
        corpus_message("postfix_bounce.eml", bob, "bob@acme.example.com"),
        reply(sent["cleo@acme.example.com"], "cleo@acme.example.com",
              f"I am out of the office and will be back on {back:%A, %d %B %Y}.", now,
              Subject="Out of Office", Auto_Submitted="auto-replied"),
        corpus_message("unmatched.eml", 1, "nobody@example.com"),
    ]  # fmt: skip
    for raw in answers:
        await dovecot.append(raw)

    poller = InboxPoller(db, clock, dovecot.settings, workspace.name, poll_seconds=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run_forever(stop))
    try:
        for _ in range(1200):  # at most a minute: the poller gets there in milliseconds
            read = await mailbox_cursor(db, dovecot.settings.cursor_key)
            if read is not None and read.last_uid == len(answers):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task

    views = {pk: await enrollment_view(gql, pk) for pk in (ada, bob, cleo)}
    assert (views[ada]["status"], views[ada]["reason"]) == ("FINISHED", "REPLIED")
    assert views[bob]["status"] == "BOUNCED"
    assert (views[cleo]["status"], views[cleo]["reason"]) == ("PAUSED", "OUT_OF_OFFICE")
    assert views[cleo]["resumeAt"] == f"{back.isoformat()}T00:00:00+00:00"
    assert [a["kind"] for a in views[ada]["activities"]] == ["SENT", "REPLIED"]
    assert views[ada]["activities"][1]["detail"].endswith("\n\nYes, let's talk.")
    assert "Status: 5.1.1" in views[bob]["activities"][1]["detail"]
    assert f"return date {back.isoformat()}" in views[cleo]["activities"][1]["detail"]
    assert await status_events(db, ada) == [("ACTIVE", "FINISHED", "REPLIED")]
    assert await status_events(db, bob) == [("ACTIVE", "BOUNCED", None)]
    flags = await dovecot.flags()
    assert len(flags) == 4 and all("\\Seen" in f for f in flags.values())
    cursor = await mailbox_cursor(db, dovecot.settings.cursor_key)
    assert cursor is not None and cursor.last_uid == max(flags)

    # the same reply delivered again (a new UID), and the mailbox read from the start
    await dovecot.append(answers[0])
    again = InboxPoller(db, clock, dovecot.settings, workspace.name)
    assert (await again.poll_once()).read == 1

    await save_mailbox_cursor(db, clock, dovecot.settings.cursor_key, Cursor(1, 0))
    assert (await again.poll_once()).read == 5  # a new UIDVALIDITY: everything again
    assert [a["kind"] for a in (await enrollment_view(gql, ada))["activities"]] == [
        "SENT",
        "REPLIED",
    ]
    assert await status_events(db, ada) == [("ACTIVE", "FINISHED", "REPLIED")]
    assert await status_events(db, cleo) == [("ACTIVE", "PAUSED", "OUT_OF_OFFICE")]


async def test_a_server_away_or_refusing_is_retried_never_a_crash(
    db: Database, clock: FrozenClock, workspace: Workspace, dovecot: PrivateDovecot,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    wrong = ImapSettings("127.0.0.1", dovecot.port, "seqgql", "wrong", use_tls=False, timeout=5)
    with pytest.raises(ImapError, match="LOGIN refused"):
        await InboxPoller(db, clock, wrong, workspace.name).poll_once()
    away = ImapSettings("127.0.0.1", free_port(), "seqgql", "x", use_tls=False, timeout=2)
    poller = InboxPoller(db, clock, away, workspace.name, poll_seconds=0.02)
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="seqgql.inbound"):
        task = asyncio.create_task(poller.run_forever(stop))
        await asyncio.sleep(0.3)
        assert not task.done()  # still trying
        stop.set()
        await task
    warnings = [r.getMessage() for r in caplog.records if r.name == "seqgql.inbound"]
    assert len(warnings) >= 2 and all("trying again in" in w for w in warnings)
    assert all(r.exc_info is None for r in caplog.records if r.name == "seqgql.inbound")
