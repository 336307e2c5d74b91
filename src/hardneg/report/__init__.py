"""Bench reports: Markdown and self-contained HTML with bootstrap summaries, audits and plots.

Examples
--------
>>> from hardneg.report import write_bench_report
>>> md, html = write_bench_report("bench", results, scores, audits, meta)  # doctest: +SKIP
"""

from hardneg.report.bench_report import GAIN_METRICS, TABLE_METRICS, write_bench_report
from hardneg.report.stats import (
    BASELINES,
    baseline_gains,
    best_baselines,
    bootstrap_ci,
    compare_splits,
    difference_ci,
    summarize_results,
)
from hardneg.report.trust import SplitTrust, split_trust

__all__ = [
    "BASELINES",
    "GAIN_METRICS",
    "TABLE_METRICS",
    "SplitTrust",
    "baseline_gains",
    "best_baselines",
    "bootstrap_ci",
    "compare_splits",
    "difference_ci",
    "split_trust",
    "summarize_results",
    "write_bench_report",
]
