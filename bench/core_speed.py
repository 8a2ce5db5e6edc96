"""Simulation speed: simulated seconds per wall second for a scenario run in virtual time.

    python bench/core_speed.py [SCENARIO] [--days 7] [--runs 5] [--json out.json]

Runs the scenario exactly as ``grimnir-sim run`` does (trio runner on an autojump
MockClock, every event serialized to its wire bytes once) and, separately, the pure
core alone. Prints a table with each run and the median; target: a simulated week
in under 3 s (>= 200,000x real time).
"""

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

from playout import Playout, find_catalog, load_catalog, load_scenario, wire
from playout.drivers.cli import run_virtual

TARGET_SPEEDUP = 200_000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", nargs="?", default="default")
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    catalog_path = find_catalog()
    path = load_catalog(catalog_path).resolve(args.scenario) if catalog_path else Path(args.scenario)
    until_ms = round(args.days * 86_400_000)
    simulated_s = until_ms / 1000

    rows = []
    for run in range(1, args.runs + 1):
        scenario = load_scenario(path)
        sizes = [0, 0]

        def publish(batch, sizes=sizes):
            sizes[0] += len(batch)
            sizes[1] += sum(len(wire.encode(e.event)) for e in batch)

        began = time.perf_counter()
        run_virtual(scenario, until_ms, publish)
        runner_s = time.perf_counter() - began

        began = time.perf_counter()
        Playout(load_scenario(path)).advance(until_ms)
        core_s = time.perf_counter() - began
        rows.append(
            {"run": run, "events": sizes[0], "bytes": sizes[1], "runner_s": runner_s, "core_s": core_s}
        )
        print(
            f"run {run}: {sizes[0]:,} events ({sizes[1] / 1e6:.1f} MB) in {runner_s:.3f} s "
            "with the trio runner "
            f"({simulated_s / runner_s:,.0f}x), {core_s:.3f} s core alone ({simulated_s / core_s:,.0f}x)",
            file=sys.stderr,
        )

    median_runner = statistics.median(r["runner_s"] for r in rows)
    median_core = statistics.median(r["core_s"] for r in rows)
    speedup = simulated_s / median_runner
    print()
    print(f"scenario            {path}")
    print(f"simulated           {args.days:g} days ({simulated_s:,.0f} s), {rows[0]['events']:,} events")
    print(f"machine             {platform.machine()}, Python {platform.python_version()}")
    print(f"runs                {args.runs}")
    print(
        f"median wall time    {median_runner:.3f} s (trio runner + serialization), {median_core:.3f} s (core)"
    )
    print(f"simulation speed    {speedup:,.0f} simulated s per wall s (target >= {TARGET_SPEEDUP:,})")
    print(f"verdict             {'meets' if speedup >= TARGET_SPEEDUP else 'MISSES'} the target")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "scenario": str(path),
                    "days": args.days,
                    "runs": rows,
                    "median_runner_s": median_runner,
                    "median_core_s": median_core,
                    "speedup": speedup,
                    "target": TARGET_SPEEDUP,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
