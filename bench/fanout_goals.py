"""The fan-out's goals (issue 15, point 3) as one table at the end of a run: each goal's
target, the app's figure, the floor's in the same run (what a server that only writes one
pre-built frame per subscriber gets on this machine), and whether the app met it. A goal
the floor misses too says so: the machine, not the server, is the bound then. Under the
table, the least p99 this machine allows: the floor's whole-machine CPU per change (its
server's, its clients', PostgreSQL's) over the cores. With the clients on the same cores,
no server's last receipt of a change comes sooner; twice the subscribers on the same
cores (``--replicas 2``) doubles it, whatever the number of server processes."""

from __future__ import annotations

import argparse
import math
import operator
from collections.abc import Callable

from bench.fanout_report import GOAL_P99_MS, MACHINE_MS, Figures, Results
from bench.harness.servers import GC_REPORT_MS

Compare = Callable[[float, float], bool]
# (the figure's name in fanout_report.figures, the goal, its comparison, its target)
GOALS: list[tuple[str, str, str, Compare, float]] = [
    ("p99 ms", "commit-to-receipt p99, ms", "<", operator.lt, GOAL_P99_MS),
    ("server CPU per delivery, µs", "server CPU per delivery, µs", "≤", operator.le, 10.0),
    ("server memory per subscriber, KiB", "memory per subscriber, KiB", "≤", operator.le, 15.0),
    ("opened in, s", "subscriptions opened in, s", "<", operator.lt, 5.0),
]


def _cell(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.1f}"


def report_goals(args: argparse.Namespace, res: Results, app: Figures, floor: Figures) -> None:
    """The table of phase 1's figures, the app's and the floor's (empty when it did not
    run), as ``fanout_report.report`` returned them."""
    nan = float("nan")
    print(f"  goals (issue 15, point 3), {args.subscribers:,} subscribers on "
          f"{args.replicas} process(es), this run:")  # fmt: skip
    print("  | goal | target | app | floor | met by the app |")
    print("  |---|---:|---:|---:|---|")
    for name, goal, sign, holds, target in GOALS:
        mine, theirs = app.get(name, nan), floor.get(name, nan)
        met = holds(mine, target)
        floor_missed = not math.isnan(theirs) and not holds(theirs, target)
        why = " (nor by the floor)" if not met and floor_missed else ""
        print(f"  | {goal} | {sign} {target:g} | {_cell(mine)} | {_cell(theirs)} | "
              f"{'yes' if met else 'no' + why} |")  # fmt: skip
    usage = res.one.usage
    pauses = res.server_log.pauses(usage["started"], usage["ended"]) if usage else []
    longest = max((ms for _, ms, _ in pauses), default=0.0)
    print(f"  | server GC pauses of {GC_REPORT_MS:g} ms or more during the changes | none | "
          f"{len(pauses)}{f' (longest {longest:.0f} ms)' if pauses else ''} | — | "
          f"{'yes' if usage and not pauses else 'no'} |")  # fmt: skip
    bound = floor.get(MACHINE_MS, nan)
    if not math.isnan(bound):
        reach = "within this machine's" if bound < GOAL_P99_MS else "out of any server's"
        print(
            f"  this machine's bound: a change's whole work here (the floor's server, clients "
            f"and PostgreSQL) over its cores is {bound:.1f} ms (the app's run: "
            f"{app.get(MACHINE_MS, nan):.1f}):\n  no server's last receipt comes sooner; "
            f"a p99 under {GOAL_P99_MS:g} ms is {reach} reach here"
        )
