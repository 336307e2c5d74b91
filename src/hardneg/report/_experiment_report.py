"""The experiment report: arms of a training experiment compared with their baselines, as Markdown and HTML.

:func:`experiment_document` builds one :class:`~hardneg.report.Document` from the
experiment's plain tables (results, summary, comparisons, criteria, factors, runs) and
a ``meta`` dict; :func:`write_experiment_report` writes ``report.md``, ``report.html``
and the PNGs the Markdown links (``plots/*.png``) together, or nothing after an error.
Nothing is computed here beyond arranging, averaging arm means for the interaction
table, and formatting (see :mod:`hardneg.report._experiment_sections`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from hardneg.report._experiment_plots import ForestPanel, SpreadPanel, forest_figure, spread_figure
from hardneg.report._experiment_sections import (
    DASH,
    Inputs,
    ablation_section,
    comparisons_section,
    criteria_section,
    factors_section,
    first_error_line,
    metric_label,
    missing,
    results_section,
    what_was_run,
)
from hardneg.report._render import Bullets, Document, Heading, Image, Paragraph, Table
from hardneg.report._stream_plots import render
from hardneg.report._stream_report import _write

__all__ = ["experiment_document", "write_experiment_report"]


def _figures(inp: Inputs, plots_dir: Path | None) -> list:
    blocks: list = [Heading(2, "Figures")]
    if plots_dir is None:
        return blocks + [Paragraph("Figures are not drawn in this document.", kind="note")]
    folder = Path(plots_dir).as_posix()
    frame = inp.comparisons()

    def panel(metric: str, es: str, title: str) -> ForestPanel:
        own = frame[(frame["metric"].astype(str) == metric) & (frame["eval_set"].astype(str) == es)]
        rows = [
            (f"{r.arm} vs {r.baseline}", r.mean_delta, r.ci_low, r.ci_high, str(r.label))
            for r in own.itertuples(index=False)
        ]
        return ForestPanel(title, rows, f"Δ{metric_label(metric)} (arm minus baseline)")

    primary_sets = [
        es
        for es in inp.eval_order
        if ((frame["metric"].astype(str) == inp.primary) & (frame["eval_set"].astype(str) == es)).any()
    ]
    if not primary_sets:
        blocks.append(Paragraph("Forest plot: no comparison to draw.", kind="note"))
    else:
        png = render(forest_figure, [panel(inp.primary, es, es) for es in primary_sets])
        blocks.append(
            Image(
                f"{folder}/forest_{inp.primary}.png",
                png,
                f"forest plot of {metric_label(inp.primary)}",
                f"Δ{metric_label(inp.primary)} of each arm against its baseline arm with its interval, per "
                "evaluation set; colour by label.",
            )
        )
        metrics = sorted({str(m) for m in frame["metric"]}, key=inp.metric_rank)
        if len(metrics) > 1:
            panels = [panel(m, es, f"{es} {metric_label(m)}") for m in metrics for es in primary_sets]
            png = render(forest_figure, panels, len(primary_sets))
            blocks.append(
                Image(
                    f"{folder}/forest_all.png",
                    png,
                    "forest plot of every metric",
                    "Every metric's deltas, one row of panels per metric.",
                )
            )
    results = inp.frames["results"]
    results = results[results["metric"].astype(str) == inp.primary]
    sets = [es for es in inp.eval_order if (results["eval_set"].astype(str) == es).any()]
    if not sets:
        return blocks + [Paragraph("Per-seed spread: no finished run.", kind="note")]
    panels = []
    for es in sets:
        own = results[results["eval_set"].astype(str) == es]
        values = pd.DataFrame(
            {
                "arm": own["arm"].astype(str),
                "seed": own["seed"].astype(int),
                "value": pd.to_numeric(own["value"], errors="coerce").astype(float),
            }
        )
        arms = [a for a in inp.arms if (values["arm"] == a).any()]
        panels.append(SpreadPanel(es, arms, values, metric_label(inp.primary)))
    png = render(spread_figure, panels, inp.seeds)
    blocks.append(
        Image(
            f"{folder}/seeds_{inp.primary}.png",
            png,
            f"per-seed {metric_label(inp.primary)}",
            f"{metric_label(inp.primary)} of every finished run: one dot per seed (one colour per seed id), "
            "the bar is the arm's mean.",
        )
    )
    return blocks


def _runs(inp: Inputs) -> list:
    blocks: list = [Heading(2, "Runs")]
    runs = inp.frames["runs"]
    if runs.empty:
        return blocks + [Paragraph("No run was recorded.", kind="note")]
    cells = {(str(r.arm), int(r.seed)): r for r in runs.itertuples(index=False)}
    rows, failures = [], []
    for arm in [a for a in inp.arms if any((a, s) in cells for s in inp.seeds)]:
        row, seconds = [arm], 0.0
        for seed in inp.seeds:
            r = cells.get((arm, seed))
            if r is None:
                row.append(f"{DASH} not run")
                continue
            seconds += 0.0 if missing(r.seconds) else float(r.seconds)
            if str(r.status) == "failed":
                line = first_error_line(r.error)
                row.append(f"**failed**: {line}")
                failures.append(f"`{arm}` seed {seed} failed: {line}")
            else:
                row.append(str(r.status))
        row.append(f"{seconds:.1f}")
        rows.append(row)
    blocks.append(
        Table(
            ["arm", *(f"seed {s}" for s in inp.seeds), "time (s)"],
            rows,
            align="l" + "l" * len(inp.seeds) + "r",
            caption="What became of every run; resumed: finished before and not redone.",
        )
    )
    if failures:
        blocks.append(Bullets(failures, kind="warn"))
    else:
        blocks.append(Paragraph("Every run finished."))
    return blocks


def _how_to_read(inp: Inputs) -> list:
    meta = inp.meta
    items = []
    if meta.get("interval"):
        items.append(f"Intervals: {meta['interval']}")
    if meta.get("label_rule"):
        items.append(f"Labels: {meta['label_rule']}")
    if meta.get("holm_family"):
        items.append(f"Holm correction: {meta['holm_family']}")
    items.append(
        "Pairing: seed k of an arm is compared with seed k of its baseline arm (the same data order, "
        "split and initialisation), by seed id, whatever order the runs finished in."
    )
    items.append(
        "Incomplete grids: where a run failed, an arm and its baseline are compared on the seeds both "
        "finished (the complete pairs); the pairs column says how many."
    )
    resamples = f"{int(meta['n_resamples'])} bootstrap resamples" if meta.get("n_resamples") else None
    items.append(f"Significance level {inp.alpha:g}" + (f"; {resamples}." if resamples else "."))
    blocks: list = [Heading(2, "How to read this"), Bullets(items)]
    notes = [str(n) for n in meta.get("notes") or []]
    if notes:
        blocks.append(Bullets(notes, kind="note"))
    return blocks


# ------------------------------------------------------------------ public
def experiment_document(
    tables: Mapping[str, pd.DataFrame], meta: Mapping, *, plots_dir: Path | None = None
) -> Document:
    """The experiment report as a :class:`~hardneg.report.Document`.

    Parameters
    ----------
    tables : dict of DataFrame
        ``results``, ``summary``, ``comparisons``, ``criteria``, ``factors`` and ``runs`` (the
        columns of :mod:`hardneg._schema`'s experiment tables); a missing one counts as empty.
    meta : dict
        What was run: ``experiment``, ``dataset``, ``model``, ``axes`` ({axis: [level, ...]}),
        ``baseline`` ({axis: level}), ``arms`` ({arm: {axis: level}}), ``seeds``, ``eval_sets``
        ({name: {kind, description, timeline}}), ``primary_metric``, ``metrics`` (shown in the
        results table), ``alpha``, ``label_rule``, ``holm_family``, ``interval``,
        ``n_resamples`` and ``notes``; each may be missing.
    plots_dir : Path, optional
        Folder, relative to the Markdown file, the figures are linked under (``plots``);
        None draws no figures.

    Examples
    --------
    >>> from hardneg._schema import ARM_SUMMARY_COLUMNS
    >>> summary = pd.DataFrame([("a", "iid", "f1", 3, 0.8, 0.02, 0.75, 0.85, "new groups")],
    ...                        columns=list(ARM_SUMMARY_COLUMNS))
    >>> doc = experiment_document({"summary": summary}, {"eval_sets": {"iid": {"kind": "iid"}}})
    >>> doc.blocks[3].rows
    [['a', '3', '0.800 [0.750, 0.850]']]
    """
    inp = Inputs(tables, meta)
    doc = Document(f"Experiment: {Path(str(meta['experiment'])).stem}" if meta.get("experiment") else "Experiment")
    doc.add(
        *what_was_run(inp),
        *results_section(inp),
        *comparisons_section(inp),
        *ablation_section(inp),
        *factors_section(inp),
        *criteria_section(inp),
        *_figures(inp, plots_dir),
        *_runs(inp),
        *_how_to_read(inp),
    )
    return doc


def write_experiment_report(out, tables: Mapping[str, pd.DataFrame], meta: Mapping) -> tuple[Path, Path]:
    """Write ``out/report.md``, ``out/report.html`` (self-contained) and the PNGs under ``out/plots/``.

    Takes what :func:`experiment_document` takes; everything is rendered before anything is
    written, and the files replace their targets together at the end.

    Examples
    --------
    >>> import tempfile
    >>> from hardneg._schema import ARM_SUMMARY_COLUMNS
    >>> summary = pd.DataFrame([("a", "iid", "f1", 3, 0.8, 0.02, 0.75, 0.85, "new groups")],
    ...                        columns=list(ARM_SUMMARY_COLUMNS))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     md, html = write_experiment_report(tmp, {"summary": summary}, {"seeds": [0, 1, 2]})
    ...     [line for line in md.read_text().splitlines() if line.startswith("| a ")]
    ['| a | 3/3 | 0.800 [0.750, 0.850] |']
    """
    return _write(out, experiment_document(tables, meta, plots_dir=Path("plots")))
