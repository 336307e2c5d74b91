"""``hardneg mine --engine ray``: the same per-item scoring as the local engine, spread over a Ray cluster.

Ray Data runs an actor pool (``map_batches`` with a callable class): each actor
loads the scorer once, then for every pool item it is given runs
:func:`hardneg.mine._shards.score_and_write`, the per-item step the local engine
runs too, which writes the item's shard (or error record) under ``OUT/shards``
under the same name and atomically. The driver then builds the final files from the
shards in pool order, so the output is byte-identical to ``--engine local``,
and ``--resume`` works across engines.

The shard folder (and the pool files) must be reachable at the same paths from
every Ray node: on one machine that is automatic, on a cluster use shared
storage.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from numbers import Integral, Real
from pathlib import Path

import pandas as pd

from hardneg._progress import ProgressReporter, resolve
from hardneg._validation import Interval, validate_value
from hardneg.errors import InputError
from hardneg.mine._shards import is_done, open_scorer, score_and_write
from hardneg.score import PoolItem

__all__ = ["STATUS_COLUMNS", "ray_session", "require_ray", "score_items_on_ray"]

STATUS_COLUMNS = ["item", "status", "windows"]
_INSTALL_HINT = "pip install 'hardneg[ray]'"


def require_ray():
    """Import :mod:`ray` (with Ray Data), or raise an :class:`InputError` saying how to install it.

    Examples
    --------
    Importing starts nothing; a Ray instance starts only when :func:`score_items_on_ray` needs one.

    >>> ray = require_ray()
    >>> ray.__name__, hasattr(ray, "data"), ray.is_initialized()
    ('ray', True, False)
    """
    try:
        import ray
        import ray.data  # ray without the [data] extra lacks Ray Data's dependencies
    except ImportError as failure:
        raise InputError(
            f"engine ray needs Ray Data, which is not installed ({failure}); {_INSTALL_HINT}", parameter="engine"
        ) from None
    return ray


class _ItemScorer:
    """The Ray Data actor: loads the scorer once, then scores the pool items of each batch it is given."""

    def __init__(self, out_dir: str, options, trust_model: bool, cwd: str, device: str):
        # relative pool paths and model specs were resolved by the driver against its working directory;
        # a local Ray worker starts elsewhere, so follow the driver when that folder exists here
        if cwd and os.path.isdir(cwd):
            os.chdir(cwd)
        self.options = options
        self.shards = Path(out_dir) / "shards"
        self.scorer = open_scorer(options, trust_model=trust_model, device=device)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        rows = []
        for row in batch.itertuples(index=False):
            item = PoolItem(str(row.id), str(row.group), Path(row.path), str(row.kind))
            status, windows = score_and_write(item, self.scorer, self.options, self.shards)
            rows.append((item.id, status, windows))
        return pd.DataFrame(rows, columns=STATUS_COLUMNS).astype({"windows": "int64"})


@contextmanager
def ray_session(address: str | None = None):
    """Ray, connected: to the cluster at ``address``, or to a local instance started here on every core.

    A connection this call made is closed on exit: a cluster given by ``address`` keeps running, a local
    instance stops. Already connected, it is used as it is and left open. A failed connection is one
    :class:`InputError` line naming ``--ray-address``.
    """
    ray = require_ray()
    started_here = not ray.is_initialized()
    if started_here:
        quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
        try:
            if address:
                ray.init(address=address, **quiet)
            else:
                ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as failure:
            target = f"the Ray cluster at --ray-address {address}" if address else "a local Ray instance"
            raise InputError(f"could not connect to {target}: {failure}", parameter="ray_address") from None
    try:
        yield ray
    finally:
        if started_here:
            ray.shutdown()


def score_items_on_ray(
    items: Sequence,
    out_dir: str | Path,
    options,
    *,
    trust_model: bool,
    address: str | None = None,
    num_workers: int | None = None,
    num_gpus_per_worker: float = 0.0,
    progress: ProgressReporter | None = None,
) -> pd.DataFrame:
    """Score every pool item that has no shard or error record yet in ``out_dir/shards``, on Ray Data.

    Parameters
    ----------
    items : sequence of PoolItem
        The pool items to mine, in pool order.
    out_dir : str or path
        The mining output folder (already prepared: ``shards/`` exists).
    options : MineOptions
        The mining options (scorer spec, windowing, batch size...).
    trust_model : bool
        Allow unpickling a scikit-learn scorer (``--trust-model``).
    address : str, optional
        An existing Ray cluster (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``); by default a
        local Ray instance is started with every CPU of this machine and stopped afterwards.
        When Ray is already initialised in this process, that connection is used and left open.
    num_workers : int, optional
        Scoring actors (default: as many as the cluster's CPUs allow, or its GPUs with
        ``num_gpus_per_worker``; never more than the items left).
    num_gpus_per_worker : float, default=0.0
        GPUs reserved per actor; when positive, ONNX scorers run on CUDA.
    progress : ProgressReporter, optional
        Advanced once per finished item.

    Returns
    -------
    pandas.DataFrame
        One row per item scored in this call: ``item``, ``status`` (``scored``, ``error`` or
        ``skipped``), ``windows`` (scored windows written).

    Examples
    --------
    Skipped when doctests run: it connects to a running Ray cluster (``address="auto"``), which
    an example cannot start in under a second; the test suite runs it on a local Ray instance.

    >>> status = score_items_on_ray(items, "mined", options, trust_model=False, address="auto")  # doctest: +SKIP
    >>> status["status"].value_counts()  # doctest: +SKIP
    """
    validate_value("num_workers", num_workers, [None, Interval(Integral, 1, None, closed="left")])
    validate_value("num_gpus_per_worker", num_gpus_per_worker, [Interval(Real, 0, None, closed="left")])
    require_ray()  # a missing extra is said before anything else
    out_dir = Path(out_dir).resolve()
    shards = out_dir / "shards"
    pending = [item for item in items if not is_done(item, shards)]
    if not pending:
        return pd.DataFrame({"item": pd.Series(dtype=str), "status": pd.Series(dtype=str),
                             "windows": pd.Series(dtype="int64")})  # fmt: skip

    with ray_session(address) as ray:
        return _run(ray, pending, out_dir, options, trust_model, num_workers, num_gpus_per_worker, progress)


def _run(ray, pending, out_dir, options, trust_model, num_workers, num_gpus_per_worker, progress) -> pd.DataFrame:
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # hardneg's own bar counts items; Ray's would interleave with it
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    # Ray Data narrates each execution at INFO and warns that its bars are off; keep the CLI quiet
    data_logger = logging.getLogger("ray.data")
    level = data_logger.level
    data_logger.setLevel(logging.ERROR)
    try:
        return _execute(ray, pending, out_dir, options, trust_model, num_workers, num_gpus_per_worker, progress)
    finally:
        data_logger.setLevel(level)


def _execute(ray, pending, out_dir, options, trust_model, num_workers, num_gpus_per_worker, progress):
    resources = ray.cluster_resources()
    if num_workers is None:
        if num_gpus_per_worker > 0:
            num_workers = int(resources.get("GPU", 0) // num_gpus_per_worker)
            if num_workers < 1:
                raise InputError(
                    f"num_gpus_per_worker {num_gpus_per_worker}: the Ray cluster has "
                    f"{resources.get('GPU', 0):g} GPUs; lower it or use a cluster with GPUs",
                    parameter="num_gpus_per_worker",
                )
        else:
            num_workers = max(1, int(resources.get("CPU", 1)))
    num_workers = min(num_workers, len(pending))

    rows = [{"id": str(item.id), "group": str(item.group), "path": str(item.path), "kind": str(item.kind)}
            for item in pending]  # fmt: skip
    # small blocks keep the actors evenly loaded (items differ a lot in length) without one task per item
    blocks = min(len(rows), num_workers * 4)
    dataset = ray.data.from_items(rows, override_num_blocks=blocks)
    device = "cuda" if num_gpus_per_worker > 0 else "cpu"
    scored = dataset.map_batches(
        _ItemScorer,
        fn_constructor_args=(str(out_dir), options, trust_model, os.getcwd(), device),
        batch_size=1,  # one item per call: an item is already many scorer batches
        batch_format="pandas",
        # a fixed pool (`concurrency=` before Ray 2.51 meant the same; it is deprecated since)
        compute=ray.data.ActorPoolStrategy(size=num_workers),
        num_cpus=1,
        num_gpus=num_gpus_per_worker or None,
    )

    def statuses() -> Iterator[pd.DataFrame]:
        yield from scored.iter_batches(batch_size=1, batch_format="pandas")

    frames = list(resolve(progress).track(statuses(), total=len(rows), description="Mining items (ray)"))
    status = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=STATUS_COLUMNS)
    return status.astype({"windows": "int64"})
