"""The dataset directory: ``index.parquet``, ``windows.npy`` and ``meta.json``, written atomically."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hardneg._progress import ProgressReporter
from hardneg.errors import InputError
from hardneg.io.recording import Recording
from hardneg.sample.sampler import SampledWindows

INDEX_FILE = "index.parquet"
WINDOWS_FILE = "windows.npy"
META_FILE = "meta.json"
FORMAT_VERSION = 1


class Dataset:
    """A window dataset directory, loaded back.

    Attributes
    ----------
    path : Path
    index : pandas.DataFrame
        One row per window, ``window_id`` = row of ``windows``.
    windows : numpy.memmap
        ``(N, channels, samples)`` float32, opened read-only without loading it.
    meta : dict
        Parameters, counts, input hashes and package versions.

    Examples
    --------
    >>> ds = Dataset.load("shots")  # doctest: +SKIP
    >>> ds.windows.shape, ds.labels.mean()  # doctest: +SKIP
    ((243, 6, 50), 0.19)
    """

    def __init__(self, path: Path, index: pd.DataFrame, windows: np.ndarray, meta: dict):
        self.path = path
        self.index = index
        self.windows = windows
        self.meta = meta

    @classmethod
    def load(cls, path: str | Path) -> "Dataset":
        """Open a dataset directory written by :func:`write_dataset` (``hardneg sample``)."""
        path = Path(path)
        for name in (INDEX_FILE, WINDOWS_FILE, META_FILE):
            if not (path / name).is_file():
                raise InputError(f"{path}: not a hardneg dataset ({name} missing); build one with `hardneg sample`")
        index = pq.read_table(path / INDEX_FILE).to_pandas()
        windows = np.load(path / WINDOWS_FILE, mmap_mode="r")
        meta = json.loads((path / META_FILE).read_text())
        if windows.shape[0] != len(index) or not np.array_equal(index["window_id"].to_numpy(), np.arange(len(index))):
            raise InputError(
                f"{path}: index.parquet has {len(index)} rows but windows.npy {windows.shape[0]}, or window_id is not "
                "0..N-1; the directory was changed by hand, rebuild it with `hardneg sample`"
            )
        return cls(path, index, windows, meta)

    def __len__(self) -> int:
        return len(self.index)

    def __repr__(self) -> str:
        return f"Dataset({str(self.path)!r}, windows={len(self)}, positives={int(self.labels.sum())})"

    @property
    def labels(self) -> np.ndarray:
        return self.index["label"].to_numpy()

    @property
    def groups(self) -> np.ndarray:
        return self.index["group"].to_numpy()


def check_output_dir(out_dir: str | Path, overwrite: bool) -> Path:
    """Refuse an existing non-empty output directory unless ``overwrite``; a file is always refused."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory; choose another path")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise InputError(f"--out {out}: directory exists and is not empty; pass --overwrite to replace it")
    return out


def file_fingerprint(path: str | Path, chunk_bytes: int = 8 << 20) -> dict:
    """Name, size and SHA-256 of an input file, for ``meta.json``."""
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk_bytes):
            digest.update(block)
    return {"path": str(path), "name": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def fingerprint_in_background(paths: Sequence[str | Path]) -> Future:
    """Hash the inputs on a second thread (hashlib releases the GIL) while the sampling runs."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hardneg-hash")
    future = executor.submit(lambda: [file_fingerprint(path) for path in paths])
    executor.shutdown(wait=False)
    return future


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("hardneg", "numpy", "pandas", "pyarrow", "wfdb"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def json_default(value):
    """``json.dumps(default=...)`` for numpy scalars and arrays, tuples and paths."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (np.ndarray, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def write_dataset(
    out_dir: str | Path,
    sampled: SampledWindows,
    recordings: Sequence[Recording],
    *,
    meta: dict | None = None,
    overwrite: bool = False,
    progress: ProgressReporter | None = None,
) -> Dataset:
    """Write ``index.parquet``, ``windows.npy`` and ``meta.json`` into ``out_dir`` atomically.

    Everything is written into a hidden sibling directory that is renamed into
    place only when complete, so a failed run leaves no ``index.parquet``.

    Parameters
    ----------
    out_dir : path
    sampled : SampledWindows
    recordings : sequence of Recording
        The recordings ``sampled`` was drawn from (their samples are copied).
    meta : dict, optional
        Extra entries (parameters, inputs); counts, shapes and versions are added.
    overwrite : bool
        Replace an existing non-empty ``out_dir``.

    Examples
    --------
    >>> ds = write_dataset("shots", sampled, recordings, meta={"parameters": config.to_dict()})  # doctest: +SKIP
    """
    out = check_output_dir(out_dir, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        shape = (len(sampled), len(sampled.channels), sampled.samples_per_window)
        windows = np.lib.format.open_memmap(staging / WINDOWS_FILE, mode="w+", dtype=np.float32, shape=shape)
        sampled.extract(recordings, out=windows, progress=progress)
        windows.flush()
        del windows
        table = pa.Table.from_pandas(sampled.index, preserve_index=False)
        pq.write_table(table, staging / INDEX_FILE)
        full_meta = {"format_version": FORMAT_VERSION, **(meta or {})}
        full_meta.update(
            {
                "counts": sampled.report,
                "channels": sampled.channels,
                "samples_per_window": sampled.samples_per_window,
                "sample_rate_hz": sampled.sample_rate_hz,
                "windows_shape": list(shape),
                "recordings": [
                    {
                        "id": recording.id,
                        "group": recording.group,
                        "source": recording.source,
                        "n_samples": recording.n_samples,
                        "t0_ms": recording.t0_ms,
                        "end_ms": recording.end_ms,
                        "channels": recording.channels,
                    }
                    for recording in recordings
                ],
                "versions": package_versions(),
            }
        )
        (staging / META_FILE).write_text(json.dumps(full_meta, indent=2, default=json_default, allow_nan=False) + "\n")
        _commit(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Dataset.load(out)


def _commit(staging: Path, out: Path) -> None:
    previous = None
    if out.exists():
        previous = out.parent / f".{out.name}.replaced-{os.getpid()}"
        shutil.rmtree(previous, ignore_errors=True)
        out.rename(previous)
    staging.rename(out)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
