"""``hardneg bench``: models x feature sets x splits x seeds, with baselines, intervals and an audit per split."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hardneg.cli.common import Jobs
from hardneg.features import FEATURE_SETS
from hardneg.models import MODELS
from hardneg.split import STRATEGIES

__all__ = ["bench", "print_bench_summary", "register"]


def bench(
    dataset: Annotated[Path, typer.Argument(help="Dataset directory made by `hardneg sample`.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (resumed when it holds the same run).")],
    models: Annotated[
        str,
        typer.Option(
            help=f"Comma-separated, of: {', '.join(MODELS)}, or path/to/file.py:make (or package.module:make) "
            "returning a scikit-learn classifier (fit, and predict_proba or decision_function); make(seed) if it "
            "takes an argument; make.input = 'windows' fits it on the (N, C, T) windows. Baselines are always added."
        ),
    ] = ",".join(MODELS),
    features: Annotated[
        str,
        typer.Option(
            help=f"Comma-separated feature sets, of: {', '.join(FEATURE_SETS)}, or path/to/file.py:function "
            "mapping (windows, index) to a 2-D matrix, one finite row per window."
        ),
    ] = ",".join(FEATURE_SETS),
    splits: Annotated[
        str,
        typer.Option(
            help=f"Comma-separated strategies ({', '.join(STRATEGIES)}; a fresh split per seed) or saved splits "
            "(saved:NAME, or a NAME that is not a strategy; the same split for every seed)."
        ),
    ] = "random,group,time",
    seeds: Annotated[int, typer.Option(help="Number of seeds (0..N-1) per combination.")] = 30,
    jobs: Jobs = 1,
    test_size: Annotated[float, typer.Option(help="Test share for strategy splits.")] = 0.2,
    val_size: Annotated[float, typer.Option(help="Validation share for strategy splits.")] = 0.2,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start again in a non-empty --out.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary; warnings still go to stderr.")
    ] = False,
) -> None:
    """Benchmark every combination against the prior/stratified/majority baselines.

    Writes OUT/results.parquet (model, features, split, seed, fold, subset, metric, value), OUT/scores.parquet,
    OUT/predictions.parquet (every out-of-sample score: model, features, split, seed, fold, window_id, score),
    OUT/report.md and OUT/report.html (mean ± std, 95% bootstrap intervals, gain over the best baseline, each
    split's audit verdict, plots). A killed run resumes where it stopped when run again with the same options.
    """
    from hardneg._progress import RichProgress
    from hardneg._validation import check_jobs
    from hardneg.bench import run_bench
    from hardneg.cli.common import split_names

    with RichProgress(enabled=not quiet) as progress:
        result = run_bench(
            dataset,
            out,
            models=list(split_names(models) or ()),
            features=list(split_names(features) or ()),
            splits=list(split_names(splits) or ()),
            seeds=seeds,
            jobs=check_jobs(jobs),
            split_options={"test_size": test_size, "val_size": val_size},
            overwrite=overwrite,
            progress=progress,
        )
    if not quiet:
        print_bench_summary(result, Console())
        return
    for split_name, audit in sorted(result.audits.items()):  # -q: only what needs attention, on stderr
        if audit.get("verdict") == "FAIL":
            typer.echo(f"warning: split {split_name!r} FAILs its audit; see {Path(out) / 'report.md'}", err=True)


def print_bench_summary(result, console: Console) -> None:
    """Mean test ROC AUC and AP per split for each model and the best baseline, with the split's audit verdict."""
    import pandas as pd
    from rich.table import Table

    from hardneg.models import BASELINES

    test = result.results[(result.results["subset"] == "test")]
    summary = (
        test[test["metric"].isin(["roc_auc", "average_precision"])]
        .groupby(["split", "model", "features", "metric"])["value"]
        .mean()
        .unstack("metric")
        .reset_index()
    )
    is_baseline = summary["model"].isin(BASELINES)
    best_baselines = (
        summary[is_baseline].sort_values("average_precision", ascending=False).groupby("split", sort=False).head(1)
    )
    rows = pd.concat([summary[~is_baseline], best_baselines.assign(features="(best baseline)")])
    table = Table(title="Test scores, mean over seeds and folds (intervals in the report)", title_justify="left")
    for column in ("split", "audit", "model", "features", "ROC AUC", "AP"):
        table.add_column(column)
    for split_name, block in rows.groupby("split", sort=True):
        verdict = result.audits.get(split_name, {}).get("verdict", "?")
        marker = "[bold red]FAIL ⚠[/bold red]" if verdict == "FAIL" else verdict
        for row in block.itertuples(index=False):
            table.add_row(
                split_name, marker, row.model, row.features, f"{row.roc_auc:.3f}", f"{row.average_precision:.3f}"
            )
            split_name, marker = "", ""
    console.print(table)
    console.print(
        f"{result.meta['combinations']} combinations in {result.meta['seconds']:.1f} s "
        f"({result.meta['resumed_parts']} resumed). A split marked FAIL has an audit check that says its scores are "
        f"inflated; see {result.out / 'report.html'} (or report.md) for intervals, plots and the audit."
    )


def register(app: typer.Typer) -> None:
    """Add ``hardneg bench`` to ``app``."""
    app.command(no_args_is_help=True)(bench)
