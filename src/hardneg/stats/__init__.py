"""Intervals and summaries: the bootstrap, binomial intervals, and bench results across seeds and folds.

One floor above :mod:`hardneg.metrics`; the audit and the bench report draw
their intervals from here. :mod:`~hardneg.stats._bootstrap` holds the
intervals (of a mean, of a difference of means, of ROC AUC and average
precision from per-resample counts, Wilson's for a proportion);
:mod:`~hardneg.stats._cluster` the cluster bootstrap over test groups
combined with seeds (:func:`cluster_bootstrap`, and
:func:`paired_cluster_bootstrap` for differences on the same groups and
seeds), the interval that covers new groups; :mod:`~hardneg.stats._counts` the same
for counts summed over recordings (a stream evaluation's hits, misses and false alarms);
:mod:`~hardneg.stats._paired` the comparison of two training variants seed by seed
(Wilcoxon, Holm, labels, the seeds an effect needs); :mod:`~hardneg.stats._summary`
the summaries of the long ``results.parquet`` table.

Examples
--------
>>> from hardneg.stats import bootstrap_ci, wilson_interval
>>> bootstrap_ci([0.7, 0.9])
(0.705, 0.895)
>>> low, high = wilson_interval(8, 10, 0.95)
>>> bool(low < 0.8 < high)
True
"""

from hardneg.stats._bootstrap import (
    BOOTSTRAP_SEED,
    CONFIDENCE,
    MIN_BOOTSTRAP,
    N_BOOTSTRAP,
    N_RESAMPLES,
    bootstrap_ci,
    check_bootstrap_options,
    difference_ci,
    difference_interval,
    finite_values,
    metric_interval,
    point_metric,
    wilson_interval,
)
from hardneg.stats._cluster import (
    CLUSTER_METRICS,
    MIN_GROUPS,
    THRESHOLD_METRICS,
    ClusterInterval,
    GroupResampler,
    Resampled,
    cluster_bootstrap,
    paired_cluster_bootstrap,
)
from hardneg.stats._counts import count_bootstrap, weighted_quantile_bootstrap
from hardneg.stats._hierarchical import (
    HierarchicalResult,
    hierarchical_paired_bootstrap,
    hierarchical_paired_ratio,
)
from hardneg.stats._intervals import (
    CI_METHODS,
    INTERVAL_METRICS,
    SUMMARY_COLUMNS,
    BenchIntervals,
    SeedMatrix,
    bench_intervals,
    seed_matrix,
)
from hardneg.stats._paired import (
    LABELS as COMPARISON_LABELS,
)
from hardneg.stats._paired import (
    PairedComparison,
    compare_paired,
    holm,
    label_comparison,
    min_wilcoxon_p,
    paired_values,
    seeds_needed,
)
from hardneg.stats._summary import (
    KEY_COLUMNS,
    baseline_gains,
    baseline_gains_checked,
    best_baselines,
    check_results,
    compare_splits,
    compare_splits_checked,
    summarize_checked,
    summarize_results,
)

__all__ = [
    "BOOTSTRAP_SEED",
    "CI_METHODS",
    "CLUSTER_METRICS",
    "COMPARISON_LABELS",
    "CONFIDENCE",
    "INTERVAL_METRICS",
    "KEY_COLUMNS",
    "MIN_BOOTSTRAP",
    "MIN_GROUPS",
    "N_BOOTSTRAP",
    "N_RESAMPLES",
    "SUMMARY_COLUMNS",
    "THRESHOLD_METRICS",
    "BenchIntervals",
    "ClusterInterval",
    "GroupResampler",
    "HierarchicalResult",
    "PairedComparison",
    "Resampled",
    "SeedMatrix",
    "baseline_gains",
    "baseline_gains_checked",
    "bench_intervals",
    "best_baselines",
    "bootstrap_ci",
    "check_bootstrap_options",
    "check_results",
    "cluster_bootstrap",
    "compare_paired",
    "compare_splits",
    "compare_splits_checked",
    "count_bootstrap",
    "difference_ci",
    "difference_interval",
    "finite_values",
    "hierarchical_paired_bootstrap",
    "hierarchical_paired_ratio",
    "holm",
    "label_comparison",
    "metric_interval",
    "min_wilcoxon_p",
    "paired_cluster_bootstrap",
    "paired_values",
    "point_metric",
    "seed_matrix",
    "seeds_needed",
    "summarize_checked",
    "summarize_results",
    "weighted_quantile_bootstrap",
    "wilson_interval",
]
