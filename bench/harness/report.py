"""Progress lines on stderr, and the pieces the printed reports share."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.harness.servers import GC_REPORT_MS, ServerLog


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, the nearest rank at or above; NaN for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def short_sql(statement: str, width: int = 96) -> str:
    """The statement on one line (white space folded), cut to ``width`` characters."""
    text = re.sub(r"\s+", " ", statement).strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def cpu_line(usage: dict[str, Any]) -> str:
    """measure.Usage.done()'s figures: the server, the clients, the rest, the machine."""
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
    """The server's long GC pauses during the span usage (measure.Usage.done()) covers."""
    if not usage:
        return "    server GC pauses: not measured"
    pauses = server_log.pauses(usage["started"], usage["ended"])
    if not pauses:
        return f"    server GC pauses of {GC_REPORT_MS:g} ms or more: none"
    by_generation = Counter(g for g, _, _ in pauses)
    longest = max(pauses, key=lambda p: p[1])
    cpu_ms = server_log.gc_cpu_ms.get(longest[2])
    freed = server_log.gc_collected.get(longest[2])
    return (
        f"    server GC pauses of {GC_REPORT_MS:g} ms or more: {len(pauses)} ("
        + ", ".join(f"gen{g}: {n}" for g, n in sorted(by_generation.items()))
        + f"), longest {longest[1]:.0f} ms"
        + (f" ({cpu_ms:.0f} ms of it on the CPU)" if cpu_ms is not None else "")
        + (f", {freed:,} objects freed by it" if freed is not None else "")
        + f", {sum(ms for _, ms, _ in pauses):.0f} ms in all"
    )


def print_errors(errors: Counter[str]) -> None:
    for reason, count in errors.most_common(5):
        print(f"    clients saw {count:,} x {reason[:300]}")


def source_version(src: Path) -> str:
    """' (git abc1234)' or ' (git abc1234, modified)' when src is in a git checkout."""

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
