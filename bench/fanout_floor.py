"""The fan-out bench's floor: the same subscribers and changes against the reference
server (``bench/harness/floor.py``: asyncio transports, one pre-built frame written to
each connection), measured the same way as the app in the same run, so that the app's
figures can be read as multiples of what one write per subscriber costs here."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bench.fanout_report import Change, Phase, Results
from bench.harness.client_processes import Clients
from bench.harness.measure import Usage, now, process_cpu_seconds, rss_kib
from bench.harness.report import log
from bench.harness.servers import start_module, stop_process

WARMUPS = 5


class FloorServer:
    """The reference server process, driven over its stdin/stdout."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process, self.port = process, port

    @classmethod
    async def start(cls) -> FloorServer:
        pipe = asyncio.subprocess.PIPE
        process = await start_module("bench.harness.floor", stdin=pipe, stdout=pipe)
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        if not line.startswith(b"PORT "):
            await stop_process(process)
            raise RuntimeError(f"the floor server did not start: {line!r}")
        return cls(process, int(line.split()[1]))

    @property
    def pid(self) -> int:
        return self.process.pid

    async def ask(self, **cmd: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(cmd).encode() + b"\n")
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), 120)
        if not line:
            raise RuntimeError("the floor server exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def change(self, number: int) -> tuple[float, float]:
        """(sent, every frame written): the change is known when the command is sent."""
        t0 = now()
        await self.ask(op="change", number=number)
        return t0, now()

    async def stop(self) -> None:
        await stop_process(self.process)


async def floor_phase(
    args: Any, res: Results, clients: Clients, query: str, variables: dict[str, Any], token: str
) -> None:
    """Open --subscribers connections to the floor server, a warm-up, then --changes
    changes one at a time as phase 1 sends them (the next --gap after every subscriber
    had the previous one); latency from the moment the change is sent to the server."""
    phase = res.floor = Phase()
    res.floor_ran = True
    server = await FloorServer.start()
    try:
        log(f"floor: reference server pid {server.pid}; opening {args.subscribers:,}")
        rss_before = rss_kib(server.pid)
        cpu_before = process_cpu_seconds(server.pid)
        started = now()
        phase.opened, errors = await clients.open(
            kind="changes", query=query, variables=variables, ports=[server.port], token=token,
            timeout=args.open_timeout, concurrency=args.open_concurrency,
            websockets_parser=args.websockets_parser,
        )  # fmt: skip
        phase.open_seconds = now() - started
        await asyncio.sleep(1.0)
        phase.open_cpu = process_cpu_seconds(server.pid) - cpu_before
        phase.rss_kib = (rss_before, rss_kib(server.pid))
        phase.errors.update(errors)
        log(f"floor: {phase.opened:,} subscribed in {phase.open_seconds:.1f}s")
        if phase.opened == 0:
            res.notes.append("floor: no connection could be opened")
            return
        number = 0
        for _ in range(WARMUPS):
            number += 1
            await clients.target(number)
            await server.change(number)
            if await clients.all_reached("reached", args.timeout, number=number):
                break
        res.floor_base = number
        await asyncio.sleep(args.gap)
        usage = Usage([server.pid], clients.pids)
        for _ in range(args.changes):
            number += 1
            await clients.target(number)
            t0, _ = await server.change(number)
            change = Change(number, t0, t0)
            res.floor_changes.append(change)
            if await clients.all_reached("reached", args.timeout, number=number):
                change.done = now()
            await asyncio.sleep(args.gap)
        phase.usage = usage.done()
        await asyncio.sleep(min(args.settle, 2.0))
        phase.conns, phase.ended, errors = await clients.collect()
        phase.errors.update(errors)
        log(f"floor: {len(res.floor_changes)} changes sent")
    finally:
        await clients.close()
        await server.stop()
