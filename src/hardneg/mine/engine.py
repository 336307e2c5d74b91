"""Mining a pool: score every window of every item, one shard per item, resumable, then select and tier.

Each item's scored windows are written to ``OUT/shards/`` under a name derived
from the item, atomically; an item that could not be read or scored leaves an
error record instead. A killed run therefore resumes by skipping items that
already have a shard or an error, and the final files (built from the shards
in item order) are the same bytes as an uninterrupted run's.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hardneg._atomic import write_bytes_atomic, write_parquet_atomic
from hardneg._progress import ProgressReporter, resolve
from hardneg.errors import InputError

WINDOW_COLUMNS = ["item", "group", "start_ms", "end_ms", "score"]
OPTIONS_FILE = "mine.json"


@dataclass(frozen=True)
class MineOptions:
    """Everything that changes the output; a resumed run must use the same values."""

    model: str | None = None
    scores: str | None = None
    window_ms: float = 1000.0
    hop_ms: float | None = None
    stride: int = 1
    short_items: str = "pad"
    batch_size: int = 256
    min_score: float = 0.5
    max_score: float | None = None
    nms_ms: float | None = None
    max_per_item: int | None = None
    topk: int = 5
    tiers: tuple[float, ...] = (0.5, 0.85, 0.99)
    logits: bool = False
    group_regex: str | None = None
    groups: str | None = None
    exclude_groups_from: str | None = None
    exclude_split: str | None = None
    time_col: str = "t_ms"
    channels: tuple[str, ...] | None = None
    snapshots: bool = False

    def validate(self) -> "MineOptions":
        if (self.model is None) == (self.scores is None):
            raise InputError("pass exactly one of --model (a scorer) or --scores (precomputed scores)")
        if not self.window_ms > 0:
            raise InputError(f"--window-ms must be > 0, got {self.window_ms}")
        if self.hop_ms is not None and not self.hop_ms > 0:
            raise InputError(f"--hop-ms must be > 0, got {self.hop_ms}")
        if self.stride < 1:
            raise InputError(f"--stride must be >= 1, got {self.stride}")
        if self.short_items not in ("pad", "skip"):
            raise InputError(f"--short-items must be pad or skip, got {self.short_items!r}")
        if self.batch_size < 1:
            raise InputError(f"--batch-size must be >= 1, got {self.batch_size}")
        if not 0.0 <= self.min_score <= 1.0:
            raise InputError(f"--min-score must be in [0, 1], got {self.min_score}")
        if self.max_score is not None and not self.min_score <= self.max_score <= 1.0:
            raise InputError(f"--max-score must be in [--min-score, 1], got {self.max_score}")
        if self.max_per_item is not None and self.max_per_item < 1:
            raise InputError(f"--max-per-item must be >= 1, got {self.max_per_item}")
        if self.topk < 1:
            raise InputError(f"--topk must be >= 1, got {self.topk}")
        if any(not 0.0 <= tier <= 1.0 for tier in self.tiers):
            raise InputError(f"--tiers must be scores in [0, 1], got {','.join(map(str, self.tiers))}")
        return self

    def fingerprint(self) -> dict:
        values = asdict(self)
        values["tiers"] = list(self.tiers)
        values["channels"] = list(self.channels) if self.channels else None
        return values


@dataclass
class MineResult:
    out: Path
    candidates: pd.DataFrame
    items: pd.DataFrame
    errors: pd.DataFrame
    stats: dict = field(default_factory=dict)


def _shard_name(item_id: str, path: str) -> str:
    return hashlib.sha1(f"{item_id}\0{path}".encode()).hexdigest()[:20]


def _prepare_out(out: Path, options: MineOptions, resume: bool, overwrite: bool) -> None:
    from hardneg._runs import RunFolder

    folder = RunFolder(out, OPTIONS_FILE, "mine", scratch=("shards",), reuse_unstarted=True)
    folder.prepare(options.fingerprint(), resume=resume, overwrite=overwrite)


def _nothing_scored_yet(out: Path) -> bool:
    """A folder a run prepared but never wrote a shard into (say, the Ray cluster was unreachable): start afresh."""
    from hardneg._runs import RunFolder

    return RunFolder(out, OPTIONS_FILE, "mine", scratch=("shards",)).unstarted()


def _excluded_groups(options: MineOptions) -> set[str]:
    if options.exclude_groups_from is None:
        return set()
    from hardneg.dataset import Dataset

    dataset = Dataset.load(options.exclude_groups_from)
    if options.exclude_split is None:
        return set(dataset.index["group"].astype(str))
    from hardneg.split import load_split

    frame, _ = load_split(dataset.path, options.exclude_split)
    return set(dataset.index.loc[frame["window_id"].unique(), "group"].astype(str))


def _item_batches(item, options: MineOptions, buffers=None):
    """The item's batches of windows, each with its :class:`~hardneg.mine.pools.WindowSpan`."""
    from hardneg.mine.pools import iter_windows

    return iter_windows(
        item,
        window_ms=options.window_ms,
        hop_ms=options.hop_ms,
        stride=options.stride,
        short_items=options.short_items,
        batch_size=options.batch_size,
        time_col=options.time_col,
        channels=options.channels,
        raw_spans=True,  # arrays per batch, one table per item: a DataFrame per batch cost more than the model
        buffers=buffers,
    )


def _score_item(item, scorer, options: MineOptions, batches=None, buffers=None) -> pa.Table:
    """Scored windows of one item (the scorer sees batches; memory is bounded by the batch).

    ``batches`` are the item's batches when they were read ahead (see :mod:`hardneg.mine.prefetch`); each is
    given back to ``buffers`` once scored.
    """
    starts, ends, frames, scores = [], [], [], []
    for batch, span in _item_batches(item, options) if batches is None else batches:
        try:
            batch_scores = np.asarray(scorer(batch), dtype=np.float64)
        finally:
            if buffers is not None:  # also when the scorer fails, or the reader would run out of buffers
                buffers.give(batch)
        if batch_scores.shape != (len(span.start_ms),):
            raise InputError(
                f"{item.path}: the scorer returned shape {batch_scores.shape} for {len(span.start_ms)} windows"
            )
        starts.append(span.start_ms)
        ends.append(span.end_ms)
        scores.append(batch_scores)
        if span.frame is not None:
            frames.append(span.frame)
    count = sum(len(part) for part in starts)
    columns = {
        "item": pa.array([item.id] * count, type=pa.string()),
        "group": pa.array([item.group] * count, type=pa.string()),
        "start_ms": _concatenate(starts, np.float64),
        "end_ms": _concatenate(ends, np.float64),
    }
    if frames:
        columns["frame"] = _concatenate(frames, np.int64)
    columns["score"] = _concatenate(scores, np.float64)
    return pa.table(columns)


def _concatenate(parts, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype=dtype)


def _shard_paths(item, shards: Path) -> tuple[Path, Path]:
    name = _shard_name(item.id, str(item.path))
    return shards / f"{name}.parquet", shards / f"{name}.error.json"


def is_done(item, shards: Path) -> bool:
    """Whether ``item`` already has its shard or its error record: a resumed run skips it."""
    return any(path.is_file() for path in _shard_paths(item, shards))


def score_and_write(item, scorer, table, options: MineOptions, shards: Path, *, batches=None, buffers=None):
    """Score one item and write its shard, or its error record; skip an item already done (for --resume).

    Both engines call this for every item, so their shard folders, and so their outputs, are the same.
    ``batches``/``buffers`` pass batches read ahead by :func:`hardneg.mine.prefetch.read_ahead`.
    Returns ``(status, windows scored)`` with status ``scored``, ``error`` or ``skipped``.
    """
    if is_done(item, shards):
        return "skipped", 0
    shard, error = _shard_paths(item, shards)
    try:
        if table is not None:
            windows = pa.Table.from_pandas(table.lookup(item), preserve_index=False)
        else:
            windows = _score_item(item, scorer, options, batches=batches, buffers=buffers)
    except InputError as failure:
        write_bytes_atomic(error, json.dumps({"item": item.id, "path": str(item.path), "error": str(failure)}) + "\n")
        return "error", 0
    write_parquet_atomic(windows, shard)
    return "scored", windows.num_rows


def _score_locally(items, scorer, table, options: MineOptions, shards: Path, progress) -> int:
    """Score the items not done yet, reading each next item while the current one is scored."""
    from hardneg.mine.prefetch import read_ahead

    todo = [item for item in items if not is_done(item, shards)]
    meter = _Meter(len(items) - len(todo))
    if table is not None:  # precomputed scores: nothing to read ahead
        stream = ((item, None, None) for item in todo)
    else:
        stream = read_ahead(todo, lambda item, buffers: _item_batches(item, options, buffers))
    for item, batches, buffers in resolve(progress).track(
        stream, total=len(todo), description="Mining items", status=meter.status
    ):
        meter.add(score_and_write(item, scorer, table, options, shards, batches=batches, buffers=buffers)[1])
    return meter.windows


class _Meter:
    """Items and windows per second, for the progress bar."""

    def __init__(self, skipped: int):
        self.started = time.perf_counter()
        self.items = 0
        self.windows = 0
        self.skipped = skipped

    def add(self, windows: int) -> None:
        self.items += 1
        self.windows += windows

    def status(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        text = f"{self.items / elapsed:.1f} items/s, {self.windows / elapsed:,.0f} windows/s"
        return text + (f" ({self.skipped} done before --resume)" if self.skipped else "")


def mine(
    pool: Sequence[str | Path],
    out: str | Path,
    options: MineOptions,
    *,
    resume: bool = False,
    overwrite: bool = False,
    trust_model: bool = False,
    progress: ProgressReporter | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    num_workers: int | None = None,
    num_gpus_per_worker: float = 0.0,
) -> MineResult:
    """Score a pool of items with a model (or precomputed scores), keep the hard windows, tier the items.

    Writes ``candidates.parquet``, ``items.parquet``, ``tiers/conf_min_*.csv``, ``stats.json``, ``stats.md``,
    ``errors.csv`` and ``mine.json`` (the options) into ``out``. With ``options.snapshots`` it also writes
    ``snapshots/<item>/...`` (see :func:`hardneg.mine.snapshots.write_snapshots`) and adds a ``snapshot``
    column (paths relative to ``out``; empty where a snapshot failed, the reason in ``stats.json``).

    ``engine="ray"`` scores the items on Ray Data instead (a local instance, or the cluster at
    ``ray_address``; ``num_workers`` actors with ``num_gpus_per_worker`` GPUs each): the shards, and so
    every output file, are the same as with ``engine="local"``; see :mod:`hardneg.mine.ray_engine`.

    Examples
    --------
    >>> result = mine(["pool/"], "mined", MineOptions(model="model.onnx", window_ms=500))  # doctest: +SKIP
    >>> result.items.sort_values("max_score", ascending=False).head()  # doctest: +SKIP
    """
    from hardneg.mine.pools import discover_pool
    from hardneg.mine.scorers import TableScores, load_scorer
    from hardneg.mine.manifest import write_candidates, write_items, write_tiers
    from hardneg.mine.select import item_table, select_candidates
    from hardneg.mine.stats import score_statistics, start_plot_warm_up, write_statistics

    options = options.validate()
    if engine not in ("local", "ray"):
        raise InputError(f"--engine must be local or ray, got {engine!r}")
    if engine == "ray":
        from hardneg.mine.ray_engine import require_ray

        require_ray()  # before anything is written, so a missing Ray leaves --out untouched
    out = Path(out)
    started = time.perf_counter()
    items = discover_pool(pool, group_regex=options.group_regex, groups=options.groups)
    excluded = _excluded_groups(options)
    kept_items = [item for item in items if str(item.group) not in excluded]
    if not kept_items:
        raise InputError(f"no pool item left to mine ({len(items)} found, {len(items) - len(kept_items)} excluded)")
    scorer = (
        load_scorer(options.model, trust_model=trust_model, logits=options.logits, batch_size=options.batch_size)
        if options.model is not None
        else None
    )
    table = TableScores(options.scores, logits=options.logits) if options.scores is not None else None
    _prepare_out(out, options, resume, overwrite)
    shards = out / "shards"
    scored_windows = 0
    start_plot_warm_up()
    if engine == "ray":
        from hardneg.mine.ray_engine import score_items_on_ray

        status = score_items_on_ray(
            kept_items, out, options, trust_model=trust_model, address=ray_address, num_workers=num_workers,
            num_gpus_per_worker=num_gpus_per_worker, progress=progress,
        )  # fmt: skip
        scored_windows = int(status["windows"].sum())
        local_items = []  # the shards are written; the loop below has nothing left
    else:
        local_items = kept_items
    scored_windows += _score_locally(local_items, scorer, table, options, shards, progress)

    windows, errors = _gather(shards, kept_items)
    nms_ms = options.nms_ms if options.nms_ms is not None else options.window_ms
    candidates, counts = select_candidates(
        windows, min_score=options.min_score, max_score=options.max_score, nms_ms=nms_ms,
        max_per_item=options.max_per_item,
    )  # fmt: skip
    items_frame = item_table(windows, topk=options.topk)
    # where each item was read from, so `hardneg sample --hard-negatives` can cut the mined windows out of it
    items_frame["path"] = items_frame["item"].map({item.id: str(item.path) for item in kept_items})
    snapshot_errors = []
    if options.snapshots:
        # Rebuilt from the final candidates every time, so a resumed run writes the same snapshots.
        from hardneg.mine.snapshots import write_snapshots

        shot = write_snapshots(
            candidates, kept_items, out, window_ms=options.window_ms, time_col=options.time_col,
            channels=options.channels,
        )  # fmt: skip
        failed = shot[shot["snapshot_error"].notna()]
        snapshot_errors = [
            {"item": row.item, "start_ms": float(row.start_ms), "error": row.snapshot_error}
            for row in failed.itertuples(index=False)
        ]
        candidates = shot.drop(columns="snapshot_error")
    write_candidates(candidates, out)
    write_items(items_frame, out)
    write_tiers(items_frame, out, tiers=options.tiers)
    stats = score_statistics(windows, items_frame, options.tiers)
    stats.update(
        {
            "pool_items": len(items),
            "excluded_items": len(items) - len(kept_items),
            "excluded_groups": sorted(excluded & {str(item.group) for item in items}),
            "failed_items": len(errors),
            "selection": counts,
        }
    )
    if options.snapshots:
        stats["snapshots"] = {
            "written": int(candidates["snapshot"].notna().sum()),
            "failed": len(snapshot_errors),
            "errors": snapshot_errors[:100],
        }
    write_statistics(stats, out)
    write_bytes_atomic(out / "errors.csv", errors.to_csv(index=False))
    stats["seconds_this_run"] = round(time.perf_counter() - started, 2)
    stats["windows_scored_this_run"] = scored_windows
    return MineResult(out, candidates, items_frame, errors, stats)


def _gather(shards: Path, items) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every item's windows in pool order, and the items that failed, from the shard folder."""
    tables, failures = [], []
    for item in items:
        shard, error = _shard_paths(item, shards)
        if shard.is_file():
            tables.append(pq.read_table(shard))
        elif error.is_file():
            failures.append(json.loads(error.read_text()))
    if tables:
        # Video shards have a frame column; a pool mixing kinds gets nulls where an item has none.
        windows = pa.concat_tables(tables, promote_options="default").to_pandas()
    else:
        windows = pd.DataFrame(columns=WINDOW_COLUMNS)
    errors = pd.DataFrame(failures, columns=["item", "path", "error"])
    return windows, errors
