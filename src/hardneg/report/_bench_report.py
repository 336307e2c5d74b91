"""``OUT/report.md`` and ``OUT/report.html`` for a bench run: audits first, then the numbers.

The report answers one question with numbers: can this score be trusted? It opens with
the audit of every split (splits with a failing check are marked untrustworthy, there
and in every table after), then the best model per split against the best dummy
baseline, then the same model side by side on every split (the inflated score next to
the honest one), then per split every combination with mean ± std and a bootstrap
interval, and the plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._atomic import write_bytes_atomic
from hardneg._schema import BASELINES
from hardneg.errors import InputError
from hardneg.report import _plots as plotting
from hardneg.report._bench_sections import (
    GAIN_METRICS,
    PLOTS_DIR,
    TABLE_METRICS,
    audit_section,
    details_section,
    header_section,
    headline_section,
    inflation_section,
    metric_means,
    plot_section,
    split_info,
    split_section,
)
from hardneg.report._detector import detector_tables
from hardneg.report._detector_sections import detector_sections
from hardneg.report._render import Document
from hardneg.report._trust import MARK, split_trust
from hardneg.stats import (
    BOOTSTRAP_SEED,
    CONFIDENCE,
    INTERVAL_METRICS,
    N_BOOTSTRAP,
    N_RESAMPLES,
    BenchIntervals,
    bench_intervals,
    check_bootstrap_options,
    check_results,
)

__all__ = ["GAIN_METRICS", "HTML_FILE", "MD_FILE", "PLOTS_DIR", "TABLE_METRICS", "write_bench_report"]

MD_FILE = "report.md"
HTML_FILE = "report.html"


def write_bench_report(
    out_dir: str | Path,
    results: pd.DataFrame,
    scores: pd.DataFrame | None,
    audits: Mapping[str, dict] | None,
    meta: Mapping | None,
    *,
    subset: str = "test",
    confidence: float = CONFIDENCE,
    n_resamples: int | None = None,
    seed: int = BOOTSTRAP_SEED,
    max_plot_points: int = plotting.MAX_POINTS,
    max_groups: int = plotting.MAX_GROUPS,
    baselines: Sequence[str] | None = None,
    intervals: BenchIntervals | None = None,
    ci_method: str = "cluster",
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
        Interval settings (:func:`hardneg.stats.bench_intervals`; ``n_resamples`` None takes its default).
    intervals : BenchIntervals, optional
        Intervals already computed (``hardneg bench`` computes them once for ``summary.parquet``); by default
        computed here from ``scores`` (``ci_method="cluster"``) or ``results`` (``"seeds"``).
    ci_method : {"cluster", "seeds"}
        Used when ``intervals`` is not given. Without scores, ``"seeds"`` is the only choice.
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
    Bench results of an extra-trees model and the prior baseline over three seeds, and a failed audit of ``random``:

    >>> import tempfile, pandas as pd
    >>> from hardneg._schema import RESULT_COLUMNS
    >>> rows = [(model, "rich", split, seed, 0, "test", metric, value)
    ...         for model, split, values in [("et", "random", [0.95, 0.97, 0.96]), ("et", "group", [0.81, 0.84, 0.8]),
    ...                                      ("prior", "random", [0.5] * 3), ("prior", "group", [0.5] * 3)]
    ...         for metric in ("average_precision", "roc_auc") for seed, value in enumerate(values)]
    >>> results = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
    >>> audit = {"split": "random", "verdict": "FAIL", "checks": [{"check": "group_overlap", "verdict": "FAIL",
    ...          "numbers": {"shared_groups": 2}, "explanation": "Train and test share groups."}]}
    >>> tmp = tempfile.TemporaryDirectory()
    >>> md, html = write_bench_report(f"{tmp.name}/bench", results, None, {"random": audit}, {"baselines": ["prior"]})
    >>> md.name, html.name
    ('report.md', 'report.html')
    >>> print(md.read_text().split("## Audit")[1].strip().splitlines()[0])  # doctest: +ELLIPSIS
    > ⚠ **Untrustworthy splits: `random`.** Their audits FAILED, so their scores are likely inflated ...
    >>> tmp.cleanup()
    """
    check_bootstrap_options(confidence, N_RESAMPLES if n_resamples is None else n_resamples)
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
    scores = plotting.check_score_table(scores)
    if intervals is None:
        if scores is None and ci_method == "cluster":
            ci_method = "seeds"  # a cluster bootstrap needs each window's score and group
        intervals = bench_intervals(
            scores,
            frame,
            subset=subset,
            metrics=[m for m in INTERVAL_METRICS if ci_method == "cluster" or m in set(frame["metric"])],
            ci_method=ci_method,
            n_resamples=n_resamples,
            confidence=confidence,
            seed=seed,
        )

    splits = _split_order(frame.loc[frame["subset"] == subset, "split"].unique(), meta.get("splits"))
    trust = split_trust(audits, splits)
    summary = intervals.summary
    gains = intervals.gains(baselines, list(GAIN_METRICS))
    paired = "paired by group and seed" if intervals.ci_method == "cluster" else "paired by seed and fold"
    best = _best_combinations(summary, splits, baselines)
    reference = _reference_split(summary, splits, trust, baselines, meta.get("reference_split"))
    comparison = intervals.compare(reference, list(GAIN_METRICS)) if reference is not None else None

    detector = None
    if scores is not None:
        combos = {
            split: sorted(
                {
                    (m, f)
                    for m, f in summary.loc[summary["split"] == split, ["model", "features"]].itertuples(index=False)
                    if m not in baselines
                }
            )
            for split in splits
        }
        detector = detector_tables(
            scores, combos, subset=subset, n_resamples=intervals.n_resamples if intervals.ci_method == "cluster" else N_BOOTSTRAP,
            confidence=confidence, seed=seed, window_ms=meta.get("window_ms"),
        )  # fmt: skip

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
    header_section(doc, meta, frame, splits, subset, baselines, intervals)
    audit_section(doc, trust, splits, meta)
    headline_section(doc, summary, gains, best, splits, trust, paired)
    inflation_section(
        doc, summary, comparison, reference, splits, trust, baselines, meta.get("reference_split"),
        intervals.ci_method == "cluster",
    )  # fmt: skip
    for split in splits:
        split_section(doc, split, summary, gains, trust[split], baselines, split_info(meta, split), subset, paired)
    if detector is not None:
        marks = {split: f" {MARK}" if trust[split].untrustworthy else "" for split in splits}
        detector_sections(doc, detector, splits=splits, trust_marks=marks, best=best)
    plot_section(doc, plot_list, trust, splits)
    details_section(doc, meta)

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


def _best_combinations(summary, splits, baselines) -> dict[str, tuple[str, str] | None]:
    """Per split, the non-baseline (model, features) with the highest mean AP (ROC AUC if no AP)."""
    best: dict[str, tuple[str, str] | None] = {}
    for split in splits:
        best[split] = None
        for metric in ("average_precision", "roc_auc"):
            rows = metric_means(summary, metric)
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
    rows = metric_means(summary, "average_precision")
    rows = rows[~rows["model"].isin(baselines)]
    level = {s: rows.loc[rows["split"] == s, "mean"].median() for s in clean}
    scored = [s for s in clean if np.isfinite(level[s])]
    if not scored:
        return clean[0]
    return min(scored, key=lambda s: (level[s], splits.index(s)))


def _plot_picks(summary, scores, splits, best, baselines) -> dict[str, list[tuple[str, str, bool]]]:
    """Per split: the best model first, every other model with its best feature set, then each baseline once."""
    present = scores[["split", "model", "features"]].astype(str).drop_duplicates()
    ap = metric_means(summary, "average_precision")
    picks = {}
    for split in splits:
        have = present[present["split"] == split]
        means = ap[ap["split"] == split].set_index(["model", "features"])["mean"]
        combos: list[tuple[str, str, bool]] = []
        if best[split] is not None:
            combos.append((*best[split], best[split][0] in baselines))
        models = sorted(set(have["model"]) - set(baselines) - {best[split][0] if best[split] else None})
        for name in [*models, *[b for b in baselines if not best[split] or b != best[split][0]]]:
            feats = sorted(have.loc[have["model"] == name, "features"])
            if feats:
                # the model's feature set with the highest mean AP (the first name on ties or without AP)
                top = max(feats, key=lambda f: (means.get((name, f), -np.inf), -feats.index(f)))
                combos.append((name, top, name in baselines))
        picks[split] = combos
    return picks
