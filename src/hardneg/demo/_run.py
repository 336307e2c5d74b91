"""``hardneg demo``: a synthetic IMU world, and the dataset hardneg builds from it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hardneg._progress import ProgressReporter
from hardneg.build import InputOptions, build_dataset
from hardneg.dataset import Dataset
from hardneg.demo._world import WorldFiles, generate_world
from hardneg.errors import InputError

#: A file that marks a folder as the demo's own, so a second run may replace it.
MARKER = ".hardneg-demo"

#: A shooting-analytics exporter's settings, minus the 8x multiplier the small world cannot feed.
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


#: The demo world: 12 shooting sessions of 6 minutes (about 320 shots, 6 shooters) and 4 sessions without a shot.
#: Fewer shots leave too few positives for the mining step's before/after comparison to be more than noise.
DEMO_SESSIONS = 12
DEMO_SESSION_MINUTES = 6.0

#: The demo benchmark: every built-in model and feature set on a random, a group and a time split.
DEMO_BENCH = dict(models=("logreg", "et", "mlp"), features=("summary", "rich"), splits=("random", "group", "time"))


@dataclass
class DemoResult:
    root: Path
    world: WorldFiles
    dataset: Dataset
    command: str
    bench: object | None = None
    mining: dict | None = None
    stream: dict | None = None
    experiment: dict | None = None


def prepare_demo_dir(out: Path, overwrite: bool) -> Path:
    """Create ``out``, replacing an earlier demo there; refuse someone else's non-empty folder."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"out {out}: exists and is not a directory; choose another path", parameter="out")
    if out.is_dir() and any(out.iterdir()):
        if not (overwrite or (out / MARKER).is_file()):
            raise InputError(
                f"out {out}: directory exists, is not empty and is not a hardneg demo; pass --overwrite",
                parameter="out",
            )
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
    mine: bool = False,
    stream: bool = False,
    experiment: bool = False,
    progress: ProgressReporter | None = None,
) -> DemoResult:
    """Generate the synthetic world under ``out/world``, build ``out/dataset``, and bench it into ``out/bench``.

    ``bench_seeds=0`` skips the benchmark. ``mine`` adds the mining step and ``stream`` (which needs it) the
    stream step: both models on whole new sessions, before and after post-processing (see
    :mod:`hardneg.demo._stream`); ``experiment`` (which needs the mining step too) compares no hard negatives
    with mined tiers, seed by seed (:mod:`hardneg.demo._experiment`).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> result = run_demo(f"{tmp.name}/demo", seed=0)
    >>> result.dataset.index.kind.value_counts().to_dict(), result.bench is None
    ({'near': 770, 'far': 514, 'pos': 321}, True)
    >>> sorted(path.name for path in result.root.iterdir())
    ['.hardneg-demo', 'dataset', 'world']
    >>> tmp.cleanup()
    """
    root = prepare_demo_dir(Path(out), overwrite)
    world = generate_world(
        root / "world", seed=seed, n_sessions=DEMO_SESSIONS, session_minutes=DEMO_SESSION_MINUTES, n_no_shot_sessions=4
    )
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
        from hardneg.bench import run_bench

        bench = run_bench(dataset.path, root / "bench", seeds=bench_seeds, jobs=jobs, progress=progress, **DEMO_BENCH)
    needs_mining = mine or stream or experiment
    mining = run_mining_step(root, world, dataset, seed=seed, progress=progress) if needs_mining else None
    streamed = None
    if stream:
        from hardneg.demo._stream import run_stream_step

        streamed = run_stream_step(root, world, mining, seed=seed, progress=progress)
    compared = None
    if experiment:
        from hardneg.demo._experiment import run_experiment_step

        compared = run_experiment_step(root, jobs=jobs, progress=progress)
    return DemoResult(root=root, world=world, dataset=dataset, command=command, bench=bench, mining=mining,
                      stream=streamed, experiment=compared)  # fmt: skip


def _windows_in_holds(frame: pd.DataFrame, holds: pd.DataFrame, kind: str) -> np.ndarray:
    """Whether each window's centre lies in a ground-truth segment of ``kind`` on its recording."""
    inside = np.zeros(len(frame), dtype=bool)
    centre = ((frame["start_ms"] + frame["end_ms"]) / 2.0).to_numpy()
    item = frame["item"].astype(str).to_numpy()
    for segment in holds[holds["kind"] == kind].itertuples(index=False):
        inside |= (item == str(segment.recording)) & (centre >= segment.start_ms) & (centre < segment.end_ms)
    return inside


def false_alarms(
    model_dir: Path, threshold: float, logs: list[Path], holds: pd.DataFrame, *, window_ms: float = 500.0
) -> dict:
    """Windows of sessions with no shot that a model scores at or above ``threshold``: false alarms."""
    from hardneg.score import discover_pool, iter_windows, load_scorer

    scorer = load_scorer(str(model_dir), trust_model=True)  # made by this demo a moment ago
    tables = []
    for item in discover_pool(logs):
        for batch, table in iter_windows(item, window_ms=window_ms, hop_ms=window_ms / 2):
            tables.append(table.assign(score=scorer(batch)))
    scored = pd.concat(tables, ignore_index=True)
    alarm = scored["score"].to_numpy() >= threshold
    span = scored.groupby("item").agg(first=("start_ms", "min"), last=("end_ms", "max"))
    minutes = float((span["last"] - span["first"]).sum() / 60000.0)
    in_holds = _windows_in_holds(scored, holds, "aim_no_shot")
    return {
        "threshold": float(threshold),
        "windows": len(scored),
        "minutes": minutes,
        "false_alarms": int(alarm.sum()),
        "per_minute": float(alarm.sum() / minutes),
        "in_aim_holds": int((alarm & in_holds).sum()),
    }


#: Both models are compared at the same sensitivity: the threshold that keeps this share of held-out shots.
DEMO_RECALL = 0.8


def _train_demo_model(dataset: Dataset, out: Path, seed: int, test_sessions: list[str]) -> tuple[Path, float, int]:
    """Train on every session but ``test_sessions``; the model, its threshold at DEMO_RECALL on their shots, their count.

    The split is by recording, so the model trained with mined windows and the one trained without them learn from
    the same shots and are measured on the same held-out shots: only the added hard negatives differ.
    """
    from hardneg.bench import predict, train_model
    from hardneg.split import make_split, save_split

    by_session = dataset.index.assign(group=dataset.index["recording"].astype(str))
    frame, info = make_split(by_session, "group", test_groups=test_sessions, val_size=0.0, seed=seed)
    save_split(dataset.path, "demo-train", frame, info)
    trained = train_model(dataset.path, out, model="et", features="rich", split="demo-train", seed=seed)
    scores = predict(trained.path, dataset.path, trust_model=True).set_index("window_id")["score"]
    test_ids = frame.loc[frame["subset"] == "test", "window_id"].to_numpy()
    test_positive = test_ids[dataset.index["label"].to_numpy()[test_ids] == 1]
    # Comparing each model at its own F1 threshold mixes two effects; at equal recall only the false alarms move.
    threshold = float(np.quantile(scores.loc[test_positive].to_numpy(), 1.0 - DEMO_RECALL))
    return trained.path, threshold, len(test_positive)


def run_mining_step(root: Path, world: WorldFiles, dataset: Dataset, *, seed: int = 0, progress=None) -> dict:
    """Train on the dataset, mine half of the no-shot sessions, add what was found, retrain; false alarms before/after.

    Two shot sessions are held out to set both models' threshold at the same recall, and the other half of the
    no-shot sessions to count false alarms, so the improvement is not measured on the windows that were added.
    """
    from hardneg.mine import MineOptions, mine
    from hardneg.sample import SamplingConfig

    holds = pd.read_csv(world.holds)
    half = max(1, len(world.no_shot_logs) // 2)
    mined_logs, held_out = world.no_shot_logs[:half], world.no_shot_logs[half:]
    test_sessions = [log.stem for log in world.logs[-2:]]
    easy_model, easy_threshold, n_test_shots = _train_demo_model(dataset, root / "models" / "easy", seed, test_sessions)
    mined = mine(
        mined_logs, root / "mined",
        # a false alarm is a window at or above the model's own operating threshold
        MineOptions(
            model=str(easy_model), window_ms=500.0, hop_ms=125.0, nms_ms=250.0, groups=str(world.groups),
            min_score=round(easy_threshold, 6),
        ),
        trust_model=True, progress=progress,
    )  # fmt: skip
    candidates = mined.candidates
    in_aim = _windows_in_holds(candidates, holds, "aim_no_shot")
    own = holds[holds["recording"].isin([log.stem for log in mined_logs])]
    duration = own["end_ms"] - own["start_ms"]
    aim_share = float(duration[own["kind"] == "aim_no_shot"].sum() / duration.sum())
    hard_dataset = build_dataset(
        world.logs, root / "dataset-hard", inputs=InputOptions(events=world.events, groups=world.groups),
        config=SamplingConfig(**DEMO_CONFIG), seed=seed, hard_negatives=root / "mined", progress=progress,
    )  # fmt: skip
    hard_model, hard_threshold, _ = _train_demo_model(hard_dataset, root / "models" / "hard", seed, test_sessions)
    return {
        "mined_sessions": [log.stem for log in mined_logs],
        "held_out_sessions": [log.stem for log in held_out],
        "test_sessions": test_sessions,
        "test_shots": n_test_shots,
        "candidates": len(candidates),
        "candidates_in_aim_holds": int(in_aim.sum()),
        "aim_time_share": aim_share,
        "top_items": mined.items[["item", "max_score"]].head(5).to_dict("records"),
        "hard_added": int((hard_dataset.index["kind"] == "hard").sum()),
        "recall": DEMO_RECALL,
        "before": false_alarms(easy_model, easy_threshold, held_out, holds),
        "after": false_alarms(hard_model, hard_threshold, held_out, holds),
        "models": {"easy": str(easy_model), "hard": str(hard_model)},
    }


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
