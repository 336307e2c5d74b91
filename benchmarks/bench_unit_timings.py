#!/usr/bin/env python3
"""Time the operations whose wall-clock bounds used to sit in the unit tests.

Wall-clock assertions made the unit suite fail on a busy machine for reasons that
had nothing to do with the code, so they moved here. Each case times the same
operation, on the same inputs, as the test it came from, and prints the figure next
to the bound that test asserted (a bound for busy CI runners, not a target: the
targets of record are in benchmarks/RESULTS.md):

- ``report``: ``write_bench_report`` at the demo benchmark's size, 25,920 result rows and
  50,400 score rows from tests/report/bench_synth.py; was ``< 20 s`` in
  tests/report/test_bench_report.py (``test_full_size_bench_reports``).
- ``features``: ``compute_features(..., "rich")`` on 5,000 windows x 6 channels x 50
  samples, best of 3 after a warm-up; was ``< 0.5 s`` in tests/test_features.py (a test of
  its own, removed).
- ``tiers``: ``item_table``, ``write_tiers``, ``score_statistics`` and ``write_statistics``
  over 1,000,000 scores of 2,000 items, after a warm-up; was ``< 1.5 s`` in
  tests/mine/test_select.py (``test_tiering_and_statistics_over_a_million_scores``).
  bench_tiers.py measures the 10 M target.
- ``world``: ``generate_world`` with its defaults, after a small warm-up; was ``< 3 s`` in
  tests/demo/test_world.py (a test of its own, removed).
- ``demo``: ``hardneg demo --seeds 2`` as a fresh process; was ``< 60 s`` in
  tests/cli/test_cli.py (``test_demo_end_to_end_and_rerun``).

Run it with the project's virtual environment::

    .venv/bin/python benchmarks/bench_unit_timings.py                 # every case
    .venv/bin/python benchmarks/bench_unit_timings.py tiers world     # some of them
    .venv/bin/python benchmarks/bench_unit_timings.py --strict        # exit 1 when a case exceeds its bound
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO_ROOT, git_commit, hardneg_command, timed

# The report case builds its inputs with the report tests' own synthetic builders.
sys.path.insert(0, str(REPO_ROOT / "tests" / "report"))


def _report(work: Path) -> float:
    from bench_synth import META, make_audits, make_results, make_scores

    from hardneg.report import write_bench_report

    results = make_results(n_seeds=30, n_folds=1)
    scores = make_scores(n_windows=1400, n_seeds=1, n_folds=1)
    assert len(results) == 25_920 and len(scores) == 50_400
    started = time.perf_counter()
    write_bench_report(work, results, scores, make_audits(), META)
    return time.perf_counter() - started


def _features(work: Path) -> float:
    import numpy as np

    from hardneg.features import compute_features

    windows = np.random.default_rng(5).normal(size=(5000, 6, 50)).astype(np.float32)
    compute_features(windows[:10], "rich")  # warm imports and caches
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        compute_features(windows, "rich")
        best = min(best, time.perf_counter() - started)
    return best


def _tiers(work: Path) -> float:
    import numpy as np
    import pandas as pd

    from hardneg.mine._select import item_table, score_statistics, write_statistics, write_tiers

    rng = np.random.default_rng(0)
    n, n_items = 1_000_000, 2_000
    codes = np.sort(rng.integers(0, n_items, n))
    names = np.array([f"rec_{i:05d}" for i in range(n_items)], dtype=object)
    frame = pd.DataFrame({"item": names[codes], "group": names[codes], "start_ms": np.arange(n) * 250.0,
                          "end_ms": np.arange(n) * 250.0 + 500.0, "score": rng.random(n)})  # fmt: skip
    # matplotlib's import and first font load are paid long before tiering in a mining run
    write_statistics(score_statistics(frame.iloc[:10], item_table(frame.iloc[:10])), work / "warm")
    started = time.perf_counter()
    items = item_table(frame)
    write_tiers(items, work)
    write_statistics(score_statistics(frame, items, (0.5, 0.85, 0.99)), work)
    return time.perf_counter() - started


def _world(work: Path) -> float:
    from hardneg.demo._world import generate_world

    generate_world(work / "warm", n_sessions=1, session_minutes=0.2, n_no_shot_sessions=0)
    started = time.perf_counter()
    generate_world(work / "world")
    return time.perf_counter() - started


def _demo(work: Path) -> float:
    return timed([*hardneg_command(), "demo", "--out", str(work / "demo"), "--seeds", "2"])[0]


#: name -> (function, bound in seconds the unit test asserted, what it times)
CASES = {
    "report": (_report, 20.0, "write_bench_report, demo benchmark size"),
    "features": (_features, 0.5, "rich features of 5,000 windows (best of 3)"),
    "tiers": (_tiers, 1.5, "tiering + statistics over 1 M scores"),
    "world": (_world, 3.0, "generate_world, default size"),
    "demo": (_demo, 60.0, "hardneg demo --seeds 2 (fresh process)"),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", metavar="case", help=f"any of {', '.join(CASES)} (default: all)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a case takes longer than its bound")
    args = parser.parse_args(argv)
    unknown = [name for name in args.cases if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    names = args.cases or list(CASES)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"python {platform.python_version()}, commit {git_commit()}"
    )
    print()
    print("| case | operation | seconds | former test bound | within |")
    print("|---|---|---|---|---|")
    over = []
    for name in names:
        work, bound, what = CASES[name]
        with tempfile.TemporaryDirectory(prefix=f"hardneg-{name}-") as tmp:
            seconds = work(Path(tmp))
        within = seconds < bound
        if not within:
            over.append(name)
        print(f"| {name} | {what} | {seconds:.3f} | < {bound:g} s | {'yes' if within else 'NO'} |", flush=True)
    if over:
        print(f"\nover the former bound: {', '.join(over)}")
    return 1 if over and args.strict else 0


if __name__ == "__main__":
    raise SystemExit(main())
