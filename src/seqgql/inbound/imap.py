"""Reading a mailbox over IMAP (aioimaplib): the messages after a UID, each one's bytes,
and marking one ``\\Seen``. Nothing is deleted. Every failure to talk to the server (a
refused connection, a timeout, a refused login, an answer that is not OK) is an
``ImapError``."""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aioimaplib

_FETCHED = re.compile(rb"\bUID (\d+)\b.*?\bRFC822\.SIZE (\d+)")
_FETCHED_SWAPPED = re.compile(rb"\bRFC822\.SIZE (\d+)\b.*?\bUID (\d+)")
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")


class ImapError(Exception):
    """The server could not be reached, refused us, or answered what we cannot use."""


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    use_tls: bool = True
    mailbox: str = "INBOX"
    timeout: float = 30.0  # seconds, per command

    @property
    def cursor_key(self) -> str:
        """What names this mailbox where the poller's progress is kept."""
        return f"{self.username}@{self.host}:{self.port}/{self.mailbox}"[:400]


@dataclass(frozen=True, slots=True)
class Waiting:
    uid: int
    size: int  # bytes


class Mailbox:
    """One session with the mailbox: ``async with Mailbox(settings) as box: ...``."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self.uid_validity = 0
        self._client: Any = None

    async def __aenter__(self) -> Mailbox:
        s = self.settings
        try:
            if s.use_tls:
                context = ssl.create_default_context()
                self._client = aioimaplib.IMAP4_SSL(
                    s.host, s.port, timeout=s.timeout, ssl_context=context
                )
            else:
                self._client = aioimaplib.IMAP4(s.host, s.port, timeout=s.timeout)
            await self._client.wait_hello_from_server()
            _ok(await self._client.login(s.username, s.password), "LOGIN")
            selected = _ok(await self._client.select(_quoted(s.mailbox)), "SELECT")
        except ImapError:
            await self._close()
            raise
        except (aioimaplib.AioImapException, OSError, TimeoutError, ssl.SSLError) as exc:
            await self._close()
            raise ImapError(f"IMAP {s.host}:{s.port}: {exc!r}") from exc
        found = next((_UIDVALIDITY.search(bytes(line)) for line in selected.lines
                      if b"UIDVALIDITY" in line), None)  # fmt: skip
        if found is None:
            await self._close()
            raise ImapError("the server gave no UIDVALIDITY for the mailbox")
        self.uid_validity = int(found.group(1))
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._close()

    async def waiting(self, after_uid: int) -> list[Waiting]:
        """The messages whose UID is above ``after_uid``, in UID order, with their sizes."""
        response = await self._command("fetch", f"{after_uid + 1}:*", "(UID RFC822.SIZE)")
        found: dict[int, int] = {}
        for line in response.lines:
            text = bytes(line)
            match = _FETCHED.search(text)
            if match:
                found[int(match.group(1))] = int(match.group(2))
            elif swapped := _FETCHED_SWAPPED.search(text):
                found[int(swapped.group(2))] = int(swapped.group(1))
        # "n:*" always names the last message, even when its UID is below n
        return [Waiting(uid, size) for uid, size in sorted(found.items()) if uid > after_uid]

    async def read(self, uid: int) -> bytes | None:
        """The message's bytes, without marking it read (None: it is gone)."""
        response = await self._command("fetch", str(uid), "(BODY.PEEK[])")
        for line in response.lines:
            if isinstance(line, bytearray):
                return bytes(line)
        return None

    async def mark_seen(self, uid: int) -> None:
        await self._command("store", str(uid), "+FLAGS.SILENT", "(\\Seen)")

    async def _command(self, name: str, *args: str) -> Any:
        try:
            response = await self._client.uid(name, *args)
        except (aioimaplib.AioImapException, OSError, TimeoutError) as exc:
            raise ImapError(f"IMAP UID {name.upper()}: {exc!r}") from exc
        return _ok(response, f"UID {name.upper()}")

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.get_state() in ("AUTH", "SELECTED"):
                await client.logout()
        except Exception:  # saying goodbye to a server that went away
            pass
        finally:
            transport = getattr(client.protocol, "transport", None)
            if transport is not None:
                transport.close()


def _ok(response: Any, command: str) -> Any:
    if getattr(response, "result", None) != "OK":
        lines = b" ".join(bytes(x) for x in getattr(response, "lines", [])[:3])
        raise ImapError(f"IMAP {command} refused: {lines.decode(errors='replace')[:200]}")
    return response


def _quoted(mailbox: str) -> str:
    escaped = mailbox.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
