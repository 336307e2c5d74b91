"""``hardneg sample``: build a window dataset from logs or WFDB records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from hardneg.cli.common import Quiet, choices
from hardneg.io import TIME_UNITS
from hardneg.sample import ALIGNMENTS, EDGE_MODES, LABELLED_SCOPES, NEGATIVE_STRATEGIES

STRATEGIES = tuple(NEGATIVE_STRATEGIES)  # the registry's names, in its order

__all__ = ["register", "sample"]

INPUT = "Inputs"
POSITIVES = "Positive windows"
NEGATIVES = "Negative windows"
DRAWS = "Negative draws"
MOTION = "Motion"
LABELLED = "Labelled negatives"
HARD = "Hard negatives"
OUTPUT = "Output"


def sample(
    ctx: typer.Context,
    inputs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Sensor logs (.csv, .parquet; one recording per file unless --recording-col), "
            "WFDB record headers (.hea), or audio files (.wav, .flac; one recording per file, its stem the id, "
            "events in ms from the file start). With --like, the inputs of that dataset unless given.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Dataset directory to write.", rich_help_panel=OUTPUT)
    ] = None,
    like: Annotated[
        Path | None,
        typer.Option(
            help="Rebuild with every input and option of this existing dataset (from its meta.json); options "
            "given on this command line replace its values. E.g. the same dataset plus hard negatives: "
            "--like shots --hard-negatives mined --out shots-hard.",
            rich_help_panel=INPUT,
            show_default=False,
        ),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(help="Events CSV with columns recording,t_ms (optional end_ms,label).", rich_help_panel=INPUT),
    ] = None,
    event_col: Annotated[
        str | None,
        typer.Option(
            help="Marker column in the logs: an event at each rising edge of a non-zero value.", rich_help_panel=INPUT
        ),
    ] = None,
    event_symbols: Annotated[
        str | None,
        typer.Option(help="WFDB annotation symbols that are events, comma-separated (e.g. V).", rich_help_panel=INPUT),
    ] = None,
    event_labels: Annotated[
        str | None,
        typer.Option(
            help="Labels (the events file's label column) that are positives, comma-separated. Default: every event "
            "whose label is not in --negative-labels.",
            rich_help_panel=INPUT,
        ),
    ] = None,
    negative_labels: Annotated[
        str | None,
        typer.Option(
            help="Labels of look-alike events (another beat type, another species' call, an aiming hold without a "
            "shot) that each give a negative window aligned like a positive: kind=labelled.",
            rich_help_panel=INPUT,
        ),
    ] = None,
    negative_symbols: Annotated[
        str | None,
        typer.Option(
            help="WFDB annotation symbols of look-alike beats that give labelled negatives (e.g. N,L,R,A); "
            "with --event-symbols for the positives.",
            rich_help_panel=INPUT,
        ),
    ] = None,
    annotation_ext: Annotated[str, typer.Option(help="WFDB annotation file suffix.", rich_help_panel=INPUT)] = "atr",
    time_col: Annotated[str, typer.Option(help="Timestamp column of the logs.", rich_help_panel=INPUT)] = "t_ms",
    time_unit: Annotated[
        Literal[tuple(TIME_UNITS)],
        typer.Option(metavar=choices(TIME_UNITS), help="Unit of --time-col: ms, s or us.", rich_help_panel=INPUT),
    ] = "ms",
    recording_col: Annotated[
        str | None,
        typer.Option(
            help="Column holding the recording id when one file holds several recordings.", rich_help_panel=INPUT
        ),
    ] = None,
    channels: Annotated[
        str | None,
        typer.Option(
            help="Channels to keep, by name in every file, comma-separated, in this order: log columns, WFDB "
            "signals (e.g. MLII, wherever each record has it) or audio ch0, ch1. Default: every numeric column "
            "but time/recording/group/marker, every signal, every audio channel.",
            rich_help_panel=INPUT,
        ),
    ] = None,
    allow_mixed_channels: Annotated[
        bool,
        typer.Option(
            "--allow-mixed-channels",
            help="Stack channels by position when their names differ across files (e.g. MIT-BIH V1/V2/V5), "
            "with a warning, instead of refusing.",
            rich_help_panel=INPUT,
        ),
    ] = False,
    group_col: Annotated[
        str | None,
        typer.Option(help="Column holding each recording's group (session, subject).", rich_help_panel=INPUT),
    ] = None,
    groups: Annotated[
        Path | None,
        typer.Option(help="CSV with columns recording,group. Default group = recording.", rich_help_panel=INPUT),
    ] = None,
    resample_hz: Annotated[
        float | None,
        typer.Option(
            help="Interpolate logs onto a fixed grid at this rate (needed for jittery timestamps).",
            rich_help_panel=INPUT,
        ),
    ] = None,
    sort_time: Annotated[
        bool,
        typer.Option(
            "--sort-time",
            help="Sort rows by time instead of refusing a log whose timestamps decrease.",
            rich_help_panel=INPUT,
        ),
    ] = False,
    skip_bad_files: Annotated[
        bool,
        typer.Option(
            "--skip-bad-files",
            help="Leave out an input file that cannot be read or used (listed in meta.json and the summary) "
            "instead of stopping.",
            rich_help_panel=INPUT,
        ),
    ] = False,
    align: Annotated[
        Literal[ALIGNMENTS],
        typer.Option(
            metavar=choices(ALIGNMENTS),
            help="end: window [t-lead-window, t-lead) before the event; center: [t-window/2, t+window/2).",
            rich_help_panel=POSITIVES,
        ),
    ] = "end",
    window_ms: Annotated[float, typer.Option(help="Window length in ms.", rich_help_panel=POSITIVES)] = 500.0,
    lead_ms: Annotated[
        float,
        typer.Option(
            help="Gap between a positive window's end and its event (--align end).", rich_help_panel=POSITIVES
        ),
    ] = 100.0,
    min_event_gap_ms: Annotated[
        float,
        typer.Option(
            help="Drop an event whose previous event on the same recording is closer than this.",
            rich_help_panel=POSITIVES,
        ),
    ] = 0.0,
    neg_strategy: Annotated[
        Literal[STRATEGIES],
        typer.Option(
            metavar=choices(STRATEGIES),
            help="near: just before an event; far: at least --far-min-ms from every event; mixed: both; uniform: anywhere allowed.",
            rich_help_panel=NEGATIVES,
        ),
    ] = "mixed",
    neg_mult: Annotated[float, typer.Option(help="Negatives per positive.", rich_help_panel=NEGATIVES)] = 4,
    neg_mixed_near_frac: Annotated[
        float, typer.Option(help="Share of near negatives with --neg-strategy mixed.", rich_help_panel=NEGATIVES)
    ] = 0.5,
    near_max_ms: Annotated[
        float,
        typer.Option(
            help="A near negative ends at most this long before its event's positive window.", rich_help_panel=NEGATIVES
        ),
    ] = 3000.0,
    far_min_ms: Annotated[
        float, typer.Option(help="A far negative keeps at least this far from every event.", rich_help_panel=NEGATIVES)
    ] = 3000.0,
    neg_avoid_post_ms: Annotated[
        float,
        typer.Option(help="Extend every event's exclusion zone this far past the event.", rich_help_panel=NEGATIVES),
    ] = 0.0,
    neg_avoid_edges: Annotated[
        Literal[EDGE_MODES],
        typer.Option(
            metavar=choices(EDGE_MODES),
            help="Keep negatives --edge-ms away from recording edges: none, start, end or all.",
            rich_help_panel=NEGATIVES,
        ),
    ] = "none",
    edge_ms: Annotated[
        float, typer.Option(help="Distance from the edges for --neg-avoid-edges.", rich_help_panel=NEGATIVES)
    ] = 1000.0,
    neg_candidate_hop_ms: Annotated[
        float | None,
        typer.Option(
            help="Candidate negatives start every this many ms (default: every sample).", rich_help_panel=DRAWS
        ),
    ] = None,
    neg_min_motion_quantile: Annotated[
        float | None,
        typer.Option(
            help="Keep negatives at or above this quantile of motion over all candidates.", rich_help_panel=MOTION
        ),
    ] = None,
    neg_match_pos_motion: Annotated[
        bool,
        typer.Option(
            "--neg-match-pos-motion",
            help="Keep negatives within the positives' [q, 1-q] motion quantiles.",
            rich_help_panel=MOTION,
        ),
    ] = False,
    neg_pos_motion_q: Annotated[
        float, typer.Option(help="q for --neg-match-pos-motion.", rich_help_panel=MOTION)
    ] = 0.05,
    neg_min_sep_ms: Annotated[
        float | None,
        typer.Option(
            help="No two negatives of a recording start closer than this. Default: half of --window-ms, so "
            "negatives share at most half their samples; 0 allows any overlap.",
            rich_help_panel=DRAWS,
            show_default=False,
        ),
    ] = None,
    neg_with_replacement: Annotated[
        bool,
        typer.Option(
            "--neg-with-replacement",
            help="Draw with replacement, drop repeats, enforce the separation, and keep drawing until the count is "
            "met or every candidate was drawn.",
            rich_help_panel=DRAWS,
        ),
    ] = False,
    motion_accel_weight: Annotated[
        float,
        typer.Option(
            help="Weight of the accelerometer-magnitude variance in the motion score.", rich_help_panel=MOTION
        ),
    ] = 0.1,
    gyro_cols: Annotated[
        str | None, typer.Option(help="Gyroscope x,y,z columns (default gx,gy,gz).", rich_help_panel=MOTION)
    ] = None,
    accel_cols: Annotated[
        str | None, typer.Option(help="Accelerometer x,y,z columns (default ax,ay,az).", rich_help_panel=MOTION)
    ] = None,
    labelled_neg_max: Annotated[
        int | None,
        typer.Option(
            help="At most this many labelled negatives (see --labelled-neg-scope), drawn with --seed. Default: all.",
            rich_help_panel=LABELLED,
        ),
    ] = None,
    labelled_neg_scope: Annotated[
        str,
        typer.Option(
            metavar="<scope>",
            help=f"What --labelled-neg-max caps: {' or '.join(LABELLED_SCOPES)} (the whole dataset or each recording).",
            rich_help_panel=LABELLED,
        ),
    ] = "total",
    labelled_avoid_positives: Annotated[
        bool,
        typer.Option(
            "--labelled-avoid-positives",
            help="Drop labelled negatives whose window overlaps a positive's window or exclusion zone (by default "
            "they are kept: a beat next to the event is still a beat).",
            rich_help_panel=LABELLED,
        ),
    ] = False,
    hard_negatives: Annotated[
        Path | None,
        typer.Option(
            help="A `hardneg mine` folder: add its candidates as kind=hard negatives; or a reviewed manifest "
            "(`hardneg export --format manifest` folder, or its reviewed.parquet): add its confirmed negatives.",
            rich_help_panel=HARD,
        ),
    ] = None,
    hard_tier: Annotated[
        float | None,
        typer.Option(help="With --hard-negatives: only candidates scoring at least this.", rich_help_panel=HARD),
    ] = None,
    hard_max: Annotated[
        int | None,
        typer.Option(help="With --hard-negatives: at most this many, highest scores first.", rich_help_panel=HARD),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed: same inputs and seed, same bytes out.", rich_help_panel=OUTPUT)
    ] = 0,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing non-empty --out.", rich_help_panel=OUTPUT)
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Cut labelled windows out of continuous recordings: one positive per event, negatives by strategy.

    Writes OUT/index.parquet (one row per window), OUT/windows.npy (N, channels, samples; float32,
    memory-mappable) and OUT/meta.json (every parameter, counts, input hashes, versions), and prints
    how many negatives each constraint cost.

    Example: hardneg sample logs/*.parquet --events events.csv --neg-strategy mixed --neg-mult 8 --out shots

    The same dataset plus mined hard negatives: hardneg sample --like shots --hard-negatives mined --out shots-hard
    """
    options = dict(locals())  # the configs take their fields from here, by name
    del options["ctx"]
    from hardneg._progress import RichProgress
    from hardneg.build import InputOptions, build_dataset
    from hardneg.cli.common import config_from, flag_names, print_dataset_problems, print_dataset_summary
    from hardneg.errors import InputError
    from hardneg.sample import SamplingConfig

    if out is None:
        raise InputError("out is missing: give the folder to write the dataset to", parameter="out")
    input_options = config_from(InputOptions, options)
    config = config_from(SamplingConfig, options)
    with RichProgress(enabled=not quiet) as progress:
        if like is not None:
            dataset = _recipe_like(ctx, like, options, input_options, config).build(
                out, overwrite=overwrite, progress=progress
            )
        elif not inputs:
            raise InputError("no inputs given; pass log files (.csv, .parquet), WFDB headers (.hea) or audio files, "
                             "or --like DATASET to rebuild an existing dataset's")  # fmt: skip
        else:
            dataset = build_dataset(
                inputs, out, inputs=input_options, config=config, seed=seed, overwrite=overwrite,
                hard_negatives=hard_negatives, hard_tier=hard_tier, hard_max=hard_max, progress=progress,
            )  # fmt: skip
    flags = flag_names(ctx.command)
    if quiet:
        print_dataset_problems(dataset.meta, flags=flags)
    else:
        print_dataset_summary(dataset.meta, out, flags=flags)


def _recipe_like(ctx: typer.Context, like: Path, options: dict, input_options, config):
    """The recipe of the dataset ``like``, with the options typed on this command line in place of its values."""
    from dataclasses import fields

    from hardneg.build import recipe_of

    recipe = recipe_of(like)
    changes = {}
    for part in (input_options, config):
        changes |= {item.name: getattr(part, item.name) for item in fields(part) if _typed(ctx, item.name)}
    changes |= {
        name: options[name] for name in ("seed", "hard_negatives", "hard_tier", "hard_max") if _typed(ctx, name)
    }
    if _typed(ctx, "inputs"):
        changes["paths"] = options["inputs"]
    return recipe.changed(**changes)


def _typed(ctx: typer.Context, name: str) -> bool:
    """Whether the option ``name`` was given on the command line (not left at its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT", "PROMPT")


def register(app: typer.Typer) -> None:
    """Add ``hardneg sample`` to ``app``."""
    app.command(no_args_is_help=True)(sample)
