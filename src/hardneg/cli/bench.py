"""``hardneg bench``: models x feature sets x splits x seeds, with baselines, intervals and an audit per split."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hardneg._schema import NEW_GROUPS
from hardneg.cli.common import Deployment, Jobs, choices
from hardneg.features import FEATURE_SETS
from hardneg.models import MODELS
from hardneg.split import STRATEGIES
from hardneg.stats import CI_METHODS

__all__ = ["bench", "print_bench_summary", "register"]


def bench(
    ctx: typer.Context,
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
        str | None,
        typer.Option(
            help=f"Comma-separated strategies ({', '.join(STRATEGIES)}; a fresh split per seed) or saved splits "
            "(saved:NAME, or a NAME that is not a strategy; the same split for every seed). Default: "
            "random,group,time, or with --predictions every split folder found.",
            show_default=False,
        ),
    ] = None,
    seeds: Annotated[int, typer.Option(help="Number of seeds (0..N-1) per combination.")] = 30,
    jobs: Jobs = 1,
    test_size: Annotated[float, typer.Option(help="Test share for strategy splits.")] = 0.2,
    val_size: Annotated[float, typer.Option(help="Validation share for strategy splits.")] = 0.2,
    predictions: Annotated[
        str | None,
        typer.Option(
            "--predictions",
            help="Evaluate predictions made elsewhere instead of fitting --models: comma-separated folders, one per "
            "model (named after the folder), each laid out as FOLDER/<split>/<seed>/predictions.parquet with "
            "columns window_id, score (a probability) and optionally fold. <split> is a strategy (the split that "
            "`hardneg split --strategy S --seed N` draws) or a saved split's name; <seed> an integer. Baselines, "
            "intervals, audits and the report are as for fitted models.",
            show_default=False,
        ),
    ] = None,
    ci_method: Annotated[
        str,
        typer.Option(
            "--ci-method",
            metavar=choices(CI_METHODS),
            help="What the intervals cover. cluster: resample the test groups (recordings, patients) and evaluate "
            "every seed on each draw, so an interval covers new groups like the test groups, and seeds. seeds: a "
            "bootstrap of the mean over seeds x folds only, which collapses when nothing varies across seeds.",
        ),
    ] = "cluster",
    deployment: Deployment = NEW_GROUPS,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start again in a non-empty --out.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary; warnings still go to stderr.")
    ] = False,
) -> None:
    """Benchmark every combination against the prior/stratified/majority baselines.

    Writes OUT/results.parquet (model, features, split, seed, fold, subset, metric, value), OUT/summary.parquet
    (every mean with its 95% interval and what it covers), OUT/scores.parquet, OUT/predictions.parquet (every
    out-of-sample score: model, features, split, seed, fold, window_id, score), OUT/report.md and
    OUT/report.html (intervals over new groups, gain over the best baseline, each split's audit verdict, errors
    by kind of negative, plots). A killed run resumes where it stopped when run again with the same options.

    Your own model's predictions, made elsewhere (a GPU cluster, a CNN, a YOLO), are evaluated the same way with
    --predictions FOLDER: one FOLDER per model, holding FOLDER/<split>/<seed>/predictions.parquet (window_id, score,
    optionally fold). Predict the validation and test windows of DIR/splits/<split>.parquet, or of the split
    `hardneg split DIR --strategy <split> --seed <seed>` draws.
    """
    from hardneg._progress import RichProgress
    from hardneg._validation import check_jobs
    from hardneg.bench import run_bench
    from hardneg.cli.common import split_names
    from hardneg.errors import InputError

    if predictions:
        sources = {
            name: getattr(ctx.get_parameter_source(name), "name", "") for name in ("models", "features", "seeds")
        }
        given = [f"--{name}" for name, source in sources.items() if source == "COMMANDLINE"]
        if given:  # they choose what to fit, and predictions made elsewhere fit nothing: say so, not ignore them
            raise InputError(
                f"--predictions evaluates predictions made elsewhere, so {' and '.join(given)} (what to fit, and how "
                "often) do not apply; leave them out, or run without --predictions"
            )
    try:
        with RichProgress(enabled=not quiet) as progress:
            result = run_bench(
                dataset,
                out,
                models=list(split_names(models) or ()),
                features=list(split_names(features) or ()),
                splits=list(split_names(splits) or ()) or (None if predictions else ["random", "group", "time"]),
                seeds=seeds,
                jobs=check_jobs(jobs),
                split_options={"test_size": test_size, "val_size": val_size},
                overwrite=overwrite,
                ci_method=ci_method,
                predictions=split_names(predictions) or None,
                deployment=deployment,
                progress=progress,
            )
    except KeyboardInterrupt:
        typer.echo(_interrupted(Path(out)), err=True)
        raise typer.Exit(130) from None
    for note in result.meta.get("notes", []):
        typer.echo(f"warning: {note}", err=True)
    if not quiet:
        print_bench_summary(result, Console())
        return
    for split_name, audit in sorted(result.audits.items()):  # -q: only what needs attention, on stderr
        if audit.get("verdict") == "FAIL":
            typer.echo(f"warning: split {split_name!r} FAILs its audit; see {Path(out) / 'report.md'}", err=True)


def _interrupted(out: Path) -> str:
    """What Ctrl-C leaves behind: each finished (model, features, split, seed) part, which a rerun skips."""
    from hardneg.bench import PARTS_DIR

    folder = out / PARTS_DIR
    # a part is done when its results file is in place (its scores file is written before it)
    parts = (
        sum(not path.name.endswith(".scores.parquet") for path in folder.glob("*.parquet")) if folder.is_dir() else 0
    )
    if parts == 0:
        return "interrupted before any combination was finished; run the same command again to start"
    finished = f"{parts} finished part{'s' if parts != 1 else ''} (model x features x split x seed)"
    return (
        f"interrupted; {finished} kept in {out / PARTS_DIR}; run the same command again to resume where it "
        "stopped (the finished parts are not fitted again)"
    )


def print_bench_summary(result, console: Console) -> None:
    """Test AP and ROC AUC with their intervals per split, for each model and the best baseline."""
    from rich.table import Table

    from hardneg.models import BASELINES

    summary = result.summary
    summary = summary[(summary["subset"] == "test") & summary["metric"].isin(["roc_auc", "average_precision"])]
    cells = {
        (row.split, row.model, row.features, row.metric): f"{row.mean:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}]"
        for row in summary.itertuples(index=False)
    }
    ap = summary[summary["metric"] == "average_precision"]
    covers = result.meta.get("intervals", {}).get("covers", "")
    table = Table(title=f"Test scores with 95% intervals ({covers})", title_justify="left")
    for column in ("split", "audit", "model", "features", "AP", "ROC AUC"):
        table.add_column(column, no_wrap=column in ("model", "features"))
    for split_name in dict.fromkeys(ap["split"]):
        here = ap[ap["split"] == split_name].sort_values(["mean", "model", "features"], ascending=[False, True, True])
        models = here[~here["model"].isin(BASELINES)]
        baseline = here[here["model"].isin(BASELINES)].head(1)
        verdict = result.audits.get(split_name, {}).get("verdict", "?")
        marker = "[bold red]FAIL ⚠[/bold red]" if verdict == "FAIL" else verdict
        for row in [*models.itertuples(index=False), *baseline.itertuples(index=False)]:
            shown = "(best baseline)" if row.model in BASELINES else row.features
            table.add_row(
                split_name, marker, row.model, shown,
                cells.get((row.split, row.model, row.features, "average_precision"), "n/a"),
                cells.get((row.split, row.model, row.features, "roc_auc"), "n/a"),
            )  # fmt: skip
            split_name, marker = "", ""
    console.print(table)
    for warning in result.meta.get("intervals", {}).get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {warning}")
    console.print(
        f"{result.meta['combinations']} combinations in {result.meta['seconds']:.1f} s "
        f"({result.meta['resumed_parts']} resumed). A split marked FAIL has an audit check that says its scores are "
        f"inflated; see {result.out / 'report.html'} (or report.md) for every interval, plots and the audit."
    )


def register(app: typer.Typer) -> None:
    """Add ``hardneg bench`` to ``app``."""
    app.command(no_args_is_help=True)(bench)
