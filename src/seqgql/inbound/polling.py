"""The IMAP poller: every ``IMAP_POLL_SECONDS`` it reads the messages that arrived in the
mailbox since the last UID it read (kept with the mailbox's UIDVALIDITY: a new
UIDVALIDITY starts over, and what was read before is recognised by its Message-ID),
has each one processed (``services.inbound_mail``), marks it ``\\Seen`` and moves its
cursor past it. Run by `seqgql worker`, and by `serve` where it runs the engine.

A failure (the server away, a refused login, the database away) is logged, and the poll
is tried again after a backoff (doubling up to 5 minutes): the worker never stops for it.
A message is marked read and passed only once processed, so one interrupted is read again
next time, and recognised."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from seqgql.clock import Clock
from seqgql.domain.kinds import ReportDecision
from seqgql.inbound.classify import NotAMessage
from seqgql.inbound.imap import ImapError, ImapSettings, Mailbox
from seqgql.persistence.database import Database, first_line, is_unavailable
from seqgql.services.actor import Actor
from seqgql.services.inbound_cursors import (
    Cursor,
    mailbox_cursor,
    save_mailbox_cursor,
    workspace_actor,
)
from seqgql.services.inbound_mail import Source, process_inbound
from seqgql.settings import Settings

log = logging.getLogger("seqgql.inbound")
MAX_BACKOFF_SECONDS = 300.0


@dataclass(slots=True)
class PollStats:
    read: int = 0  # messages processed
    changed: int = 0  # of which changed an enrollment's status
    skipped: int = 0  # too large, or no email


class InboxPoller:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        imap: ImapSettings,
        workspace: str,
        *,
        poll_seconds: float = 60.0,
        max_bytes: int = 10_000_000,
    ) -> None:
        self.db = db
        self.clock = clock
        self.imap = imap
        self.workspace = workspace
        self.poll_seconds = poll_seconds
        self.max_bytes = max_bytes

    @classmethod
    def from_settings(cls, db: Database, clock: Clock, settings: Settings) -> InboxPoller | None:
        """The poller the settings ask for (None without IMAP_HOST)."""
        if not settings.imap_host or not settings.imap_username or not settings.imap_workspace:
            return None
        password = settings.imap_password.get_secret_value() if settings.imap_password else ""
        imap = ImapSettings(
            settings.imap_host,
            settings.imap_port,
            settings.imap_username,
            password,
            use_tls=settings.imap_tls,
            mailbox=settings.imap_mailbox,
        )
        return cls(
            db, clock, imap, settings.imap_workspace,
            poll_seconds=settings.imap_poll_seconds, max_bytes=settings.inbound_max_bytes,
        )  # fmt: skip

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set (see the module)."""
        failures = 0
        while not stop.is_set():
            try:
                stats = await self.poll_once(stop)
            except Exception as exc:
                failures += 1
                delay = min(self.poll_seconds * 2 ** min(failures - 1, 10), MAX_BACKOFF_SECONDS)
                if isinstance(exc, ImapError) or is_unavailable(exc):
                    log.warning("inbound mail: %s; trying again in %.0f s", first_line(exc), delay)
                else:
                    log.exception("inbound mail: the poll failed; trying again in %.0f s", delay)
            else:
                failures = 0
                delay = self.poll_seconds
                if stats.read or stats.skipped:
                    log.info(
                        "inbound mail: %d read (%d changed a status), %d skipped",
                        stats.read, stats.changed, stats.skipped,
                    )  # fmt: skip
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def poll_once(self, stop: asyncio.Event | None = None) -> PollStats:
        """Read what arrived since the last poll; raises what kept it from finishing."""
        stats = PollStats()
        actor = await workspace_actor(self.db, self.workspace)
        if actor is None:
            raise ImapError(f"IMAP_WORKSPACE {self.workspace!r} is not a workspace")
        key = self.imap.cursor_key
        async with Mailbox(self.imap) as box:
            cursor = await mailbox_cursor(self.db, key)
            after = cursor.last_uid if cursor and cursor.uid_validity == box.uid_validity else 0
            for waiting in await box.waiting(after):
                if stop is not None and stop.is_set():
                    break
                if waiting.size > self.max_bytes:
                    log.warning(
                        "inbound mail: UID %d is %d bytes, over INBOUND_MAX_BYTES: skipped",
                        waiting.uid, waiting.size,
                    )  # fmt: skip
                    stats.skipped += 1
                else:
                    raw = await box.read(waiting.uid)
                    if raw is not None:
                        await self._process(raw, waiting.uid, actor, stats)
                    await box.mark_seen(waiting.uid)
                cursor = Cursor(box.uid_validity, waiting.uid)
                await save_mailbox_cursor(self.db, self.clock, key, cursor)
        return stats

    async def _process(self, raw: bytes, uid: int, actor: Actor, stats: PollStats) -> None:
        try:
            result = await process_inbound(self.db, self.clock, actor, raw, source=Source.IMAP)
        except NotAMessage:
            log.warning("inbound mail: UID %d is not an email: skipped", uid)
            stats.skipped += 1
            return
        stats.read += 1
        if result.decision is ReportDecision.APPLIED and not result.duplicate:
            stats.changed += 1
        log.info(
            "inbound mail: UID %d: %s, %s, enrollment %s%s",
            uid, result.kind.value, result.decision.value, result.enrollment_id,
            " (read before)" if result.duplicate else "",
        )  # fmt: skip
