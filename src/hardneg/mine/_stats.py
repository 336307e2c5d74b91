"""Score statistics of a mining run, and writing them: ``stats.json``, ``stats.md`` and the score plot.

:func:`score_statistics` counts, summarises and histograms the window and item
scores (pure, vectorised); :func:`write_statistics` writes them, the Markdown
through the report's one document model (:class:`hardneg.report.Document`)
and the plot with matplotlib's Agg renderer. :func:`start_plot_warm_up` imports
what the writing needs on a side thread while the pool is still being scored.

Examples
--------
>>> import pandas as pd
>>> from hardneg.mine._select import item_table
>>> windows = pd.DataFrame({"item": ["a", "a", "b"], "group": ["g", "g", "h"], "start_ms": [0.0, 500.0, 0.0],
...                         "end_ms": [500.0, 1000.0, 500.0], "score": [0.2, 0.8, 0.9]})
>>> stats = score_statistics(windows, item_table(windows), tiers=(0.5,))
>>> stats["window_scores"]["max"], stats["tiers"]
(0.9, [{'tier': 0.5, 'label': '0.50', 'items': 2, 'windows': 2}])
>>> print(statistics_markdown({"n_windows": 3, "n_items": 2}))
# Mining statistics
<BLANKLINE>
3 windows scored over 2 items.
<BLANKLINE>
"""

from __future__ import annotations

import io
import json
import math
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._atomic import write_bytes_atomic
from hardneg.dataset import json_default
from hardneg.mine._select import (
    DEFAULT_TIERS,
    check_item_table,
    check_tiers,
    check_window_table,
    float_column,
    rank_items,
)

__all__ = [
    "HIST_BINS",
    "QUANTILES",
    "STATS_JSON",
    "STATS_MD",
    "STATS_PNG",
    "TOP_ITEMS",
    "score_statistics",
    "start_plot_warm_up",
    "statistics_markdown",
    "warm_up_plot",
    "write_statistics",
]

QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
HIST_BINS = 20
TOP_ITEMS = 20
STATS_JSON = "stats.json"
STATS_MD = "stats.md"
STATS_PNG = "score_distribution.png"


def _histogram(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts in ``[i/20, (i+1)/20)``, the last bin closed, with the edges exactly ``i/20``.

    ``np.histogram(range=(0, 1))`` uses ``linspace`` edges (0.7000000000000001), which would put a
    score of exactly 0.7 in the 0.65 bin; the tiers compare with ``>=`` against the decimal, so the
    histogram does the same.
    """
    edges = np.arange(HIST_BINS + 1, dtype=np.float64) / HIST_BINS
    inside = values[(values >= 0.0) & (values <= 1.0)]
    index = np.minimum((inside * HIST_BINS).astype(np.int64), HIST_BINS - 1)
    # The product can round across an edge; one step either way puts it back.
    index -= inside < edges[index]
    index += (inside >= edges[index + 1]) & (index < HIST_BINS - 1)
    return np.bincount(index, minlength=HIST_BINS), edges


def _distribution(values: np.ndarray) -> dict:
    counts, edges = _histogram(values)
    summary = {
        "count": int(values.size),
        "min": float(values.min()) if values.size else None,
        "max": float(values.max()) if values.size else None,
        "mean": float(values.mean()) if values.size else None,
        "quantiles": dict.fromkeys((f"{q:g}" for q in QUANTILES), None),
        "histogram": {
            "edges": [float(e) for e in edges],
            "counts": [int(c) for c in counts],
            "outside_0_1": int(values.size - counts.sum()),
        },
    }
    if values.size:
        quantiles = np.quantile(values, QUANTILES)
        summary["quantiles"] = {f"{q:g}": float(v) for q, v in zip(QUANTILES, quantiles, strict=True)}
    return summary


def score_statistics(windows: pd.DataFrame, items: pd.DataFrame, tiers: Sequence[float] = DEFAULT_TIERS) -> dict:
    """Counts, quantiles and histograms of window and item scores, tier sizes and the top items.

    Parameters
    ----------
    windows : DataFrame
        Window table of every scored window.
    items : DataFrame
        As :func:`hardneg.mine._select.item_table` returns for ``windows``.
    tiers : sequence of float

    Returns
    -------
    dict
        JSON-ready: ``n_windows``, ``n_items``, ``window_scores`` and ``item_max_scores``
        (each ``count, min, max, mean``, ``quantiles`` at 0.01 ... 0.99 (numpy's linear
        method; None when empty) and a ``histogram`` of 20 bins on [0, 1], last bin closed,
        with ``outside_0_1``), ``tiers`` (per tier: ``tier``, ``label``, ``items`` whose max
        score reaches it and ``windows`` scoring at least it) and ``top_items`` (the first 20
        items by ``max_score`` descending then ``item``).

    Examples
    --------
    >>> import pandas as pd
    >>> from hardneg.mine._select import item_table
    >>> windows = pd.DataFrame({"item": ["a", "a", "b"], "group": ["g", "g", "h"], "start_ms": [0.0, 500.0, 0.0],
    ...                         "end_ms": [500.0, 1000.0, 500.0], "score": [0.2, 0.8, 0.9]})
    >>> stats = score_statistics(windows, item_table(windows), tiers=(0.5, 0.85))
    >>> stats["n_windows"], [(t["label"], t["items"], t["windows"]) for t in stats["tiers"]]
    (3, [('0.50', 2, 2), ('0.85', 1, 1)])
    """
    windows = check_window_table(windows)
    items = check_item_table(items)
    checked = check_tiers(tiers)
    score = float_column(windows, "score", "window table")
    item_max = float_column(items, "max_score", "item table")
    ranked = rank_items(items.reset_index(drop=True))
    top = ranked.iloc[:TOP_ITEMS]
    top_items = []
    for row in top.to_dict("records"):
        entry = {}
        for key, value in row.items():
            if isinstance(value, np.integer | int) and not isinstance(value, bool):
                entry[str(key)] = int(value)
            elif isinstance(value, np.floating | float):
                entry[str(key)] = float(value) if math.isfinite(value) else None
            else:
                entry[str(key)] = str(value)
        top_items.append(entry)
    return {
        "n_windows": int(score.size),
        "n_items": len(items),
        "window_scores": _distribution(score),
        "item_max_scores": _distribution(item_max),
        "tiers": [
            {
                "tier": value,
                "label": label,
                "items": int(np.count_nonzero(item_max >= value)),
                "windows": int(np.count_nonzero(score >= value)),
            }
            for value, label in checked
        ],
        "top_items": top_items,
    }


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def statistics_markdown(stats: Mapping) -> str:
    """``stats.md``: the statistics as a :class:`~hardneg.report.Document` rendered to Markdown.

    Keys the caller added to ``stats`` (run counts, selection counts) are listed under "Run".
    """
    # Imported here, not at the top: the report package loads scikit-learn, which a mining run need not
    # wait for before it starts scoring (the warm-up thread imports it in the scoring's shadow).
    from hardneg.report import Bullets, Document, Heading, Paragraph, Table

    def table(header: Sequence[str], rows: Sequence[Sequence]) -> Table:
        return Table(list(header), [[_fmt(v) for v in row] for row in rows], align="-" * len(header))

    doc = Document("Mining statistics")
    doc.add(Paragraph(f"{stats.get('n_windows', 0)} windows scored over {stats.get('n_items', 0)} items."))
    dists = [(name, stats.get(key)) for name, key in (("windows", "window_scores"), ("item max", "item_max_scores"))]
    dists = [(name, d) for name, d in dists if isinstance(d, Mapping)]
    if dists:
        stat_rows = [[s] + [d.get(s) for _, d in dists] for s in ("count", "min", "mean", "max")]
        keys = list(dists[0][1].get("quantiles", {}))
        stat_rows += [[f"q{k}"] + [d.get("quantiles", {}).get(k) for _, d in dists] for k in keys]
        doc.add(Heading(2, "Scores"), table(["statistic"] + [name for name, _ in dists], stat_rows))
        edges = dists[0][1]["histogram"]["edges"]
        hist_rows = [
            [f"[{edges[i]:.2f}, {edges[i + 1]:.2f}{']' if i == len(edges) - 2 else ')'}"]
            + [d["histogram"]["counts"][i] for _, d in dists]
            for i in range(len(edges) - 1)
        ]
        doc.add(Heading(2, "Histogram"), table(["score"] + [name for name, _ in dists], hist_rows))
    if stats.get("tiers"):
        rows = [[f"≥ {t['label']}", t["items"], t["windows"]] for t in stats["tiers"]]
        doc.add(Heading(2, "Tiers"), table(["tier", "items", "windows"], rows))
    if stats.get("top_items"):
        header = list(stats["top_items"][0])
        doc.add(Heading(2, "Top items"), table(header, [[row.get(h) for h in header] for row in stats["top_items"]]))
    shown = {"n_windows", "n_items", "window_scores", "item_max_scores", "tiers", "top_items"}
    extra = {k: v for k, v in stats.items() if k not in shown}
    if extra:
        lines = []
        for key, value in extra.items():
            if isinstance(value, Mapping):
                lines.append(f"{key}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in value.items()))
            else:
                lines.append(f"{key}: {json.dumps(value, default=str)}")
        doc.add(Heading(2, "Run"), Bullets(lines))
    return doc.markdown()


def _plot(stats: Mapping) -> bytes:
    import matplotlib
    import matplotlib.style
    import matplotlib.ticker
    from matplotlib.figure import Figure

    panels = [
        (title, stats[key]["histogram"])
        for title, key in (("Window scores", "window_scores"), ("Item max scores", "item_max_scores"))
        if isinstance(stats.get(key), Mapping)
    ]
    with matplotlib.style.context("default"), matplotlib.rc_context({"font.size": 9, "svg.hashsalt": "hardneg"}):
        # Fixed margins: a layout engine costs more than drawing these two histograms.
        fig = Figure(figsize=(9.0, 3.6), dpi=100)
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.25)
        axes = [fig.add_subplot(1, max(len(panels), 1), i + 1) for i in range(max(len(panels), 1))]
        for ax, (title, hist) in zip(axes, panels, strict=False):
            edges = np.asarray(hist["edges"], dtype=np.float64)
            counts = np.asarray(hist["counts"], dtype=np.float64)
            ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#0969da", edgecolor="white")
            if counts.max(initial=0) > 0:
                ax.set_yscale("log")
                # Plain tick labels: the default 10^k labels need mathtext, whose first use costs ~0.25 s.
                ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_count_label))
                ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
                ax.set_ylim(bottom=0.5)  # a bin holding one window stays visible
            for tier in stats.get("tiers", []):
                ax.axvline(tier["tier"], color="#cf222e", linestyle="--", linewidth=0.8)
            ax.set_xlim(0, 1)
            # y given: the automatic title placement measures every tick label, and moves nothing here
            ax.set_title(f"{title} (n={int(counts.sum())})", y=1.0)
            ax.set_xlabel("score")
            ax.set_ylabel("count")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def warm_up_plot() -> None:
    """Import what :func:`write_statistics` plots with and render a little text, which loads the font.

    Also imports the document model ``stats.md`` is rendered with.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1), dpi=10)
    figure.text(0.5, 0.5, "0.5")
    FigureCanvasAgg(figure).draw()
    import hardneg.report  # noqa: F401 - loaded now so that writing stats.md does not wait for it


def start_plot_warm_up() -> threading.Thread:
    """Run :func:`warm_up_plot` on a side thread while the pool is scored (~0.5 s saved at the end).

    The scoring spends its time in native code that releases the GIL (decoding, reading, onnxruntime),
    so the import mostly runs in its shadow rather than after it.
    """

    def warm() -> None:
        try:
            warm_up_plot()
        except Exception:  # noqa: BLE001 - only a head start: the real plot reports its own errors
            pass

    thread = threading.Thread(target=warm, name="hardneg-plot-warm-up", daemon=True)
    thread.start()
    return thread


def _count_label(value: float, _position) -> str:
    if value < 1:
        return f"{value:g}"
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def write_statistics(stats: Mapping, out_dir) -> list[Path]:
    """Write ``stats.json``, ``stats.md`` and ``score_distribution.png`` into ``out_dir``, each atomically.

    The plot (matplotlib, Agg renderer, no pyplot) is drawn from the histograms in
    ``stats``; keys added by the caller (run counts, selection counts) are kept in the JSON
    and listed in the Markdown. The same ``stats`` give the same bytes.

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> from hardneg.mine._select import item_table
    >>> windows = pd.DataFrame({"item": ["a"], "group": ["g"], "start_ms": [0.0], "end_ms": [1.0], "score": [0.7]})
    >>> stats = score_statistics(windows, item_table(windows), tiers=(0.5,))
    >>> [p.name for p in write_statistics(stats, tempfile.mkdtemp())]
    ['stats.json', 'stats.md', 'score_distribution.png']
    """
    out = Path(out_dir)
    text = json.dumps(stats, indent=2, allow_nan=False, default=json_default) + "\n"
    paths = [out / STATS_JSON, out / STATS_MD, out / STATS_PNG]
    write_bytes_atomic(paths[0], text.encode("utf-8"))
    write_bytes_atomic(paths[1], statistics_markdown(stats).encode("utf-8"))
    write_bytes_atomic(paths[2], _plot(stats))
    return paths
