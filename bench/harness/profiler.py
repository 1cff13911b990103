"""py-spy on a server process (raw collapsed stacks), started and stopped by hand, and a
summary of what it recorded: own time by package and function, inclusive time."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from pathlib import Path


class Profiler:
    """Does nothing when ``directory`` is None."""

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
        """The file it wrote, if any."""
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


# Frames every stack of a server process starts with (python -m, the benchmark's module,
# servers.serve, uvicorn, the event loop): not informative.
OUTER_FRAMES = ("<frozen runpy>", "runpy.py", "bench/fanout.py", "harness/servers.py",
                "uvicorn/server.py", "uvicorn/_compat.py", "asyncio/runners.py",
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
