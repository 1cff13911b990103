"""The fan-out bench's reference server ("the floor"): the least a Python process can do
to deliver one message to each of many websocket subscribers on this machine.

No uvicorn, no ASGI, no GraphQL: plain asyncio (uvloop, as uvicorn uses it) transports,
websockets' sans-I/O protocol for the handshake and the few messages a bench client
sends (connection_init, subscribe, ping, complete, close), answered just enough for
``ws_client.Subscription``. On a change it builds one text frame holding a message the
size and shape of the app's ``enrollmentStatusChanged`` and writes it to every
subscribed connection's transport: one ``transport.write`` per subscriber, which is
what the app's feed does too (``seqgql.compat.ws_transport``). What is left is mostly
the kernel's loopback TCP send, so the app's figures are read against these.

Run as ``python -m bench.harness.floor``: it prints ``PORT <port>``, then takes JSON
lines on stdin: ``{"op": "change", "number": N}`` -> ``{"ev": "sent", "number": N}``
once every frame is written; ``{"op": "count"}`` -> ``{"ev": "count", "n": …}``.
"""

from __future__ import annotations

import asyncio
import json
import sys

import orjson
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from bench.harness.servers import free_loopback_socket, raise_file_limit, use_uvloop
from seqgql.compat.ws_transport import text_frame  # the frame the app's feed writes

SUBPROTOCOL = Subprotocol("graphql-transport-ws")


def change_payload(number: int) -> bytes:
    """A result shaped like the app's for bench.fanout's CHANGES_DOC."""
    data = {
        "enrollmentStatusChanged": {
            "cursor": "ZXZ0OjEyMzQ1Njc4OjAwMDAwMDAwMDAwMDAwMDA=",
            "fromStatus": "ACTIVE",
            "toStatus": "PAUSED",
            "reason": "paused by an API call",
            "occurredAt": "2026-11-30T04:00:00.000000+00:00",
            "number": number,
            "enrollment": {"id": "RW5yb2xsbWVudDoxMjM0NTY=", "status": "PAUSED"},
        }
    }
    return orjson.dumps({"data": data})


class Hub:
    def __init__(self) -> None:
        # per subscribed connection: its transport and the prefix of its "next" messages
        self.subscribed: dict[Connection, bytes] = {}

    def publish(self, payload: bytes) -> None:
        frames: dict[bytes, bytes] = {}
        for conn, prefix in self.subscribed.items():
            frame = frames.get(prefix)
            if frame is None:
                frame = frames[prefix] = text_frame(prefix + payload + b"}")
            conn.transport.write(frame)


class Connection(asyncio.Protocol):
    __slots__ = ("hub", "transport", "ws")

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.ws = ServerProtocol(subprotocols=[SUBPROTOCOL], max_size=2**20)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def flush(self) -> None:
        for data in self.ws.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def data_received(self, data: bytes) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Request):
                response = self.ws.accept(event)
                self.ws.send_response(response)
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.on_message(json.loads(event.data))
        self.flush()
        if self.ws.close_expected():
            self.transport.close()

    def send(self, message: dict[str, object]) -> None:
        self.ws.send_text(json.dumps(message).encode())

    def on_message(self, message: dict[str, object]) -> None:
        kind = message.get("type")
        if kind == "connection_init":
            self.send({"type": "connection_ack"})
        elif kind == "subscribe":
            prefix = f'{{"id":{json.dumps(message["id"])},"type":"next","payload":'
            self.hub.subscribed[self] = prefix.encode()
        elif kind == "complete":
            self.hub.subscribed.pop(self, None)
        elif kind == "ping":
            self.send({"type": "pong"})

    def eof_received(self) -> bool | None:
        self.ws.receive_eof()
        self.flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.hub.subscribed.pop(self, None)


async def floor_main() -> None:
    raise_file_limit()
    hub = Hub()
    loop = asyncio.get_running_loop()
    sock = free_loopback_socket()
    server = await loop.create_server(lambda: Connection(hub), sock=sock, backlog=4096)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        cmd = json.loads(line)
        if cmd["op"] == "change":
            hub.publish(change_payload(cmd["number"]))
            answer = {"ev": "sent", "number": cmd["number"]}
        elif cmd["op"] == "count":
            answer = {"ev": "count", "n": len(hub.subscribed)}
        else:
            break
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    server.close()


if __name__ == "__main__":
    use_uvloop()
    asyncio.run(floor_main())
