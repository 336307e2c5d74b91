#!/usr/bin/env python3
"""Benchmark tiering and statistics of ``hardneg mine`` over 10 million window scores.

The target (issue 4, section 6): tiering and statistics over 10 million window
scores take under 2 seconds. "Tiering and statistics" is everything the mining
run does after scoring except NMS: :func:`hardneg.mine._select.item_table` (per-item
max, mean, top-k mean, argmax), :func:`write_tiers`, :func:`score_statistics` and
:func:`write_statistics` (stats.json, stats.md and the PNG plot).

The window table is synthetic and built in memory before timing: ``--items``
items (default 20,000) with lengths drawn around ``windows / items``, item ids as
Python strings (what reading the shards' Parquet gives), scores from a Beta
distribution with some ties, the rows of each item together (one shard per item).
``--shuffle`` interleaves the rows of different items instead, which costs a
radix sort. matplotlib is imported before timing (a mining run has paid for the
import long before it gets here). Each step's median over ``--repeats`` runs is
printed, and the total.

Run it with the project's virtual environment::

    .venv/bin/python benchmarks/bench_tiers.py                  # 10 M windows, 20,000 items
    .venv/bin/python benchmarks/bench_tiers.py --windows 1e6    # quick try
    .venv/bin/python benchmarks/bench_tiers.py --shuffle        # rows of items interleaved
    .venv/bin/python benchmarks/bench_tiers.py --nms            # also time select_candidates
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time

import numpy as np
import pandas as pd

from hardneg.mine._manifest import write_tiers
from hardneg.mine._select import item_table, select_candidates
from hardneg.mine._stats import score_statistics, write_statistics

TARGET_S = 2.0


def make_windows(n_windows: int, n_items: int, *, shuffle: bool, seed: int = 0) -> pd.DataFrame:
    """A synthetic window table of ``n_windows`` rows over ``n_items`` items."""
    rng = np.random.default_rng(seed)
    lengths = rng.multinomial(n_windows - n_items, np.full(n_items, 1.0 / n_items)) + 1
    codes = np.repeat(np.arange(n_items), lengths)
    offsets = np.arange(n_windows) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    names = np.array([f"rec_{i:06d}" for i in range(n_items)], dtype=object)
    groups = np.array([f"site_{i % 97:03d}" for i in range(n_items)], dtype=object)
    # Rounded to 1e-4 so that ties (within and across items) are frequent, as with float16/quantised models.
    score = np.round(rng.beta(0.6, 4.0, n_windows), 4)
    frame = pd.DataFrame(
        {
            "item": names[codes],
            "group": groups[codes],
            "start_ms": offsets * 250.0,
            "end_ms": offsets * 250.0 + 500.0,
            "score": score,
        }
    )
    if shuffle:
        frame = frame.iloc[rng.permutation(n_windows)].reset_index(drop=True)
    return frame


def run_once(windows: pd.DataFrame, out: str, tiers, topk: int) -> dict[str, float]:
    times = {}
    t0 = time.perf_counter()
    items = item_table(windows, topk=topk)
    t1 = time.perf_counter()
    write_tiers(items, out, tiers=tiers)
    t2 = time.perf_counter()
    stats = score_statistics(windows, items, tiers)
    t3 = time.perf_counter()
    write_statistics(stats, out)
    t4 = time.perf_counter()
    times["item_table"] = t1 - t0
    times["write_tiers"] = t2 - t1
    times["score_statistics"] = t3 - t2
    times["write_statistics"] = t4 - t3
    times["total"] = t4 - t0
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=float, default=10e6, help="window scores (default 10,000,000)")
    parser.add_argument("--items", type=int, default=20_000, help="items (default 20,000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--topk", type=int, default=5)
    parser.add_argument("--shuffle", action="store_true", help="interleave the rows of different items")
    parser.add_argument("--nms", action="store_true", help="also time select_candidates (min 0.5, NMS 500 ms)")
    args = parser.parse_args(argv)
    n_windows = int(args.windows)
    tiers = (0.5, 0.85, 0.99)

    import matplotlib.figure  # noqa: F401  (import cost is not part of tiering)

    build = time.perf_counter()
    windows = make_windows(n_windows, args.items, shuffle=args.shuffle)
    build = time.perf_counter() - build
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}"
    )
    print(
        f"window table: {n_windows:,} windows, {args.items:,} items, shuffled={args.shuffle} (built in {build:.1f} s)"
    )

    runs = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeats):
            runs.append(run_once(windows, out, tiers, args.topk))
    print()
    print("| step | median s |")
    print("|---|---|")
    for step in runs[0]:
        print(f"| {step} | {statistics.median(r[step] for r in runs):.3f} |")
    total = statistics.median(r["total"] for r in runs)
    print()
    verdict = "PASS" if total < TARGET_S else "FAIL"
    print(
        f"tiering + statistics over {n_windows:,} window scores: {total:.3f} s (target < {TARGET_S:.0f} s: {verdict})"
    )

    if args.nms:
        t = time.perf_counter()
        candidates, counts = select_candidates(windows, min_score=0.5, nms_ms=500.0)
        t = time.perf_counter() - t
        print(f"select_candidates: {t:.3f} s, {counts['in_band']:,} in band -> {len(candidates):,} candidates")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
