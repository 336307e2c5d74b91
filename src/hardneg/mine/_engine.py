"""Mining a pool: score every window of every item, one shard per item, resumable, then select and tier.

Each item is scored by :func:`hardneg.mine._shards.score_and_write`, which writes
its shard (or error record) atomically. A killed run therefore resumes by
skipping items that already have a shard or an error, and the final files
(built from the shards in item order) are the same bytes as an uninterrupted
run's. ``engine="ray"`` hands the items to :mod:`hardneg.mine._ray_engine`,
which calls the same per-item step.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hardneg._atomic import write_bytes_atomic
from hardneg._progress import ProgressReporter, resolve
from hardneg._schema import SCORED_WINDOW_COLUMNS
from hardneg._validation import Options, validate_value
from hardneg.errors import InputError
from hardneg.mine._options import OPTIONS_FILE, MineOptions, MineResult
from hardneg.mine._ray_engine import require_ray, score_items_on_ray
from hardneg.mine._shards import (
    check_pool_against_card,
    is_done,
    item_batches,
    open_scorer,
    score_and_write,
    shard_paths,
)
from hardneg.score import check_frame_prep, discover_pool, read_ahead

__all__ = ["ENGINES", "OPTIONS_FILE", "MineOptions", "MineResult", "mine"]

#: Where the items are scored: in this process, or on Ray Data.
ENGINES = ("local", "ray")


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


def _score_locally(items, scorer, options: MineOptions, shards: Path, progress) -> int:
    """Score the items not done yet, reading each next item while the current one is scored."""
    todo = [item for item in items if not is_done(item, shards)]
    meter = _Meter(len(items) - len(todo))
    if not scorer.reads_windows:  # precomputed scores: nothing to read ahead
        stream = ((item, None, None) for item in todo)
    else:
        stream = read_ahead(todo, lambda item, buffers: item_batches(item, options, buffers))
    for item, batches, buffers in resolve(progress).track(
        stream, total=len(todo), description="Mining items", status=meter.status
    ):
        meter.add(score_and_write(item, scorer, options, shards, batches=batches, buffers=buffers)[1])
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
    ``snapshots/<item>/...`` (see :func:`hardneg.mine.write_snapshots`) and adds a ``snapshot``
    column (paths relative to ``out``; empty where a snapshot failed, the reason in ``stats.json``).

    ``engine="ray"`` scores the items on Ray Data instead (a local instance, or the cluster at
    ``ray_address``; ``num_workers`` actors with ``num_gpus_per_worker`` GPUs each): the shards, and so
    every output file, are the same as with ``engine="local"``; see :mod:`hardneg.mine._ray_engine`.

    Examples
    --------
    Two ten-second logs, silent but for one burst each, scored by their loudness with a Python factory
    (``model="model.onnx"`` or a ``hardneg train`` folder work the same way):

    >>> import tempfile, numpy as np, pandas as pd
    >>> from pathlib import Path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> Path(tmp.name, "pool").mkdir()
    >>> for name, burst, level in (("rec1", 300, 1.0), ("rec2", 700, 0.75)):
    ...     x = np.zeros(1000)
    ...     x[burst : burst + 50] = level
    ...     pd.DataFrame({"t_ms": np.arange(1000) * 10.0, "ax": x}).to_csv(f"{tmp.name}/pool/{name}.csv", index=False)
    >>> _ = Path(tmp.name, "loudness.py").write_text(
    ...     "import numpy as np\\n\\ndef make():\\n    return lambda batch: np.abs(batch).mean(axis=(1, 2))\\n")
    >>> options = MineOptions(model=f"{tmp.name}/loudness.py:make", window_ms=500, hop_ms=250)
    >>> result = mine([f"{tmp.name}/pool"], f"{tmp.name}/mined", options)
    >>> result.items.sort_values("max_score", ascending=False)[["item", "max_score", "argmax_ms"]].values.tolist()
    [['rec1', 1.0, 3000.0], ['rec2', 0.75, 7000.0]]
    >>> sorted(path.name for path in result.out.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['candidates.parquet', 'errors.csv', 'items.parquet', 'mine.json', 'score_distribution.png', 'shards',
     'stats.json', 'stats.md', 'tiers']
    >>> tmp.cleanup()
    """
    from hardneg.mine._manifest import write_candidates, write_items, write_tiers
    from hardneg.mine._select import item_table, select_candidates
    from hardneg.mine._stats import score_statistics, start_plot_warm_up, write_statistics

    options = options.validate()
    validate_value("engine", engine, [Options(ENGINES)])
    if engine == "ray":
        require_ray()  # before anything is written, so a missing Ray leaves --out untouched
    out = Path(out)
    started = time.perf_counter()
    items = discover_pool(pool, group_regex=options.group_regex, groups=options.groups)
    excluded = _excluded_groups(options)
    kept_items = [item for item in items if str(item.group) not in excluded]
    if not kept_items:
        raise InputError(f"no pool item left to mine ({len(items)} found, {len(items) - len(kept_items)} excluded)")
    scorer = open_scorer(options, trust_model=trust_model)
    # frame options for a sensor or audio pool, or frames that cannot fit the model, are refused before any scoring
    check_frame_prep(kept_items, options.frame_prep(), scorer)
    # window_ms and min_score left unset come from a `hardneg train` model's card (else the old defaults)
    options = options.with_defaults(getattr(scorer, "card", None))
    check_pool_against_card(scorer, kept_items, options)
    _prepare_out(out, options, resume, overwrite)
    shards = out / "shards"
    scored_windows = 0
    start_plot_warm_up()
    if engine == "ray":
        status = score_items_on_ray(
            kept_items, out, options, trust_model=trust_model, address=ray_address, num_workers=num_workers,
            num_gpus_per_worker=num_gpus_per_worker, progress=progress,
        )  # fmt: skip
        scored_windows = int(status["windows"].sum())
        local_items = []  # the shards are written; the loop below has nothing left
    else:
        local_items = kept_items
    scored_windows += _score_locally(local_items, scorer, options, shards, progress)

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
        from hardneg.mine._snapshots import write_snapshots

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
        shard, error = shard_paths(item, shards)
        if shard.is_file():
            tables.append(pq.read_table(shard))
        elif error.is_file():
            failures.append(json.loads(error.read_text()))
    if tables:
        # Video shards have a frame column; a pool mixing kinds gets nulls where an item has none.
        windows = pa.concat_tables(tables, promote_options="default").to_pandas()
    else:
        windows = pd.DataFrame(columns=list(SCORED_WINDOW_COLUMNS))
    errors = pd.DataFrame(failures, columns=["item", "path", "error"])
    return windows, errors
