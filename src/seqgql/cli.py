"""The `seqgql` command."""

from __future__ import annotations

import argparse
import asyncio
import logging.config
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

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
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="serve from N processes sharing the port (default 1): PostgreSQL and a "
        "BROADCAST_URL of redis:// or postgres:// (the processes must hear each other)",
    )

    commands.add_parser("migrate", help="apply database migrations to DATABASE_URL")
    commands.add_parser("worker", help="run the sequence engine alone (scaled-out mode)")
    commands.add_parser("export-schema", help="print the GraphQL SDL")

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser(
        "create",
        help="print a new API token for a user, and nothing else",
        description="Print a new API token for the user with --email (the workspace and "
        "the user are created when missing), and nothing else. Its secret is shown once: "
        "only its hash and prefix are kept.",
    )
    create.add_argument("--email", required=True, help="the user's email")
    create.add_argument("--workspace", help="workspace name (created when missing)")
    create.add_argument("--name", help="the token's name: what it is for")
    roles = [r.value for r in Role]
    create.add_argument(
        "--role",
        choices=roles,
        help="the most the token may do, at most the user's role (default: the user's "
        "role); a user created now gets this role",
    )
    create.add_argument(
        "--expires",
        metavar="WHEN",
        type=_expiry,
        help="when the token stops working: a duration from now (30d, 12h, 90m, 2w) or a "
        "moment (2027-01-01, 2027-01-01T09:00:00+02:00; UTC without an offset)",
    )
    create.add_argument("--user-name", help="the user's name, when the user is created")
    create.add_argument(
        "--user-role", choices=roles, help="the user's role: set on a new user, changed on one"
    )
    listing = token_commands.add_parser(
        "list", help="print a table of the API tokens (never their secrets)"
    )
    listing.add_argument("--workspace", help="only this workspace's tokens (its name)")
    revoke = token_commands.add_parser(
        "revoke",
        help="revoke an API token: every server refuses it within TOKEN_CACHE_SECONDS",
    )
    revoke.add_argument(
        "token",
        metavar="ID_OR_PREFIX",
        help="the token's id or prefix as `seqgql token list` shows them (or its secret)",
    )
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
        upgrade(settings.database_url)
        commands = {"create": _token_create, "list": _token_list, "revoke": _token_revoke}
        return commands[args.token_command](settings, args)
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "worker":
        return _worker(settings)
    return 2


_DURATION = re.compile(r"([1-9][0-9]{0,5})([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# what each field of a refused token request is called on the command line
_OPTIONS = {"name": "--name", "role": "--role", "expiresAt": "--expires"}


def _expiry(text: str) -> datetime:
    """``--expires``: a duration from now (30d, 12h, 90m, 2w) or an ISO 8601 date or
    moment (UTC when it has no offset)."""
    text = text.strip()
    if match := _DURATION.fullmatch(text):
        return SystemClock().now() + timedelta(**{_UNITS[match[2]]: int(match[1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a duration (30d, 12h, 90m, 2w) nor a date or moment "
            "(2027-01-01, 2027-01-01T09:00:00Z)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes (1 to 64)")
    return int(text)


def _fail(message: str) -> int:
    print(f"seqgql: {message}", file=sys.stderr)
    return 1


def _token_create(settings: Settings, args: argparse.Namespace) -> int:
    from seqgql.services.auth import AmbiguousUser, TokenRequestRefused, issue_token

    async def run() -> str:
        db = Database(settings.database_url)
        try:
            issued = await issue_token(
                db,
                SystemClock(),
                email=args.email,
                workspace=args.workspace,
                name=args.user_name,
                role=Role(args.user_role) if args.user_role else None,
                token_name=args.name,
                token_role=Role(args.role) if args.role else None,
                expires_at=args.expires,
            )
            return issued.token
        finally:
            await db.dispose()

    try:
        print(asyncio.run(run()))
    except AmbiguousUser as exc:
        return _fail(str(exc))
    except TokenRequestRefused as exc:
        for err in exc.errors:
            print(f"seqgql: {_OPTIONS[err.field[-1]]}: {err.message}", file=sys.stderr)
        return 1
    return 0


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else "-"


def _token_list(settings: Settings, args: argparse.Namespace) -> int:
    """A table of the tokens, oldest first; times in UTC, "-" where there is none."""
    from seqgql.services.api_tokens import UnknownWorkspace, all_tokens

    async def run() -> list[Any]:
        db = Database(settings.database_url)
        try:
            return await all_tokens(db, args.workspace)
        finally:
            await db.dispose()

    try:
        rows = asyncio.run(run())
    except UnknownWorkspace as exc:
        return _fail(str(exc))
    header = ("ID", "PREFIX", "NAME", "USER", "ROLE", "WORKSPACE", "CREATED (UTC)",
              "LAST USED", "EXPIRES", "REVOKED")  # fmt: skip
    table = [header] + [
        (str(r.id), r.prefix or "-", r.name or "-", r.user_email, r.role, r.workspace,
         _when(r.created_at), _when(r.last_used_at), _when(r.expires_at), _when(r.revoked_at))
        for r in rows
    ]  # fmt: skip
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    return 0


def _token_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from seqgql.services.api_tokens import is_id, revoke_token_id, tokens_matching
    from seqgql.services.auth import PREFIX_LENGTH, TOKEN_PREFIX

    key: str = args.token.strip()
    if not is_id(key) and not key.startswith(TOKEN_PREFIX):
        return _fail(
            f"{key!r} is neither a token id (a number) nor a prefix ({TOKEN_PREFIX}…) as "
            "`seqgql token list` shows them"
        )

    async def run() -> tuple[list[Any], Any]:
        db = Database(settings.database_url)
        try:
            found = await tokens_matching(db, key)
            if len(found) != 1:
                return found, None
            return found, await revoke_token_id(db, SystemClock(), found[0].id)
        finally:
            await db.dispose()

    found, revoked = asyncio.run(run())
    if not found:
        if is_id(key):
            return _fail(f"no API token has the id {key}")
        if len(key) > PREFIX_LENGTH:  # a whole secret: not repeated
            return _fail("no API token matches that secret")
        return _fail(f"no API token has the prefix {key}")
    if revoked is None:
        ids = ", ".join(str(r.id) for r in found)
        return _fail(f"{len(found)} API tokens have the prefix {key} (ids {ids}): give the id")
    described = f"API token {revoked.id} ({revoked.prefix or 'no prefix'}, {revoked.user_email})"
    if found[0].revoked_at is not None:
        print(f"{described} was already revoked, at {_when(revoked.revoked_at)} UTC")
    else:
        print(f"revoked {described}; every server refuses it within TOKEN_CACHE_SECONDS")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from seqgql import serving
    from seqgql.app import create_app
    from seqgql.observability import logs

    options: dict[str, Any] = {
        "log_level": settings.log_level,
        "log_config": logs.config(settings.log_level, settings.log_format),
        "access_log": False,  # one line per request from RequestIds, with its id
        "ws_max_size": settings.max_body_bytes,  # a websocket message is a body too
        "ws_per_message_deflate": settings.ws_compression,
    }
    if args.workers > 1:
        if (refusal := serving.workers_refusal(settings, args.workers, demo=args.demo)) is not None:
            print(f"seqgql: {refusal}", file=sys.stderr)
            return 2
        serving.run_workers(
            args.workers, host=args.host, port=args.port,
            header_timeout=settings.header_timeout_seconds, **options,
        )  # fmt: skip
        return 0
    demo_token = None
    if args.demo:
        from seqgql.demo import seed_demo
        from seqgql.web.graphiql import is_loopback

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
            f"  Dashboard: {base}/\n"
            f"  GraphiQL:  {base}/graphql\n"
            f"  API token: {token}\n"
            f"  (send it as the header  Authorization: Bearer {token})\n",
            flush=True,
        )
        if is_loopback(args.host):  # GraphiQL fills it in (for loopback requests only)
            demo_token = token
    app = create_app(settings, demo_token=demo_token)
    tune_gc()
    serving.run(
        app, host=args.host, port=args.port, header_timeout=settings.header_timeout_seconds,
        **options,
    )  # fmt: skip
    return 0


def _worker(settings: Settings) -> int:
    """Run the engine until SIGINT/SIGTERM; the batch in progress finishes first."""
    import signal

    from seqgql.engine.worker import Engine
    from seqgql.events.broadcast import create_broadcast
    from seqgql.events.bus import EventBus
    from seqgql.inbound.polling import InboxPoller
    from seqgql.observability import logs
    from seqgql.outbound.routing import transport_from_settings
    from seqgql.outbound.transport import close_transport
    from seqgql.webhooks.dispatcher import Dispatcher

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
        clock = SystemClock()
        transport = transport_from_settings(settings)
        engine = Engine.from_settings(db, clock, transport, settings)
        poller = InboxPoller.from_settings(db, clock, settings)
        dispatcher = Dispatcher.from_settings(db, clock, settings, broadcast.bus)
        tune_gc()
        print("seqgql worker running; Ctrl+C stops it", file=sys.stderr, flush=True)
        try:
            work = [
                engine.run_forever(stop, settings.engine_idle_seconds),
                dispatcher.run_forever(stop, settings.engine_idle_seconds),
            ]
            if poller is not None:
                work.append(poller.run_forever(stop))
            await asyncio.gather(*work)
        finally:
            await dispatcher.close()
            await close_transport(transport)
            await broadcast.stop()
            await db.dispose()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
