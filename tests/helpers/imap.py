"""A real IMAP server for the tests: Dovecot (Debian's dovecot-imapd) of the test's own,
on a free loopback port, with a private configuration in a temporary directory (plain
logins allowed, one passwd-file user, maildir), stopped by its PID. ``append`` puts a
message in its mailbox as a mail server would deliver it; ``flags`` reads what the poller
marked."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import aioimaplib

from seqgql.inbound.imap import ImapSettings
from tests.helpers.processes import free_port, stop_process, wait_for_port

DOVECOT = "/usr/sbin/dovecot"
USER = "seqgql"
PASSWORD = "inbound-secret"


def dovecot_program() -> str | None:
    return DOVECOT if os.access(DOVECOT, os.X_OK) else shutil.which("dovecot")


class PrivateDovecot:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="seqgql-dovecot-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        mail = self.dir / "mail"
        mail.mkdir()
        if os.geteuid() == 0:  # Dovecot's own users, and mail owned by the "mail" user
            owner = pwd.getpwnam("mail")
            os.chown(mail, owner.pw_uid, owner.pw_gid)
            users = f"uid={owner.pw_uid} gid={owner.pw_gid}"
            internal = ""
        else:  # everything as the user running the tests
            me = pwd.getpwuid(os.geteuid()).pw_name
            users = f"uid={os.geteuid()} gid={os.getegid()}"
            internal = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
        (self.dir / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (self.dir / "dovecot.conf").write_text(
            f"""{internal}base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{mail}/%u
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.dir}/passwd
}}
userdb {{
  driver = static
  args = {users} home={mail}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
        )

    @property
    def settings(self) -> ImapSettings:
        return ImapSettings("127.0.0.1", self.port, USER, PASSWORD, use_tls=False, timeout=10)

    def start(self) -> None:
        program = dovecot_program()
        assert program is not None
        self.process = subprocess.Popen(
            [program, "-F", "-c", str(self.dir / "dovecot.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, 30, self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def _client(self) -> aioimaplib.IMAP4:
        client = aioimaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        await client.wait_hello_from_server()
        assert (await client.login(USER, PASSWORD)).result == "OK"
        return client

    async def append(self, raw: bytes, mailbox: str = "INBOX") -> None:
        """Deliver ``raw`` into the mailbox (IMAP APPEND)."""
        client = await self._client()
        try:
            response = await client.append(raw, mailbox=mailbox)
            assert response.result == "OK", response
        finally:
            await client.logout()

    async def flags(self, mailbox: str = "INBOX") -> dict[int, set[str]]:
        """Each message's flags, by UID."""
        client = await self._client()
        try:
            await client.select(mailbox)
            response = await client.uid("fetch", "1:*", "(UID FLAGS)")
        finally:
            await client.logout()
        found: dict[int, set[str]] = {}
        for line in response.lines:
            text = bytes(line).decode(errors="replace")
            if "UID " in text and "FLAGS (" in text:
                uid = int(text.split("UID ")[1].split()[0])
                found[uid] = set(text.split("FLAGS (")[1].split(")")[0].split())
        return found
