"""Configuration from the environment (or a .env file). Nothing is read at import."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from seqgql.domain.webhooks import WebhookRules

DEFAULT_DATABASE_URL = "sqlite:///./seqgql.db"
# What common GraphQL clients send (Apollo Client, urql, Relay, GraphiQL), and request ids.
DEFAULT_ALLOWED_HEADERS = (
    "authorization",
    "content-type",
    "accept",
    "x-request-id",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///path.db (embedded) or postgresql://user@host/db",
    )
    broadcast_url: str = Field(
        default="memory://", description="memory://, redis://host:6379 or postgres://..."
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (CORS and websocket "
        "handshakes): one origin, a comma-separated list or a JSON list",
    )
    allowed_headers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_ALLOWED_HEADERS),
        description="Request headers a browser may send cross-origin (CORS preflight): a "
        "comma-separated or JSON list",
    )
    subscription_poll_seconds: float = Field(
        default=1.0,
        description="How often subscribers look at the event log without a broadcast wake-up",
    )
    run_engine: bool | None = Field(
        default=None,
        description="Run the sequence engine inside `serve` (default: only on SQLite, the "
        "embedded mode; scaled out, run `seqgql worker` processes instead)",
    )
    engine_batch_size: int = 500
    engine_idle_seconds: float = 1.0
    engine_send_concurrency: int = Field(
        default=10, description="Messages one worker hands to the transport at once"
    )
    engine_max_send_attempts: int = Field(
        default=8,
        description="Transient transport failures of one step before it is FAILED (retried "
        "5, 10, 20... minutes apart)",
    )
    engine_send_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a worker holds a step it is sending (renewed every third of "
        "it while it sends): a killed worker's unsent steps are taken up by another after "
        "this",
    )
    smtp_host: str | None = Field(
        default=None,
        description="Send EMAIL steps through this SMTP server (default: record them, send "
        "nothing)",
    )
    smtp_port: int = 587
    smtp_from: str | None = Field(default=None, description="The From address (required)")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: bool = Field(default=False, description="Implicit TLS from the start (port 465)")
    smtp_starttls: bool | None = Field(
        default=None, description="Require STARTTLS (true), never (false), or when offered"
    )
    smtp_timeout_seconds: float = 30.0
    imap_host: str | None = Field(
        default=None,
        description="Read replies, bounces and out-of-office answers from this IMAP server "
        "(the sending mailbox): polled by `seqgql worker` (and by `serve` where it runs the "
        "engine)",
    )
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_tls: bool = Field(default=True, description="Implicit TLS (port 993); false: plain")
    imap_mailbox: str = Field(default="INBOX", description="The folder read")
    imap_poll_seconds: float = Field(
        default=60.0, gt=0, description="How often the mailbox is read for new messages"
    )
    imap_workspace: str | None = Field(
        default=None,
        description="The name of the workspace the mailbox's messages are for (required with "
        "IMAP_HOST)",
    )
    inbound_max_bytes: int = Field(
        default=10_000_000,
        gt=0,
        description="Largest email POST /hooks/inbound-email accepts, in bytes (413 "
        "PAYLOAD_TOO_LARGE over it); larger messages in the IMAP mailbox are skipped",
    )
    sendgrid_webhook_public_key: str | None = Field(
        default=None,
        description="The verification key of SendGrid's Signed Event Webhook (Mail Settings "
        "-> Event Webhook), as SendGrid shows it: POST /hooks/sendgrid takes only events "
        "signed with it",
    )
    mailgun_webhook_signing_key: SecretStr | None = Field(
        default=None,
        description="Mailgun's webhook signing key (Sending -> Webhooks): POST /hooks/mailgun "
        "takes only events signed with it",
    )
    provider_events_max_bytes: int = Field(
        default=5_000_000,
        gt=0,
        description="Largest body POST /hooks/sendgrid and /hooks/mailgun accept, in bytes "
        "(413 PAYLOAD_TOO_LARGE over it)",
    )
    twilio_account_sid: str | None = Field(
        default=None,
        description="Send SMS steps and messages through Twilio's Messaging API with this "
        "account (default: record them, send nothing)",
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None,
        description="The account's Auth Token: logs in (unless an API key is set) and checks "
        "the signature of Twilio's webhooks (they are not served without it)",
    )
    twilio_api_key_sid: str | None = Field(
        default=None, description="Log in with this API key (SK...) instead of the Auth Token"
    )
    twilio_api_key_secret: SecretStr | None = None
    twilio_messaging_service_sid: str | None = Field(
        default=None, description="Send from this Messaging Service (MG...)"
    )
    twilio_from_number: str | None = Field(
        default=None,
        description="Send from this number (E.164) when no Messaging Service is set",
    )
    twilio_api_base_url: str = Field(
        default="https://api.twilio.com",
        description="Where Twilio's REST API is (tests point it at a local server)",
    )
    twilio_timeout_seconds: float = Field(
        default=30.0, gt=0, description="The most one request to Twilio may take"
    )
    public_base_url: str | None = Field(
        default=None,
        description="This server's address as Twilio reaches it (https://seqgql.example.com): "
        "messages ask Twilio to report delivery to it, and webhook signatures are checked "
        "against it",
    )
    introspection: bool = True
    graphql_fast_path: bool = Field(
        default=True,
        description="Execute GraphQL with the fast path (ShortcutExecutor: the same answers, "
        "faster); false: with Strawberry's stock execution, should an upgrade of "
        "strawberry-graphql or graphql-core need it",
    )
    auto_migrate: bool = Field(
        default=True, description="Apply migrations when the server starts (embedded mode)"
    )
    db_pool_size: int = 10
    token_cache_seconds: float = Field(
        default=0.5,
        ge=0,
        description="How long a process trusts a token it has looked up: a revoked token or "
        "a changed role takes effect within this (and open websockets of a revoked token "
        "are closed within about twice this)",
    )
    max_body_bytes: int = Field(
        default=2_000_000,
        gt=0,
        description="Largest request body (and websocket message) accepted, in bytes: a "
        "larger one is refused with 413 PAYLOAD_TOO_LARGE before it is parsed",
    )
    body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a request body may take to arrive (408 REQUEST_TIMEOUT after)",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long `seqgql serve` waits for a request's headers (from the "
        "connection's opening, or the request's first byte on a kept-alive connection): "
        "then it answers 408 REQUEST_TIMEOUT and closes the connection",
    )
    ws_compression: bool = Field(
        default=False,
        description="Let websocket clients that offer it (every browser does) negotiate "
        "permessage-deflate. Off by default: each such connection then holds zlib's "
        "state, ~40 KiB (4x a subscriber's whole cost: 13 KiB without, 55 KiB with, "
        "bench/fanout.py --deflate), while a shared subscription's messages, the bulk of "
        "what is sent, go out uncompressed anyway (written once for every subscriber)",
    )
    log_level: str = "info"
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="`seqgql worker` serves Prometheus metrics on this port (`serve` does at "
        "/metrics)",
    )
    persisted_queries_file: str | None = Field(
        default=None,
        description="A JSON object of sha256 hash -> GraphQL document: the persisted queries "
        "of this deployment",
    )
    persisted_queries_only: bool = Field(
        default=False,
        description="Run only the documents of PERSISTED_QUERIES_FILE (by hash or as text); "
        "refuse anything else with PERSISTED_QUERY_NOT_ALLOWED",
    )
    otel_tracing: bool = Field(
        default=False,
        description="Trace GraphQL operations with OpenTelemetry (install the `tracing` "
        "extra; spans go to the tracer provider the process sets up, e.g. with "
        "`opentelemetry-instrument`)",
    )
    rate_limit_window_seconds: int = Field(
        default=60,
        ge=0,
        description="The rate-limit window: each API token's budgets (RATE_LIMIT_REQUESTS, "
        "RATE_LIMIT_COST) are whole again at the start of each window of this many "
        "seconds (windows aligned to the clock, the same on every replica); 0: no rate "
        "limits",
    )
    rate_limit_requests: int = Field(
        default=1_000,
        ge=0,
        description="Requests (and websocket subscriptions) one API token may make per "
        "window; over it: HTTP 429 with Retry-After, RATE_LIMITED on websockets; 0: no "
        "request budget",
    )
    rate_limit_cost: int = Field(
        default=1_000_000,
        ge=0,
        description="Points of query cost one API token may spend per window (a query's "
        "cost: each field 1, times the page size (`first`, default 50) of each list of "
        "items around it); 0: no cost budget",
    )
    rate_limit_max_query_cost: int = Field(
        default=50_000,
        ge=0,
        description="The most one query may cost: a costlier one is refused before it runs "
        "(QUERY_TOO_COSTLY), whatever is left of the budget; 0: no maximum",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let webhook endpoints be plain http:// URLs and resolve to private, "
        "loopback or link-local addresses (development and tests only): otherwise only "
        "https URLs of public addresses, checked when saved and on every connection",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long one webhook POST may take, answer included; then it is a "
        "failed attempt, retried on the schedule",
    )
    webhook_concurrency: int = Field(
        default=64, ge=1, description="Webhook POSTs one worker makes at once, all endpoints"
    )
    webhook_max_in_flight: int = Field(
        default=8,
        ge=1,
        description="Webhook POSTs in flight to one endpoint at once, across workers (each "
        "for a different sequence: one sequence's events go one after the other)",
    )
    webhook_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a worker holds the webhook lanes it sends (renewed as it "
        "goes): a killed worker's lanes are taken up by another after this",
    )
    webhook_secret_grace_seconds: int = Field(
        default=86_400,
        ge=0,
        description="How long a rotated webhook secret keeps signing beside the new one",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as text or as one JSON object each; both carry the request id",
    )

    @property
    def engine_in_process(self) -> bool:
        if self.run_engine is not None:
            return self.run_engine
        return self.database_url.startswith("sqlite")

    @property
    def webhook_rules(self) -> WebhookRules:
        return WebhookRules(
            allow_private=self.webhook_allow_private,
            secret_grace=timedelta(seconds=self.webhook_secret_grace_seconds),
        )

    @model_validator(mode="after")
    def _smtp_needs_from(self) -> Settings:
        if self.smtp_host and not self.smtp_from:
            raise ValueError("SMTP_FROM is required when SMTP_HOST is set")
        return self

    @model_validator(mode="after")
    def _imap_needs_a_login(self) -> Settings:
        if self.imap_host and not (self.imap_username and self.imap_workspace):
            raise ValueError("IMAP_USERNAME and IMAP_WORKSPACE are required with IMAP_HOST")
        return self

    @model_validator(mode="after")
    def _twilio_needs_credentials_and_sender(self) -> Settings:
        if not self.twilio_account_sid:
            return self
        if self.twilio_api_key_sid and not self.twilio_api_key_secret:
            raise ValueError("TWILIO_API_KEY_SECRET is required with TWILIO_API_KEY_SID")
        if not self.twilio_api_key_sid and not self.twilio_auth_token:
            raise ValueError(
                "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET) is "
                "required with TWILIO_ACCOUNT_SID"
            )
        if not self.twilio_messaging_service_sid and not self.twilio_from_number:
            raise ValueError(
                "TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER is required with "
                "TWILIO_ACCOUNT_SID"
            )
        return self

    @field_validator("allowed_origins", "allowed_headers", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        """One value, a comma-separated list or a JSON list (from the environment or .env)."""
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [o.strip() for o in value.split(",") if o.strip()]
        return value
