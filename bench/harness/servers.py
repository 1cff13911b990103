"""Servers on 127.0.0.1: the app (or any ASGI app) under uvicorn, in this process or in a
child process started as ``python -m bench.<script> --serve …``; child processes; what a
server writes on stderr."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import resource
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn

from bench.harness.measure import now

Process = asyncio.subprocess.Process


def free_loopback_socket() -> socket.socket:
    """A listening-ready TCP socket bound to 127.0.0.1 on a free port (for uvicorn)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def make_app(url: str, **settings: Any) -> Any:
    """The real app on this database: no migration at startup, warnings only, and no rate
    limits (a benchmark's one token asks far more than a client may)."""
    from seqgql.app import create_app
    from seqgql.settings import Settings

    settings.setdefault("rate_limit_window_seconds", 0)
    return create_app(
        Settings(database_url=url, auto_migrate=False, log_level="warning", **settings)
    )


def uvicorn_config(app: Any, *, like_serve: bool = False) -> uvicorn.Config:
    """uvicorn with its websockets protocol as `seqgql serve` runs it (``seqgql.serving``);
    ``like_serve``: its HTTP protocol too (the header deadline, the upgraded connection's
    HTTP protocol freed at once)."""
    from seqgql.serving import WS_PROTOCOL, HeaderDeadlineProtocol
    from seqgql.settings import Settings

    http: Any = HeaderDeadlineProtocol if like_serve else "auto"
    return uvicorn.Config(
        app, lifespan="on", log_level="warning", access_log=False, ws=WS_PROTOCOL, http=http,
        # as `seqgql serve` by default (WS_COMPRESSION)
        ws_per_message_deflate=Settings.model_fields["ws_compression"].default,
    )  # fmt: skip


def serve(app: Any, note: str = "", *, like_serve: bool = False) -> None:
    """In the server process: bind 127.0.0.1:0, print 'PORT <port> [note]', serve until
    SIGTERM (``like_serve``: see ``uvicorn_config``)."""
    from seqgql.process import tune_gc

    sock = free_loopback_socket()
    print(f"PORT {sock.getsockname()[1]}" + (f" {note}" if note else ""), flush=True)
    tune_gc()  # as `seqgql serve` does
    uvicorn.Server(uvicorn_config(app, like_serve=like_serve)).run(sockets=[sock])


@contextlib.asynccontextmanager
async def serving_in_process(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` on a free port from this event loop; yields its base URL."""
    sock = free_loopback_socket()
    server = uvicorn.Server(uvicorn_config(app))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.01)
        if not server.started:
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving


async def start_module(module: str, *argv: str, **kwargs: Any) -> Process:
    """``python -m module argv…`` with this interpreter (and this working directory)."""
    return await asyncio.create_subprocess_exec(sys.executable, "-m", module, *argv, **kwargs)


async def start_server(
    module: str, *argv: str, name: str = "the server", log: ServerLog | None = None
) -> tuple[Process, int, str]:
    """Start a server process (one that calls serve()), wait until /healthz answers;
    returns the process, its port and the note it printed after the port. With ``log``,
    the server's stderr goes there."""
    pipe = asyncio.subprocess.PIPE
    process = await start_module(module, *argv, stdout=pipe, stderr=pipe if log else None)
    assert process.stdout is not None
    if log is not None:
        log.follow(process)
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        if not line.startswith(b"PORT "):
            raise RuntimeError(f"{name} did not start: {line!r}")
        _, port, *note = line.decode().split(maxsplit=2)
        base_url = f"http://127.0.0.1:{int(port)}"
        async with httpx.AsyncClient(base_url=base_url, trust_env=False) as client:
            for _ in range(300):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return process, int(port), "".join(note).strip()
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"{name} did not answer /healthz")
    except BaseException:
        await stop_process(process)
        raise


async def stop_process(process: Process, seconds: float = 15) -> None:
    """SIGTERM, then SIGKILL after that many seconds."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), seconds)
        except TimeoutError:
            process.kill()
            await process.wait()


def raise_file_limit() -> None:
    """1,000 sockets plus the database pool do not fit under a soft limit of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def use_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


# A server process started with watch_gc() reports its garbage-collection pauses of at
# least GC_REPORT_MS on stderr; ServerLog reads them.
GC_MARK = "FANOUT-GC"
GC_REPORT_MS = 10.0


def watch_gc() -> None:
    """Print '<GC_MARK> <generation> <ms> <end, monotonic> <CPU ms> <objects freed>' for
    every long collection (its wall time, and the CPU time the process had meanwhile: on
    a busy machine a pause may be mostly time the process was not running)."""
    started = [0.0, 0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.perf_counter(), time.process_time()]
            return
        ms = (time.perf_counter() - started[0]) * 1000
        if ms >= GC_REPORT_MS:
            cpu_ms = (time.process_time() - started[1]) * 1000
            print(f"{GC_MARK} {info['generation']} {ms:.1f} {now():.4f} {cpu_ms:.1f} "
                  f"{info['collected']}", file=sys.stderr, flush=True)  # fmt: skip

    gc.callbacks.append(callback)


class ServerLog:
    """A server's stderr, read as it comes: tracebacks counted, the errors they end with
    kept (the report shows the most common), GC pauses (see watch_gc)."""

    def __init__(self) -> None:
        self.tracebacks = 0
        self.errors: Counter[str] = Counter()
        self.gc_pauses: list[tuple[int, float, float]] = []  # generation, ms, end
        self.gc_cpu_ms: dict[float, float] = {}  # by a pause's end: the CPU ms it took
        self.gc_collected: dict[float, int] = {}  # by a pause's end: the objects it freed
        self.task: asyncio.Task[None] | None = None

    def follow(self, process: Process) -> None:
        assert process.stderr is not None
        self.task = asyncio.create_task(self.read(process.stderr))

    def pauses(self, start: float, end: float) -> list[tuple[int, float, float]]:
        """The GC pauses that overlap [start, end]."""
        return [p for p in self.gc_pauses if p[2] >= start and p[2] - p[1] / 1000 <= end]

    async def read(self, stream: asyncio.StreamReader) -> None:
        in_traceback = False
        while line := await stream.readline():
            text = line.decode(errors="replace").rstrip()
            if text.startswith(GC_MARK):
                _, generation, ms, end, *cpu_ms = text.split()
                self.gc_pauses.append((int(generation), float(ms), float(end)))
                if cpu_ms:
                    self.gc_cpu_ms[float(end)] = float(cpu_ms[0])
                if len(cpu_ms) > 1:
                    self.gc_collected[float(end)] = int(cpu_ms[1])
            elif text.startswith("Traceback"):
                self.tracebacks += 1
                in_traceback = True
            elif in_traceback and text and not text[0].isspace() and not text.startswith("^"):
                if not text.startswith(("The above exception", "During handling")):
                    self.errors[text[:200]] += 1
                    in_traceback = False
            elif not in_traceback and text:
                self.errors[text[:200]] += 1
