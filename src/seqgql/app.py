"""The application factory: routes, CORS, the /graphql gate (``gateway``), and a lifespan
that owns the resources."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
)

from seqgql.clock import Clock, SystemClock
from seqgql.csv_export import EnrollmentExport
from seqgql.csv_import import ContactImport
from seqgql.domain.kinds import EmailProvider
from seqgql.engine.worker import Engine
from seqgql.events.broadcast import create_broadcast
from seqgql.events.bus import EventBus
from seqgql.gateway import AuthenticatedGraphQL, BodyLimits
from seqgql.graphql.persisted import PersistedQueries
from seqgql.graphql.rate_limiting import EXPOSED_HEADERS
from seqgql.graphql.schema import build_schema
from seqgql.graphql.view import GraphQLView
from seqgql.hooks.twilio_hooks import twilio_routes
from seqgql.inbound.polling import InboxPoller
from seqgql.inbound_webhook import InboundEmailHook
from seqgql.observability.metrics import SUBSCRIBERS, label_process
from seqgql.observability.request_ids import RequestIds
from seqgql.outbound.routing import transport_from_settings
from seqgql.outbound.transport import Transport, close_transport
from seqgql.persistence.database import Database
from seqgql.persistence.migrate import upgrade_async
from seqgql.provider_webhooks import ProviderEventHook, event_sources
from seqgql.services.auth import TokenCache
from seqgql.services.rate_limits import Budget, RateLimiter, redis_url_of
from seqgql.settings import Settings
from seqgql.web.routes import graphiql_page, web_routes
from seqgql.webhooks.dispatcher import Dispatcher
from seqgql.websocket_lane import GRAPHQL_PATH, App

log = logging.getLogger("seqgql")
MAX_SUBSCRIPTIONS_PER_CONNECTION = 20
# Websockets (graphql-transport-ws, the legacy graphql-ws) and, for clients that cannot
# open one, Server-Sent Events (graphql-sse's distinct connections mode).
SUBSCRIPTION_PROTOCOLS = (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    transport: Transport | None = None,
    demo_token: str | None = None,
) -> App:
    """The app; ``demo_token`` (from ``serve --demo`` on a loopback address, never from
    the environment) fills GraphiQL's headers pane for requests on a loopback address."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    label_process()
    transport = transport or transport_from_settings(settings)
    schema = build_schema(
        introspection=settings.introspection,
        fast_path=settings.graphql_fast_path,
        tracing=settings.otel_tracing,
    )
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    bus = EventBus()
    broadcast = create_broadcast(settings.broadcast_url, bus)
    db.commit_listeners.append(broadcast.committed)
    tokens = TokenCache(db, seconds=settings.token_cache_seconds, clock=clock)
    budget = Budget(
        requests=settings.rate_limit_requests,
        cost=settings.rate_limit_cost,
        window_seconds=settings.rate_limit_window_seconds,
    )
    # shared by the replicas through Redis when they broadcast through it
    rate_limiter = RateLimiter(budget, clock, redis_url_of(settings.broadcast_url))
    view = GraphQLView(
        schema,
        db=db,
        tokens=tokens,
        clock=clock,
        transport=transport,
        bus=bus,
        poll_seconds=settings.subscription_poll_seconds,
        allowed_origins=settings.allowed_origins,
        max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        subscription_protocols=SUBSCRIPTION_PROTOCOLS,
        persisted=PersistedQueries.from_file(
            settings.persisted_queries_file, only=settings.persisted_queries_only
        ),
        rate_limiter=rate_limiter,
        max_query_cost=settings.rate_limit_max_query_cost,
        webhook_rules=settings.webhook_rules,
        ide_page=graphiql_page(demo_token),
    )
    limits = BodyLimits(settings.max_body_bytes, settings.body_timeout_seconds)
    graphql = AuthenticatedGraphQL(view, tokens, limits)
    inbound_hook = InboundEmailHook(
        db,
        clock,
        tokens,
        BodyLimits(settings.inbound_max_bytes, settings.body_timeout_seconds),
        rate_limiter,
    )
    event_limits = BodyLimits(settings.provider_events_max_bytes, settings.body_timeout_seconds)
    event_hooks = {
        provider: ProviderEventHook(provider, source, db, clock, tokens, event_limits, rate_limiter)
        for provider, source in event_sources(settings).items()
    }

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await upgrade_async(settings.database_url)
        await broadcast.start()
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        dispatcher = None
        if settings.engine_in_process:
            engine = Engine.from_settings(db, clock, transport, settings)
            dispatcher = Dispatcher.from_settings(db, clock, settings, bus)
            tasks.append(
                asyncio.create_task(
                    engine.run_forever(stop, settings.engine_idle_seconds), name="seqgql-engine"
                )
            )
            tasks.append(
                asyncio.create_task(
                    dispatcher.run_forever(stop, settings.engine_idle_seconds),
                    name="seqgql-webhooks",
                )
            )
            poller = InboxPoller.from_settings(db, clock, settings)
            if poller is not None:
                tasks.append(asyncio.create_task(poller.run_forever(stop), name="seqgql-imap"))
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                await task
            if dispatcher is not None:
                await dispatcher.close()
            await view.close()
            await close_transport(transport)
            await rate_limiter.close()
            await broadcast.stop()
            await db.dispose()

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(_request: Request) -> Response:
        SUBSCRIBERS.set(view.feeds.subscriber_count)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def readyz(_request: Request) -> Response:
        if await db.ping():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    app = App(
        routes=[
            # first: the router tries the routes in order, and most requests are these
            Route(GRAPHQL_PATH, graphql),  # the view answers other methods (405, JSON)
            WebSocketRoute(GRAPHQL_PATH, graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *web_routes(settings),  # the package's static assets (GraphiQL's files)
            # CSV files, for spreadsheets (JSON errors, each route answers its methods)
            Route("/export/enrollments.csv", EnrollmentExport(db, tokens, schema, rate_limiter)),
            Route("/import/contacts.csv", ContactImport(db, clock, tokens, limits, rate_limiter)),
            # raw MIME from a mail provider's inbound parsing (SendGrid, Postmark; Mailgun
            # posts the raw message to a URL ending in "mime")
            Route("/hooks/inbound-email", inbound_hook),
            Route("/hooks/inbound-email/mime", inbound_hook),
            # email providers' events about the messages sent (signed; see the README)
            Route("/hooks/sendgrid", event_hooks[EmailProvider.SENDGRID]),
            Route("/hooks/mailgun", event_hooks[EmailProvider.MAILGUN]),
            # Twilio's webhooks, signed with the account's Auth Token
            *(
                twilio_routes(
                    db,
                    clock,
                    settings.twilio_auth_token.get_secret_value(),
                    settings.public_base_url,
                    limits,
                )
                if settings.twilio_auth_token
                else []
            ),
        ],
        middleware=[
            Middleware(RequestIds),
            Middleware(
                CORSMiddleware,
                allow_origins=settings.allowed_origins,
                allow_methods=["GET", "POST"],
                allow_headers=settings.allowed_headers,
                # content-disposition: the name of an exported file
                expose_headers=[
                    "x-request-id",
                    "retry-after",
                    "content-disposition",
                    *EXPOSED_HEADERS,
                ],
                max_age=600,
            ),
        ],
        lifespan=lifespan,
    )
    app.graphql_websockets = view  # past the stack (``websocket_lane``)
    app.state.db = db
    app.state.settings = settings
    app.state.clock = clock
    app.state.transport = transport
    app.state.bus = bus
    app.state.broadcast = broadcast
    app.state.rate_limiter = rate_limiter
    app.state.feeds = view.feeds
    return app
