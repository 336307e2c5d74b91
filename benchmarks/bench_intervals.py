"""What intervals over new groups cost: the demo bench with --ci-method cluster against --ci-method seeds.

Targets (issue 9, section 6): the cluster bootstrap (1,000 resamples over the test groups, every seed on each
draw, for every combination and metric of the report) adds at most 15 s to the 30-seed demo bench on 2 cores;
`hardneg demo` (its default 10 seeds) stays under 60 s end to end.

Each run is a fresh process into an empty folder, timed from start to exit. The two bench variants alternate
(seeds, cluster, seeds, cluster, ...) so that a drift in the machine's speed hits both; the added time is the
median over pairs of cluster minus seeds. Besides, `bench.json` records when each step finished, so the time
spent computing the intervals themselves is read from the cluster runs.

    .venv/bin/python benchmarks/bench_intervals.py              # print the table
    .venv/bin/python benchmarks/bench_intervals.py --record     # also append it to benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from _common import append_results, hardneg_command, measure_table, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=30, help="bench seeds (default 30)")
    parser.add_argument("--pairs", type=int, default=3, help="seeds/cluster pairs (default 3)")
    parser.add_argument("--demo-runs", type=int, default=3, help="end-to-end `hardneg demo` runs (default 3)")
    parser.add_argument("--record", action="store_true", help="append the results to benchmarks/RESULTS.md")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hardneg-intervals-"))
    try:
        subprocess.run([*hardneg_command(), "demo", "--out", str(work / "demo"), "--no-bench", "-q"], check=True,
                       capture_output=True)  # fmt: skip
        base = [*hardneg_command(), "bench", str(work / "demo" / "dataset"), "--models", "logreg,et,mlp",
                "--features", "summary,rich", "--splits", "random,group,time", "--seeds", str(args.seeds),
                "--jobs", "2", "--quiet"]  # fmt: skip
        runs: dict[str, list[float]] = {"seeds": [], "cluster": []}
        interval_seconds = []
        for pair in range(args.pairs):
            for method in ("seeds", "cluster"):
                out = work / f"bench-{method}-{pair}"
                runs[method].append(timed([*base, "--ci-method", method, "--out", str(out)])[0])
                if method == "cluster":
                    steps = json.loads((out / "bench.json").read_text())["seconds_elapsed_after"]
                    interval_seconds.append(steps["intervals"] - steps["fits"])
                shutil.rmtree(out)
        demo = []
        for run in range(args.demo_runs):
            out = work / f"demo-{run}"
            demo.append(timed([*hardneg_command(), "demo", "--out", str(out), "-q"])[0])
            shutil.rmtree(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    added = statistics.median(c - s for c, s in zip(runs["cluster"], runs["seeds"]))
    ratio = statistics.median(c / s for c, s in zip(runs["cluster"], runs["seeds"]))
    demo_median = statistics.median(demo)
    fits = args.seeds * 3 * 6

    def listed(values):
        return ", ".join(f"{v:.1f}" for v in values)

    rows = [
        ("bench fits (30 seeds: 3 splits x 3 models x 2 feature sets, + 3 baselines)" if args.seeds == 30
         else f"bench fits ({args.seeds} seeds)", f"{fits * 2}"),
        ("`--ci-method seeds` wall time (median)", f"{statistics.median(runs['seeds']):.1f} s (runs: {listed(runs['seeds'])})"),
        ("`--ci-method cluster` wall time (median)", f"{statistics.median(runs['cluster']):.1f} s (runs: {listed(runs['cluster'])})"),
        ("**added by the cluster bootstrap, median over pairs**", f"**{added:+.1f} s** (ratio {ratio:.3f}; target <= 15 s: {'meets' if added <= 15 else 'misses'})"),
        ("computing the intervals in the cluster runs (bench.json)", f"{listed(interval_seconds)} s"),
        ("`hardneg demo` end to end, default 10 seeds (median)", f"{demo_median:.1f} s (runs: {listed(demo)}; target < 60 s: {'meets' if demo_median < 60 else 'misses'})"),
    ]  # fmt: skip
    table = measure_table(rows)
    print(table)
    if args.record:
        append_results(
            "intervals over new groups: `hardneg bench --ci-method cluster` vs `seeds`",
            f"`hardneg bench DEMO/dataset --models logreg,et,mlp --features summary,rich --splits random,group,time "
            f"--seeds {args.seeds} --jobs 2 --ci-method M`, fresh output folder each run, {args.pairs} alternating "
            f"pairs; then `hardneg demo` {args.demo_runs} times",
            table,
        )


if __name__ == "__main__":
    main()
