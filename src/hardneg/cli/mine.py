"""``hardneg mine``: score a pool of recordings with a model and keep the hard negatives."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from hardneg.cli.common import choices
from hardneg.mine import ENGINES
from hardneg.score import FRAME_DTYPES, LAYOUTS, NORMALIZATIONS, SCORER_CONTRACT, SHORT_ITEMS

__all__ = ["mine", "register"]

SCORING = "Scoring"
SELECTION = "Selection"
POOL = "Pool"
ENGINE = "Engine"
FRAMES = "Video and images"


def mine(
    ctx: typer.Context,
    pool: Annotated[
        list[Path],
        typer.Argument(
            help="Pool files or folders: logs (.csv, .parquet, .hea), audio (.wav, .flac), video, images.",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    model: Annotated[
        str | None,
        typer.Option(
            help="model.onnx, file.py:make or package.module:make, or a `hardneg train` folder (needs --trust-model).",
            rich_help_panel=SCORING,
        ),
    ] = None,
    scores: Annotated[
        Path | None,
        typer.Option(
            help="Precomputed scores (item,start_ms,end_ms,score) instead of a model.", rich_help_panel=SCORING
        ),
    ] = None,
    trust_model: Annotated[
        bool,
        typer.Option(
            "--trust-model",
            help="Allow loading a pickled scikit-learn model (unpickling runs code).",
            rich_help_panel=SCORING,
        ),
    ] = False,
    logits: Annotated[
        bool, typer.Option("--logits", help="The model outputs logits: apply a sigmoid.", rich_help_panel=SCORING)
    ] = False,
    window_ms: Annotated[
        float | None,
        typer.Option(
            help="Window (clip) length for logs and audio (default: a `hardneg train` model's card, else 1000).",
            rich_help_panel=SCORING,
        ),
    ] = None,
    hop_ms: Annotated[
        float | None, typer.Option(help="Step between windows (default: half the window).", rich_help_panel=SCORING)
    ] = None,
    stride: Annotated[int, typer.Option(help="Video: score every N-th frame.", rich_help_panel=SCORING)] = 1,
    short_items: Annotated[
        Literal[SHORT_ITEMS],
        typer.Option(
            metavar=choices(SHORT_ITEMS),
            help="An item shorter than one window: pad (score once, zero-padded) or skip.",
            rich_help_panel=SCORING,
        ),
    ] = "pad",
    batch_size: Annotated[
        int,
        typer.Option(
            help="Windows (video frames, images) per scorer call. Video holds up to three batches in memory: "
            "256 frames are ~180 MB at 640x360 but ~1.6 GB at 1080p, so lower it for large frames.",
            rich_help_panel=SCORING,
        ),
    ] = 256,
    min_score: Annotated[
        float | None,
        typer.Option(
            help="Keep windows scoring at least this (default: a `hardneg train` model's threshold, else 0.5).",
            rich_help_panel=SELECTION,
        ),
    ] = None,
    max_score: Annotated[
        float | None,
        typer.Option(
            help="Hardness band cap: leave out windows above it (likely unlabelled positives).",
            rich_help_panel=SELECTION,
        ),
    ] = None,
    nms_ms: Annotated[
        float | None,
        typer.Option(
            help="No two kept candidates of an item start closer than this (default: the window).",
            rich_help_panel=SELECTION,
        ),
    ] = None,
    max_per_item: Annotated[
        int | None, typer.Option(help="Keep at most this many candidates per item.", rich_help_panel=SELECTION)
    ] = None,
    topk: Annotated[
        int, typer.Option(help="items.parquet topk_mean averages this many best windows.", rich_help_panel=SELECTION)
    ] = 5,
    tiers: Annotated[
        str, typer.Option(help="Confidence tiers of items by max score, comma-separated.", rich_help_panel=SELECTION)
    ] = "0.5,0.85,0.99",
    group_regex: Annotated[
        str | None,
        typer.Option(help="Group = first capture group of this regex in the file name.", rich_help_panel=POOL),
    ] = None,
    groups: Annotated[
        Path | None, typer.Option(help="CSV recording,group mapping item ids to groups.", rich_help_panel=POOL)
    ] = None,
    exclude_groups_from: Annotated[
        Path | None,
        typer.Option(
            help="Leave out items whose group is in this dataset (keeps the pool disjoint).", rich_help_panel=POOL
        ),
    ] = None,
    exclude_split: Annotated[
        str | None,
        typer.Option("--split", help="With --exclude-groups-from: only that split's groups.", rich_help_panel=POOL),
    ] = None,
    time_col: Annotated[str, typer.Option(help="Timestamp column of log files.", rich_help_panel=POOL)] = "t_ms",
    channels: Annotated[
        str | None, typer.Option(help="Channel columns of log files, comma-separated.", rich_help_panel=POOL)
    ] = None,
    resize: Annotated[
        str | None,
        typer.Option(
            metavar="<WxH>", help="Resize every frame to this (224x224), aspect not kept.", rich_help_panel=FRAMES
        ),
    ] = None,
    resize_short: Annotated[
        int | None,
        typer.Option(help="Resize the shorter side of every frame to this, aspect kept.", rich_help_panel=FRAMES),
    ] = None,
    layout: Annotated[
        Literal[LAYOUTS],
        typer.Option(metavar=choices(LAYOUTS), help="Frames as (N, H, W, 3) or (N, 3, H, W).", rich_help_panel=FRAMES),
    ] = "nhwc",
    normalize: Annotated[
        Literal[NORMALIZATIONS],
        typer.Option(
            metavar=choices(NORMALIZATIONS),
            help="Pixel values as read (0-255), /255 (unit), or /255 then ImageNet mean and std (imagenet).",
            rich_help_panel=FRAMES,
        ),
    ] = "none",
    dtype: Annotated[
        Literal[FRAME_DTYPES],
        typer.Option(
            metavar=choices(FRAME_DTYPES),
            help="Element type of the frames; unit and imagenet need float32.",
            rich_help_panel=FRAMES,
        ),
    ] = "uint8",
    snapshots: Annotated[
        bool,
        typer.Option(
            "--snapshots",
            help="Write OUT/snapshots/<item>/: a JPEG per video frame or image, a WAV and spectrogram PNG per audio "
            "clip, a PNG plot per sensor window.",
        ),
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run in --out (same options).")
    ] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a non-empty --out.")] = False,
    engine: Annotated[
        Literal[ENGINES],
        typer.Option(
            metavar=choices(ENGINES),
            help="local (this process) or ray (Ray Data actors on a local or existing Ray cluster; same output).",
            rich_help_panel=ENGINE,
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="With --engine ray: an existing cluster (auto, host:6379, ray://host:10001); default: start one here.",
            rich_help_panel=ENGINE,
        ),
    ] = None,
    num_workers: Annotated[
        int | None,
        typer.Option(
            help="With --engine ray: scoring actors (default: the cluster's CPUs, or GPUs / --num-gpus-per-worker).",
            rich_help_panel=ENGINE,
        ),
    ] = None,
    num_gpus_per_worker: Annotated[
        float,
        typer.Option(
            help="With --engine ray: GPUs per actor, for GPU scorers (ONNX models then run on CUDA).",
            rich_help_panel=ENGINE,
        ),
    ] = 0.0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary; warnings still go to stderr.")
    ] = False,
) -> None:
    """Run a model over a pool of negative (or unlabelled) recordings and keep what it wrongly finds.

    Writes OUT/candidates.parquet (windows scoring >= --min-score after temporal NMS), OUT/items.parquet
    (per item: max, mean, top-k mean score), OUT/tiers/conf_min_*.csv, OUT/stats.json, OUT/stats.md and
    OUT/errors.csv (items that could not be read or scored; the run goes on, and stops with exit 2 only when
    every item fails), and with --snapshots OUT/snapshots/ for review. A killed or interrupted run continues with
    --resume.
    --engine ray scores the items on Ray Data (pip install 'hardneg[ray]') with the same output.
    """
    options = dict(locals())  # MineOptions takes its fields from here, by name
    from hardneg._progress import RichProgress
    from hardneg.cli.common import config_from
    from hardneg.errors import InputError
    from hardneg.mine import MineInterrupted, MineOptions
    from hardneg.mine import mine as run_mine

    if engine == "local" and (ray_address or num_workers is not None or num_gpus_per_worker):
        raise InputError("--ray-address, --num-workers and --num-gpus-per-worker need --engine ray")
    if exclude_split is not None and exclude_groups_from is None:  # else --split would be dropped without a word
        raise InputError("--split chooses the split whose groups --exclude-groups-from leaves out; pass that too")
    if engine == "ray":
        from hardneg.mine import require_ray

        require_ray()  # says "pip install 'hardneg[ray]'" when Ray is missing
    mine_options = config_from(MineOptions, options)
    try:
        with RichProgress(enabled=not quiet) as progress:
            result = run_mine(
                pool, out, mine_options, resume=resume, overwrite=overwrite, trust_model=trust_model,
                progress=progress, engine=engine, ray_address=ray_address, num_workers=num_workers,
                num_gpus_per_worker=num_gpus_per_worker,
            )  # fmt: skip
    except MineInterrupted as stop:
        typer.echo(_interrupted(stop), err=True)
        raise typer.Exit(130) from None
    if not quiet:
        _print_summary(result, out)
    _print_warnings(result, out, ctx.command)


def _interrupted(stop) -> str:
    """What Ctrl-C leaves behind: the finished items' shards, which ``--resume`` continues from."""
    if stop.finished == 0:
        return f"interrupted before any pool item was finished; run the same command again to start {stop.out}"
    return (
        f"interrupted; {stop.finished} of {stop.total} pool items were finished and are kept in "
        f"{stop.out / 'shards'}; run the same command with --resume to continue"
    )


def _print_warnings(result, out: Path, command) -> None:
    """What needs attention, on stderr (with or without ``--quiet``): failed items and runs that kept nothing."""
    from hardneg.cli.main import describe
    from hardneg.errors import InputError
    from hardneg.mine import failure_reasons

    if len(result.errors):
        mined = result.stats.get("pool_items", 0) - result.stats.get("excluded_items", 0)
        top = failure_reasons(result.errors, limit=1)[0]
        typer.echo(
            f"warning: {len(result.errors)} of {mined} pool items failed and were left out "
            f"({top.count} as {top.message}); see {out / 'errors.csv'}",
            err=True,
        )
    for warning in result.stats.get("warnings", []):
        # library warnings name parameters, as its errors do; show the flags instead
        text = describe(InputError(warning["message"], parameter=warning["parameter"]), command)
        typer.echo(f"warning: {text}", err=True)


def _print_summary(result, out: Path) -> None:
    from rich.console import Console

    from hardneg.mine import failure_reasons

    console = Console()
    stats = result.stats
    console.print(
        f"mined {stats.get('pool_items', 0) - stats.get('excluded_items', 0)} items "
        f"({stats.get('excluded_items', 0)} excluded by group, {len(result.errors)} failed: see {out / 'errors.csv'}); "
        f"{len(result.candidates)} candidates in {out / 'candidates.parquet'}"
    )
    reasons = failure_reasons(result.errors)
    for reason in reasons[:3]:
        items = f"{reason.count} items" if reason.count > 1 else "1 item"
        console.print(f"  failed, {items}: {reason.text} (first: {reason.path})", highlight=False)
    if len(reasons) > 3:
        console.print(f"  failed: {len(reasons) - 3} more reasons in {out / 'errors.csv'}", highlight=False)
    if "snapshots" in stats:
        shots = stats["snapshots"]
        console.print(
            f"  snapshots of {shots['written']} candidates in {out / 'snapshots'}"
            + (f" ({shots['failed']} failed: see stats.json)" if shots["failed"] else "")
        )
    for tier in stats.get("tiers", []):
        console.print(
            f"  tier {tier['label']}: {tier['items']} items reach it, {tier['windows']} windows score at least it"
        )
    top = result.items.sort_values(["max_score", "item"], ascending=[False, True]).head(10)
    for row in top.itertuples(index=False):
        console.print(f"  {row.item} ({row.group}): max {row.max_score:.3f} at {row.argmax_ms:.0f} ms")


def register(app: typer.Typer) -> None:
    """Add ``hardneg mine`` to ``app``."""
    from rich.markup import escape

    app.command(no_args_is_help=True, epilog=escape(SCORER_CONTRACT))(mine)
