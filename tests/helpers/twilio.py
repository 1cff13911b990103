"""A local server that speaks Twilio's Messages API, and webhooks signed as Twilio signs
them (``twilio.request_validator.RequestValidator`` with the account's Auth Token).

The server (127.0.0.1, its own thread) answers ``POST /2010-04-01/Accounts/{Sid}/Messages.json``
as Twilio documents it: form fields To, Body, From or MessagingServiceSid, StatusCallback;
Basic credentials (the account SID and Auth Token, or an API key SID and secret); 201 and
the message as JSON (sid, status "queued", ...); errors as Twilio writes them: JSON
``{code, message, more_info, status}`` with 401 (20003) for wrong credentials, 400 for a
refused message (21211, 21610...), 429 or 503 for a transient failure. It records what it
received."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from twilio.request_validator import RequestValidator

from seqgql.graphql.relay import to_global_id
from seqgql.outbound.twilio_sms import TwilioSettings
from seqgql.settings import Settings
from tests.helpers.graphql_client import GraphQLClient
from tests.helpers.processes import free_port

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
API_KEY_SID = "SK" + "2" * 32
API_KEY_SECRET = "an-api-key-secret"
FROM_NUMBER = "+15005550006"
MESSAGING_SERVICE_SID = "MG" + "3" * 32
# where the tests' apps say Twilio reaches them (what StatusCallback URLs start with)
PUBLIC_BASE_URL = "https://seqgql.example.com"
_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


@dataclass(frozen=True)
class Answer:
    """An error answer: HTTP status and Twilio error code."""

    status: int
    code: int
    message: str = "refused"


@dataclass
class Received:
    path: str
    login: str
    fields: dict[str, str]
    sid: str | None = None  # the message's SID, when it was accepted


@dataclass
class FakeTwilio:
    """What the server answers, and what it received (see the module)."""

    refuse: dict[str, Answer] = field(default_factory=dict)  # To -> always this answer
    next_answers: list[Answer] = field(default_factory=list)  # the next requests' answers
    delay: float = 0.0  # seconds before answering
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    credentials: dict[str, str] = field(
        default_factory=lambda: {ACCOUNT_SID: AUTH_TOKEN, API_KEY_SID: API_KEY_SECRET}
    )

    @property
    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.sid is not None]

    def answer(self, path: str, authorization: str, body: str) -> tuple[int, dict[str, Any]]:
        login, password = _basic(authorization)
        fields = dict(parse_qsl(body, keep_blank_values=True))
        with self.lock:
            received = Received(path, login, fields)
            self.requests.append(received)
            if self.credentials.get(login) != password or not login:
                return _error(Answer(401, 20003, "Authenticate"))
            if path != _PATH:
                return _error(Answer(404, 20404, "The requested resource was not found"))
            if self.next_answers:
                return _error(self.next_answers.pop(0))
            if (refused := self.refuse.get(fields.get("To", ""))) is not None:
                return _error(refused)
            for name, code in (("To", 21604), ("Body", 21602)):
                if not fields.get(name):
                    return _error(Answer(400, code, f"A '{name}' is required"))
            if not fields.get("From") and not fields.get("MessagingServiceSid"):
                return _error(Answer(400, 21603, "A 'From' phone number is required"))
            received.sid = "SM" + uuid.uuid4().hex
        return 201, {
            "sid": received.sid,
            "account_sid": ACCOUNT_SID,
            "to": fields["To"],
            "from": fields.get("From"),
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "body": fields["Body"],
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"{path.removesuffix('.json')}/{received.sid}.json",
        }


def _basic(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    login, _, password = base64.b64decode(encoded).decode().partition(":")
    return login, password


def _error(answer: Answer) -> tuple[int, dict[str, Any]]:
    return answer.status, {
        "code": answer.code,
        "message": answer.message,
        "more_info": f"https://www.twilio.com/docs/errors/{answer.code}",
        "status": answer.status,
    }


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode()
            if fake.delay:
                time.sleep(fake.delay)
            status, payload = fake.answer(
                urlsplit(self.path).path, self.headers.get("authorization", ""), body
            )
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@contextmanager
def twilio_server(fake: FakeTwilio) -> Iterator[str]:
    """The server answering as ``fake`` says while the block runs; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def settings_for(base_url: str, **overrides: Any) -> TwilioSettings:
    """The transport's settings for the server at ``base_url``: the account's Auth Token,
    sending from FROM_NUMBER, delivery reported to PUBLIC_BASE_URL."""
    base = TwilioSettings(
        account_sid=ACCOUNT_SID,
        username=ACCOUNT_SID,
        password=AUTH_TOKEN,
        from_number=FROM_NUMBER,
        api_base_url=base_url,
        status_callback_base=PUBLIC_BASE_URL,
        timeout=5.0,
    )
    return replace(base, **overrides)


def signature(url: str, fields: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """The X-Twilio-Signature Twilio sends with ``fields`` posted to ``url``."""
    return str(RequestValidator(token).compute_signature(url, fields))


async def post_signed(
    http: httpx.AsyncClient,
    path: str,
    fields: dict[str, str],
    *,
    token: str = AUTH_TOKEN,
    signed: str | None = None,
) -> httpx.Response:
    """Post ``fields`` to ``path`` (with its query) as Twilio does: a form, signed for the
    URL PUBLIC_BASE_URL + ``path`` (or the signature ``signed`` given)."""
    sig = signed if signed is not None else signature(PUBLIC_BASE_URL + path, fields, token)
    return await http.post(path, data=fields, headers={"X-Twilio-Signature": sig})


def status_fields(sid: str, status: str, error_code: int | None = None) -> dict[str, str]:
    """What Twilio posts to a StatusCallback."""
    fields = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT_SID,
        "MessageStatus": status,
        "SmsStatus": status,
        "From": FROM_NUMBER,
        "To": "+14155550100",
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        fields["ErrorCode"] = str(error_code)
    return fields


def inbound_fields(sender: str, body: str, sid: str | None = None) -> dict[str, str]:
    """What Twilio posts to a number's webhook for a text it received."""
    sid = sid or "SM" + uuid.uuid4().hex
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }


def app_settings(database_url: str, twilio_url: str, **overrides: Any) -> Settings:
    """An app's settings sending SMS through the server at ``twilio_url`` (the account's
    Auth Token, from FROM_NUMBER), reached by Twilio at PUBLIC_BASE_URL."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "auto_migrate": False,
        "run_engine": False,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from_number": FROM_NUMBER,
        "twilio_api_base_url": twilio_url,
        "public_base_url": PUBLIC_BASE_URL,
        **overrides,
    }
    return Settings(**values)


ENROLLMENT = """status reason currentStep
  contact { phone phoneType optedOut }
  activities(first: 100) { edges { node { kind step detail } } }"""


async def enrollment(gql: GraphQLClient, pk: int) -> dict[str, Any]:
    """An enrollment as the API shows it: status, reason, step, contact, activities (as
    (kind, step, detail) lists)."""
    query = f"query($id: ID!) {{ node(id: $id) {{ ... on Enrollment {{ {ENROLLMENT} }} }} }}"
    data = await gql.execute(query, {"id": to_global_id("Enrollment", pk)})
    found: dict[str, Any] = data["node"]
    found["activities"] = [
        (e["node"]["kind"], e["node"]["step"], e["node"]["detail"])
        for e in found["activities"]["edges"]
    ]
    return found
