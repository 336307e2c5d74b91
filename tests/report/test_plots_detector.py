"""The detector's figures: the log-scaled ROC, the threshold on the histograms, many distinguishable curves."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from hardneg.report import _plots as plotting
from tests.report.bench_synth import make_scores

MODELS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9")
BASELINES = ("prior", "stratified", "majority")


@pytest.fixture(scope="module")
def scores():
    table = make_scores(n_windows=300, splits=("group", "random"), models=MODELS + BASELINES, features=("rich",))
    # each fold its own threshold: the mean over the test rows is what the histogram shows
    return table.assign(threshold=np.where(table["fold"] == 0, 0.4, 0.6) + 0.01 * table["seed"])


@pytest.fixture(scope="module")
def panels(scores):
    picks = {s: [(m, "rich", m in BASELINES) for m in MODELS + BASELINES] for s in ("group", "random")}
    return plotting.build_panels(scores, picks, {"group": "group", "random": "random ⚠ untrustworthy"})


def test_build_panels_carries_the_mean_threshold(scores, panels):
    for panel in panels:
        for curve in panel.curves:
            rows = scores[(scores["split"] == panel.split) & (scores["model"] == curve.model)]
            assert curve.threshold == pytest.approx(rows["threshold"].mean())
    old = plotting.build_panels(scores.drop(columns="threshold"), {"group": [("m1", "rich", False)]}, {})
    assert old[0].curves[0].threshold is None


def test_roc_log_axis_is_log_from_one_negative(panels):
    with matplotlib.style.context("default"):
        fig = plotting.roc_log_figure(panels)
    axes = fig.get_axes()
    assert len(axes) == 2 and all(ax.get_xscale() == "log" for ax in axes)
    n_negatives = max(int((c.y == 0).sum()) for p in panels for c in p.curves)
    low, high = axes[0].get_xlim()
    assert low == pytest.approx(max(1e-4, 1 / n_negatives)) and high == 1.0
    # every curve drawn (12 with the baselines), no point left of the axis
    for ax in axes:
        curves = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        assert len(curves) == len(MODELS) + len(BASELINES)
        assert all(np.min(line.get_xdata()) >= low for line in curves)
    # a constant score ties every window: its ROC is chance, a curve on the log axis, not a chord above it
    majority = next(line for line in axes[0].get_lines() if line.get_label() == "majority")
    x, y = np.asarray(majority.get_xdata()), np.asarray(majority.get_ydata())
    assert len(x) > 10 and np.abs(y[x > 2 * low] - x[x > 2 * low]).max() < 1e-9
    linear = plotting.roc_figure(panels).get_axes()[0]
    assert linear.get_xscale() == "linear"


def test_many_curves_stay_distinguishable_and_the_legend_has_columns(panels):
    fig = plotting.roc_figure(panels)
    ax = fig.get_axes()[0]
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    styles = {(line.get_color(), line.get_linestyle()) for line in lines}
    assert len(styles) == len(lines) == 12
    assert ax.get_legend() is not None and ax.get_legend()._ncols == 2
    small = plotting.build_panels(_few(), {"group": [("m1", "rich", False)]}, {})
    assert plotting.roc_figure(small).get_axes()[0].get_legend()._ncols == 1


def _few():
    return make_scores(n_windows=100, splits=("group",), models=("m1",), features=("rich",))


def test_histograms_draw_the_threshold(panels):
    fig = plotting.histogram_figure(panels)
    for ax, panel in zip(fig.get_axes(), panels):
        vertical = [line for line in ax.get_lines() if len(set(np.asarray(line.get_xdata(), dtype=float))) == 1]
        assert len(vertical) == 1
        assert vertical[0].get_xdata()[0] == pytest.approx(panel.best.threshold)
        assert "threshold" in vertical[0].get_label()
    # without a threshold: no line
    old = plotting.build_panels(_few(), {"group": [("m1", "rich", False)]}, {})
    assert not plotting.histogram_figure(old).get_axes()[0].get_lines()


def test_make_plots_adds_roc_log_deterministically(panels):
    first = plotting.make_plots(panels[:1])
    names = [plot.name for plot in first]
    assert names == ["pr_curves", "roc_curves", "roc_log", "reliability", "score_histograms", "group_scores"]
    again = plotting.make_plots(panels[:1])
    assert [p.png for p in first] == [p.png for p in again]
    assert first[2].png.startswith(b"\x89PNG") and b"Software" not in first[2].png
