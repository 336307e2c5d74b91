"""``hardneg experiment``: arms x seeds from an experiment file, with paired statistics and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hardneg.cli.common import Jobs, Quiet, choices
from hardneg.experiment import ENGINES

__all__ = ["experiment", "print_experiment_summary", "register"]


def experiment(
    file: Annotated[
        Path, typer.Argument(help="The experiment file (YAML); paths in it are relative to it.", show_default=False)
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder; run again to resume it.")],
    jobs: Jobs = 1,
    engine: Annotated[
        str,
        typer.Option(
            metavar=choices(ENGINES),
            help="local: --jobs worker processes. ray: each (arm, seed) a Ray task, on a local Ray instance or "
            "the cluster at --ray-address (pip install 'hardneg[ray]').",
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address", help="An existing Ray cluster (e.g. auto, or ray://host:10001).", show_default=False
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Empty --out first: every run is redone.")] = False,
    quiet: Quiet = False,
) -> None:
    """Train every arm with every seed, compare each arm with its baseline seed by seed, and report.

    The file (YAML) names a dataset (a `hardneg sample` folder), seeds, a model (built-in, or file.py:make) or a
    command (your own trainer), arms along axes, the baseline, evaluation sets and success criteria, e.g.
    `dataset: shots`, `seeds: 5`, `model: et`, `baseline: {negatives: none}`, `arms: {negatives: {none: {}, t50:
    {hard_negatives: mined, hard_tier: 0.5}}, positives: {all: {}, half: {fraction: 0.5}}}`, `eval: {iid: {split:
    group}}`, `criteria: ["iid.recall >= 0.35"]`; `hardneg demo` writes a whole one to
    hardneg-demo/experiment/experiment.yaml. Each arm is compared with the arm that differs from it only on the
    axes the baseline fixes.

    A level may set any `hardneg sample` option (the arm trains on the dataset rebuilt with it), fraction or
    groups (which training positives to keep), drop (channels to leave out), model or features; an axis written
    `each` leaves out every channel in turn. Evaluation sets: {split: STRATEGY} (drawn per seed) or
    {split: saved:NAME}, {groups: [...]} (held out of training in every arm), {dataset: OTHER}; add
    tta: {clips: 5, spacing_ms: 50, aggregate: mean} to score several clips per window. Seed k gives every arm
    the same split, positives and initialisation, and every arm is tested on the same windows.

    A command gets {train_dataset} (a dataset folder of the arm's training windows), {negatives}, {seed},
    {run_dir} and {eval_sets} (a JSON file listing each set's dataset folder and window ids, `val` included)
    and must write {run_dir}/<set>.predictions.parquet (window_id, score) for each; hardneg computes every metric.

    Writes OUT/runs/<arm>/<seed>/ (config.json, <set>.predictions.parquet, metrics.json, log.txt, or error.txt
    for a failed run: the others go on), OUT/results.parquet, OUT/summary.parquet, OUT/comparisons.parquet
    (paired deltas with a hierarchical bootstrap interval over test groups and seeds, Wilcoxon p, Holm p, a
    label: significant, directional or no effect, and the seeds an effect needs), OUT/factors.parquet,
    OUT/criteria.parquet, OUT/report.md and OUT/report.html. Run again: finished runs are skipped, failed ones
    retried.
    """
    from hardneg._progress import RichProgress
    from hardneg._validation import check_jobs
    from hardneg.experiment import run_experiment

    try:
        with RichProgress(enabled=not quiet) as progress:
            result = run_experiment(
                file, out, jobs=check_jobs(jobs), engine=engine, ray_address=ray_address, overwrite=overwrite,
                progress=progress,
            )  # fmt: skip
    except KeyboardInterrupt:
        done = len(list((Path(out) / "runs").glob("*/*/metrics.json")))
        typer.echo(
            f"interrupted; {done} finished run{'s' if done != 1 else ''} kept in {Path(out) / 'runs'}; run the same "
            "command again to go on (finished runs are not redone)",
            err=True,
        )
        raise typer.Exit(130) from None
    runs = result.runs
    for row in runs[runs["status"] == "failed"].itertuples():
        typer.echo(f"warning: run {row.arm}/{row.seed} failed: {row.error}", err=True)
    for note in result.meta.get("notes", []):
        typer.echo(f"warning: {note}", err=True)
    if not quiet:
        print_experiment_summary(result, Console())


def _cell(value: float, low: float, high: float, signed: bool = False) -> str:
    import math

    form = "+.3f" if signed else ".3f"
    if math.isnan(value):
        return "—"
    interval = "" if math.isnan(low) else f" [{low:{form}}, {high:{form}}]"
    return f"{value:{form}}{interval}"


def print_experiment_summary(result, console: Console) -> None:
    """The primary metric per arm and evaluation set, and each arm's delta against its baseline."""
    from rich.table import Table

    experiment = result.experiment
    metric = experiment.primary_metric
    summary = result.tables["summary"]
    comparisons = result.tables["comparisons"]
    table = Table(title=f"{metric} per arm (mean over seeds, 95% interval) and the paired delta vs baseline",
                  title_justify="left")  # fmt: skip
    table.add_column("arm", no_wrap=True)
    for item in experiment.eval_sets:
        table.add_column(f"{item.name} ({item.kind})")
        table.add_column(f"Δ {item.name}")
    for arm in experiment.arms:
        cells = [arm.name]
        for item in experiment.eval_sets:
            row = summary[
                (summary["arm"] == arm.name) & (summary["eval_set"] == item.name) & (summary["metric"] == metric)
            ]
            cells.append(_cell(row["mean"].iloc[0], row["ci_low"].iloc[0], row["ci_high"].iloc[0]) if len(row) else "—")
            found = comparisons[(comparisons["arm"] == arm.name) & (comparisons["eval_set"] == item.name)
                                & (comparisons["metric"] == metric)]  # fmt: skip
            if len(found):
                first = found.iloc[0]
                cells.append(f"{_cell(first.mean_delta, first.ci_low, first.ci_high, signed=True)} {first.label}")
            else:
                cells.append("baseline" if experiment.partner(arm) is None else "—")
        table.add_row(*cells)
    console.print(table)
    counts = result.runs["status"].value_counts().to_dict()
    console.print(
        f"{len(result.runs)} runs: {counts.get('done', 0)} done, {counts.get('resumed', 0)} finished before, "
        f"{counts.get('failed', 0)} failed; {result.meta['seconds']:.1f} s. Deltas are paired by seed id; see "
        f"{result.out / 'report.html'} (or report.md) for every metric, the criteria and the seed-count advice."
    )


def register(app: typer.Typer) -> None:
    """Add ``hardneg experiment`` to ``app``."""
    app.command(no_args_is_help=True)(experiment)
