"""``OUT/report.md`` and ``OUT/report.html`` for a bench run: audits first, then the numbers.

The report answers one question with numbers: can this score be trusted? It opens with
the audit of every split (splits with a failing check are marked untrustworthy, there
and in every table after), then the best model per split against the best dummy
baseline, then the same model side by side on every split (the inflated score next to
the honest one), then per split every combination with mean ± std and a bootstrap
interval, and the plots.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._atomic import write_bytes_atomic
from hardneg.errors import InputError
from hardneg.report import plots as plotting
from hardneg.report.render import Bullets, Document, Heading, Image, Paragraph, Table, slug
from hardneg.report.stats import (
    BASELINES,
    BOOTSTRAP_SEED,
    CONFIDENCE,
    N_RESAMPLES,
    _baseline_gains,
    _compare_splits,
    _summarize,
    check_bootstrap_options,
    check_results,
)
from hardneg.report.trust import MARK, SplitTrust, format_numbers, split_trust

MD_FILE = "report.md"
HTML_FILE = "report.html"
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
)


def write_bench_report(
    out_dir: str | Path,
    results: pd.DataFrame,
    scores: pd.DataFrame | None,
    audits: Mapping[str, dict] | None,
    meta: Mapping | None,
    *,
    subset: str = "test",
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    max_plot_points: int = plotting.MAX_POINTS,
    max_groups: int = plotting.MAX_GROUPS,
    baselines: Sequence[str] | None = None,
) -> tuple[Path, Path]:
    """Write ``report.md``, ``report.html`` and ``plots/*.png`` into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        The bench output directory (created if needed).
    results : DataFrame
        ``model, features, split, seed, fold, subset, metric, value`` (``results.parquet``).
    scores : DataFrame or None
        ``model, features, split, seed, fold, subset, window_id, label, group, score``
        (``scores.parquet``) for the plots; None or empty writes the report without plots.
    audits : mapping or None
        Split name -> audit JSON dict (``{"split", "verdict", "checks": [...]}``). A split
        with any FAIL is marked untrustworthy (⚠) at the top and in every table.
    meta : mapping or None
        What was run: ``dataset`` (path), ``counts`` (dict), ``models``, ``features``,
        ``splits`` (names, or name -> {"strategy", "measures", ...}), ``seeds`` (count or
        list), ``jobs``, ``timings`` (name -> seconds), optionally ``title``, ``command``,
        ``reference_split`` (the honest split the inflation table compares with) and
        ``baselines``; other keys are listed under "Run details".
    subset : str
        The subset the tables summarise.
    confidence, n_resamples, seed
        Bootstrap settings (:func:`hardneg.report.stats.bootstrap_ci`).
    max_plot_points : int
        Test rows per curve above which a seeded sample is plotted.
    max_groups : int
        Groups shown per split in the per-group box plots.
    baselines : sequence of str, optional
        Baseline model names; ``meta["baselines"]`` or prior/stratified/majority by default.

    Returns
    -------
    (md_path, html_path) : tuple of Path

    Raises
    ------
    InputError
        A table misses a column, has no ``subset`` rows, repeats a key, or an audit is malformed.

    Notes
    -----
    Same inputs give the same bytes: values are ordered by (seed, fold) before every
    bootstrap, each interval has its own generator seeded with ``seed``, plot samples are
    seeded, and PNGs carry no date or software tag. Timings passed in ``meta`` do change
    between runs and are printed as given.

    Examples
    --------
    >>> md, html = write_bench_report("bench", results, scores, {"random": audit}, meta)  # doctest: +SKIP
    >>> md.name, html.name  # doctest: +SKIP
    ('report.md', 'report.html')
    """
    check_bootstrap_options(confidence, n_resamples)
    meta = dict(meta or {})
    if baselines is None:
        baselines = tuple(meta.get("baselines") or BASELINES)
    baselines = tuple(str(b) for b in baselines)
    frame = check_results(results)
    if not (frame["subset"] == subset).any():
        raise InputError(
            f"results: no rows with subset {subset!r} (found {', '.join(sorted(frame['subset'].unique()))}); "
            "pass subset= one of those"
        )
    scores = plotting.check_scores(scores)
    boot = {"confidence": confidence, "n_resamples": n_resamples, "seed": seed}

    splits = _split_order(frame.loc[frame["subset"] == subset, "split"].unique(), meta.get("splits"))
    trust = split_trust(audits, splits)
    summary = _summarize(frame, subset, list(TABLE_METRICS), confidence, n_resamples, seed)
    gains = _baseline_gains(frame, subset, list(GAIN_METRICS), baselines, confidence, n_resamples, seed)
    best = _best_combinations(summary, splits, baselines)
    reference = _reference_split(summary, splits, trust, baselines, meta.get("reference_split"))
    comparison = (
        _compare_splits(frame, reference, subset, list(GAIN_METRICS), confidence, n_resamples, seed)
        if reference is not None
        else None
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot_list = []
    if scores is not None:
        picks = _plot_picks(summary, scores, splits, best, baselines)
        titles = {s: (f"{s} {MARK} untrustworthy" if trust[s].untrustworthy else s) for s in splits}
        panels = plotting.build_panels(scores, picks, titles, subset=subset, max_points=max_plot_points, seed=seed)
        plot_list = plotting.make_plots(panels, max_groups=max_groups)
        (out / PLOTS_DIR).mkdir(exist_ok=True)
        for plot in plot_list:
            write_bytes_atomic(out / PLOTS_DIR / f"{plot.name}.png", plot.png)

    doc = Document(str(meta.get("title") or "hardneg bench report"))
    _header(doc, meta, frame, splits, subset, baselines, boot)
    _audit_section(doc, trust, splits, meta)
    _headline_section(doc, summary, gains, best, splits, trust)
    _inflation_section(doc, summary, comparison, reference, splits, trust, baselines, meta.get("reference_split"))
    for split in splits:
        _split_section(doc, split, summary, gains, trust[split], baselines, _split_info(meta, split), subset)
    _plot_section(doc, plot_list, trust, splits)
    _details_section(doc, meta)

    md_path, html_path = out / MD_FILE, out / HTML_FILE
    write_bytes_atomic(md_path, doc.markdown().encode("utf-8"))
    write_bytes_atomic(html_path, doc.html().encode("utf-8"))
    return md_path, html_path


# --------------------------------------------------------------------------- choices


def _split_order(present, declared) -> list[str]:
    """Splits in the order ``meta["splits"]`` names them, then the rest sorted."""
    present = {str(s) for s in present}
    if isinstance(declared, Mapping):
        declared = list(declared)
    elif isinstance(declared, str) or declared is None:
        declared = [] if declared is None else [declared]
    ordered = [str(s) for s in declared if str(s) in present]
    return list(dict.fromkeys(ordered + sorted(present - set(ordered))))


def _split_info(meta: Mapping, split: str) -> dict:
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


def _means(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    return summary[(summary["metric"] == metric) & summary["n"].gt(0)]


def _best_combinations(summary, splits, baselines) -> dict[str, tuple[str, str] | None]:
    """Per split, the non-baseline (model, features) with the highest mean AP (ROC AUC if no AP)."""
    best: dict[str, tuple[str, str] | None] = {}
    for split in splits:
        best[split] = None
        for metric in ("average_precision", "roc_auc"):
            rows = _means(summary, metric)
            rows = rows[rows["split"] == split]
            models = rows[~rows["model"].isin(baselines)]
            rows = models if not models.empty else rows
            if rows.empty:
                continue
            # Highest mean; ties go to the (model, features) that sorts first.
            rows = rows.sort_values(["mean", "model", "features"], ascending=[False, True, True], kind="mergesort")
            best[split] = (rows.iloc[0]["model"], rows.iloc[0]["features"])
            break
    return best


def _reference_split(summary, splits, trust, baselines, requested) -> str | None:
    """The honest split the inflation table compares with.

    ``meta["reference_split"]`` when given; otherwise, among the audited splits without a
    FAIL (every split without a FAIL when none was audited), the one where the models'
    median mean AP is lowest: the most conservative estimate that passed its audit.
    """
    if len(splits) < 2:
        return None
    if requested is not None:
        if str(requested) not in splits:
            raise InputError(
                f"meta['reference_split'] = {requested!r} is not a split in the results; use one of {', '.join(splits)}"
            )
        return str(requested)
    clean = [s for s in splits if trust[s].audited and not trust[s].untrustworthy]
    if not clean:
        clean = [s for s in splits if not trust[s].untrustworthy]
    if not clean:
        return None
    rows = _means(summary, "average_precision")
    rows = rows[~rows["model"].isin(baselines)]
    level = {s: rows.loc[rows["split"] == s, "mean"].median() for s in clean}
    scored = [s for s in clean if np.isfinite(level[s])]
    if not scored:
        return clean[0]
    return min(scored, key=lambda s: (level[s], splits.index(s)))


def _plot_picks(summary, scores, splits, best, baselines) -> dict[str, list[tuple[str, str, bool]]]:
    """Per split: the best model with each of its feature sets (best first), then each baseline once."""
    present = scores[["split", "model", "features"]].astype(str).drop_duplicates()
    picks = {}
    for split in splits:
        have = present[present["split"] == split]
        combos: list[tuple[str, str, bool]] = []
        if best[split] is not None:
            model, features = best[split]
            others = sorted(set(have.loc[have["model"] == model, "features"]) - {features})
            combos += [(model, f, model in baselines) for f in [features, *others]]
        for name in baselines:
            if best[split] is not None and name == best[split][0]:
                continue
            feats = sorted(have.loc[have["model"] == name, "features"])
            if feats:
                combos.append((name, feats[0], True))
        picks[split] = combos
    return picks


# ------------------------------------------------------------------------ formatting


def _num(value: float, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _cell(row) -> str:
    """``mean ± std [low, high]`` of a summary row, with the count of missing values if any."""
    if row is None or row["n"] == 0:
        return "n/a"
    text = f"{_num(row['mean'])} ± {_num(row['std'])} [{_num(row['ci_low'])}, {_num(row['ci_high'])}]"
    if row["n_missing"]:
        text += f" ({row['n_missing']} n/a)"
    return text


def _short(row) -> str:
    """``mean [low, high]`` for the side-by-side tables."""
    if row is None or row["n"] == 0:
        return "n/a"
    return f"{_num(row['mean'])} [{_num(row['ci_low'])}, {_num(row['ci_high'])}]"


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


def _header(doc, meta, frame, splits, subset, baselines, boot) -> None:
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
    level = round(boot["confidence"] * 100)
    doc.add(
        Paragraph(
            f"Every number is on the **{subset}** subset and pools seeds × folds: mean ± sample standard deviation "
            f"and a {level}% percentile bootstrap interval of the mean (SciPy, {boot['n_resamples']} resamples, "
            f"seed {boot['seed']}; with fewer than 3 values, the plain percentiles of the values). Gains over the "
            "best baseline are paired by seed and fold. ↑: higher is better, ↓: lower is better.",
            "note",
        )
    )


def _audit_section(doc, trust: dict[str, SplitTrust], splits, meta) -> None:
    doc.add(Heading(2, "Audit", "audit"))
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
        items = []
        for t in bad:
            for check in t.failed:
                numbers = format_numbers(check.get("numbers") or {})
                text = f"{MARK} `{t.split}` — **{check.get('check')}** FAIL: {check.get('explanation', '').strip()}"
                items.append(text + (f" ({numbers})" if numbers else ""))
        doc.add(Bullets(items, "warn"))
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
        info = _split_info(meta, split)
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
                caption=" ".join(filter(None, ["Every check per split.", _marks_caption(trust, audited)])),
                untrusted=bool(bad),
                verdict_columns=tuple(range(1, len(audited) + 1)),
            )
        )


def _headline_section(doc, summary, gains, best, splits, trust) -> None:
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
    caption = "Highest mean AP per split, with the gain over that split's best baseline (paired by seed and fold)."
    if bad:
        caption += " " + _marks_caption(trust, splits)
    header = [
        "split",
        "model · features",
        "AP [95% CI]",
        "ROC AUC [95% CI]",
        "ΔAP vs best baseline",
        "ΔROC AUC vs best baseline",
    ]
    doc.add(Table(header, rows, align="llrrrr", caption=caption, untrusted=bool(bad)))


def _inflation_section(doc, summary, comparison, reference, splits, trust, baselines, requested) -> None:
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
        text = (
            f"Reference: `{reference}`, {how}. Δ is each split's mean minus the reference's, with an unpaired "
            "bootstrap interval."
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
        if bad:
            caption += " " + _marks_caption(trust, splits)
        doc.add(
            Heading(3, name),
            Table(header, rows, align="ll" + "r" * (len(header) - 2), caption=caption, untrusted=bool(bad)),
        )


def _split_section(doc, split, summary, gains, trust: SplitTrust, baselines, info, subset) -> None:
    title = f"Split `{split}`" + (f" {MARK} untrustworthy" if trust.untrustworthy else "")
    doc.add(Heading(2, title, f"split-{slug(split)}"))
    if trust.untrustworthy:
        doc.add(Paragraph(trust.short_reason(), "warn"))
    elif not trust.audited:
        doc.add(Paragraph(trust.short_reason(), "note"))
    else:
        doc.add(Paragraph(f"Audit verdict: **{trust.verdict}**."))
    described = [info[k] for k in ("strategy", "measures") if info.get(k)]
    if described:
        doc.add(Paragraph(" — ".join(f"{d}" for d in described)))
    rows_here = summary[summary["split"] == split]
    cells = _lookup(rows_here, ["model", "features", "metric"])
    ap = _means(rows_here, "average_precision").set_index(["model", "features"])["mean"]
    combos = sorted({(m, f) for m, f in rows_here[["model", "features"]].itertuples(index=False)})

    def order(combo):
        # Models by mean AP (best first), baselines after them.
        value = ap.get(combo, np.nan)
        return (combo[0] in baselines, -value if np.isfinite(value) else math.inf, combo)

    combos.sort(key=order)
    rows = []
    for model, features in combos:
        n = max(
            (cells[(model, features, m)]["n"] + cells[(model, features, m)]["n_missing"])
            for m in TABLE_METRICS
            if (model, features, m) in cells
        )
        label = f"{model} (baseline)" if model in baselines else model
        rows.append([label, features, str(n), *[_cell(cells.get((model, features, m))) for m in TABLE_METRICS]])
    caption = f"{subset} metrics, mean ± std [95% CI] over seeds × folds (n values)."
    if trust.untrustworthy:
        caption = f"{trust.short_reason()} {caption}"
    header = ["model", "features", "n", *TABLE_METRICS.values()]
    doc.add(Heading(3, f"Metrics on `{split}`" + (f" {MARK}" if trust.untrustworthy else "")))
    doc.add(Table(header, rows, align="llr" + "r" * len(TABLE_METRICS), caption=caption, untrusted=trust.untrustworthy))

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
    caption = "Gain = model minus the split's best baseline per seed and fold; an interval above 0 beats it."
    if trust.untrustworthy:
        caption = f"{trust.short_reason()} {caption}"
    doc.add(Table(header, rows, align="ll" + "r" * (len(header) - 2), caption=caption, untrusted=trust.untrustworthy))


def _marks_caption(trust: dict[str, SplitTrust], splits) -> str:
    """Names each untrustworthy split with its failing checks, for tables that show several splits."""
    bad = [trust[s] for s in splits if trust[s].untrustworthy]
    if not bad:
        return ""
    named = "; ".join(f"{t.split} (FAIL: {', '.join(t.failed_names)})" for t in bad)
    return f"{MARK} marks splits whose audit failed: {named}. Their scores are inflated, not generalisation."


def _plot_section(doc, plot_list, trust, splits) -> None:
    doc.add(Heading(2, "Plots", "plots"))
    if not plot_list:
        doc.add(Paragraph("No scores were given, so there are no plots.", "note"))
        return
    suffix = " " + _marks_caption(trust, splits) if any(trust[s].untrustworthy for s in splits) else ""
    for plot in plot_list:
        doc.add(Heading(3, plot.alt))
        doc.add(Image(f"{PLOTS_DIR}/{plot.name}.png", plot.png, plot.alt, plot.caption + suffix))


def _details_section(doc, meta) -> None:
    extra = {k: v for k, v in meta.items() if k not in _META_SHOWN}
    if not extra:
        return
    items = [f"`{k}`: {json.dumps(extra[k], sort_keys=True, default=str)}" for k in sorted(extra, key=str)]
    doc.add(Heading(2, "Run details", "run-details"), Bullets(items))
