"""Report figures: PR and ROC curves (linear and log false-positive rate), reliability, score histograms, groups.

Figures are made with :class:`matplotlib.figure.Figure` directly (the Agg renderer,
no pyplot), so a report never changes the backend or global state of a notebook that
calls it, under matplotlib's default style so that a user's ``matplotlibrc`` does not
change the bytes. PNGs are written without the ``Software`` tag, which makes them
identical for identical inputs and matplotlib version.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib
import matplotlib.style
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

from hardneg._schema import SCORE_COLUMNS, SCORE_KEY_COLUMNS, check_columns
from hardneg._validation import rng
from hardneg.errors import InputError

__all__ = [
    "DPI",
    "MAX_GROUPS",
    "MAX_POINTS",
    "SCORE_COLUMNS",
    "Curve",
    "Panel",
    "Plot",
    "build_panels",
    "check_score_table",
    "group_figure",
    "histogram_figure",
    "make_plots",
    "pr_figure",
    "reliability_figure",
    "render_png",
    "roc_figure",
    "roc_log_figure",
    "sample_rows",
]

DPI = 100
MAX_POINTS = 20_000
MAX_GROUPS = 30
PANEL_COLUMNS = 3
_RC = {
    "svg.hashsalt": "hardneg",
    "font.size": 9,
    "axes.titlesize": 10,
    "legend.fontsize": 8,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
}
_MODEL_COLOURS = ("#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#1b7c83", "#953800")
#: after every colour once, the next models repeat the colours dashed, then dotted
_MODEL_STYLES = ("-", "--", ":")
_BASELINE_STYLES = (":", "--", "-.")
#: legend entries stacked in one column below the axes; more go in two columns
_LEGEND_ROWS = 5
#: the lowest false positive rate the log-scaled ROC axis shows
MIN_LOG_FPR = 1e-4


@dataclass(frozen=True)
class Curve:
    """Pooled test scores of one (model, features) on one split."""

    model: str
    features: str
    y: np.ndarray
    score: np.ndarray
    baseline: bool = False
    #: Rows before capping at ``max_points``.
    n_total: int = 0
    #: Mean of the validation-chosen thresholds over the combination's test rows; None when it has none.
    threshold: float | None = None

    @property
    def name(self) -> str:
        return self.model if self.baseline else f"{self.model} · {self.features}"

    @property
    def both_classes(self) -> bool:
        return self.y.size > 0 and 0 < int(self.y.sum()) < self.y.size


@dataclass(frozen=True)
class Panel:
    """What one split contributes to the figures: its title and curves (best first)."""

    split: str
    title: str
    curves: tuple[Curve, ...]
    #: The best combination's test rows with their groups, for the histograms and box plots.
    best: Curve | None
    groups: np.ndarray | None


@dataclass(frozen=True)
class Plot:
    """A rendered figure: file stem, PNG bytes and caption."""

    name: str
    png: bytes
    alt: str
    caption: str


def check_score_table(scores: pd.DataFrame | None) -> pd.DataFrame | None:
    """Validate the bench scores table; None or an empty table means "no plots".

    Examples
    --------
    >>> check_score_table(None) is None
    True
    >>> check_score_table(pd.DataFrame({"model": ["et"]}))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: scores: columns 'features', 'split', ... missing; expected model, ... (scores.parquet)
    """
    if scores is None:
        return None
    if not isinstance(scores, pd.DataFrame):
        raise InputError(f"scores must be a pandas DataFrame or None, got {type(scores).__name__}")
    check_columns(scores, SCORE_KEY_COLUMNS, "scores", hint="scores.parquet")
    if scores.empty:
        return None
    # kind and threshold came later: a table without them still plots, with the kind unknown and no threshold
    missing = {"kind": "unknown", "threshold": np.nan}
    missing = {column: value for column, value in missing.items() if column not in scores.columns}
    return scores.assign(**missing) if missing else scores


def sample_rows(n: int, max_points: int, seed: int) -> np.ndarray:
    """Sorted row positions: all of them, or a seeded uniform sample of ``max_points``."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(rng(seed).choice(n, size=max_points, replace=False))


def build_panels(
    scores: pd.DataFrame,
    picks: Mapping[str, Sequence[tuple[str, str, bool]]],
    titles: Mapping[str, str],
    *,
    subset: str = "test",
    max_points: int = MAX_POINTS,
    seed: int = 0,
) -> list[Panel]:
    """Pool each picked combination's scores over seeds and folds, capped at ``max_points``.

    Parameters
    ----------
    scores : DataFrame
        The bench ``scores.parquet`` table.
    picks : mapping
        Split -> ``[(model, features, is_baseline), ...]``; the first entry is the split's
        best combination, used for the histograms and per-group plots.
    titles : mapping
        Split -> panel title (with the untrustworthy mark).

    Each curve's ``threshold`` is the mean of the ``threshold`` column over all
    its test rows (before the cap), None without finite thresholds.
    """
    frame = scores[scores["subset"].astype(str) == subset]
    keys = frame[["split", "model", "features"]].astype(str)
    index = keys.groupby(["split", "model", "features"], sort=True).indices
    order = ["seed", "fold", "window_id"]
    panels = []
    for split, combos in picks.items():
        curves = []
        best_groups = None
        for i, (model, features, baseline) in enumerate(combos):
            rows = index.get((split, model, features))
            if rows is None:
                continue
            # Sorted so that the capped sample does not depend on the table's row order.
            part = frame.iloc[rows].sort_values(order, kind="mergesort")
            keep = sample_rows(len(part), max_points, seed)
            part = part.iloc[keep]
            threshold = None
            if "threshold" in frame.columns:
                limits = frame["threshold"].iloc[rows].to_numpy(dtype=np.float64)
                limits = limits[np.isfinite(limits)]
                threshold = float(limits.mean()) if limits.size else None
            curve = Curve(
                model,
                features,
                part["label"].to_numpy(dtype=np.int64),
                part["score"].to_numpy(dtype=np.float64),
                baseline,
                len(rows),
                threshold,
            )
            curves.append(curve)
            if i == 0:
                best_groups = part["group"].astype(str).to_numpy()
        best = curves[0] if curves and best_groups is not None else None
        panels.append(Panel(split, titles.get(split, split), tuple(curves), best, best_groups))
    return panels


def render_png(fig: Figure) -> bytes:
    """PNG bytes of ``fig``, stable for the same figure (no software tag or date)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _grid(n: int, width: float = 4.3, height: float = 4.8) -> tuple[Figure, list]:
    cols = min(max(n, 1), PANEL_COLUMNS)
    rows = -(-max(n, 1) // cols)
    fig = Figure(figsize=(width * cols, height * rows), dpi=DPI, layout="constrained")
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(max(n, 1))]
    return fig, axes


def _styles(curves: Sequence[Curve]) -> list[dict]:
    """A colour per model (dashed, then dotted, past eight), grey line styles for the baselines."""
    styles, model_i, base_i = [], 0, 0
    n_colours = len(_MODEL_COLOURS)
    for curve in curves:
        if curve.baseline:
            styles.append({"color": "#6e7781", "linestyle": _BASELINE_STYLES[base_i % 3], "linewidth": 1.2})
            base_i += 1
        else:
            linestyle = _MODEL_STYLES[(model_i // n_colours) % len(_MODEL_STYLES)]
            styles.append({"color": _MODEL_COLOURS[model_i % n_colours], "linestyle": linestyle, "linewidth": 1.6})
            model_i += 1
    return styles


def _legend_columns(n_entries: int) -> int:
    return 1 if n_entries <= _LEGEND_ROWS else 2


def _curves_height(panels: Sequence[Panel], base: float = 4.8) -> float:
    """Figure row height that leaves the axes their size however many legend rows sit below them."""
    most = max((len(panel.curves) for panel in panels), default=0)
    rows = -(-most // _legend_columns(most)) if most else 0
    return base + 0.17 * max(0, rows - 4)


def _legend_below(ax) -> None:
    # Below the axes: inside, it would hide the baselines' flat lines wherever the positive rate puts them.
    n_entries = len(ax.get_legend_handles_labels()[1])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), frameon=False, ncols=_legend_columns(n_entries))


def _no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#57606a", wrap=True)


def pr_figure(panels: Sequence[Panel]) -> Figure:
    """Precision-recall curves per split; the dotted line is the positive rate (a random model's AP)."""
    fig, axes = _grid(len(panels), height=_curves_height(panels))
    for ax, panel in zip(axes, panels):
        drawn = False
        for curve, style in zip(panel.curves, _styles(panel.curves)):
            if not curve.both_classes:
                continue
            precision, recall, _ = precision_recall_curve(curve.y, curve.score)
            ap = average_precision_score(curve.y, curve.score)
            ax.plot(recall, precision, drawstyle="steps-post", label=f"{curve.name} (AP {ap:.3f})", **style)
            drawn = True
        if drawn:
            prevalence = float(panel.curves[0].y.mean())
            ax.axhline(prevalence, color="#8c959f", linewidth=0.8, linestyle=(0, (1, 3)))
            _legend_below(ax)
        else:
            _no_data(ax, "no test scores with both classes")
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision", title=panel.title)
    return fig


def roc_figure(panels: Sequence[Panel]) -> Figure:
    """ROC curves per split, with the chance diagonal."""
    fig, axes = _grid(len(panels), height=_curves_height(panels))
    for ax, panel in zip(axes, panels):
        drawn = False
        for curve, style in zip(panel.curves, _styles(panel.curves)):
            if not curve.both_classes:
                continue
            fpr, tpr, _ = roc_curve(curve.y, curve.score)
            auc = roc_auc_score(curve.y, curve.score)
            ax.plot(fpr, tpr, label=f"{curve.name} (AUC {auc:.3f})", **style)
            drawn = True
        ax.plot([0, 1], [0, 1], color="#8c959f", linewidth=0.8, linestyle=(0, (1, 3)))
        if drawn:
            _legend_below(ax)
        else:
            _no_data(ax, "no test scores with both classes")
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="false positive rate", ylabel="true positive rate")
        ax.set_title(panel.title)
    return fig


def _log_floor(panels: Sequence[Panel]) -> float:
    """The log axis' lowest FPR: one negative of the largest pooled set of negatives, but no lower than 1e-4."""
    most = max((int((c.y == 0).sum()) for p in panels for c in p.curves if c.both_classes), default=0)
    return max(MIN_LOG_FPR, 1.0 / most) if most else MIN_LOG_FPR


def _log_path(fpr: np.ndarray, tpr: np.ndarray, floor: float, n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """The ROC points with the straight segments between tied scores sampled along a log-spaced FPR.

    A segment that rises and moves right at once (tied scores) is straight on
    a linear axis but curved on a log one; drawn between its two ends only, it
    would be a chord above the true curve (a constant baseline would look
    better than chance).
    """
    f0, f1, t0, t1 = fpr[:-1], fpr[1:], tpr[:-1], tpr[1:]
    diagonal = np.flatnonzero((f1 > f0) & (t1 > t0) & (f1 > floor))
    low = np.maximum(f0[diagonal], floor)
    share = np.linspace(0.0, 1.0, n + 2)[1:-1]
    xs = np.exp(np.log(low)[:, None] + np.log(f1[diagonal] / low)[:, None] * share)
    slope = (t1[diagonal] - t0[diagonal]) / (f1[diagonal] - f0[diagonal])
    ys = t0[diagonal][:, None] + slope[:, None] * (xs - f0[diagonal][:, None])
    keys = np.concatenate([np.arange(len(fpr), dtype=np.float64), (diagonal[:, None] + share).ravel()])
    order = np.argsort(keys, kind="stable")
    x = np.concatenate([np.maximum(fpr, floor), xs.ravel()])[order]
    y = np.concatenate([tpr, ys.ravel()])[order]
    return x, y


def roc_log_figure(panels: Sequence[Panel]) -> Figure:
    """ROC curves per split on a log-scaled false positive rate, where a detector's operating points lie.

    The axis runs from one negative window of the largest pooled set of
    negatives (no lower than 1e-4) to 1; a curve's points at FPR 0 are drawn
    at that floor. The dotted curve is chance.

    Examples
    --------
    >>> y = np.tile([0, 0, 0, 1], 250)
    >>> score = np.linspace(0, 1, 1000) * 0.5 + 0.5 * y
    >>> panel = Panel("group", "group", (Curve("et", "rich", y, score),), None, None)
    >>> ax = roc_log_figure([panel]).get_axes()[0]
    >>> ax.get_xscale(), bool(ax.get_xlim()[0] == 1 / 750)
    ('log', True)
    """
    floor = _log_floor(panels)
    fig, axes = _grid(len(panels), height=_curves_height(panels))
    for ax, panel in zip(axes, panels):
        drawn = False
        for curve, style in zip(panel.curves, _styles(panel.curves)):
            if not curve.both_classes:
                continue
            fpr, tpr, _ = roc_curve(curve.y, curve.score)
            ax.plot(*_log_path(fpr, tpr, floor), label=curve.name, **style)
            drawn = True
        chance = np.geomspace(floor, 1.0, 50)
        ax.plot(chance, chance, color="#8c959f", linewidth=0.8, linestyle=(0, (1, 3)))
        if drawn:
            _legend_below(ax)
        else:
            _no_data(ax, "no test scores with both classes")
        ax.set_xscale("log")
        ax.set(xlim=(floor, 1.0), ylim=(0, 1.02), xlabel="false positive rate (log scale)")
        ax.set(ylabel="true positive rate")
        ax.set_title(panel.title)
    return fig


def reliability_figure(panels: Sequence[Panel], n_bins: int = 10) -> Figure:
    """Observed positive rate against mean predicted score in equal-width bins."""
    fig, axes = _grid(len(panels))
    for ax, panel in zip(axes, panels):
        models = [c for c in panel.curves if not c.baseline and c.y.size]
        for curve, style in zip(models, _styles(models)):
            observed, predicted = calibration_curve(curve.y, curve.score, n_bins=n_bins, strategy="uniform")
            ax.plot(predicted, observed, marker="o", markersize=3, label=curve.name, **style)
        ax.plot([0, 1], [0, 1], color="#8c959f", linewidth=0.8, linestyle=(0, (1, 3)))
        if models:
            _legend_below(ax)
        else:
            _no_data(ax, "no test scores")
        ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="mean predicted score", ylabel="observed positive rate")
        ax.set_title(panel.title)
    return fig


def histogram_figure(panels: Sequence[Panel], bins: int = 40) -> Figure:
    """Score densities of positive and negative test windows of each split's best combination.

    The dashed vertical line is the combination's threshold chosen on validation (the mean over folds and seeds).
    """
    fig, axes = _grid(len(panels), height=3.2)
    edges = np.linspace(0.0, 1.0, bins + 1)
    for ax, panel in zip(axes, panels):
        best = panel.best
        if best is None or best.y.size == 0:
            _no_data(ax, "no test scores")
        else:
            for label, colour, name in ((0, "#6e7781", "negatives"), (1, "#cf222e", "positives")):
                values = np.clip(best.score[best.y == label], 0.0, 1.0)
                if values.size:
                    ax.hist(values, bins=edges, density=True, alpha=0.5, color=colour, label=f"{name} ({values.size})")
            if best.threshold is not None and np.isfinite(best.threshold):
                ax.axvline(
                    best.threshold,
                    color="#1b1f24",
                    linestyle="--",
                    linewidth=1.0,
                    label=f"threshold ({best.threshold:.2f})",
                )
            ax.legend(loc="upper center", frameon=False)
            ax.set_title(f"{panel.title}\n{best.name}")
        if best is None or best.y.size == 0:
            ax.set_title(panel.title)
        ax.set(xlim=(0, 1), xlabel="score", ylabel="density")
    return fig


def group_figure(panels: Sequence[Panel], max_groups: int = MAX_GROUPS) -> Figure:
    """Box plots of the best combination's test scores per group, negatives and positives side by side.

    With more than ``max_groups`` groups in a split, the ones with the most test windows
    are shown (ties by name) and the title says how many were left out.
    """
    shown = []
    for panel in panels:
        if panel.best is None or panel.groups is None or panel.groups.size == 0:
            shown.append([])
            continue
        names, counts = np.unique(panel.groups, return_counts=True)
        order = np.lexsort((names, -counts))[:max_groups]
        shown.append(sorted(names[order].tolist(), key=_natural))
    widest = max((len(s) for s in shown), default=1)
    fig = Figure(figsize=(max(6.0, 0.42 * widest + 2.0), 2.9 * max(len(panels), 1)), dpi=DPI, layout="constrained")
    axes = [fig.add_subplot(max(len(panels), 1), 1, i + 1) for i in range(max(len(panels), 1))]
    for ax, panel, groups in zip(axes, panels, shown):
        if not groups:
            _no_data(ax, "no test scores")
            ax.set_title(panel.title)
            continue
        best = panel.best
        for label, colour, offset in ((0, "#afb8c1", -0.2), (1, "#ff8182", 0.2)):
            data, positions = [], []
            for i, group in enumerate(groups):
                values = best.score[(panel.groups == group) & (best.y == label)]
                if values.size:
                    data.append(values)
                    positions.append(i + offset)
            if data:
                parts = ax.boxplot(
                    data, positions=positions, widths=0.34, showfliers=False, patch_artist=True, manage_ticks=False
                )
                for box in parts["boxes"]:
                    box.set(facecolor=colour, edgecolor="#57606a", linewidth=0.8)
                for median in parts["medians"]:
                    median.set(color="#1b1f24", linewidth=1.0)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(groups, rotation=90 if len(groups) > 12 else 0)
        ax.set_xlim(-0.7, len(groups) - 0.3)
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("score")
        n_all = len(np.unique(panel.groups))
        left_out = f", {len(groups)} of {n_all} groups with the most test windows" if n_all > len(groups) else ""
        ax.set_title(f"{panel.title} — {best.name}{left_out} (grey: negatives, red: positives)")
    return fig


def _natural(name: str):
    # Numeric group ids (patients 100, 101, ...) sort by value, others by text.
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def make_plots(panels: Sequence[Panel], *, max_groups: int = MAX_GROUPS) -> list[Plot]:
    """Render the six report figures for ``panels`` under matplotlib's default style.

    ``pr_curves``, ``roc_curves``, ``roc_log``, ``reliability``, ``score_histograms`` and ``group_scores``.
    """
    specs = [
        (
            "pr_curves",
            pr_figure,
            "Precision-recall curves",
            (
                "Precision-recall on the pooled test scores (all seeds and folds) of the combinations in the legend, "
                "best first, and the baselines; the dotted line is the positive rate. Pooled AP can differ from the mean of "
                "per-fold APs in the tables."
            ),
        ),
        (
            "roc_curves",
            roc_figure,
            "ROC curves",
            "ROC curves on the pooled test scores; the dotted diagonal is chance.",
        ),
        (
            "roc_log",
            roc_log_figure,
            "ROC curves at low false positive rates",
            (
                "The same ROC curves with the false positive rate on a log scale, down to one negative window of the "
                "pooled test scores: the left end is where a detector that runs all day operates. The dotted curve "
                "is chance."
            ),
        ),
        (
            "reliability",
            reliability_figure,
            "Reliability diagram",
            (
                "Observed positive rate against the mean score in 10 equal-width bins; points below the diagonal are "
                "over-confident."
            ),
        ),
        (
            "score_histograms",
            histogram_figure,
            "Positive and negative score histograms",
            (
                "Test scores of the best combination per split, positives and negatives as separate densities; a "
                "well separated model puts them at opposite ends. The dashed line is the threshold chosen on "
                "validation (its mean over folds and seeds)."
            ),
        ),
        (
            "group_scores",
            lambda p: group_figure(p, max_groups=max_groups),
            "Scores per group",
            (
                "Test scores of the best combination per group; a group whose negatives score like another group's "
                "positives is where the model fails, and groups that differ in level suggest it learned the group."
            ),
        ),
    ]
    plots = []
    with matplotlib.style.context("default"), matplotlib.rc_context(_RC):
        for name, draw, alt, caption in specs:
            plots.append(Plot(name, render_png(draw(panels)), alt, caption))
    return plots
