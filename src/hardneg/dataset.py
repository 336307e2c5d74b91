"""The dataset directory: ``index.parquet``, ``windows.npy`` and ``meta.json``, written atomically.

A dataset is plain arrays and a table, whatever made them: :func:`write_dataset`
takes the windows ``(N, C, T)``, the index (one row per window) and a ``meta``
dict; :func:`hardneg.sample.write_sampled` is the sampler's way in.

Examples
--------
>>> import tempfile, numpy as np, pandas as pd
>>> index = pd.DataFrame({"window_id": [0, 1], "label": [1, 0], "group": ["a", "b"]})
>>> with tempfile.TemporaryDirectory() as tmp:
...     ds = write_dataset(f"{tmp}/ds", np.zeros((2, 3, 50), dtype=np.float32), index, {"note": "made by hand"})
...     print(ds.windows.shape, ds.labels.tolist(), ds.meta["note"], ds.meta["windows_shape"])
(2, 3, 50) [1, 0] made by hand [2, 3, 50]
"""

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
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hardneg._atomic import replace_dir
from hardneg._schema import INDEX_FILE, META_FILE, WINDOWS_FILE, check_columns
from hardneg.errors import InputError

__all__ = [
    "FORMAT_VERSION",
    "INDEX_FILE",
    "META_FILE",
    "WINDOWS_FILE",
    "Dataset",
    "WindowSource",
    "check_output_dir",
    "file_fingerprint",
    "fingerprint_in_background",
    "json_default",
    "package_versions",
    "write_dataset",
]

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
    >>> import tempfile
    >>> index = pd.DataFrame({"window_id": range(4), "label": [1, 0, 0, 0], "group": ["a", "a", "b", "b"]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_dataset(f"{tmp}/shots", np.zeros((4, 6, 50), np.float32), index, {})
    ...     ds = Dataset.load(f"{tmp}/shots")
    ...     ds.windows.shape, float(ds.labels.mean()), ds.groups.tolist()
    ((4, 6, 50), 0.25, ['a', 'a', 'b', 'b'])
    """

    def __init__(self, path: Path, index: pd.DataFrame, windows: np.ndarray, meta: dict):
        self.path = path
        self.index = index
        self.windows = windows
        self.meta = meta

    @classmethod
    def load(cls, path: str | Path) -> Dataset:
        """Open a dataset directory written by :func:`write_dataset` (``hardneg sample``)."""
        path = Path(path)
        for name in (INDEX_FILE, WINDOWS_FILE, META_FILE):
            if not (path / name).is_file():
                raise InputError(f"{path}: not a hardneg dataset ({name} missing); build one with `hardneg sample`")
        rebuild = "rebuild the dataset with `hardneg sample`"
        try:
            index = pq.read_table(path / INDEX_FILE).to_pandas()
        except (pa.ArrowException, OSError) as error:
            raise InputError(f"{path / INDEX_FILE}: cannot be read as Parquet ({error}); {rebuild}") from None
        try:
            windows = np.load(path / WINDOWS_FILE, mmap_mode="r")
        except (ValueError, OSError) as error:
            raise InputError(f"{path / WINDOWS_FILE}: cannot be read as a NumPy array ({error}); {rebuild}") from None
        try:
            meta = json.loads((path / META_FILE).read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InputError(f"{path / META_FILE}: not valid JSON ({error}); {rebuild}") from None
        missing = [column for column in ("window_id", "label") if column not in index]
        if missing or not isinstance(meta, dict):
            what = f"has no column {missing[0]!r}" if missing else "does not hold a dataset's description"
            where = INDEX_FILE if missing else META_FILE
            raise InputError(f"{path / where}: {what}; it was not written by `hardneg sample`; {rebuild}")
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
        raise InputError(f"out {out}: exists and is not a directory; choose another path", parameter="out")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise InputError(
            f"out {out}: directory exists and is not empty; pass --overwrite to replace it", parameter="out"
        )
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
    """Versions of Python and the packages that wrote a dataset, for ``meta.json``."""
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


@runtime_checkable
class WindowSource(Protocol):
    """Windows written straight into ``windows.npy``, so a large dataset is never held in memory twice.

    ``shape`` is ``(N, C, T)``; ``write_into(out)`` fills the float32 array
    of that shape it is given (the memory-mapped file being written).
    """

    shape: tuple[int, int, int]

    def write_into(self, out: np.ndarray) -> None: ...


def write_dataset(
    out_dir: str | Path,
    windows: np.ndarray | WindowSource,
    index: pd.DataFrame,
    meta: dict | None = None,
    *,
    overwrite: bool = False,
) -> Dataset:
    """Write ``index.parquet``, ``windows.npy`` and ``meta.json`` into ``out_dir`` atomically.

    Everything is written into a hidden sibling directory that is renamed into
    place only when complete, so a failed run leaves no ``index.parquet``.

    Parameters
    ----------
    out_dir : path
    windows : array-like of shape (N, C, T), or WindowSource
        The windows (stored as float32), or a :class:`WindowSource` that writes them.
    index : pandas.DataFrame
        One row per window: ``window_id`` (``0..N-1``, row ``i`` of ``windows``), ``label`` and whatever else
        describes a window (:data:`hardneg._schema.INDEX_COLUMNS` for a sampled dataset).
    meta : dict, optional
        What made the dataset (parameters, inputs, counts); ``format_version`` goes first, ``windows_shape`` is
        set, and the package ``versions`` are added last.
    overwrite : bool
        Replace an existing non-empty ``out_dir``.

    Returns
    -------
    Dataset
        The directory, loaded back.
    """
    out = check_output_dir(out_dir, overwrite)
    source = windows if isinstance(windows, WindowSource) else np.asarray(windows)
    shape = tuple(int(size) for size in source.shape)
    if len(shape) != 3:
        raise InputError(f"windows must be a 3-D array (n_windows, n_channels, n_samples), got shape {shape}")
    if not isinstance(index, pd.DataFrame):
        raise InputError(f"index must be a pandas DataFrame, got {type(index).__name__}")
    check_columns(index, ("window_id", "label"), "index")
    if len(index) != shape[0] or not np.array_equal(index["window_id"].to_numpy(), np.arange(len(index))):
        raise InputError(
            f"index has {len(index)} rows but windows {shape[0]}, or its window_id is not 0..N-1; window i is row i"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        stored = np.lib.format.open_memmap(staging / WINDOWS_FILE, mode="w+", dtype=np.float32, shape=shape)
        if isinstance(source, WindowSource):
            source.write_into(stored)
        else:
            stored[...] = source
        stored.flush()
        del stored
        table = pa.Table.from_pandas(index, preserve_index=False)
        pq.write_table(table, staging / INDEX_FILE)
        full_meta = {"format_version": FORMAT_VERSION, **(meta or {})}
        full_meta["windows_shape"] = list(shape)
        full_meta["versions"] = package_versions()
        (staging / META_FILE).write_text(json.dumps(full_meta, indent=2, default=json_default, allow_nan=False) + "\n")
        replace_dir(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Dataset.load(out)


