"""Time the demo benchmark: `hardneg bench` with --jobs 1 and --jobs 2 on the demo dataset.

Targets (issue 3, section 6): 30 seeds x 3 models x 2 feature sets x 3 splits under 2 minutes on 2 cores, and
--jobs 2 at least 1.6x faster than --jobs 1. Each run is a fresh `hardneg bench` process into an empty folder
(no resumed parts), timed from process start to exit; the ratio is taken within the same invocation.

    .venv/bin/python benchmarks/bench_bench.py            # print the table
    .venv/bin/python benchmarks/bench_bench.py --record   # also append it to benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from _common import append_results, hardneg_command, measure_table, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--record", action="store_true", help="append the results to benchmarks/RESULTS.md")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hardneg-bench-"))
    try:
        subprocess.run([*hardneg_command(), "demo", "--out", str(work / "demo"), "--no-bench", "-q"], check=True,
                       capture_output=True)  # fmt: skip
        dataset = work / "demo" / "dataset"
        base = [*hardneg_command(), "bench", str(dataset), "--models", "logreg,et,mlp", "--features", "summary,rich",
                "--splits", "random,group,time", "--seeds", str(args.seeds), "--quiet"]  # fmt: skip
        times = {}
        for jobs in (1, 2):
            times[jobs] = timed([*base, "--jobs", str(jobs), "--out", str(work / f"bench-jobs{jobs}")])[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratio = times[1] / times[2]
    combos = args.seeds * 3 * 2 * 3
    rows = [
        (
            "combinations (models x features x splits x seeds, + 3 baselines each)",
            f"{combos} + {args.seeds * 2 * 3 * 3}",
        ),
        ("`--jobs 1` wall time", f"{times[1]:.1f} s"),
        ("`--jobs 2` wall time", f"{times[2]:.1f} s (target < 120 s: {'meets' if times[2] < 120 else 'misses'})"),
        ("speed-up jobs 2 / jobs 1", f"{ratio:.2f}x (target >= 1.6x: {'meets' if ratio >= 1.6 else 'misses'})"),
    ]
    table = measure_table(rows)
    print(table)
    if args.record:
        append_results(
            f"`hardneg bench` on the demo dataset ({args.seeds} seeds)",
            f"`hardneg bench DEMO/dataset --models logreg,et,mlp --features summary,rich --splits random,group,time "
            f"--seeds {args.seeds} --jobs N`, fresh output folder each run",
            table,
        )


if __name__ == "__main__":
    main()
