"""The server's CPU to open one subscription, in process, its two ways side by
side: what `seqgql serve` runs (uvicorn's HTTP protocol with the header deadline, the lean
websocket protocol, the app) driven through fake transports, no sockets, so what is timed
is the Python a subscription's opening costs (the kernel's part, the same for any server,
is left out; bench/fanout.py measures the whole, against its floor).

Each opening: the upgrade request (as a browser's: Host, Upgrade, Connection, key,
version, the graphql-transport-ws subprotocol) to a fresh HTTP protocol; ``connection_init``
with the token, answered ``connection_ack``; ``subscribe`` to bench.fanout's
``enrollmentStatusChanged`` document, joining its shared feed. Two ways, in batches
interleaved (the least CPU per opening over the batches: other load only adds):

  short   what `seqgql serve` does: an ordinary upgrade answered from the headers
          uvicorn parsed (``compat.ws_handshake``), the origin check's answer remembered
          (``compat.ws_origin``), ``connection_ack`` written as one frame made once
  stock   uvicorn's and Strawberry's own ways: the request written out again and parsed
          by websockets, the origin parsed afresh, the acknowledgement through ASGI

Every opening is checked (the 101, then ``connection_ack``; a subscription error stops
the run). The subscriptions stay open to the end, as a dashboard's do.

Run:  .venv/bin/python -m bench.ws_open_cpu [--postgres-url URL] [--openings 3000]
      [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

from bench.fanout import CHANGES_DOC
from bench.harness.global_id import to_global_id
from bench.harness.report import log
from bench.harness.scratch import (
    SequenceSpec,
    argument_parser,
    create_tenant,
    generate,
    scratch_database,
)
from bench.harness.servers import make_app, use_uvloop
from seqgql.process import tune_gc

WAYS = ("short", "stock")
DASH = "\u2013"  # ranges: 120\u2013130


def masked(payload: bytes) -> bytes:
    """A client's text frame (RFC 6455: clients mask), as websockets writes one."""
    return Frame(Opcode.TEXT, payload).serialize(mask=True)


class Transport:
    """What a socket's transport is to the protocols: it keeps what they write."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.protocol: Any = None
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name)

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None: ...
    def resume_reading(self) -> None: ...
    def get_write_buffer_size(self) -> int:
        return 0


@contextmanager
def stock_opening() -> Iterator[None]:
    """An opening as uvicorn and Strawberry make it, without the app's shortcuts: the
    lean protocol takes the upgrade as uvicorn hands it to its own (written out), the
    origin is checked afresh (Strawberry's check, not ``compat.ws_origin``'s memory), and
    ``connection_ack`` goes through JSON, ASGI and websockets' framing."""
    from strawberry.http.async_base_view import AsyncBaseHTTPView
    from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
        BaseGraphQLTransportWSHandler,
    )

    from seqgql.compat.ws_handshake import request_bytes
    from seqgql.compat.ws_origin import RememberedOrigins
    from seqgql.compat.ws_transport import LeanWebSocketProtocol
    from seqgql.graphql.ws import SharingTransportWSHandler

    def upgrade(self: Any, method: str, url: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.data_received(request_bytes(method, url, headers))

    replaced: list[tuple[type, str, Any]] = [
        (LeanWebSocketProtocol, "upgrade", upgrade),
        (RememberedOrigins, "_check_websocket_origin",
         AsyncBaseHTTPView._check_websocket_origin),
        (SharingTransportWSHandler, "send_message", BaseGraphQLTransportWSHandler.send_message),
    ]  # fmt: skip
    kept = [(owner, name, owner.__dict__[name]) for owner, name, _ in replaced]
    for owner, name, stock in replaced:
        setattr(owner, name, stock)
    try:
        yield
    finally:
        for owner, name, own in kept:
            setattr(owner, name, own)


class Opener:
    def __init__(self, app: Any, token: str, seq: int) -> None:
        from seqgql.serving import HeaderDeadlineProtocol
        from seqgql.settings import Settings

        self.protocol_class = HeaderDeadlineProtocol
        self.config = uvicorn.Config(
            app, lifespan="off", log_level="warning", http=HeaderDeadlineProtocol,
            ws="seqgql.compat.ws_transport:LeanWebSocketProtocol",
            ws_per_message_deflate=Settings.model_fields["ws_compression"].default,
        )  # fmt: skip
        self.config.load()
        self.state = ServerState()
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        self.init = json.dumps(init).encode()
        variables = {"seq": to_global_id("Sequence", seq)}
        subscribe = {"id": "1", "type": "subscribe",
                     "payload": {"query": CHANGES_DOC, "variables": variables}}  # fmt: skip
        self.subscribe = json.dumps(subscribe).encode()
        self.open: list[Transport] = []

    def request(self) -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        return (
            "GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n"
            "Origin: http://127.0.0.1:8000\r\nUser-Agent: bench\r\n\r\n"
        ).encode()

    async def one(self, frames: tuple[bytes, bytes, bytes]) -> None:
        request, init, subscribe = frames
        transport = Transport()
        loop = asyncio.get_running_loop()
        http = self.protocol_class(
            config=self.config, server_state=self.state, app_state={}, _loop=loop
        )
        http.connection_made(transport)  # type: ignore[arg-type]
        http.data_received(request)
        await until(lambda: bool(transport.written))
        if not transport.written[0].startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"no 101: {transport.written[0][:200]!r}")
        transport.protocol.data_received(init)
        await until(lambda: len(transport.written) >= 2)
        if b"connection_ack" not in transport.written[1]:
            raise RuntimeError(f"no connection_ack: {transport.written[1][:200]!r}")
        transport.protocol.data_received(subscribe)
        for _ in range(4):  # the subscription joins its feed
            await asyncio.sleep(0)
        if len(transport.written) > 2:
            raise RuntimeError(f"the subscription answered: {transport.written[2][:300]!r}")
        self.open.append(transport)

    async def batch(self, n: int) -> float:
        """CPU seconds per opening over ``n`` openings (the frames made beforehand)."""
        made = [(self.request(), masked(self.init), masked(self.subscribe)) for _ in range(n)]
        gc.collect()
        started = time.process_time()
        for frames in made:
            await self.one(frames)
        return (time.process_time() - started) / n

    def close_all(self) -> None:
        for transport in self.open:
            if transport.protocol is not None:
                transport.protocol.connection_lost(None)
        self.open.clear()


async def until(done: Any) -> None:
    """Turns of the loop until ``done()`` (a read of the database takes longer: then
    milliseconds, up to 10 s)."""
    for _ in range(100):
        if done():
            return
        await asyncio.sleep(0)
    for _ in range(10_000):
        if done():
            return
        await asyncio.sleep(0.001)
    raise RuntimeError("the server did not answer")


async def main(args: argparse.Namespace) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {way: [] for way in WAYS}
    async with scratch_database(args.postgres_url, "seqgql_bench_ws_open") as url:
        tenant = await create_tenant(url, users=1)
        seq = (await generate(url, tenant, [SequenceSpec(10)]))[0]
        app = make_app(url)
        async with app.router.lifespan_context(app):
            opener = Opener(app, tenant.token, seq)
            await opener.batch(100)  # caches, the feed, the token
            with stock_opening():
                await opener.batch(100)
            batch = max(args.openings // args.rounds, 1)
            for k in range(args.rounds):
                for way in WAYS:
                    if way == "stock":
                        with stock_opening():
                            figures[way].append(await opener.batch(batch))
                    else:
                        figures[way].append(await opener.batch(batch))
                log(f"round {k + 1}: " + ", ".join(
                    f"{w} {figures[w][-1] * 1e6:.0f} µs" for w in WAYS))  # fmt: skip
            opened = len(opener.open)
            opener.close_all()
            await asyncio.sleep(0.2)
    print()
    print(f"opening a subscription, server CPU in process (no sockets): {opened:,} opened, "
          f"{args.rounds} rounds of {batch:,} each way, interleaved")  # fmt: skip
    print("| opening | least µs | median µs | range µs |")
    print("|---|---:|---:|---:|")
    for way in WAYS:
        values = [v * 1e6 for v in figures[way]]
        print(f"| {way} | {min(values):.0f} | {statistics.median(values):.0f} | "
              f"{min(values):.0f}{DASH}{max(values):.0f} |")  # fmt: skip
    ratios = [s / t for s, t in zip(figures["short"], figures["stock"], strict=True)]
    print(f"short / stock, round by round: {min(ratios):.2f}{DASH}{max(ratios):.2f}x "
          f"(median {statistics.median(ratios):.2f}x; least / least "
          f"{min(figures['short']) / min(figures['stock']):.2f}x)")  # fmt: skip
    return figures


def parse_args() -> argparse.Namespace:
    parser = argument_parser(__doc__)
    parser.add_argument("--openings", type=int, default=3000, help="openings each way")
    parser.add_argument("--rounds", type=int, default=10, help="batches each way, interleaved")
    args = parser.parse_args()
    if not (1 <= args.rounds <= 100 and args.rounds <= args.openings <= 100_000):
        parser.error("--openings or --rounds out of range")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    use_uvloop()
    tune_gc()  # as `seqgql serve` does
    asyncio.run(main(arguments))
