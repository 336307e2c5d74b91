"""``hardneg demo``: the whole job on a small synthetic IMU world, in well under a minute."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hardneg.cli.common import Quiet

__all__ = ["demo", "register"]


def demo(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Folder for the synthetic world and the dataset (replaced if an earlier demo made it)."
        ),
    ] = Path("hardneg-demo"),
    seed: Annotated[int, typer.Option(help="Random seed for the world and the sampling.")] = 0,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace --out even if it was not made by the demo.")
    ] = False,
    bench: Annotated[
        bool, typer.Option("--bench/--no-bench", help="Benchmark models on random, group and time splits.")
    ] = True,
    bench_seeds: Annotated[
        int,
        typer.Option(
            "--seeds", help="Seeds for the benchmark (10 keeps the demo under a minute on 2 cores; up to 30 or more)."
        ),
    ] = 10,
    mine: Annotated[
        bool,
        typer.Option(
            "--mine/--no-mine",
            help="Mine half of the no-shot sessions with a model trained on the dataset, add the finds as hard "
            "negatives, retrain, and count both models' false alarms on the other half.",
        ),
    ] = True,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream/--no-stream",
            help="Score whole new sessions every 100 ms with both models and measure recall, false alarms per hour "
            "and lead time on the timeline, raw and post-processed, at a cost-chosen operating point.",
        ),
    ] = True,
    experiment: Annotated[
        bool,
        typer.Option(
            "--experiment/--no-experiment",
            help="Compare training without hard negatives against the mined tiers (arms x 3 seeds, paired by seed, "
            "with intervals over test groups and seeds); writes the full grid as a file for `hardneg experiment`.",
        ),
    ] = True,
    jobs: Annotated[
        int,
        typer.Option(help="Parallel workers for the benchmark; -1 for every core (default 0: every core, up to 2)."),
    ] = 0,
    quiet: Quiet = False,
) -> None:
    """Build a shot-anticipation dataset from a synthetic IMU world, start to finish.

    The world holds idle, walking, aiming holds, shots, and aiming holds with no shot (the true hard
    negatives); the dataset gets mixed, motion-matched negatives. Then a model trained on it mines
    sessions without a shot (`hardneg mine`), the finds go back in as hard negatives and the retrained
    model's false alarms are compared with the first one's; and the models are benchmarked on random,
    group and time splits with intervals and a leakage audit (`hardneg bench`). Prints what it made
    and the equivalent `hardneg sample` command.
    """
    import os

    from rich.console import Console

    from hardneg._progress import RichProgress
    from hardneg._validation import check_jobs
    from hardneg.cli.common import print_dataset_problems, print_dataset_summary
    from hardneg.demo import describe_world, run_demo
    from hardneg.errors import InputError

    if bench and bench_seeds < 1:  # run_demo reads 0 as "no benchmark": say so instead of skipping it silently
        raise InputError(
            f"bench_seeds must be >= 1, got {bench_seeds}; pass --no-bench to skip the benchmark",
            parameter="bench_seeds",
        )
    console = Console()
    with RichProgress(enabled=not quiet) as progress:
        result = run_demo(
            out,
            seed=seed,
            overwrite=overwrite,
            bench_seeds=bench_seeds if bench else 0,
            jobs=check_jobs(jobs) if jobs else min(2, os.cpu_count() or 1),
            mine=mine,
            stream=stream and mine,
            experiment=experiment and mine,
            progress=progress,
        )
    if quiet:
        print_dataset_problems(result.dataset.meta)
        return
    world = describe_world(result.world)
    console.print(
        f"[bold]World[/bold] {result.world.root}: {world['sessions']} sessions by {world['shooters']} shooters, "
        f"{world['minutes']:.0f} min of IMU at 100 Hz, {world['shots']} shots, {world['aim_no_shot_holds']} aiming "
        f"holds without a shot, and {world['no_shot_sessions']} no-shot sessions in {result.world.root / 'pool'} "
        "kept for mining"
    )
    print_dataset_summary(result.dataset.meta, result.dataset.path, console)
    console.print("\nThe same dataset from the command line:", style="bold")
    console.print(result.command, highlight=False, soft_wrap=True)
    console.print(
        f"Load it in Python: [cyan]from hardneg import Dataset; ds = Dataset.load('{result.dataset.path}')[/cyan]"
    )
    if result.mining is not None:
        step = result.mining
        before, after = step["before"], step["after"]
        console.print("\n[bold]Hard-negative mining[/bold]")
        console.print(
            f"A model trained on the dataset (shots of sessions {', '.join(step['test_sessions'])} held out) "
            f"scored no-shot sessions {', '.join(step['mined_sessions'])}: {step['candidates']} windows (after NMS) "
            f"reached its threshold {before['threshold']:.2f}, {step['candidates_in_aim_holds']} of them inside "
            f"aiming holds, which fill only {step['aim_time_share']:.0%} of those sessions: the holds rise to the "
            f"top ({result.root / 'mined'}). {step['hard_added']} were added as kind=hard negatives "
            f"({result.root / 'dataset-hard'}) and the model retrained."
        )
        change = after["false_alarms"] / before["false_alarms"] - 1.0 if before["false_alarms"] else 0.0
        console.print(
            f"False alarms on held-out no-shot sessions {', '.join(step['held_out_sessions'])} "
            f"({before['minutes']:.0f} min, each model at the threshold that keeps {step['recall']:.0%} of the "
            f"{step['test_shots']} held-out shots): before {before['false_alarms']} windows "
            f"({before['per_minute']:.1f}/min, {before['in_aim_holds']} in aiming holds), after "
            f"{after['false_alarms']} ({after['per_minute']:.1f}/min, {after['in_aim_holds']} in aiming holds): "
            f"{change:+.0%}."
        )
        console.print(
            "Look through the mined windows yourself, keyboard first, and keep the ones you confirm "
            f"(needs pip install 'hardneg\\[review]'):\n  hardneg review {result.root / 'mined'} "
            "--categories aiming,walking,other",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    if result.stream is not None:
        _print_stream(result.stream, console)
    if result.experiment is not None:
        _print_experiment(result.experiment, console)
    if result.bench is not None:
        from hardneg.cli.bench import print_bench_summary

        console.print()
        print_bench_summary(result.bench, console)


def _print_stream(step: dict, console) -> None:
    """The stream step in a few lines: per run, recall, false alarms per hour and lead time with intervals."""

    def shown(summary, name, digits=2):
        value, interval = summary.get(name), summary["intervals"].get(name, {})
        if value is None:
            return "n/a"
        low, high = interval.get("low"), interval.get("high")
        return f"{value:.{digits}f}" + ("" if low is None else f" [{low:.{digits}f}, {high:.{digits}f}]")

    console.print("\n[bold]Whole timelines[/bold]")
    first = next(iter(step["runs"].values()))["summary"]
    console.print(
        f"Both models scored every 100 ms over {first['recordings']} new sessions ({first['hours'] * 60:.0f} min); a "
        "detection must turn on in the 600 ms before a shot. The threshold (and, post-processed, the EMA smoothing and "
        "minimum on-time) minimise 5 x misses + false alarms on validation sessions "
        f"{', '.join(name.removeprefix('val-') for name in step['validation'])}. Intervals: "
        f"{first['intervals']['recall']['covers']}.",
        highlight=False, soft_wrap=True,
    )  # fmt: skip
    for name, run in step["runs"].items():
        summary = run["summary"]
        lead = summary["lead_ms"]["p50"]
        console.print(
            f"  {name}: recall {shown(summary, 'recall')}, false alarms/h {shown(summary, 'fa_per_hour', 1)}, "
            f"median lead {'n/a' if lead is None else f'{lead:.0f} ms'}, longest plateau "
            f"{summary['longest_plateau_s']:.1f} s",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    console.print(f"Report: {step['root'] / 'report.html'}", highlight=False, soft_wrap=True)


def _print_experiment(step: dict, console) -> None:
    """The experiment step: its table, and the command for the full grid."""
    from hardneg.cli.experiment import print_experiment_summary

    low, high = step["tiers"]
    console.print("\n[bold]Controlled comparison of negative sets[/bold]")
    console.print(
        f"Trained without hard negatives, with every mined window, and with the tiers scoring >= {low} and >= {high} "
        f"({step['file']}); seed k gives every arm the same split and initialisation, and every arm is tested on "
        "the same windows.",
        highlight=False, soft_wrap=True,
    )  # fmt: skip
    print_experiment_summary(step["result"], console)
    console.print(
        f"The full grid (x all or half of the positives, x 5 seeds): hardneg experiment {step['full_file']} "
        f"--out {step['full_file'].parent / 'full'} --jobs 2",
        highlight=False, soft_wrap=True,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``hardneg demo`` to ``app``."""
    app.command()(demo)
