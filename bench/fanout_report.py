"""The fan-out benchmark's results (bench/fanout.py measures them) and its report."""

from __future__ import annotations

import argparse
import os
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness.heap import summarize as summarize_heap
from bench.harness.profiler import summarize_profile
from bench.harness.report import cpu_line, gc_line, pct, print_errors, verdict
from bench.harness.servers import ServerLog

GOAL_P99_MS = 100.0
GOAL_FINAL_SECONDS = 1.0


@dataclass
class Change:
    number: int
    t0: float  # request sent
    t1: float  # response received (the commit happened before it)
    done: float | None = None  # every subscriber had it (as this process heard)


@dataclass
class Phase:
    """What both phases measure: the subscriptions, what they got, the CPU used."""

    opened: int = 0
    open_seconds: float = 0.0
    rss_kib: tuple[int, int] = (0, 0)  # the server's resident set before and after opening
    open_cpu: float = 0.0  # the server's CPU seconds while the subscriptions opened
    open_profile: Path | None = None
    conns: list[Any] = field(default_factory=list)  # per connection, what arrived when
    ended: int = 0  # subscriptions the server ended
    errors: Counter[str] = field(default_factory=Counter)
    usage: dict[str, Any] = field(default_factory=dict)  # measure.Usage.done()
    profile: Path | None = None
    py_spy_said: str = ""
    heap: tuple[Path, Path] | None = None  # tracemalloc snapshots before and after opening


@dataclass
class Results:
    source: str = ""
    busy_before: float = 0.0
    server_log: ServerLog = field(default_factory=ServerLog)
    enrollments: int = 0
    notes: list[str] = field(default_factory=list)
    # phase 1
    one: Phase = field(default_factory=Phase)
    warmups: int = 0
    changes: list[Change] = field(default_factory=list)
    timeouts: int = 0
    base_number: int = 0
    # phase 2
    two: Phase = field(default_factory=Phase)
    phase2_ran: bool = False
    bulk_t0: float = 0.0
    bulk_t1: float = 0.0
    bulk_changed: int = 0
    initial_counts: dict[str, int] = field(default_factory=dict)
    final_counts: dict[str, int] = field(default_factory=dict)
    all_final: bool = False
    # the floor (fanout_floor): the same subscribers and changes on the reference server
    floor: Phase = field(default_factory=Phase)
    floor_ran: bool = False
    floor_changes: list[Change] = field(default_factory=list)
    floor_base: int = 0


@dataclass
class Receipts:
    """What the subscribers of a change phase received, measured from each change's
    ``t1``."""

    latencies: list[float]  # ms, one per receipt of a measured change
    early: int  # receipts before t1 (counted as 0 ms)
    ok: int  # subscribers that got exactly the measured changes, in order, once each
    missing: int
    duplicated: int
    disordered: int
    first: dict[int, float]  # by change number: the first and the last receipt
    last: dict[int, float]


def receipts(phase: Phase, changes: list[Change], base_number: int) -> Receipts:
    by_number = {c.number: c for c in changes}
    found = Receipts([], 0, 0, 0, 0, 0, {}, {})
    expected = [c.number for c in changes]
    for numbers, times in phase.conns:
        measured = [n for n in numbers if n > base_number]
        if measured == expected:
            found.ok += 1
        else:
            found.duplicated += len(set(measured)) < len(measured)
            found.missing += bool(set(expected) - set(measured))
            found.disordered += measured != sorted(measured)
        for number, received in zip(numbers, times, strict=True):
            change = by_number.get(number)
            if change is None:
                continue
            delta = received - change.t1
            if delta < 0:
                found.early += 1
                delta = 0.0
            found.latencies.append(delta * 1000)
            found.last[number] = max(found.last.get(number, 0.0), received)
            found.first[number] = min(found.first.get(number, received), received)
    return found


# =========================================================================== report


def report_phase1(args: argparse.Namespace, res: Results) -> bool:
    phase = res.one
    print(f"phase 1 — {phase.opened:,} subscribers on enrollmentStatusChanged(sequenceId) "
          f"(opened in {phase.open_seconds:.1f} s), {len(res.changes)} single changes")  # fmt: skip
    print(f"    each change: pauseEnrollments of one enrollment by id over HTTP; the next one "
          f"{args.gap * 1000:g} ms after every\n    subscriber had the previous one "
          f"({res.warmups} warm-up change(s) first, not counted)")  # fmt: skip
    if not res.changes:
        print("    no change measured")
        return False
    found = receipts(phase, res.changes, res.base_number)
    latencies, early, ok = found.latencies, found.early, found.ok
    missing, duplicated, disordered = found.missing, found.duplicated, found.disordered
    last_receipt, first_receipt = found.last, found.first
    expected = res.changes
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
    print(f"    completeness: {ok:,} of {len(phase.conns):,} subscribers got exactly "
          f"{len(expected)} messages, in order, no duplicates"
          + (f" ({missing} missing some, {duplicated} with duplicates, {disordered} out of "
             "order)" if ok < len(phase.conns) else ""))  # fmt: skip
    if phase.ended:
        print(f"    the server ended {phase.ended:,} subscription(s) (see below); the changes "
              "after that were\n      waited for at the others only")  # fmt: skip
    if res.timeouts:
        print(f"    {res.timeouts} change(s) did not reach every subscriber within "
              f"{args.timeout:g} s")  # fmt: skip
    print(cpu_line(phase.usage))
    if phase.usage and latencies:
        server_seconds = phase.usage["server"] * phase.usage["seconds"]
        print(f"    server CPU per delivery: {server_seconds / len(latencies) * 1e6:.1f} µs "
              "(everything the server did over the measured part, mutations included)")  # fmt: skip
        shared = machine_ms_per_change(phase.usage, len(res.changes))
        print(f"    the whole machine's CPU per change over its {phase.usage['cores']} cores: "
              f"{shared:.0f} ms (the server's, the clients', PostgreSQL's: a change cannot\n"
              "      reach the last subscriber much sooner on this machine, whatever the "
              "server does)")  # fmt: skip
    print(memory_line(phase))
    print(gc_line(res.server_log, phase.usage))
    if phase.usage:
        print(pauses_line(res, last_receipt))
    print_errors(phase.errors)
    return (
        p99 < GOAL_P99_MS
        and phase.opened == args.subscribers
        and ok == len(phase.conns)
        and len(res.changes) == args.changes
    )


def pauses_line(res: Results, last_receipt: dict[int, float]) -> str:
    """When each long GC pause of the measured part came: during a change's fan-out (from
    its request to its last receipt) or between two."""
    usage = res.one.usage
    pauses = res.server_log.pauses(usage["started"], usage["ended"])
    if not pauses:
        return "      (none during a fan-out)"
    where = []
    for _, ms, end in pauses:
        start = end - ms / 1000
        during = [k + 1 for k, c in enumerate(res.changes)
                  if start <= last_receipt.get(c.number, c.t1) and end >= c.t0]  # fmt: skip
        when = f"during change {during[0]}'s fan-out" if during else "between two changes"
        freed = res.server_log.gc_collected.get(end)
        where.append(f"{ms:.0f} ms at +{start - usage['started']:.2f} s, {when}"
                     + (f" ({freed:,} objects freed)" if freed is not None else ""))  # fmt: skip
    return "      when: " + "; ".join(where)


def memory_line(phase: Phase) -> str:
    before, after = phase.rss_kib
    per = (after - before) / phase.opened if phase.opened else float("nan")
    cpu = phase.open_cpu / phase.opened * 1000 if phase.opened else float("nan")
    return (f"    server memory: {before / 1024:.0f} MiB before opening, {after / 1024:.0f} MiB "
            f"after: {per:.1f} KiB per subscriber;\n      server CPU while opening: "
            f"{phase.open_cpu:.1f} s, {cpu:.2f} ms per subscription")  # fmt: skip


def report_phase2(args: argparse.Namespace, res: Results) -> bool:
    phase = res.two
    print(f"phase 2 — {phase.opened:,} subscribers on sequenceStatusCounts(sequenceId) (opened, "
          f"first message in, in {phase.open_seconds:.1f} s); one bulk change")  # fmt: skip
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
    for messages in phase.conns:
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
    ok = never == 0 and bool(finals) and phase.opened == args.subscribers
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
    if phase.ended:
        print(f"    the server ended {phase.ended:,} subscription(s) (see below)")
    if never:
        print(f"    {never:,} subscriber(s) never held the final counts (waited "
              f"{args.timeout:g} s after the response)")  # fmt: skip
    print(cpu_line(phase.usage))
    print(memory_line(phase))
    print(gc_line(res.server_log, phase.usage))
    print_errors(phase.errors)
    return ok


MACHINE_MS = "machine CPU per change / cores, ms"  # its name among ``figures``


def machine_ms_per_change(usage: dict[str, Any], changes: int) -> float:
    """The whole machine's CPU per change (server, clients, PostgreSQL, anything else)
    spread over its cores: with every core busy meanwhile, a change cannot have reached
    everyone sooner, whatever the server does."""
    return usage["machine"] * usage["seconds"] / changes / usage["cores"] * 1000


def figures(phase: Phase, changes: list[Change], base_number: int) -> dict[str, float]:
    """The figures the floor and the app are compared by."""
    found = receipts(phase, changes, base_number)
    nan = float("nan")
    n = len(found.latencies)
    usage = phase.usage
    cpu = usage["server"] * usage["seconds"] / n * 1e6 if usage and n else nan
    shared = machine_ms_per_change(usage, len(changes)) if usage and changes else nan
    before, after = phase.rss_kib
    return {
        "p50 ms": pct(found.latencies, 0.5) if n else nan,
        "p99 ms": pct(found.latencies, 0.99) if n else nan,
        "server CPU per delivery, µs": cpu,
        MACHINE_MS: shared,
        "server memory per subscriber, KiB": (after - before) / phase.opened
        if phase.opened
        else nan,
        "opened in, s": phase.open_seconds,
        "server CPU per opened subscription, ms": phase.open_cpu / phase.opened * 1000
        if phase.opened
        else nan,
    }


Figures = dict[str, float]


def report_floor(args: argparse.Namespace, res: Results) -> tuple[Figures, Figures]:
    """The floor's figures next to the app's phase 1, with the app's as multiples; returns
    (the app's, the floor's)."""
    floor = figures(res.floor, res.floor_changes, res.floor_base)
    app = figures(res.one, res.changes, res.base_number)
    got = receipts(res.floor, res.floor_changes, res.floor_base)
    print(f"floor — the reference server (bench/harness/floor.py: asyncio transports, one "
          f"pre-built frame written\n    to each connection, no uvicorn, no GraphQL), "
          f"{res.floor.opened:,} subscribers, {len(res.floor_changes)} changes, in this "
          "run")  # fmt: skip
    print(f"    every subscriber got every change once, in order: {got.ok:,} of "
          f"{len(res.floor.conns):,};\n    latency from the moment the change was sent to "
          "it")  # fmt: skip
    print(cpu_line(res.floor.usage))
    print(f"    {'':42} {'floor':>10} {'app':>10} {'app/floor':>10}")
    for name, value in floor.items():
        ratio = app[name] / value if value else float("nan")
        print(f"    {name:42} {value:10.1f} {app[name]:10.1f} {ratio:9.1f}x")
    print_errors(res.floor.errors)
    return app, floor


def report(args: argparse.Namespace, res: Results, elapsed: float) -> tuple[Figures, Figures]:
    """Print the run's report; returns phase 1's figures (the app's, the floor's: empty
    when it did not run) for ``fanout_goals``."""
    print()
    where = ("one uvicorn process (memory:// broadcast)" if args.replicas == 1 else
             f"{args.replicas} uvicorn processes (Redis broadcast; the subscribers spread "
             "over them, the mutations sent to the first)")  # fmt: skip
    print(f"fan-out benchmark — {where}, one sequence of {res.enrollments:,} enrollments;")
    print(f"  {args.subscribers:,} websocket subscribers (graphql-transport-ws) over "
          f"{args.clients} client process(es), frames read by "
          f"{'websockets' if args.websockets_parser else 'the client itself'}"
          f"{', permessage-deflate offered' if args.deflate else ''}; {os.cpu_count()} "
          "cores shared by server, clients and PostgreSQL")  # fmt: skip
    print(f"  seqgql from {res.source}")
    print(f"  before the server started, other work kept {res.busy_before:.2f} of "
          f"{os.cpu_count()} cores busy" + (" (the figures below suffer from it)"
                                            if res.busy_before > 0.2 else ""))  # fmt: skip
    print()
    goal1 = report_phase1(args, res)
    print()
    compared: tuple[Figures, Figures] = ({}, {})
    if res.floor_ran:
        compared = report_floor(args, res)
        print()
    goal2 = report_phase2(args, res) if res.phase2_ran else False
    for note in res.notes:
        print(f"  note: {note}")
    if res.server_log.errors:
        print(f"\n  the server logged {res.server_log.tracebacks:,} traceback(s); what it logged "
              "most:")  # fmt: skip
        for text, count in res.server_log.errors.most_common(4):
            print(f"    {count:,} x {text}")
    for name, phase in (("phase 1", res.one), ("phase 2", res.two)):
        if phase.heap is not None:
            print(f"\n  the server's heap, {name}: what opening {phase.opened:,} subscriptions "
                  "kept (tracemalloc)")  # fmt: skip
            summarize_heap(*phase.heap, phase.opened)
    if args.profile:
        for name, phase in (("phase 1", res.one), ("phase 2", res.two)):
            print()
            print(f"  py-spy profile of the server, {name}:")
            if phase.profile is None:
                print(f"    none; py-spy said: {phase.py_spy_said or '(nothing)'}")
            else:
                summarize_profile(phase.profile, phase.usage.get("seconds", 1.0))
            if phase.open_profile is not None:
                print(f"  py-spy profile of the server, {name}, while the subscriptions opened:")
                summarize_profile(phase.open_profile, phase.open_seconds + 1.0)
    print()
    print(f"  goal: single changes p99 under {GOAL_P99_MS:g} ms at {args.subscribers:,} "
          f"subscribers (all delivered): {verdict(goal1)}")  # fmt: skip
    print(f"  goal: final counts at every subscriber within {GOAL_FINAL_SECONDS:g} s of the "
          f"bulk commit: {verdict(goal2)}")  # fmt: skip
    print(f"  (whole run {elapsed:.0f} s)")
    if not res.floor_ran:
        compared = (figures(res.one, res.changes, res.base_number), {})
    return compared
