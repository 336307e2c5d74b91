"""``hardneg demo``: a synthetic IMU world, and the dataset hardneg builds from it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hardneg._progress import ProgressReporter
from hardneg.build import InputOptions, build_dataset
from hardneg.dataset import Dataset
from hardneg.demo.world import WorldFiles, generate_world
from hardneg.errors import InputError

#: A file that marks a folder as the demo's own, so a second run may replace it.
MARKER = ".hardneg-demo"

#: The seed report's exporter settings, minus the 8x multiplier the small world cannot feed.
DEMO_CONFIG = dict(
    lead_ms=100.0,
    window_ms=500.0,
    min_event_gap_ms=1000.0,
    neg_strategy="mixed",
    neg_mixed_near_frac=0.6,
    neg_mult=4,
    neg_min_motion_quantile=0.2,
    neg_match_pos_motion=True,
    neg_pos_motion_q=0.05,
    neg_min_sep_ms=200.0,
    neg_with_replacement=True,
    neg_avoid_edges="all",
    neg_avoid_post_ms=2000.0,
)


#: The demo benchmark: every built-in model and feature set on a random, a group and a time split.
DEMO_BENCH = dict(models=("logreg", "et", "mlp"), features=("summary", "rich"), splits=("random", "group", "time"))


@dataclass
class DemoResult:
    root: Path
    world: WorldFiles
    dataset: Dataset
    command: str
    bench: object | None = None


def prepare_demo_dir(out: Path, overwrite: bool) -> Path:
    """Create ``out``, replacing an earlier demo there; refuse someone else's non-empty folder."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory; choose another path")
    if out.is_dir() and any(out.iterdir()):
        if not (overwrite or (out / MARKER).is_file()):
            raise InputError(f"--out {out}: directory exists, is not empty and is not a hardneg demo; pass --overwrite")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by `hardneg demo`; safe to delete\n")
    return out


def run_demo(
    out: str | Path = "hardneg-demo",
    *,
    seed: int = 0,
    overwrite: bool = False,
    bench_seeds: int = 0,
    jobs: int = 1,
    progress: ProgressReporter | None = None,
) -> DemoResult:
    """Generate the synthetic world under ``out/world``, build ``out/dataset``, and bench it into ``out/bench``.

    ``bench_seeds=0`` skips the benchmark.

    Examples
    --------
    >>> result = run_demo("/tmp/demo", seed=0)  # doctest: +SKIP
    >>> result.dataset.index.kind.value_counts()  # doctest: +SKIP
    """
    root = prepare_demo_dir(Path(out), overwrite)
    world = generate_world(root / "world", seed=seed)
    config_flags = " ".join(
        f"--{key.replace('_', '-')}" + ("" if value is True else f" {value}") for key, value in DEMO_CONFIG.items()
    )
    command = (
        f"hardneg sample {world.logs[0].parent}/*.parquet --events {world.events} --groups {world.groups} "
        f"{config_flags} --seed {seed} --out {root / 'dataset'}"
    )
    from hardneg.sample import SamplingConfig

    dataset = build_dataset(
        world.logs,
        root / "dataset",
        inputs=InputOptions(events=world.events, groups=world.groups),
        config=SamplingConfig(**DEMO_CONFIG),
        seed=seed,
        progress=progress,
    )
    bench = None
    if bench_seeds > 0:
        from hardneg.bench.runner import run_bench

        bench = run_bench(dataset.path, root / "bench", seeds=bench_seeds, jobs=jobs, progress=progress, **DEMO_BENCH)
    return DemoResult(root=root, world=world, dataset=dataset, command=command, bench=bench)


def describe_world(world: WorldFiles) -> dict:
    """Counts a person wants to see about the synthetic world."""
    events = pd.read_csv(world.events)
    groups = pd.read_csv(world.groups)
    holds = pd.read_csv(world.holds)
    shot_holds = holds[holds["recording"].isin(events["recording"].astype(str))]
    return {
        "sessions": len(world.logs),
        "shooters": int(groups["group"].nunique()),
        "shots": len(events),
        "aim_no_shot_holds": int((shot_holds["kind"] == "aim_no_shot").sum()),
        "no_shot_sessions": len(world.no_shot_logs),
        "minutes": float(
            (holds["end_ms"] - holds["start_ms"])[holds["recording"].isin([path.stem for path in world.logs])].sum()
            / 60000.0
        ),
    }
