"""A subscriber client process: many graphql-transport-ws subscriptions on one event loop
(uvloop), driven by its coordinator (client_processes.Clients).

Run as ``python -m bench.harness.subscribers``. Commands arrive as JSON lines on stdin;
answers and events leave as JSON lines on stdout (logs go to stderr).

  open     {kind, count, port, token, query, variables, timeout, concurrency}
           -> opened {ok, failed, errors}: every connection acknowledged and subscribed
              (kind "counts": and holding its first message), or the time limit passed
  target   {number} (changes) -> reached {number} once every open subscriber has it
  expect   {counts, tag} (counts) -> final {tag} once every open subscriber's latest
                                     message shows exactly these counts
  status   -> status {reached, open, errors}
  collect  -> data {conns, ended, errors}: per connection, what arrived and when
  close    -> closed: every connection completed and closed
  exit

Kinds: "changes", enrollmentStatusChanged (the event numbers and their receipt times);
"counts", sequenceStatusCounts (each message's receipt time and non-zero counts).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from typing import Any

from bench.harness.measure import now
from bench.harness.servers import raise_file_limit, use_uvloop
from bench.harness.ws_client import Subscription


class Subscriber(Subscription):
    """One subscription of this process; it counts once ready in time (``is_open``)."""

    def __init__(self, client: Client, port: int) -> None:
        super().__init__("127.0.0.1", port, client.token, client.query, client.variables)
        self.client = client
        self.is_open = False

    def error(self, reason: str) -> None:
        self.client.error(reason)

    def on_end(self) -> None:
        if self.is_open:  # no longer waited for
            self.client.live -= 1
            self.client.recount()

    def collected(self) -> Any:
        raise NotImplementedError


class ChangesSubscriber(Subscriber):
    def __init__(self, client: Client, port: int) -> None:
        super().__init__(client, port)
        self.numbers: list[int] = []
        self.times: list[float] = []
        self.last = 0

    def on_ack(self) -> None:
        if not self.ready.done():
            self.ready.set_result(None)

    def on_data(self, data: dict[str, Any], received: float) -> None:
        number = data["enrollmentStatusChanged"]["number"]
        self.numbers.append(number)
        self.times.append(received)
        client = self.client
        if (self.is_open and not self.ended and client.target is not None
                and self.last < client.target <= number):  # fmt: skip
            client.reached += 1
            client.check_reached()
        if number > self.last:
            self.last = number

    def collected(self) -> Any:
        return [self.numbers, self.times]


class CountsSubscriber(Subscriber):
    def __init__(self, client: Client, port: int) -> None:
        super().__init__(client, port)
        self.messages: list[tuple[float, dict[str, int]]] = []  # without zeros
        self.final = False

    def on_data(self, data: dict[str, Any], received: float) -> None:
        counts = data["sequenceStatusCounts"]["counts"]
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

    def collected(self) -> Any:
        return self.messages


KINDS: dict[str, type[Subscriber]] = {"changes": ChangesSubscriber, "counts": CountsSubscriber}


class Client:
    def __init__(self) -> None:
        self.kind = ""
        self.token = ""
        self.query = ""
        self.variables: dict[str, Any] = {}
        self.conns: list[Any] = []  # of one Subscriber subclass
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
    def open_conns(self) -> list[Any]:
        """Every connection that was ready in time."""
        return [c for c in self.conns if c.is_open]

    @property
    def live_conns(self) -> list[Any]:
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
        Subscription.offer_deflate = bool(cmd.get("deflate"))
        Subscription.read_directly = not cmd.get("websockets_parser")
        loop = asyncio.get_running_loop()
        deadline = now() + cmd["timeout"]
        kind, port = KINDS[self.kind], cmd["port"]

        async def open_one() -> None:
            async with limit:
                _, conn = await loop.create_connection(lambda: kind(self, port), "127.0.0.1", port)
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
        conns = [c.collected() for c in self.open_conns]
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
            status = {"reached": client.reached, "open": client.live, "errors": client.errors}
            client.emit({"ev": "status", **status})
        elif op == "collect":
            client.collect()
        elif op == "close":
            await client.close()
        elif op == "exit":
            break
    await client.close(answer=False)


if __name__ == "__main__":
    use_uvloop()
    asyncio.run(client_main())
