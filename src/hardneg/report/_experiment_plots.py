"""Figures of the experiment report: forest plots of the paired deltas and the per-seed spread of each arm.

Plain tables in, :class:`~matplotlib.figure.Figure` out, drawn like the other report
figures (no pyplot, matplotlib's default style under the report's rc settings, PNGs
without a software tag or date through :func:`~hardneg.report._stream_plots.render`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from hardneg.report._plots import _MODEL_COLOURS, DPI

__all__ = ["LABEL_COLOURS", "ForestPanel", "SpreadPanel", "forest_figure", "spread_figure"]

#: a comparison's colour by its label; an unknown label is grey
LABEL_COLOURS = {"significant": "#1a7f37", "directional": "#9a6700", "no effect": "#8c959f"}
_OTHER = "#57606a"
_PANEL_COLUMNS = 3


@dataclass
class ForestPanel:
    """One panel of a forest plot: rows top to bottom, each ``(text, delta, low, high, label)``."""

    title: str
    rows: list[tuple[str, float, float, float, str]] = field(default_factory=list)
    xlabel: str = "difference"


@dataclass
class SpreadPanel:
    """One panel of the per-seed spread: ``values`` has columns ``arm``, ``seed`` and ``value``."""

    title: str
    arms: list[str]
    values: pd.DataFrame
    ylabel: str = "value"


def _finite(value) -> bool:
    return value is not None and not pd.isna(value) and math.isfinite(float(value))


def _no_data(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=_OTHER)
    ax.set(xticks=[], yticks=[])


def forest_figure(panels: Sequence[ForestPanel], columns: int = _PANEL_COLUMNS) -> Figure:
    """Each comparison's delta as a point with its interval as a bar, a line at zero, coloured by label.

    Panels share nothing (each metric keeps its own scale); a row without a finite delta is
    left empty, its text still on the axis, so a missing comparison stays visible.
    """
    n = max(len(panels), 1)
    cols = min(n, columns)
    rows = -(-n // cols)
    height = max((len(p.rows) for p in panels), default=1)
    fig = Figure(figsize=(4.6 * cols, (0.32 * height + 1.2) * rows + 0.5), dpi=DPI, layout="constrained")
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(n)]
    seen: dict[str, str] = {}
    for ax, panel in zip(axes, panels, strict=False):
        if not panel.rows:
            _no_data(ax, "no comparison")
            ax.set_title(panel.title, loc="left")
            continue
        y = np.arange(len(panel.rows))[::-1]
        ax.axvline(0.0, color="#1b1f24", linewidth=0.8)
        for position, (_, delta, low, high, label) in zip(y, panel.rows, strict=True):
            colour = LABEL_COLOURS.get(label, _OTHER)
            seen.setdefault(label, colour)
            if _finite(low) and _finite(high):
                ax.plot([low, high], [position, position], color=colour, linewidth=2.0, solid_capstyle="butt")
            if _finite(delta):
                ax.plot([delta], [position], marker="o", markersize=6, color=colour, markeredgecolor="#1b1f24")
        ax.set_yticks(y, [row[0] for row in panel.rows])
        ax.set_ylim(-0.7, len(panel.rows) - 0.3)
        ax.set_title(panel.title, loc="left")
        ax.set_xlabel(panel.xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.grid(True, axis="x", color="#eaeef2", linewidth=0.6)
    if seen:
        handles = [
            Line2D([], [], color=colour, marker="o", linewidth=2.0, markeredgecolor="#1b1f24", label=label)
            for label, colour in sorted(seen.items())
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    return fig


def spread_figure(panels: Sequence[SpreadPanel], seeds: Sequence[int], columns: int = _PANEL_COLUMNS) -> Figure:
    """Per arm, each seed's value as a dot (one colour per seed id, so pairs read across arms) and the mean as a bar.

    Dots of one arm are spread sideways by the seed's position in ``seeds`` (not at random),
    so the same inputs draw the same figure.
    """
    n = max(len(panels), 1)
    cols = min(n, columns)
    rows = -(-n // cols)
    widest = max((len(p.arms) for p in panels), default=1)
    fig = Figure(figsize=(max(4.6, 0.55 * widest + 1.6) * cols, 3.8 * rows + 0.5), dpi=DPI, layout="constrained")
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(n)]
    order = {seed: i for i, seed in enumerate(seeds)}
    width = 0.5
    for ax, panel in zip(axes, panels, strict=False):
        values = panel.values
        if values.empty or not panel.arms:
            _no_data(ax, "no finished run")
            ax.set_title(panel.title, loc="left")
            continue
        for x, arm in enumerate(panel.arms):
            own = values[values["arm"] == arm].sort_values("seed", kind="mergesort")
            finite = own[np.isfinite(own["value"].to_numpy(dtype=np.float64))]
            for seed, value in zip(finite["seed"], finite["value"], strict=True):
                i = order.get(seed, len(order))
                offset = (i / max(len(seeds) - 1, 1) - 0.5) * width * 0.8 if len(seeds) > 1 else 0.0
                ax.plot(
                    [x + offset],
                    [value],
                    marker="o",
                    markersize=5,
                    linestyle="none",
                    color=_MODEL_COLOURS[i % len(_MODEL_COLOURS)],
                )
            if len(finite):
                mean = float(finite["value"].mean())
                ax.plot([x - width / 2, x + width / 2], [mean, mean], color="#1b1f24", linewidth=1.6)
        ax.set_xticks(range(len(panel.arms)), panel.arms, rotation=30, ha="right")
        ax.set_xlim(-0.6, len(panel.arms) - 0.4)
        ax.set_title(panel.title, loc="left")
        ax.set_ylabel(panel.ylabel)
        ax.grid(True, axis="y", color="#eaeef2", linewidth=0.6)
    handles = [
        Line2D([], [], marker="o", linestyle="none", color=_MODEL_COLOURS[i % len(_MODEL_COLOURS)], label=f"seed {s}")
        for i, s in enumerate(seeds)
    ]
    handles.append(Line2D([], [], color="#1b1f24", linewidth=1.6, label="mean"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 8), frameon=False)
    return fig
