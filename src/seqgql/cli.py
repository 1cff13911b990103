"""The `seqgql` command."""

from __future__ import annotations

import argparse
import asyncio
import logging.config
import sys
from collections.abc import Sequence

from seqgql.clock import SystemClock
from seqgql.domain.kinds import Role
from seqgql.persistence.database import Database
from seqgql.persistence.migrate import upgrade
from seqgql.process import tune_gc
from seqgql.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seqgql", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed a demo workspace, print a token")

    commands.add_parser("migrate", help="apply database migrations to DATABASE_URL")
    commands.add_parser("worker", help="run the sequence engine alone (scaled-out mode)")
    commands.add_parser("export-schema", help="print the GraphQL SDL")

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="print a new API token for a user")
    create.add_argument("--email", required=True)
    create.add_argument("--workspace", help="workspace name (created when missing)")
    create.add_argument("--name", help="the user's name, when the user is created")
    create.add_argument("--role", choices=[r.value for r in Role])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    if args.command == "migrate":
        upgrade(settings.database_url)
        print("database is up to date", file=sys.stderr)
        return 0
    if args.command == "export-schema":
        from seqgql.graphql.schema import build_schema

        print(build_schema().as_str())
        return 0
    if args.command == "token":
        return _token_create(settings, args)
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "worker":
        return _worker(settings)
    return 2


def _token_create(settings: Settings, args: argparse.Namespace) -> int:
    from seqgql.services.auth import AmbiguousUser, issue_token

    upgrade(settings.database_url)

    async def run() -> str:
        db = Database(settings.database_url)
        try:
            issued = await issue_token(
                db,
                SystemClock(),
                email=args.email,
                workspace=args.workspace,
                name=args.name,
                role=Role(args.role) if args.role else None,
            )
            return issued.token
        finally:
            await db.dispose()

    try:
        print(asyncio.run(run()))
    except AmbiguousUser as exc:
        print(f"seqgql: {exc}", file=sys.stderr)
        return 1
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from seqgql import serving
    from seqgql.app import create_app
    from seqgql.observability import logs

    if args.demo:
        from seqgql.demo import seed_demo

        upgrade(settings.database_url)

        async def seed() -> str:
            db = Database(settings.database_url)
            try:
                return (await seed_demo(db, SystemClock())).token
            finally:
                await db.dispose()

        token = asyncio.run(seed())
        base = f"http://{args.host}:{args.port}"
        print(
            f"\nseqgql demo workspace is ready.\n"
            f"  GraphiQL:  {base}/graphql\n"
            f"  API token: {token}\n"
            f"  (send it as the header  Authorization: Bearer {token})\n",
            flush=True,
        )
    app = create_app(settings)
    tune_gc()
    serving.run(
        app,
        host=args.host,
        port=args.port,
        header_timeout=settings.header_timeout_seconds,
        log_level=settings.log_level,
        log_config=logs.config(settings.log_level, settings.log_format),
        access_log=False,  # one line per request from RequestIds, with its id
        ws_max_size=settings.max_body_bytes,  # a websocket message is a body too
    )
    return 0


def _worker(settings: Settings) -> int:
    """Run the engine until SIGINT/SIGTERM; the batch in progress finishes first."""
    import signal

    from seqgql.engine.worker import Engine
    from seqgql.events.broadcast import create_broadcast
    from seqgql.events.bus import EventBus
    from seqgql.observability import logs
    from seqgql.outbound.routing import transport_from_settings

    logging.config.dictConfig(logs.config(settings.log_level, settings.log_format))
    if settings.worker_metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port)
    if settings.auto_migrate:
        upgrade(settings.database_url)

    async def run() -> None:
        db = Database(settings.database_url, pool_size=settings.db_pool_size)
        broadcast = create_broadcast(settings.broadcast_url, EventBus())
        db.commit_listeners.append(broadcast.committed)
        await broadcast.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        engine = Engine.from_settings(
            db, SystemClock(), transport_from_settings(settings), settings
        )
        tune_gc()
        print("seqgql worker running; Ctrl+C stops it", file=sys.stderr, flush=True)
        try:
            await engine.run_forever(stop, settings.engine_idle_seconds)
        finally:
            await broadcast.stop()
            await db.dispose()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
