"""The sections of the bench report, each added to a :class:`~hardneg.report.Document`, and their numbers.

:func:`hardneg.report.write_bench_report` computes the summaries and
choices once and calls these in reading order: what was run, the audit, the best
model per split, inflation across splits, one section per split, plots, run details.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from hardneg._schema import DEPLOYMENT_LINES
from hardneg.report._render import Bullets, Heading, Image, Paragraph, Table, slug
from hardneg.report._trust import MARK, SplitTrust, check_number_rows

__all__ = [
    "GAIN_METRICS",
    "PLOTS_DIR",
    "TABLE_METRICS",
    "audit_section",
    "details_section",
    "header_section",
    "headline_section",
    "inflation_section",
    "metric_means",
    "plot_section",
    "split_info",
    "split_section",
]

PLOTS_DIR = "plots"

#: The metrics of the per-split tables, in column order, with their headers.
TABLE_METRICS = {
    "average_precision": "AP ↑",
    "roc_auc": "ROC AUC ↑",
    "f1_at_val_threshold": "F1 @ val threshold ↑",
    "balanced_accuracy": "balanced accuracy ↑",
    "ece": "ECE ↓",
    "brier": "Brier ↓",
}
#: Metrics compared with the best baseline and across splits.
GAIN_METRICS = {"average_precision": "AP", "roc_auc": "ROC AUC"}
_META_SHOWN = (
    "title",
    "dataset",
    "counts",
    "models",
    "features",
    "splits",
    "seeds",
    "jobs",
    "timings",
    "command",
    # Aliases the bench runner writes: shown in the header, not again under "Run details".
    "dataset_counts",
    "dataset_windows",
    "seconds",
    "split_measures",
    "reference_split",
    "baselines",
    "intervals",
    "window_ms",
    "deployment",
)


def split_info(meta: Mapping, split: str) -> dict:
    """``strategy`` and ``measures`` of a split from ``meta["splits"]`` (a dict) or ``meta["split_measures"]``."""
    info: dict = {}
    splits = meta.get("splits")
    if isinstance(splits, Mapping):
        entry = splits.get(split)
        if isinstance(entry, Mapping):
            info = dict(entry)
        elif isinstance(entry, str):
            info = {"strategy": entry}
    measures = meta.get("split_measures")
    if not info.get("measures") and isinstance(measures, Mapping) and measures.get(split):
        info["measures"] = measures[split]
    return info


def metric_means(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The summary rows of ``metric`` with a finite mean."""
    return summary[(summary["metric"] == metric) & np.isfinite(summary["mean"].to_numpy(dtype=np.float64))]


# ------------------------------------------------------------------------ formatting


def _num(value: float, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _short(row) -> str:
    """``mean [low, high]`` of a summary row."""
    if row is None or not math.isfinite(row["mean"]):
        return "n/a"
    return f"{_num(row['mean'])} [{_num(row['ci_low'])}, {_num(row['ci_high'])}]"


_cell = _short


def _gain(row) -> str:
    if row is None:
        return "n/a"
    return f"{_num(row['gain'], True)} [{_num(row['ci_low'], True)}, {_num(row['ci_high'], True)}]"


def _delta(row) -> str:
    if row is None:
        return "n/a"
    return f"{_num(row['delta'], True)} [{_num(row['ci_low'], True)}, {_num(row['ci_high'], True)}]"


def _lookup(frame: pd.DataFrame | None, keys: Sequence[str]) -> dict:
    if frame is None or frame.empty:
        return {}
    return {tuple(r[k] for k in keys): r for r in frame.to_dict("records")}


def _plain(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return str(value)


def _seeds(value) -> str:
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, np.integer)) for v in value):
        values = sorted(int(v) for v in value)
        if values == list(range(values[0], values[-1] + 1)) and len(values) > 2:
            return f"{len(values)} ({values[0]}–{values[-1]})"
        return f"{len(values)} ({', '.join(map(str, values))})"
    return _plain(value)


def _timings(value) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {float(v):.1f} s" if _is_number(v) else f"{k} {v}" for k, v in value.items())
    return f"{float(value):.1f} s" if _is_number(value) else str(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


# -------------------------------------------------------------------------- sections


def header_section(doc, meta, frame, splits, subset, baselines, intervals) -> None:
    """The dataset line, what was run, and how every number was computed."""
    dataset = meta.get("dataset")
    counts = meta.get("counts") or meta.get("dataset_counts")
    if not counts and meta.get("dataset_windows") is not None:
        counts = {"windows": meta["dataset_windows"]}
    line = f"Dataset: `{dataset}`." if dataset else "Dataset: not given."
    if isinstance(counts, Mapping) and counts:
        line += " " + ", ".join(f"{_plain(v)} {k}" for k, v in counts.items()) + "."
    doc.add(Paragraph(line))
    present = frame[frame["subset"] == subset]
    models = meta.get("models") or sorted(m for m in present["model"].unique() if m not in baselines)
    features = meta.get("features") or sorted(present["features"].unique())
    run = [
        (
            f"**Models**: {_plain(models)}; baselines {', '.join(b for b in baselines)} (scikit-learn's "
            "`DummyClassifier`) added to every split."
        ),
        f"**Feature sets**: {_plain(features)}.",
        f"**Splits**: {', '.join(f'`{s}`' for s in splits)}.",
    ]
    seeds = meta.get("seeds")
    if seeds is None:
        seeds = sorted(int(s) for s in present["seed"].unique())
    run.append(f"**Seeds**: {_seeds(seeds)}.")
    if meta.get("jobs") is not None:
        run.append(f"**Jobs**: {_plain(meta['jobs'])}.")
    timings = meta.get("timings")
    if timings is None and meta.get("seconds") is not None:
        timings = {"total": meta["seconds"]}
    if timings is not None:
        run.append(f"**Timings**: {_timings(timings)}.")
    if meta.get("command"):
        run.append(f"**Command**: `{meta['command']}`")
    doc.add(Heading(2, "What was run", "what-was-run"), Bullets(run))
    level = round(intervals.confidence * 100)
    if intervals.ci_method == "cluster":
        how = (
            f"Every number is on the **{subset}** subset: the mean over seeds of each seed's metric on its test "
            "windows (pooled over the folds of a k-fold split). "
            f"**The {level}% intervals cover {intervals.covers}**: each of {intervals.n_resamples:,} resamples "
            "draws the test groups with replacement (the windows of a group together) and evaluates every seed "
            "on that draw, so an interval says how much the number would move on other groups like these. "
            "Gains over the best baseline and differences between splits are taken on the same draws, paired "
            "by group and seed. ↑: higher is better, ↓: lower is better."
        )
    else:
        how = (
            f"Every number is on the **{subset}** subset and pools seeds × folds. **The {level}% intervals cover "
            f"{intervals.covers}** (`--ci-method seeds`): a percentile bootstrap of the mean over the per-seed, "
            f"per-fold values ({intervals.n_resamples:,} resamples). They collapse when nothing varies across "
            "seeds, and shrink as seeds are added however few groups are tested. Gains over the best baseline "
            "are paired by seed and fold. ↑: higher is better, ↓: lower is better."
        )
    doc.add(Paragraph(how, "note"))
    for warning in intervals.warnings:
        doc.add(Paragraph(f"{MARK} {warning}", "warn"))


def audit_section(doc, trust: dict[str, SplitTrust], splits, meta) -> None:
    """Every split's audit verdict, the failing checks spelled out, and every check per split."""
    doc.add(Heading(2, "Audit", "audit"))
    deployment = DEPLOYMENT_LINES.get(meta.get("deployment"))
    if deployment:
        doc.add(Paragraph(f"{deployment} (`--deployment {meta['deployment']}`)", "note"))
    bad = [trust[s] for s in splits if trust[s].untrustworthy]
    if bad:
        names = ", ".join(f"`{t.split}`" for t in bad)
        doc.add(
            Paragraph(
                f"{MARK} **Untrustworthy splits: {names}.** Their audits FAILED, so their scores are likely "
                f"inflated by leakage or a confound and must not be reported as how the model generalises. They "
                f"are marked {MARK} in every table and plot below.",
                "warn",
            )
        )
        items, numbers = [], []
        for t in bad:
            for check in t.failed:
                items.append(
                    f"{MARK} `{t.split}` — **{check.get('check')}** FAIL: {check.get('explanation', '').strip()}"
                )
                numbers += [
                    [t.label, f"`{check.get('check')}`", name, value] for name, value in check_number_rows(check)
                ]
        doc.add(Bullets(items, "warn"))
        if numbers:
            doc.add(
                Table(
                    ["split", "check", "measured", "value"],
                    numbers,
                    align="lllr",
                    caption="What the failing checks measured; shares are percentages of windows or groups.",
                    untrusted=True,
                )
            )
    unaudited = [s for s in splits if not trust[s].audited]
    if unaudited:
        doc.add(
            Paragraph(
                f"Not audited: {', '.join(f'`{s}`' for s in unaudited)}. Run `hardneg audit` on them before trusting "
                "their scores.",
                "note",
            )
        )
    rows = []
    for split, t in trust.items():
        verdict = f"{t.verdict} {MARK} untrustworthy" if t.untrustworthy else t.verdict
        warned = ", ".join(str(c.get("check")) for c in t.warned) or "—"
        info = split_info(meta, split)
        measures = info.get("measures") or info.get("strategy") or ""
        rows.append([t.label, verdict, ", ".join(t.failed_names) or "—", warned, measures])
    doc.add(
        Table(
            ["split", "verdict", "failed checks", "warnings", "what it measures"],
            rows,
            caption="The worst verdict of each split's audit; a split with any FAIL is untrustworthy.",
            untrusted=bool(bad),
            verdict_columns=(1,),
        )
    )
    audited = [s for s in trust if trust[s].audited]
    checks = list(dict.fromkeys(str(c.get("check")) for s in audited for c in trust[s].checks))
    if checks:
        matrix = []
        for check in checks:
            row = [f"`{check}`"]
            for split in audited:
                verdict = next((c["verdict"] for c in trust[split].checks if str(c.get("check")) == check), "—")
                row.append(verdict)
            matrix.append(row)
        doc.add(
            Table(
                ["check", *[trust[s].label for s in audited]],
                matrix,
                caption="Every check per split.",
                untrusted=bool(bad),
                verdict_columns=tuple(range(1, len(audited) + 1)),
            )
        )


def headline_section(doc, summary, gains, best, splits, trust, paired: str) -> None:
    """The best model of each split with its gain over the split's best baseline."""
    doc.add(Heading(2, "Best model per split", "best-model-per-split"))
    cells = _lookup(summary, ["split", "model", "features", "metric"])
    gain_rows = _lookup(gains, ["split", "model", "features", "metric"])
    rows = []
    for split in splits:
        if best[split] is None:
            rows.append([trust[split].label, "n/a", "n/a", "n/a", "n/a", "n/a"])
            continue
        model, features = best[split]
        row = [trust[split].label, f"{model} · {features}"]
        for metric in GAIN_METRICS:
            row.append(_short(cells.get((split, model, features, metric))))
        for metric in GAIN_METRICS:
            g = gain_rows.get((split, model, features, metric))
            row.append(f"{_gain(g)} vs {g['baseline']}" if g is not None else "n/a")
        rows.append(row)
    bad = [s for s in splits if trust[s].untrustworthy]
    caption = f"Highest mean AP per split, with the gain over that split's best baseline ({paired})."
    header = [
        "split",
        "model · features",
        "AP [95% CI]",
        "ROC AUC [95% CI]",
        "ΔAP vs best baseline",
        "ΔROC AUC vs best baseline",
    ]
    doc.add(Table(header, rows, align="llrrrr", caption=caption, untrusted=bool(bad)))


def inflation_section(doc, summary, comparison, reference, splits, trust, baselines, requested, paired) -> None:
    """Every model on every split side by side, with each split's difference from the reference split."""
    doc.add(Heading(2, "Inflation: the same model on every split", "inflation"))
    if len(splits) < 2:
        doc.add(Paragraph("Only one split was run; nothing to compare.", "note"))
        return
    if reference is None:
        doc.add(
            Paragraph(
                f"{MARK} Every split failed its audit, so there is no honest reference: none of these scores can be "
                "trusted. The values are shown side by side without differences.",
                "warn",
            )
        )
    else:
        how = (
            "given as the reference"
            if requested is not None
            else "the split without a failing audit where the models score lowest (the most conservative estimate)"
        )
        text = f"Reference: `{reference}`, {how}. Δ is each split's mean minus the reference's, with " + (
            "an interval on the same group draws and seeds." if paired else "an unpaired bootstrap interval."
        )
        if any(trust[s].untrustworthy for s in splits):
            text += f" A large positive Δ on a split marked {MARK} is the inflation its leak or confound produced."
        doc.add(Paragraph(text))
    cells = _lookup(summary, ["split", "model", "features", "metric"])
    deltas = _lookup(comparison, ["model", "features", "metric", "split"])
    combos = sorted({(m, f) for m, f in summary[["model", "features"]].itertuples(index=False) if m not in baselines})
    others = [s for s in splits if s != reference] if reference is not None else []
    bad = [s for s in splits if trust[s].untrustworthy]
    for metric, name in GAIN_METRICS.items():
        header = ["model", "features", *[f"{trust[s].label} {name}" for s in splits]]
        header += [f"Δ {trust[s].label} − {reference}" for s in others]
        rows = []
        for model, features in combos:
            row = [model, features]
            row += [_short(cells.get((s, model, features, metric))) for s in splits]
            row += [_delta(deltas.get((model, features, metric, s))) for s in others]
            rows.append(row)
        caption = f"{name} [95% CI] per split."
        doc.add(
            Heading(3, name),
            Table(header, rows, align="ll" + "r" * (len(header) - 2), caption=caption, untrusted=bool(bad)),
        )


def split_section(doc, split, summary, gains, trust: SplitTrust, baselines, info, subset, paired: str) -> None:
    """One split: its audit verdict, every combination's metrics, and the gains over the best baseline."""
    title = f"Split `{split}`" + (f" {MARK} untrustworthy" if trust.untrustworthy else "")
    doc.add(Heading(2, title, f"split-{slug(split)}"))
    if trust.untrustworthy:
        doc.add(
            Paragraph(f"{MARK} Audit FAILED ({', '.join(trust.failed_names)}): see the warning at the top.", "warn")
        )
    elif not trust.audited:
        doc.add(Paragraph(trust.short_reason(), "note"))
    else:
        doc.add(Paragraph(f"Audit verdict: **{trust.verdict}**."))
    described = [info[k] for k in ("strategy", "measures", "draw") if info.get(k)]
    if described:
        doc.add(Paragraph(" — ".join(f"{d}" for d in described)))
    rows_here = summary[summary["split"] == split]
    cells = _lookup(rows_here, ["model", "features", "metric"])
    ap = metric_means(rows_here, "average_precision").set_index(["model", "features"])["mean"]
    combos = sorted({(m, f) for m, f in rows_here[["model", "features"]].itertuples(index=False)})
    # A dummy baseline ignores the features: shown once, with the feature set it scored best on.
    kept = {}
    for model, features in combos:
        if model in baselines and (
            model not in kept or ap.get((model, features), -math.inf) > ap.get(kept[model], -math.inf)
        ):
            kept[model] = (model, features)
    combos = [c for c in combos if c[0] not in baselines or kept[c[0]] == c]

    def order(combo):
        # Models by mean AP (best first), baselines after them.
        value = ap.get(combo, np.nan)
        return (combo[0] in baselines, -value if np.isfinite(value) else math.inf, combo)

    combos.sort(key=order)
    rows = []
    for model, features in combos:
        found = [cells[(model, features, m)] for m in TABLE_METRICS if (model, features, m) in cells]
        seeds = max((int(row["n_seeds"]) for row in found), default=0)
        groups = max((int(row["n_test_groups"]) for row in found), default=0)
        label, shown = (f"{model} (baseline)", "—") if model in baselines else (model, features)
        rows.append(
            [label, shown, str(seeds), str(groups), *[_cell(cells.get((model, features, m))) for m in TABLE_METRICS]]
        )
    caption = f"{subset} metrics, mean [95% CI]; baselines once (they ignore the features)."
    header = ["model", "features", "seeds", "test groups", *TABLE_METRICS.values()]
    doc.add(Heading(3, f"Metrics on `{split}`" + (f" {MARK}" if trust.untrustworthy else "")))
    doc.add(
        Table(header, rows, align="llrr" + "r" * len(TABLE_METRICS), caption=caption, untrusted=trust.untrustworthy)
    )

    here = gains[gains["split"] == split]
    doc.add(Heading(3, f"Gain over the best baseline on `{split}`" + (f" {MARK}" if trust.untrustworthy else "")))
    if here.empty:
        doc.add(Paragraph("No baseline or no model results on this split; no gain to show.", "note"))
        return
    lookup = _lookup(here, ["model", "features", "metric"])
    header = ["model", "features"]
    for metric, name in GAIN_METRICS.items():
        sample = here[here["metric"] == metric]
        if sample.empty:
            continue
        base, base_mean = sample.iloc[0]["baseline"], sample.iloc[0]["baseline_mean"]
        header += [f"{name}", f"Δ{name} vs {base} ({_num(base_mean)}) [95% CI]"]
    rows = []
    for model, features in [c for c in combos if c[0] not in baselines]:
        row = [model, features]
        for metric in GAIN_METRICS:
            if here[here["metric"] == metric].empty:
                continue
            g = lookup.get((model, features, metric))
            row += [_num(g["mean"]) if g is not None else "n/a", _gain(g)]
            if g is not None and not g["paired"]:
                row[-1] += " (unpaired)"
        rows.append(row)
    caption = f"Gain = model minus the split's best baseline ({paired}); an interval above 0 beats it."
    doc.add(Table(header, rows, align="ll" + "r" * (len(header) - 2), caption=caption, untrusted=trust.untrustworthy))


def plot_section(doc, plot_list, trust, splits) -> None:
    """The figures, captioned with the untrustworthy splits."""
    doc.add(Heading(2, "Plots", "plots"))
    if not plot_list:
        doc.add(Paragraph("No scores were given, so there are no plots.", "note"))
        return
    suffix = ""
    for plot in plot_list:
        doc.add(Heading(3, plot.alt))
        doc.add(Image(f"{PLOTS_DIR}/{plot.name}.png", plot.png, plot.alt, plot.caption + suffix))


def details_section(doc, meta) -> None:
    """Whatever ``meta`` holds that the header did not show, as JSON."""
    extra = {k: v for k, v in meta.items() if k not in _META_SHOWN}
    if not extra:
        return
    items = [f"`{k}`: {json.dumps(extra[k], sort_keys=True, default=str)}" for k in sorted(extra, key=str)]
    doc.add(Heading(2, "Run details", "run-details"), Bullets(items))
