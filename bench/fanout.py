"""Fan-out benchmark: many websocket subscribers on one API process watching one sequence.

A fresh PostgreSQL database (created, migrated, dropped at the end) gets one sequence of
ACTIVE enrollments: 100,000 for the bulk change, 100 for the single ones, 5 for warm-ups.
The API runs under uvicorn in its own process on 127.0.0.1 (memory:// broadcast, no
engine). The subscribers are raw graphql-transport-ws connections (websockets' sans-I/O
protocol on plain asyncio transports, so that the client spends as little CPU per message
as possible), spread over --clients processes. This process sends the mutations over
HTTP and coordinates.

  phase 1  N subscribers on enrollmentStatusChanged(sequenceId) (the same document and
           variables for all: the dashboard case); after a warm-up change that everyone
           receives, 100 single changes (pauseEnrollments of one enrollment by id), one at
           a time: the next one 50 ms after every subscriber had the previous one.
           Latency = receipt time - the moment the mutation's HTTP response arrived (the
           commit happened before the response; receipts before it count as 0 ms).
  phase 2  N new subscribers on sequenceStatusCounts(sequenceId); one pauseEnrollments of
           the sequence's 100,000 ACTIVE enrollments (by filter); the messages each
           subscriber got and the time until every one of them holds the exact final
           counts (checked against SQL).

Goals: phase 1 p99 under 100 ms with 1,000 subscribers; phase 2 final counts everywhere
within 1 s of the bulk commit.

Every wait has a time limit (--timeout, --open-timeout) and the report says what was
missing; a subscription the server ends is reported and no longer waited for; what the
server logged is summarized. CPU is reported for the server, the clients and the whole
machine. --profile DIR records the server with py-spy during the measured parts.

Run:  .venv/bin/python bench/fanout.py [--subscribers 1000] [--changes 100] [--bulk 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from _data import (
    DEFAULT_POSTGRES_URL,
    SequenceSpec,
    create_tenant,
    free_loopback_socket,
    generate,
    log,
    scratch_database,
)

GOAL_P99_MS = 100.0
GOAL_FINAL_SECONDS = 1.0
# Enrollments kept aside for warm-up changes (phase 1 repeats the warm-up while some
# subscriber has not received one, i.e. its subscription was not live yet).
MAX_WARMUPS = 5
# The monotonic clock is system-wide on Linux (CLOCK_MONOTONIC), so times taken in the
# client processes and in this one are comparable.
now = time.monotonic

CHANGES_DOC = """subscription Changes($seq: ID!) {
  enrollmentStatusChanged(sequenceId: $seq) {
    cursor fromStatus toStatus reason occurredAt number
    enrollment { id status }
  }
}"""
COUNTS_DOC = """subscription Counts($seq: ID!) {
  sequenceStatusCounts(sequenceId: $seq) { total counts { status count } }
}"""
PAUSE_DOC = """mutation Pause($input: PauseEnrollmentsInput!) {
  pauseEnrollments(input: $input) {
    changedCount skipped { reason count } userErrors { field code message }
  }
}"""


def raise_file_limit() -> None:
    """1,000 sockets plus the database pool do not fit under a soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def use_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


# =========================================================================== server

# The server reports its garbage-collection pauses of at least this long on stderr.
GC_MARK = "FANOUT-GC"
GC_REPORT_MS = 10.0


def watch_gc() -> None:
    """Print '<GC_MARK> <generation> <ms> <end, monotonic>' for every long collection."""
    import gc

    started = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - started[0]) * 1000
        if ms >= GC_REPORT_MS:
            print(f"{GC_MARK} {info['generation']} {ms:.1f} {now():.4f}", file=sys.stderr,
                  flush=True)  # fmt: skip

    gc.callbacks.append(callback)


def serve(url: str) -> None:
    """The server subprocess: bind 127.0.0.1:0, print the port, serve until SIGTERM."""
    import uvicorn

    from seqgql.app import create_app
    from seqgql.settings import Settings

    raise_file_limit()
    watch_gc()
    settings = Settings(
        database_url=url,
        broadcast_url="memory://",
        run_engine=False,
        auto_migrate=False,
        log_level="warning",
    )
    app = create_app(settings)
    sock = free_loopback_socket()
    source = Path(sys.modules["seqgql"].__file__ or "?").parent
    print(f"PORT {sock.getsockname()[1]} {source}", flush=True)
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


# =========================================================================== client process
#
# Commands arrive as JSON lines on stdin; answers and events leave as JSON lines on
# stdout (logs go to stderr).
#
#   open     {kind, count, port, token, query, variables, timeout, concurrency}
#            -> opened {ok, failed, errors}: every connection acknowledged and subscribed
#               (kind "counts": and holding its first message), or the time limit passed
#   target   {number} (changes) -> reached {number} once every open subscriber has it
#   expect   {counts} (counts)  -> final once every open subscriber's latest message
#                                  shows exactly these counts
#   status   -> status {reached, open, errors}
#   collect  -> data {conns, errors}: per connection, what arrived and when
#   close    -> closed: every connection completed and closed
#   exit


class Conn(asyncio.Protocol):
    """One websocket speaking graphql-transport-ws, with one subscription."""

    def __init__(self, client: Client, host: str, port: int) -> None:
        self.client = client
        self.ws = ClientProtocol(
            parse_uri(f"ws://{host}:{port}/graphql"),
            subprotocols=[Subprotocol("graphql-transport-ws")],
            max_size=2**24,
        )
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self.fragments: list[bytes] = []
        self.closing = False
        self.is_open = False  # counted by the client (ready in time)
        self.ended = False  # the server ended the subscription or the connection
        # changes: the event numbers and their receipt times
        self.numbers: list[int] = []
        self.times: list[float] = []
        self.last = 0
        # counts: (receipt time, {status: count} without zeros)
        self.messages: list[tuple[float, dict[str, int]]] = []
        self.final = False

    # ------------------------------------------------------------------ transport side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.ws.send_request(self.ws.connect())
        self.flush()

    def flush(self) -> None:
        assert self.transport is not None
        for data in self.ws.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def data_received(self, data: bytes) -> None:
        try:
            self.receive(data, now())
        except Exception as exc:  # a bug or a bad message: say so, do not hang
            self.fail(f"client: {type(exc).__name__}: {exc}"[:300])

    def receive(self, data: bytes, received: float) -> None:
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                if self.ws.handshake_exc is not None:
                    self.fail(f"handshake: {self.ws.handshake_exc}")
                else:
                    payload = {"authorization": f"Bearer {self.client.token}"}
                    self.send({"type": "connection_init", "payload": payload})
            elif isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.CONT):
                self.fragments.append(bytes(event.data))
                if event.fin:
                    message = b"".join(self.fragments)
                    self.fragments.clear()
                    self.on_message(message, received)
        self.flush()

    def eof_received(self) -> bool | None:
        self.ws.receive_eof()
        self.flush()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closing:
            code = self.ws.close_code
            reason = f"code {code} {self.ws.close_reason!r}" if code else str(exc or "eof")
            self.end(f"connection closed by the server ({reason})")
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("connection lost before it was ready"))
        if not self.lost.done():
            self.lost.set_result(None)

    # ------------------------------------------------------------------ protocol side
    def send(self, message: dict[str, Any]) -> None:
        self.ws.send_text(json.dumps(message).encode())
        self.flush()

    def fail(self, reason: str) -> None:
        self.client.error(reason)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.abort()

    def on_message(self, raw: bytes, received: float) -> None:
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "next":
            payload = message.get("payload") or {}
            if payload.get("errors"):
                self.client.error(f"subscription error: {payload['errors']}"[:500])
                return
            if self.client.kind == "changes":
                self.on_change(payload["data"]["enrollmentStatusChanged"]["number"], received)
            else:
                self.on_counts(payload["data"]["sequenceStatusCounts"]["counts"], received)
        elif kind == "connection_ack":
            self.send(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": self.client.query, "variables": self.client.variables},
                }
            )
            if self.client.kind == "changes" and not self.ready.done():
                self.ready.set_result(None)
        elif kind == "ping":
            self.send({"type": "pong"})
        elif kind == "error":
            self.end(f"subscription error: {message.get('payload')}"[:500])
        elif kind == "complete":
            self.end("the server completed the subscription")
        elif kind != "pong":
            self.client.error(f"unexpected message: {raw[:200]!r}")

    def on_change(self, number: int, received: float) -> None:
        self.numbers.append(number)
        self.times.append(received)
        client = self.client
        if (self.is_open and not self.ended and client.target is not None
                and self.last < client.target <= number):  # fmt: skip
            client.reached += 1
            client.check_reached()
        self.last = max(self.last, number)

    def on_counts(self, counts: list[dict[str, Any]], received: float) -> None:
        found = {c["status"]: c["count"] for c in counts if c["count"]}
        self.messages.append((received, found))
        if not self.ready.done():
            self.ready.set_result(None)
        client = self.client
        if self.is_open and not self.ended and client.expected is not None:
            matches = found == client.expected
            if matches != self.final:
                self.final = matches
                client.reached += 1 if matches else -1
                client.check_reached()

    def end(self, reason: str) -> None:
        """The subscription is over before we closed it: it no longer counts."""
        if self.closing or self.ended:
            return
        self.ended = True
        self.client.error(reason)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self.is_open:
            self.client.live -= 1
            self.client.recount()

    async def close(self) -> None:
        self.closing = True
        if self.transport is None or self.transport.is_closing():
            return
        with contextlib.suppress(Exception):
            self.send({"id": "1", "type": "complete"})
            self.ws.send_close(1000)
            self.flush()


class Client:
    def __init__(self) -> None:
        self.kind = ""
        self.token = ""
        self.query = ""
        self.variables: dict[str, Any] = {}
        self.conns: list[Conn] = []
        self.target: int | None = None
        self.expected: dict[str, int] | None = None
        self.tag = ""
        self.reached = 0
        self.live = 0  # len(self.live_conns), kept up to date
        self.announced = False
        self.errors: Counter[str] = Counter()

    @staticmethod
    def emit(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    def error(self, reason: str) -> None:
        self.errors[reason] += 1

    @property
    def open_conns(self) -> list[Conn]:
        """Every connection that was ready in time."""
        return [c for c in self.conns if c.is_open]

    @property
    def live_conns(self) -> list[Conn]:
        """Those whose subscription is still running: the ones waited for."""
        return [c for c in self.conns if c.is_open and not c.ended]

    def check_reached(self) -> None:
        if self.announced or self.reached < self.live:
            return
        self.announced = True
        if self.target is not None:
            self.emit({"ev": "reached", "number": self.target})
        else:
            self.emit({"ev": "final", "tag": self.tag})

    async def open(self, cmd: dict[str, Any]) -> None:
        self.kind, self.token = cmd["kind"], cmd["token"]
        self.query, self.variables = cmd["query"], cmd["variables"]
        self.target, self.expected, self.reached, self.announced = None, None, 0, False
        self.conns, self.live = [], 0
        limit = asyncio.Semaphore(cmd["concurrency"])
        loop = asyncio.get_running_loop()
        deadline = now() + cmd["timeout"]

        async def open_one() -> None:
            async with limit:
                _, conn = await loop.create_connection(
                    lambda: Conn(self, "127.0.0.1", cmd["port"]), "127.0.0.1", cmd["port"]
                )
                self.conns.append(conn)
                await asyncio.wait_for(conn.ready, max(0.0, deadline - now()))
                if not conn.ended:
                    conn.is_open = True
                    self.live += 1

        results = await asyncio.gather(
            *(open_one() for _ in range(cmd["count"])), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                self.error(f"open: {type(result).__name__}: {result}"[:300])
        ok = sum(1 for c in self.conns if c.is_open)
        self.emit({"ev": "opened", "ok": ok, "failed": cmd["count"] - ok, "errors": self.errors})

    def set_target(self, number: int) -> None:
        self.target, self.announced = number, False
        self.recount()

    def set_expected(self, counts: dict[str, int], tag: str) -> None:
        self.target, self.expected, self.tag, self.announced = None, counts, tag, False
        for conn in self.conns:
            conn.final = bool(conn.messages) and conn.messages[-1][1] == counts
        self.recount()

    def recount(self) -> None:
        if self.target is not None:
            self.reached = sum(1 for c in self.live_conns if c.last >= self.target)
        elif self.expected is not None:
            self.reached = sum(1 for c in self.live_conns if c.final)
        else:
            return
        self.check_reached()

    def collect(self) -> None:
        conns: list[Any]
        if self.kind == "changes":
            conns = [[c.numbers, c.times] for c in self.open_conns]
        else:
            conns = [c.messages for c in self.open_conns]
        ended = sum(1 for c in self.open_conns if c.ended)
        self.emit({"ev": "data", "conns": conns, "ended": ended, "errors": self.errors})

    async def close(self, answer: bool = True) -> None:
        for conn in self.conns:
            await conn.close()
        pending = [c.lost for c in self.conns if not c.lost.done()]
        if pending:
            await asyncio.wait(pending, timeout=10)
        for conn in self.conns:
            if conn.transport is not None and not conn.lost.done():
                conn.transport.abort()
        self.conns, self.live = [], 0
        self.errors.clear()
        if answer:
            self.emit({"ev": "closed"})


async def client_main() -> None:
    raise_file_limit()
    client = Client()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        cmd = json.loads(line)
        op = cmd["op"]
        if op == "open":
            await client.open(cmd)
        elif op == "target":
            client.set_target(cmd["number"])
        elif op == "expect":
            client.set_expected(cmd["counts"], cmd["tag"])
        elif op == "status":
            client.emit(
                {
                    "ev": "status",
                    "reached": client.reached,
                    "open": client.live,
                    "errors": client.errors,
                }
            )
        elif op == "collect":
            client.collect()
        elif op == "close":
            await client.close()
        elif op == "exit":
            break
    await client.close(answer=False)


# =========================================================================== coordinator


def process_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies over all CPUs since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class ClientProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls) -> ClientProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--client",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=2**27,
        )  # fmt: skip
        return cls(process)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            await self.events.put(json.loads(line))
        await self.events.put({"ev": "exited"})

    async def send(self, **cmd: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(cmd).encode() + b"\n")
        await self.process.stdin.drain()

    async def expect(self, ev: str, seconds: float, **match: Any) -> dict[str, Any] | None:
        """The next event named ev (with these fields), or None after that many seconds."""
        deadline = now() + seconds
        while True:
            try:
                event = await asyncio.wait_for(self.events.get(), max(0.0, deadline - now()))
            except TimeoutError:
                return None
            if event["ev"] == "exited":
                raise RuntimeError("a client process exited")
            if event["ev"] == ev and all(event.get(k) == v for k, v in match.items()):
                return event

    async def ask(self, op: str, ev: str, seconds: float = 120) -> dict[str, Any]:
        await self.send(op=op)
        event = await self.expect(ev, seconds)
        if event is None:
            raise RuntimeError(f"a client process did not answer {op!r}")
        return event

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(Exception):
                await self.send(op="exit")
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self.reader.cancel()


class Clients:
    """The client processes, addressed together."""

    def __init__(self, processes: list[ClientProcess], subscribers: int) -> None:
        self.processes = processes
        n = len(processes)
        self.shares = [subscribers // n + (1 if i < subscribers % n else 0) for i in range(n)]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    async def open(self, **cmd: Any) -> tuple[int, Counter[str]]:
        for process, share in zip(self.processes, self.shares, strict=True):
            await process.send(op="open", count=share, **cmd)
        answers = [await p.expect("opened", cmd["timeout"] + 60) for p in self.processes]
        if any(a is None for a in answers):
            raise RuntimeError("a client process did not finish opening its connections")
        errors: Counter[str] = Counter()
        for answer in answers:
            assert answer is not None
            errors.update(answer["errors"])
        return sum(a["ok"] for a in answers if a), errors

    async def all_reached(self, ev: str, seconds: float, **match: Any) -> bool:
        answers = await asyncio.gather(*(p.expect(ev, seconds, **match) for p in self.processes))
        return all(a is not None for a in answers)

    async def target(self, number: int) -> None:
        for process in self.processes:
            await process.send(op="target", number=number)

    async def expect(self, counts: dict[str, int], tag: str) -> None:
        for process in self.processes:
            await process.send(op="expect", counts=counts, tag=tag)

    async def status(self) -> tuple[int, int]:
        answers = [await p.ask("status", "status") for p in self.processes]
        return sum(a["reached"] for a in answers), sum(a["open"] for a in answers)

    async def collect(self) -> tuple[list[Any], int, Counter[str]]:
        """Per connection what arrived; how many subscriptions the server ended; errors."""
        conns: list[Any] = []
        ended = 0
        errors: Counter[str] = Counter()
        for process in self.processes:
            answer = await process.ask("collect", "data")
            conns.extend(answer["conns"])
            ended += answer["ended"]
            errors.update(answer["errors"])
        return conns, ended, errors

    async def close(self) -> None:
        for process in self.processes:
            await process.send(op="close")
        for process in self.processes:
            await process.expect("closed", 60)

    async def stop(self) -> None:
        for process in self.processes:
            await process.stop()


class ServerLog:
    """The server's stderr, read as it comes: tracebacks counted, the errors they end with
    kept (the report shows the most common)."""

    def __init__(self) -> None:
        self.tracebacks = 0
        self.errors: Counter[str] = Counter()
        self.gc_pauses: list[tuple[int, float, float]] = []  # generation, ms, end
        self.task: asyncio.Task[None] | None = None

    def pauses(self, start: float, end: float) -> list[tuple[int, float, float]]:
        """The GC pauses that overlap [start, end]."""
        return [p for p in self.gc_pauses if p[2] >= start and p[2] - p[1] / 1000 <= end]

    async def read(self, stream: asyncio.StreamReader) -> None:
        in_traceback = False
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            if text.startswith(GC_MARK):
                _, generation, ms, end = text.split()
                self.gc_pauses.append((int(generation), float(ms), float(end)))
            elif text.startswith("Traceback"):
                self.tracebacks += 1
                in_traceback = True
            elif in_traceback and text and not text[0].isspace() and not text.startswith("^"):
                if not text.startswith(("The above exception", "During handling")):
                    self.errors[text[:200]] += 1
                    in_traceback = False
            elif not in_traceback and text:
                self.errors[text[:200]] += 1


async def start_server(
    url: str, server_log: ServerLog
) -> tuple[asyncio.subprocess.Process, int, str]:
    import httpx

    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--serve", "--database-url", url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stderr is not None
    server_log.task = asyncio.create_task(server_log.read(process.stderr))
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    if not line.startswith(b"PORT "):
        raise RuntimeError(f"the server did not start: {line!r}")
    port, source = int(line.split()[1]), line.decode().split(maxsplit=2)[2].strip()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as http:
        for _ in range(300):
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return process, port, source
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError("the server did not answer /healthz")


async def stop_server(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def machine_busy(seconds: float) -> float:
    """Cores busy over the next few seconds (whatever else runs on the machine)."""
    busy0, total0 = machine_cpu()
    await asyncio.sleep(seconds)
    busy, total = machine_cpu()
    return (busy - busy0) / max(1, total - total0) * (os.cpu_count() or 1)


def source_version(src: Path) -> str:
    """' (git abc1234)' or ' (git abc1234, src/ modified)' when src is in a git checkout."""
    import subprocess

    def git(*argv: str) -> str:
        return subprocess.run(
            ["git", "-C", str(src), *argv], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        rev = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return ""
    return f" (git {rev}{', modified' if dirty else ''})"


class Usage:
    """CPU used by the server, the client processes and the whole machine over a span."""

    def __init__(self, server_pid: int, client_pids: list[int]) -> None:
        self.server_pid, self.client_pids = server_pid, client_pids
        self.started = now()
        self.server = process_cpu_seconds(server_pid)
        self.clients = [process_cpu_seconds(p) for p in client_pids]
        self.machine = machine_cpu()

    def done(self) -> dict[str, Any]:
        seconds = now() - self.started
        busy, total = machine_cpu()
        cores = os.cpu_count() or 1
        return {
            "started": self.started,
            "ended": self.started + seconds,
            "seconds": seconds,
            "server": (process_cpu_seconds(self.server_pid) - self.server) / seconds,
            "clients": [
                (process_cpu_seconds(p) - c) / seconds
                for p, c in zip(self.client_pids, self.clients, strict=True)
            ],
            "machine": (busy - self.machine[0]) / max(1, total - self.machine[1]) * cores,
            "cores": cores,
        }


class Profiler:
    """py-spy record on the server (raw collapsed stacks), started and stopped by hand."""

    def __init__(self, directory: Path | None, pid: int) -> None:
        self.directory, self.pid = directory, pid
        self.process: asyncio.subprocess.Process | None = None
        self.output: asyncio.Task[bytes] | None = None
        self.path: Path | None = None
        self.said = ""  # what py-spy printed, when it wrote nothing

    async def start(self, name: str) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / f"{name}.txt"
        py_spy = Path(sys.executable).with_name("py-spy")
        self.process = await asyncio.create_subprocess_exec(
            str(py_spy) if py_spy.exists() else "py-spy", "record",
            "--pid", str(self.pid), "--rate", "100", "--format", "raw", "--nonblocking",
            "--output", str(self.path),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert self.process.stderr is not None
        self.output = asyncio.create_task(self.process.stderr.read())
        await asyncio.sleep(0.5)  # let it attach

    async def stop(self) -> Path | None:
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self.output is not None:
            self.said = (await self.output).decode(errors="replace").strip()[-500:]
        return self.path if self.path and self.path.exists() else None


@dataclass
class Change:
    number: int
    t0: float  # request sent
    t1: float  # response received (the commit happened before it)
    done: float | None = None  # every subscriber had it (as this process heard)


@dataclass
class Results:
    subscribers: int = 0
    clients: int = 0
    source: str = ""
    busy_before: float = 0.0
    server_log: ServerLog = field(default_factory=ServerLog)
    enrollments: int = 0
    notes: list[str] = field(default_factory=list)
    # phase 1
    opened1: int = 0
    open1_seconds: float = 0.0
    warmups: int = 0
    changes: list[Change] = field(default_factory=list)
    timeouts: int = 0
    conns1: list[Any] = field(default_factory=list)
    ended1: int = 0
    errors1: Counter[str] = field(default_factory=Counter)
    usage1: dict[str, Any] = field(default_factory=dict)
    base_number: int = 0
    profile1: Path | None = None
    # phase 2
    opened2: int = 0
    open2_seconds: float = 0.0
    bulk_t0: float = 0.0
    bulk_t1: float = 0.0
    bulk_changed: int = 0
    final_counts: dict[str, int] = field(default_factory=dict)
    initial_counts: dict[str, int] = field(default_factory=dict)
    all_final: bool = False
    conns2: list[Any] = field(default_factory=list)
    ended2: int = 0
    errors2: Counter[str] = field(default_factory=Counter)
    usage2: dict[str, Any] = field(default_factory=dict)
    profile2: Path | None = None
    py_spy_said: dict[str, str] = field(default_factory=dict)
    phase2_ran: bool = False


class Api:
    def __init__(self, port: int, token: str) -> None:
        import httpx

        self.http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=httpx.Timeout(600)
        )
        self.headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}

    async def pause(self, selection: dict[str, Any]) -> tuple[float, float, int]:
        """(request sent, response received, changedCount)."""
        body = json.dumps({"query": PAUSE_DOC, "variables": {"input": {"selection": selection}}})
        t0 = now()
        response = await self.http.post("/graphql", content=body, headers=self.headers)
        t1 = now()
        answer = response.json() if response.status_code == 200 else None
        if not answer or answer.get("errors") or answer["data"]["pauseEnrollments"]["userErrors"]:
            raise RuntimeError(f"pauseEnrollments failed {response.status_code}: {response.text}")
        return t0, t1, answer["data"]["pauseEnrollments"]["changedCount"]

    async def close(self) -> None:
        await self.http.aclose()


async def sql_counts(pg: Any, workspace_id: int, seq: int) -> dict[str, int]:
    rows = await pg.fetch(
        "SELECT status, count(*) AS n FROM enrollments WHERE workspace_id = $1 "
        "AND sequence_id = $2 GROUP BY status",
        workspace_id,
        seq,
    )
    return {r["status"]: r["n"] for r in rows if r["n"]}


async def last_event_number(pg: Any, seq: int) -> int:
    return int(await pg.fetchval("SELECT last_event_number FROM sequences WHERE id = $1", seq))


async def phase1(
    args: argparse.Namespace, res: Results, clients: Clients, api: Api, pg: Any,
    ctx: dict[str, Any], profiler: Profiler,
) -> None:  # fmt: skip
    from seqgql.graphql.ids import to_global_id

    spare = ctx["spare"]
    log(f"phase 1: opening {args.subscribers:,} enrollmentStatusChanged subscriptions")
    started = now()
    res.opened1, errors = await clients.open(
        kind="changes", query=CHANGES_DOC, variables={"seq": ctx["seq_gid"]}, **ctx["open"]
    )
    res.open1_seconds = now() - started
    res.errors1.update(errors)
    log(f"phase 1: {res.opened1:,} subscribed in {res.open1_seconds:.1f}s"
        + (f" ({args.subscribers - res.opened1} failed)" if res.opened1 < args.subscribers
           else ""))  # fmt: skip
    if res.opened1 == 0:
        res.notes.append("phase 1: no subscription could be opened")
        return
    await asyncio.sleep(1.0)  # let the server start the last subscriptions

    number = await last_event_number(pg, ctx["seq"])
    for attempt in range(1, MAX_WARMUPS + 1):
        number += 1
        await clients.target(number)
        t0, t1, changed = await api.pause({"ids": [to_global_id("Enrollment", spare.pop())]})
        if changed != 1:
            raise RuntimeError(f"a warm-up change changed {changed} enrollments")
        res.warmups = attempt
        if await clients.all_reached("reached", args.timeout, number=number):
            log(f"phase 1: warm-up change reached every subscriber in {now() - t1:.2f}s")
            break
        reached, total = await clients.status()
        log(f"phase 1: warm-up {attempt}: {reached} of {total} subscribers had it after "
            f"{args.timeout:g}s; another warm-up")  # fmt: skip
    else:
        res.notes.append(f"phase 1: after {MAX_WARMUPS} warm-ups not every subscriber was live")
        return
    res.base_number = number
    await asyncio.sleep(args.gap)

    await profiler.start("phase1")
    usage = Usage(ctx["server_pid"], clients.pids)
    try:
        for k in range(args.changes):
            if now() - usage.started > args.phase_seconds:
                res.notes.append(f"phase 1 stopped after {k} of {args.changes} changes: "
                                 f"--phase-seconds ({args.phase_seconds:g} s) ran out")  # fmt: skip
                log(f"phase 1: {args.phase_seconds:g}s budget spent; no more changes")
                break
            number += 1
            await clients.target(number)
            t0, t1, changed = await api.pause({"ids": [to_global_id("Enrollment", spare.pop())]})
            if changed != 1:
                raise RuntimeError(f"change {k + 1} changed {changed} enrollments")
            change = Change(number, t0, t1)
            res.changes.append(change)
            if await clients.all_reached("reached", args.timeout, number=number):
                change.done = now()
            else:
                res.timeouts += 1
                reached, total = await clients.status()
                log(f"phase 1: change {k + 1}: only {reached} of {total} subscribers had it "
                    f"after {args.timeout:g}s")  # fmt: skip
                if res.timeouts >= 3:
                    res.notes.append("phase 1 stopped after 3 changes that did not reach "
                                     "every subscriber in time")  # fmt: skip
                    break
            if (k + 1) % 10 == 0 or k == 0:
                spread = f"{change.done - t1:.3f}s" if change.done else "timed out"
                log(f"phase 1: change {k + 1}/{args.changes}: every subscriber had it {spread} "
                    "after the response")  # fmt: skip
            await asyncio.sleep(args.gap)
    finally:
        res.usage1 = usage.done()
        res.profile1 = await profiler.stop()
        res.py_spy_said["phase 1"] = profiler.said
    await asyncio.sleep(min(args.settle, 5.0))  # late or duplicate messages
    res.conns1, res.ended1, errors = await clients.collect()
    res.errors1.update(errors)
    written = await last_event_number(pg, ctx["seq"])
    if written != number:
        res.notes.append(f"phase 1: the log ends at {written}, expected {number}")


async def phase2(
    args: argparse.Namespace, res: Results, clients: Clients, api: Api, pg: Any,
    ctx: dict[str, Any], profiler: Profiler,
) -> None:  # fmt: skip
    from seqgql.graphql.ids import to_global_id

    res.phase2_ran = True
    spare = ctx["spare"]
    if spare:  # pause the unused warm-up reserve, so the bulk change is exactly --bulk
        _, _, changed = await api.pause({"ids": [to_global_id("Enrollment", i) for i in spare]})
        if changed != len(spare):
            raise RuntimeError(f"pausing the reserve changed {changed} of {len(spare)}")
    res.initial_counts = await sql_counts(pg, ctx["workspace_id"], ctx["seq"])
    active = res.initial_counts.get("ACTIVE", 0)
    if active != args.bulk:
        res.notes.append(f"phase 2: {active:,} ACTIVE enrollments before the bulk change, "
                         f"not {args.bulk:,}")  # fmt: skip

    log(f"phase 2: opening {args.subscribers:,} sequenceStatusCounts subscriptions")
    started = now()
    res.opened2, errors = await clients.open(
        kind="counts", query=COUNTS_DOC, variables={"seq": ctx["seq_gid"]}, **ctx["open"]
    )
    res.open2_seconds = now() - started
    res.errors2.update(errors)
    log(f"phase 2: {res.opened2:,} subscribed (first message received) in "
        f"{res.open2_seconds:.1f}s")  # fmt: skip
    if res.opened2 == 0:
        res.notes.append("phase 2: no subscription could be opened")
        return
    await clients.expect(res.initial_counts, "initial")
    if not await clients.all_reached("final", args.timeout, tag="initial"):
        reached, total = await clients.status()
        res.notes.append(f"phase 2: only {reached} of {total} subscribers showed the counts "
                         "before the bulk change")  # fmt: skip
    await asyncio.sleep(args.gap)

    await profiler.start("phase2")
    usage = Usage(ctx["server_pid"], clients.pids)
    try:
        log(f"phase 2: pausing {active:,} enrollments in one mutation")
        selection = {"sequenceId": ctx["seq_gid"], "filter": {"statuses": ["ACTIVE"]}}
        res.bulk_t0, res.bulk_t1, res.bulk_changed = await api.pause(selection)
        log(f"phase 2: the mutation answered in {res.bulk_t1 - res.bulk_t0:.2f}s "
            f"(changedCount {res.bulk_changed:,})")  # fmt: skip
        res.final_counts = await sql_counts(pg, ctx["workspace_id"], ctx["seq"])
        await clients.expect(res.final_counts, "bulk")
        remaining = max(0.0, res.bulk_t1 + args.timeout - now())
        res.all_final = await clients.all_reached("final", remaining, tag="bulk")
        if res.all_final:
            log(f"phase 2: every subscriber holds the final counts, "
                f"{now() - res.bulk_t1:.2f}s after the response")  # fmt: skip
        else:
            reached, total = await clients.status()
            log(f"phase 2: only {reached} of {total} subscribers hold the final counts "
                f"{args.timeout:g}s after the response")  # fmt: skip
    finally:
        res.usage2 = usage.done()
        res.profile2 = await profiler.stop()
        res.py_spy_said["phase 2"] = profiler.said
    await asyncio.sleep(args.settle)  # count any message that still follows
    res.conns2, res.ended2, errors = await clients.collect()
    res.errors2.update(errors)


async def main(args: argparse.Namespace) -> Results:
    import asyncpg

    from seqgql.graphql.ids import to_global_id

    res = Results(subscribers=args.subscribers, clients=args.clients)
    size = args.bulk + args.changes + MAX_WARMUPS
    res.enrollments = size
    async with scratch_database(args.postgres_url, "seqgql_bench_fanout") as url:
        tenant = await create_tenant(url)
        [seq] = await generate(url, tenant, [SequenceSpec(size, mix="active")])
        pg = await asyncpg.connect(url)
        server: asyncio.subprocess.Process | None = None
        clients: Clients | None = None
        api: Api | None = None
        try:
            single_ids = await pg.fetch(
                "SELECT id FROM enrollments WHERE sequence_id = $1 ORDER BY id DESC LIMIT $2",
                seq, args.changes + MAX_WARMUPS,
            )  # fmt: skip
            res.busy_before = await machine_busy(2.0)
            server, port, res.source = await start_server(url, res.server_log)
            res.source += source_version(Path(res.source))
            log(f"server pid {server.pid} on 127.0.0.1:{port}, seqgql from {res.source}")
            clients = Clients(
                [await ClientProcess.start() for _ in range(args.clients)], args.subscribers
            )
            api = Api(port, tenant.token)
            ctx: dict[str, Any] = {
                "seq": seq,
                "seq_gid": to_global_id("Sequence", seq),
                "workspace_id": tenant.workspace_id,
                "server_pid": server.pid,
                "spare": [r["id"] for r in single_ids],
                "open": {
                    "port": port,
                    "token": tenant.token,
                    "timeout": args.open_timeout,
                    "concurrency": args.open_concurrency,
                },
            }
            profiler = Profiler(args.profile, server.pid)
            await phase1(args, res, clients, api, pg, ctx, profiler)
            await clients.close()
            await phase2(args, res, clients, api, pg, ctx, profiler)
            await clients.close()
        finally:
            if api is not None:
                await api.close()
            if clients is not None:
                await clients.stop()
            if server is not None:
                await stop_server(server)
            await pg.close()
    return res


async def run_main(args: argparse.Namespace) -> Results:
    """main(), cancelled (so that everything is stopped and dropped) on SIGTERM too."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await main(args)


# =========================================================================== report


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def cpu_line(usage: dict[str, Any]) -> str:
    if not usage:
        return "    CPU: not measured"
    clients = " + ".join(f"{c:.2f}" for c in usage["clients"])
    rest = usage["machine"] - usage["server"] - sum(usage["clients"])
    return (
        f"    CPU over {usage['seconds']:.1f} s, in cores: server {usage['server']:.2f}, "
        f"clients {clients}, the rest (PostgreSQL, anything else) {max(0.0, rest):.2f};\n"
        f"      the whole machine {usage['machine']:.2f} of {usage['cores']}"
    )


def gc_line(server_log: ServerLog, usage: dict[str, Any]) -> str:
    if not usage:
        return "    server GC pauses: not measured"
    pauses = server_log.pauses(usage["started"], usage["ended"])
    if not pauses:
        return f"    server GC pauses of {GC_REPORT_MS:g} ms or more: none"
    by_generation = Counter(g for g, _, _ in pauses)
    return (
        f"    server GC pauses of {GC_REPORT_MS:g} ms or more: {len(pauses)} ("
        + ", ".join(f"gen{g}: {n}" for g, n in sorted(by_generation.items()))
        + f"), longest {max(ms for _, ms, _ in pauses):.0f} ms, "
        f"{sum(ms for _, ms, _ in pauses):.0f} ms in all"
    )


def report_phase1(args: argparse.Namespace, res: Results) -> bool:
    print(f"phase 1 — {res.opened1:,} subscribers on enrollmentStatusChanged(sequenceId) "
          f"(opened in {res.open1_seconds:.1f} s), {len(res.changes)} single changes")  # fmt: skip
    print(f"    each change: pauseEnrollments of one enrollment by id over HTTP; the next one "
          f"{args.gap * 1000:g} ms after every\n    subscriber had the previous one "
          f"({res.warmups} warm-up change(s) first, not counted)")  # fmt: skip
    if not res.changes:
        print("    no change measured")
        return False
    by_number = {c.number: c for c in res.changes}
    latencies: list[float] = []
    early = 0
    last_receipt: dict[int, float] = {}
    first_receipt: dict[int, float] = {}
    ok = missing = duplicated = disordered = 0
    expected = [c.number for c in res.changes]
    for numbers, times in res.conns1:
        measured = [n for n in numbers if n > res.base_number]
        if measured == expected:
            ok += 1
        else:
            if len(set(measured)) < len(measured):
                duplicated += 1
            if set(expected) - set(measured):
                missing += 1
            if measured != sorted(measured):
                disordered += 1
        for number, received in zip(numbers, times, strict=True):
            change = by_number.get(number)
            if change is None:
                continue
            delta = received - change.t1
            if delta < 0:
                early += 1
                delta = 0.0
            latencies.append(delta * 1000)
            last_receipt[number] = max(last_receipt.get(number, 0.0), received)
            first_receipt[number] = min(first_receipt.get(number, received), received)
    p99 = pct(latencies, 0.99)
    print(f"    commit-to-receipt latency, measured from the mutation's HTTP response "
          f"({len(latencies):,} receipts):")  # fmt: skip
    print(f"      p50 {pct(latencies, 0.5):.1f} ms   p90 {pct(latencies, 0.9):.1f} ms   "
          f"p99 {p99:.1f} ms   max {max(latencies, default=float('nan')):.1f} ms")  # fmt: skip
    print(f"      {early:,} receipts arrived before the response (counted as 0 ms)")
    http_ms = [(c.t1 - c.t0) * 1000 for c in res.changes]
    spreads = [(last_receipt[c.number] - c.t1) * 1000 for c in res.changes
               if c.number in last_receipt]  # fmt: skip
    print(f"    the mutation's HTTP round trip: p50 {pct(http_ms, 0.5):.1f} ms, "
          f"max {max(http_ms):.1f} ms")  # fmt: skip
    if spreads:
        print(f"    response -> last subscriber's receipt, per change: p50 "
              f"{pct(spreads, 0.5):.0f} ms, max {max(spreads):.0f} ms")  # fmt: skip
        slowest = sorted((c for c in res.changes if c.number in last_receipt),
                         key=lambda c: last_receipt[c.number] - c.t1)[-3:]  # fmt: skip
        print("    the 3 slowest changes, response -> first / last receipt: " + ", ".join(
            f"{(first_receipt[c.number] - c.t1) * 1000:.0f} / "
            f"{(last_receipt[c.number] - c.t1) * 1000:.0f} ms"
            + "".join(f" (server GC gen{g} {ms:.0f} ms meanwhile)" for g, ms, _ in
                      res.server_log.pauses(c.t0, last_receipt[c.number]))
            for c in reversed(slowest)))  # fmt: skip
    if last_receipt:
        span = max(last_receipt.values()) - res.changes[0].t0
        busy = sum(last_receipt[c.number] - c.t0 for c in res.changes if c.number in last_receipt)
        print(f"    deliveries per second: {len(latencies) / span:,.0f} "
              f"({len(latencies):,} in {span:.1f} s, first request to last receipt, pauses "
              f"included);\n      {len(latencies) / busy:,.0f} counting only the time from "
              "each request to its last receipt")  # fmt: skip
    print(f"    completeness: {ok:,} of {len(res.conns1):,} subscribers got exactly "
          f"{len(expected)} messages, in order, no duplicates"
          + (f" ({missing} missing some, {duplicated} with duplicates, {disordered} out of "
             "order)" if ok < len(res.conns1) else ""))  # fmt: skip
    if res.ended1:
        print(f"    the server ended {res.ended1:,} subscription(s) (see below); the changes "
              "after that were\n      waited for at the others only")  # fmt: skip
    if res.timeouts:
        print(f"    {res.timeouts} change(s) did not reach every subscriber within "
              f"{args.timeout:g} s")  # fmt: skip
    print(cpu_line(res.usage1))
    print(gc_line(res.server_log, res.usage1))
    print_errors(res.errors1)
    return (
        p99 < GOAL_P99_MS
        and res.opened1 == args.subscribers
        and ok == len(res.conns1)
        and len(res.changes) == args.changes
    )


def report_phase2(args: argparse.Namespace, res: Results) -> bool:
    print(f"phase 2 — {res.opened2:,} subscribers on sequenceStatusCounts(sequenceId) "
          f"(opened, first message in, in {res.open2_seconds:.1f} s); one bulk change")  # fmt: skip
    if not res.bulk_t1:
        print("    the bulk change did not run")
        return False
    print(f"    pauseEnrollments by filter (statuses: [ACTIVE]): changedCount "
          f"{res.bulk_changed:,}, answered in {res.bulk_t1 - res.bulk_t0:.2f} s")  # fmt: skip
    print(f"    counts before: {res.initial_counts}; after (SQL): {res.final_counts}")
    per_subscriber: list[int] = []
    finals: list[float] = []
    never = 0
    early = 0
    for messages in res.conns2:
        after = [(t, c) for t, c in messages[1:]]
        per_subscriber.append(len(after))
        got = [t for t, c in after if c == res.final_counts]
        if messages and messages[-1][1] == res.final_counts and got:
            finals.append(got[0])
            early += got[0] < res.bulk_t1
        else:
            never += 1
    if per_subscriber:
        print(f"    messages per subscriber after its first: min {min(per_subscriber)}, "
              f"median {statistics.median(per_subscriber):g}, max {max(per_subscriber)} "
              f"(total {sum(per_subscriber):,})")  # fmt: skip
    ok = never == 0 and bool(finals) and res.opened2 == args.subscribers
    if finals:
        last = max(finals)
        from_response = max(0.0, last - res.bulk_t1)
        spread = [max(0.0, t - res.bulk_t1) * 1000 for t in finals]
        who = "every subscriber" if not never else f"the {len(finals):,} that got there"
        print(f"    {who} held the final exact counts {from_response:.3f} s after "
              f"the mutation's response\n      ({last - res.bulk_t0:.3f} s after its "
              "request)")  # fmt: skip
        print(f"      per subscriber, from the response: p50 {pct(spread, 0.5):.0f} ms, "
              f"p99 {pct(spread, 0.99):.0f} ms; {early} before the response")  # fmt: skip
        ok = ok and from_response < GOAL_FINAL_SECONDS
    if res.ended2:
        print(f"    the server ended {res.ended2:,} subscription(s) (see below)")
    if never:
        print(f"    {never:,} subscriber(s) never held the final counts (waited "
              f"{args.timeout:g} s after the response)")  # fmt: skip
    print(cpu_line(res.usage2))
    print(gc_line(res.server_log, res.usage2))
    print_errors(res.errors2)
    return ok


def print_errors(errors: Counter[str]) -> None:
    for reason, count in errors.most_common(5):
        print(f"    clients saw {count:,} x {reason[:300]}")


def package_of(frame: str) -> str:
    """'func (seqgql/graphql/view.py:12)' -> 'seqgql.graphql'; stdlib -> its module."""
    location = frame.rsplit(" (", 1)[-1].rstrip(")")
    path = location.rsplit(":", 1)[0]
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "?"
    if parts[0] == "seqgql" and len(parts) > 2:
        return f"seqgql.{parts[1]}"
    if parts[0].startswith("python3"):
        parts = parts[1:] or parts
    return parts[0].removesuffix(".py")


# Frames every stack starts with (the process, uvicorn, the event loop): not informative.
OUTER_FRAMES = ("fanout.py", "uvicorn/server.py", "uvicorn/_compat.py", "asyncio/runners.py",
                "asyncio/base_events.py", "asyncio/events.py")  # fmt: skip


def frame_name(frame: str) -> str:
    """'func (path/file.py:12)' -> 'func (path/file.py)'."""
    function, _, location = frame.rpartition(" (")
    return f"{function} ({location.rsplit(':', 1)[0]})"


def summarize_profile(path: Path, seconds: float, top: int = 20) -> None:
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    samples = sum(n for _, n in stacks)
    if not samples:
        print(f"    {path}: no samples")
        return
    own: Counter[str] = Counter()
    own_functions: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, n in stacks:
        own[package_of(frames[-1])] += n
        own_functions[frame_name(frames[-1])] += n
        for name in {frame_name(f) for f in frames}:
            if not name.endswith(OUTER_FRAMES + tuple(f"{o})" for o in OUTER_FRAMES)):
                inclusive[name] += n
    print(f"    {path}: {samples:,} samples at 100 Hz over {seconds:.0f} s (server busy "
          f"~{samples / 100 / seconds:.0%} of one core)")  # fmt: skip
    print("    own time by package: " + ", ".join(
        f"{name} {n / samples:.0%}" for name, n in own.most_common(10)))  # fmt: skip
    print("    own time, top functions: " + ", ".join(
        f"{name} {n / samples:.0%}" for name, n in own_functions.most_common(6)))  # fmt: skip
    print(f"    inclusive time (the function and what it calls), top {top}:")
    for name, n in inclusive.most_common(top):
        print(f"      {n / samples:5.1%}  {name}")


def report(args: argparse.Namespace, res: Results, elapsed: float) -> None:
    print()
    print(f"fan-out benchmark — one uvicorn process (memory:// broadcast), one sequence of "
          f"{res.enrollments:,} enrollments;")  # fmt: skip
    print(f"  {args.subscribers:,} websocket subscribers (graphql-transport-ws) over "
          f"{args.clients} client process(es); {os.cpu_count()} cores shared by server, "
          "clients and PostgreSQL")  # fmt: skip
    print(f"  seqgql from {res.source}")
    print(f"  before the server started, other work kept {res.busy_before:.2f} of "
          f"{os.cpu_count()} cores busy" + (" (the figures below suffer from it)"
                                            if res.busy_before > 0.2 else ""))  # fmt: skip
    print()
    goal1 = report_phase1(args, res)
    print()
    goal2 = report_phase2(args, res) if res.phase2_ran else False
    for note in res.notes:
        print(f"  note: {note}")
    if res.server_log.errors:
        print(f"\n  the server logged {res.server_log.tracebacks:,} traceback(s); what it logged "
              "most:")  # fmt: skip
        for text, count in res.server_log.errors.most_common(4):
            print(f"    {count:,} x {text}")
    if args.profile:
        for name, path, usage in (("phase 1", res.profile1, res.usage1),
                                  ("phase 2", res.profile2, res.usage2)):  # fmt: skip
            print()
            print(f"  py-spy profile of the server, {name}:")
            if path is None:
                print(f"    none; py-spy said: {res.py_spy_said.get(name) or '(nothing)'}")
            else:
                summarize_profile(path, usage.get("seconds", 1.0))
    print()
    print(f"  goal: single changes p99 under {GOAL_P99_MS:g} ms at {args.subscribers:,} "
          f"subscribers (all delivered): {verdict(goal1)}")  # fmt: skip
    print(f"  goal: final counts at every subscriber within {GOAL_FINAL_SECONDS:g} s of the "
          f"bulk commit: {verdict(goal2)}")  # fmt: skip
    print(f"  (whole run {elapsed:.0f} s)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server to create the scratch database on (loopback only)",
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="websocket subscribers")
    parser.add_argument("--changes", type=int, default=100, help="single status changes")
    parser.add_argument(
        "--bulk", type=int, default=100_000, help="enrollments changed by the bulk change"
    )
    parser.add_argument(
        "--clients", type=int, default=2, help="client processes the subscribers are spread over"
    )
    parser.add_argument(
        "--gap",
        type=float,
        default=0.05,
        help="seconds between every subscriber having a change and the next change",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="seconds to wait for a change (or the bulk change's final counts) to reach "
        "every subscriber",
    )
    parser.add_argument(
        "--open-timeout", type=float, default=300.0, help="seconds to open the subscriptions"
    )
    parser.add_argument(
        "--phase-seconds",
        type=float,
        default=300.0,
        help="phase 1 starts no new change after this many seconds (a slow server)",
    )
    parser.add_argument(
        "--open-concurrency",
        type=int,
        default=25,
        help="connections each client process opens at a time",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds to keep listening after the bulk change reached everyone",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record the server with py-spy during phase 1 and the bulk change (raw stacks "
        "in DIR) and print a summary",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (1 <= args.subscribers <= 20_000 and 1 <= args.changes <= 10_000
            and 1 <= args.bulk <= 10_000_000 and 1 <= args.clients <= 16
            and args.gap >= 0 and args.timeout > 0):  # fmt: skip
        parser.error("a size or time is out of range")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve:
        serve(arguments.database_url)
    elif arguments.client:
        use_uvloop()
        asyncio.run(client_main())
    else:
        began = now()
        results = asyncio.run(run_main(arguments))
        report(arguments, results, now() - began)
