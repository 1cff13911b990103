"""The coordinator's side of the subscriber client processes (see subscribers.py): start
them, send them commands, wait for their events, with a time limit on every wait."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from typing import Any

from bench.harness.measure import now
from bench.harness.servers import start_module


class ClientProcess:
    """One subscriber process; its JSON-line events are read into a queue as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls) -> ClientProcess:
        pipe = asyncio.subprocess.PIPE
        process = await start_module(
            "bench.harness.subscribers", stdin=pipe, stdout=pipe, limit=2**27
        )
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
    """The client processes, addressed together; the subscribers spread evenly."""

    def __init__(self, processes: list[ClientProcess], subscribers: int) -> None:
        self.processes = processes
        n = len(processes)
        self.shares = [subscribers // n + (1 if i < subscribers % n else 0) for i in range(n)]

    @classmethod
    async def start(cls, processes: int, subscribers: int) -> Clients:
        return cls([await ClientProcess.start() for _ in range(processes)], subscribers)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    async def open(self, ports: list[int], **cmd: Any) -> tuple[int, Counter[str]]:
        """Open every process's share, process i to ports[i % len(ports)] (servers side by
        side); (subscriptions open, errors)."""
        for i, (process, share) in enumerate(zip(self.processes, self.shares, strict=True)):
            await process.send(op="open", count=share, port=ports[i % len(ports)], **cmd)
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
        """(subscribers that reached the target or counts, subscriptions still live)."""
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
