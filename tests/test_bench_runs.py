"""The benchmarks run as modules from the repository (one shared harness, no sys.path
edits): each answers --help in a process of its own, and the SQLite one, which needs no
server, runs a tiny round, as do the export and plans ones when PostgreSQL answers. The
engine bench's transports take the engine's paths they are named for."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.databases import POSTGRES_URL, postgres_problem

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [
    "bulk", "page", "page_cpu", "fanout", "engine", "sqlite_writes", "export", "plans",
    "webhooks", "dashboard", "ws_open_cpu",
]  # fmt: skip


def run_bench(module: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``python -m <module> <args>`` from the repository, its output as text."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def run_on_postgres(
    module: str, *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``run_bench`` on the test machine's PostgreSQL (the test skipped without it)."""
    if (problem := postgres_problem()) is not None:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({problem})")
    return run_bench(module, *args, "--postgres-url", POSTGRES_URL, timeout=timeout)


@pytest.mark.parametrize("name", SCRIPTS)
def test_each_bench_runs_as_a_module(name: str) -> None:
    done = run_bench(f"bench.{name}", "--help", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_the_sqlite_bench_runs_in_a_quick_mode() -> None:
    """It needs nothing but SQLite, so a tiny run of it is cheap: it prints its table."""
    quick = ["--clients", "4", "--actions", "2", "--per-client", "3", "--rounds", "1"]
    done = run_bench("bench.sqlite_writes", *quick, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "| figure | queue | no queue |" in done.stdout, done.stdout
    assert "| bulk actions answered | 8 | 8 |" in done.stdout, done.stdout


def test_the_export_bench_runs_in_a_quick_mode() -> None:
    """A thousand enrollments on PostgreSQL (skipped without it): it prints its table of
    the export beside its references, having checked that the file holds every row."""
    done = run_on_postgres("bench.export", "--scale", "0.001")
    assert done.returncode == 0, done.stderr
    assert "| what | seconds | rows/s | peak RSS (MB) |" in done.stdout, done.stdout
    assert "| GET /export/enrollments.csv (app under uvicorn) |" in done.stdout


def test_the_plans_bench_runs_in_a_quick_mode() -> None:
    """Ten thousand enrollments on PostgreSQL (skipped without it): it prints its table of
    cases and its verdict, and exits 1 exactly when it reports a sequential scan (on so
    small a table PostgreSQL may rightly choose one; the verdict means something at
    1,000,000 rows, where bench/README.md shows it)."""
    done = run_on_postgres("bench.plans", "--scale", "0.01", "--rounds", "1")
    assert "| sort NEXT_SEND_AT ASC, last 50 | 50 |" in done.stdout, done.stdout + done.stderr
    assert "| filter resumeScheduled true |" in done.stdout, done.stdout
    clean = "no case scans enrollments sequentially" in done.stdout
    assert clean != ("FAILED:" in done.stdout), done.stdout
    assert done.returncode == (0 if clean else 1), done.stderr


def test_the_page_cpu_bench_runs_in_a_quick_mode() -> None:
    """On PostgreSQL (skipped without it): the page answered through every layer (it
    stops when the plan leaves the page to the stock way), a row of figures for each."""
    done = run_on_postgres("bench.page_cpu", "--calls", "500")
    assert done.returncode == 0, done.stderr
    for layer in ("app", "gate", "view", "plan"):
        assert re.search(rf"^\| {layer} \| \d+ \| \d+ \| \d+ \|", done.stdout, re.M), done.stdout


def test_the_dashboard_bench_runs_in_a_quick_mode() -> None:
    """One sequence of ten thousand enrollments on PostgreSQL (skipped without it): the
    dashboard's own requests answer as the dashboard expects (a full first page, every row
    counted by the tab bar), and the verdict on the page statements matches the exit
    status (at this size PostgreSQL may rightly read sequentially)."""
    done = run_on_postgres(
        "bench.dashboard", "--scale", "0.01", "--rounds", "1", "--deep-page", "5"
    )
    out = done.stdout
    assert "| reference: first page (All tab) | 25 rows |" in out, out + done.stderr
    assert "| page 5 (after 4 pages forward) | 25 rows |" in out, out
    assert "| the page before the last (`last` + `before`) | 25 rows |" in out, out
    assert "| TAB_COUNTS: no filter | 10,000 counted |" in out, out
    assert "| SEQUENCE (the funnel: stepCounts) | 3 steps," in out, out
    clean = "no page statement scans enrollments sequentially" in out
    assert clean != ("FAILED:" in out), out
    assert done.returncode == (0 if clean else 1), done.stderr


def test_the_dashboard_bench_sends_the_filter_the_dashboard_builds() -> None:
    """bench/dashboard.py's api_filter sets the same EnrollmentFilter fields as
    frontend/src/filters.js's apiFilter, and reads every document with its constants
    filled in."""
    from bench.dashboard import FRONTEND, Filters, api_filter, documents

    source = (FRONTEND / "filters.js").read_text()
    body = source[source.index("export function apiFilter") :].split("\n}\n")[0]
    in_js = set(re.findall(r"filter\.(\w+) =", body))
    every = Filters(status="PAUSED", step="2", enrolled_by="VXNlcjox", search="ada",
                    start="2026-01-01", to="2026-01-31")  # fmt: skip
    assert set(api_filter(every)) == in_js
    assert api_filter(every)["enrolledBefore"] == "2026-02-01T00:00:00.000Z"
    assert api_filter(Filters(status="REMOVED")) == {
        "statuses": ["REMOVED"],
        "includeRemoved": True,
    }
    docs = documents()
    assert {"PAGE", "TAB_COUNTS", "SEQUENCE", "SEQUENCES"} <= set(docs)
    assert all("${" not in text for text in docs.values())
    assert "statusCounts { status count }" in docs["TAB_COUNTS"]


def test_the_webhooks_bench_runs_in_a_quick_mode() -> None:
    """600 events on PostgreSQL (skipped without it): it prints its table, the worker's
    figures beside raw httpx's, having checked that each event was received once and
    signed (at this size the goals may be missed: exit status 1)."""
    quick = ["--events", "600", "--sequences", "3", "--rounds", "1", "--seconds", "1"]
    done = run_on_postgres("bench.webhooks", *quick, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    assert "600 distinct webhook-ids" in done.stderr, done.stderr
    assert "| deliveries/s, the backlog (the system) |" in done.stdout, done.stdout
    assert "| raw httpx POSTs/s, one connection (reference) |" in done.stdout
    assert "| commit → receipt p99 (ms) |" in done.stdout


def test_the_fanout_bench_runs_in_a_quick_mode() -> None:
    """Fifty subscribers on PostgreSQL (skipped without it), the floor first: every change
    reaches every subscriber, and the run ends with its goals' table, the app's figure
    beside the floor's for each."""
    quick = ["--subscribers", "50", "--changes", "3", "--bulk", "500", "--clients", "1"]
    done = run_on_postgres("bench.fanout", *quick, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "50 of 50 subscribers got exactly 3 messages, in order" in done.stdout, done.stdout
    number = r"\d+\.\d"
    for goal in (
        r"commit-to-receipt p99, ms \| < 100",
        r"server CPU per delivery, µs \| ≤ 10",
        r"memory per subscriber, KiB \| ≤ 15",
        r"subscriptions opened in, s \| < 5",
    ):
        row = rf"^  \| {goal} \| {number} \| {number} \| (yes|no|no \(nor by the floor\)) \|$"
        assert re.search(row, done.stdout, re.M), done.stdout
    assert re.search(
        r"^  \| server GC pauses of 10 ms or more during the changes \| none \|", done.stdout, re.M
    ), done.stdout
    bound = re.search(r"over its cores is (\d+\.\d) ms \(the app's run: \d+\.\d\)", done.stdout)
    reach = re.search(
        r"a p99 under 100 ms is (within this machine's|out of any server's) reach here", done.stdout
    )
    assert bound and reach, done.stdout
    assert reach[1].startswith("within" if float(bound[1]) < 100 else "out of"), done.stdout


def test_the_fanout_goals_without_the_floor_blame_no_floor() -> None:
    """``--no-floor``: the goals' table shows no floor figure, and no goal says the floor
    missed it too."""
    quick = ["--subscribers", "20", "--changes", "2", "--bulk", "200", "--clients", "1"]
    done = run_on_postgres("bench.fanout", *quick, "--no-floor", timeout=300)
    assert done.returncode == 0, done.stderr
    table = done.stdout[done.stdout.index("goals (issue 15, point 3)") :]
    assert re.search(r"^  \| server CPU per delivery, µs \| ≤ 10 \| \d+\.\d \| — \| ", table, re.M)
    assert "nor by the floor" not in table, table
    assert "this machine's bound" not in table, table  # the floor's figure: not measured


def test_no_bench_file_edits_the_import_path() -> None:
    files = sorted((ROOT / "bench").rglob("*.py"))
    assert {f.stem for f in files} >= set(SCRIPTS)
    assert [f.name for f in files if "sys.path" in f.read_text()] == []


def test_the_engine_bench_transports_take_the_paths_they_are_named_for() -> None:
    """bench/engine.py's recording transport says what the project's says (nothing leaves
    the process: sent inside the claiming transaction); its external one is an outside
    transport (sends recorded before and after, in tasks)."""
    from bench import engine as bench_engine

    from seqgql.outbound.transport import RecordingTransport

    for name in ("external", "parallel"):
        assert getattr(bench_engine.RecordingTransport, name) == getattr(RecordingTransport, name)
    assert bench_engine.InstantExternalTransport.external is True
    assert bench_engine.InstantExternalTransport.parallel is True


def test_the_opening_cpu_bench_runs_in_a_quick_mode() -> None:
    """On PostgreSQL (skipped without it): subscriptions opened both ways (each checked:
    the 101, connection_ack, no error), a row of figures for each."""
    done = run_on_postgres("bench.ws_open_cpu", "--openings", "60", "--rounds", "2")
    assert done.returncode == 0, done.stderr
    assert "320 opened" in done.stdout, done.stdout  # 2 warm-up batches of 100, 2 x 2 x 30
    for way in ("short", "stock"):
        row = rf"^\| {way} \| \d+ \| \d+ \| \d+\u2013\d+ \|$"
        assert re.search(row, done.stdout, re.M), done.stdout
