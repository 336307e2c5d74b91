"""Saved splits: ``DIR/splits/NAME.parquet`` (the frame) and ``DIR/splits/NAME.json`` (what it is), written atomically."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hardneg._atomic import staged_files
from hardneg._schema import SPLIT_COLUMNS, SUBSETS, check_columns
from hardneg.dataset import json_default
from hardneg.errors import InputError
from hardneg.split._registry import SPLIT_STRATEGIES

__all__ = [
    "FRAME_COLUMNS",
    "SPLITS_DIR",
    "SUBSETS",
    "check_split_frame",
    "check_split_name",
    "load_split",
    "save_split",
    "saved_split_names",
    "split_paths",
]

SPLITS_DIR = "splits"
FRAME_COLUMNS = SPLIT_COLUMNS
_SCHEMA = pa.schema([("fold", pa.int32()), ("window_id", pa.int64()), ("subset", pa.string()), ("copies", pa.int32())])
# Letters, digits, '-' and '_': names become file names, and NAME.audit.json must not collide with another split.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def check_split_frame(frame) -> pd.DataFrame:
    """Check a split frame and return it with the schema's dtypes.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``fold``, ``window_id``, ``subset`` (train, val, test), ``copies`` (>= 1, > 1 only in train); no
        window twice in one fold.

    Returns
    -------
    pandas.DataFrame
        ``fold`` int32, ``window_id`` int64, ``subset`` str, ``copies`` int32, in the given row order.

    Examples
    --------
    >>> import pandas as pd
    >>> check_split_frame(pd.DataFrame({"fold": [0], "window_id": [3], "subset": ["dev"], "copies": [1]}))
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: split frame: subset must be one of train, val, test; got 'dev'
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"split frame: expected a DataFrame, got {type(frame).__name__}")
    check_columns(frame, FRAME_COLUMNS, "split frame")
    if len(frame) == 0:
        raise InputError("split frame: no rows")
    for column in ("fold", "window_id", "copies"):
        values = frame[column]
        if values.isna().any() or not pd.api.types.is_integer_dtype(values.dtype):
            raise InputError(f"split frame: column {column!r} must hold whole numbers, got dtype {values.dtype}")
    bad = ~frame["subset"].isin(SUBSETS)
    if bad.any():
        raise InputError(
            f"split frame: subset must be one of {', '.join(SUBSETS)}; got {frame['subset'][bad].iloc[0]!r}"
        )
    if (frame["fold"] < 0).any() or (frame["window_id"] < 0).any():
        raise InputError("split frame: fold and window_id must be >= 0")
    if (frame["copies"] < 1).any():
        raise InputError("split frame: copies must be >= 1")
    if ((frame["copies"] > 1) & (frame["subset"] != "train")).any():
        raise InputError("split frame: copies > 1 outside the train subset; oversampling applies to training only")
    duplicated = frame.duplicated(["fold", "window_id"])
    if duplicated.any():
        row = frame[duplicated].iloc[0]
        raise InputError(f"split frame: window {int(row['window_id'])} appears twice in fold {int(row['fold'])}")
    return pd.DataFrame(
        {
            "fold": frame["fold"].to_numpy(np.int32),
            "window_id": frame["window_id"].to_numpy(np.int64),
            "subset": pd.array(frame["subset"].astype(str).to_numpy(), dtype="str"),
            "copies": frame["copies"].to_numpy(np.int32),
        }
    )


def check_split_name(name) -> str:
    """Check the name of a split to save and return it.

    A split name is a file stem: letters, digits, ``-`` and ``_``, starting
    with a letter or digit. It must not be a strategy name: a bench given that
    name draws a fresh split per seed, so a saved split of the same name would
    never be the one benchmarked.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
        ``name``.

    Examples
    --------
    >>> check_split_name("group-s0")
    'group-s0'
    >>> check_split_name("group")
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: name 'group' is a split strategy; `--splits group` would draw a fresh split per seed, \
not this saved one. Choose another name, e.g. group-s0
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(
            f"name {name!r}: use letters, digits, '-' and '_' only (starting with a letter or digit), e.g. ds1-ds2",
            parameter="name",
        )
    if name in SPLIT_STRATEGIES:
        raise InputError(
            f"name {name!r} is a split strategy; `--splits {name}` would draw a fresh split per seed, not this "
            f"saved one. Choose another name, e.g. {name}-s0",
            parameter="name",
        )
    return name


def saved_split_names(dataset_dir) -> list[str]:
    """Names of the splits saved under ``DIR/splits/``, sorted (empty when there is none).

    Examples
    --------
    >>> saved_split_names("no-such-dataset")
    []
    """
    folder = Path(dataset_dir) / SPLITS_DIR
    return sorted(path.stem for path in folder.glob("*.parquet")) if folder.is_dir() else []


def split_paths(dataset_dir, name: str) -> tuple[Path, Path]:
    """``(DIR/splits/NAME.parquet, DIR/splits/NAME.json)``."""
    folder = Path(dataset_dir) / SPLITS_DIR
    return folder / f"{name}.parquet", folder / f"{name}.json"


def save_split(dataset_dir, name: str, frame: pd.DataFrame, info: dict) -> Path:
    """Write a split under ``DIR/splits/``, replacing one of the same name.

    Both files are written beside their final names and renamed into place,
    the JSON first, so an existing ``NAME.parquet`` always has its ``NAME.json``
    and a crash never leaves a half-written file under a final name.

    Parameters
    ----------
    dataset_dir : path
        Dataset directory (holds ``index.parquet``).
    name : str
        Split name (letters, digits, ``-``, ``_``); not a strategy name, which
        a bench would read as "draw a fresh split per seed".
    frame : pandas.DataFrame
        Split frame from :func:`~hardneg.split.make_split`.
    info : dict
        Its description; stored with ``name`` set to ``name``.

    Returns
    -------
    Path
        ``DIR/splits/NAME.parquet``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from hardneg.dataset import write_dataset
    >>> from hardneg.split import make_split
    >>> index = pd.DataFrame({"window_id": range(8), "label": [1, 0] * 4, "group": list("aabbccdd")})
    >>> tmp = tempfile.TemporaryDirectory()
    >>> dataset = write_dataset(f"{tmp.name}/mitdb-v", np.zeros((8, 1, 10), np.float32), index, {})
    >>> frame, info = make_split(dataset, "group", test_groups=["c", "d"], val_size=0)
    >>> save_split(dataset.path, "ds1-ds2", frame, info).relative_to(tmp.name)
    PosixPath('mitdb-v/splits/ds1-ds2.parquet')
    >>> tmp.cleanup()
    """
    name = check_split_name(name)
    dataset_dir = Path(dataset_dir)
    index_path = dataset_dir / "index.parquet"
    if not index_path.is_file():
        raise InputError(
            f"{dataset_dir}: not a hardneg dataset (index.parquet missing); build one with `hardneg sample`"
        )
    frame = check_split_frame(frame)
    n_windows = pq.ParquetFile(index_path).metadata.num_rows
    if int(frame["window_id"].max()) >= n_windows:
        raise InputError(
            f"split {name}: names window {int(frame['window_id'].max())} but {dataset_dir} has {n_windows} windows; "
            "was it made from another dataset?"
        )
    parquet_path, json_path = split_paths(dataset_dir, name)
    parquet_path.parent.mkdir(parents=True, exist_ok=True)
    document = {**info, "name": name, "dataset": index_fingerprint(dataset_dir)}
    text = json.dumps(document, indent=2, allow_nan=False, default=json_default) + "\n"
    # The Parquet file is renamed last: its presence marks the whole split written.
    with staged_files(json_path, parquet_path) as (staged_json, staged_parquet):
        staged_json.write_text(text)
        table = pa.Table.from_pandas(frame, schema=_SCHEMA, preserve_index=False)
        pq.write_table(table, staged_parquet)
    return parquet_path


def load_split(dataset_dir, name: str) -> tuple[pd.DataFrame, dict]:
    """Read a split saved by :func:`save_split` (``hardneg split``).

    Parameters
    ----------
    dataset_dir : path
    name : str

    Returns
    -------
    frame : pandas.DataFrame
        ``fold`` int32, ``window_id`` int64, ``subset`` str, ``copies`` int32.
    info : dict
        ``name``, ``strategy``, ``parameters``, ``gap_ms``, ``measures``, ``counts``.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from hardneg.dataset import write_dataset
    >>> from hardneg.split import make_split
    >>> index = pd.DataFrame({"window_id": range(8), "label": [1, 0] * 4, "group": list("aabbccdd")})
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = write_dataset(f"{tmp.name}/mitdb-v", np.zeros((8, 1, 10), np.float32), index, {})
    >>> frame, info = make_split(index, "group", test_groups=["c", "d"], val_size=0)
    >>> _ = save_split(f"{tmp.name}/mitdb-v", "ds1-ds2", frame, info)
    >>> frame, info = load_split(f"{tmp.name}/mitdb-v", "ds1-ds2")
    >>> info["name"], info["measures"]
    ('ds1-ds2', 'how well the model generalises to the chosen test groups (c, d), none of which it trained on')
    >>> frame.columns.tolist(), frame.dtypes[["fold", "window_id", "copies"]].astype(str).tolist()
    (['fold', 'window_id', 'subset', 'copies'], ['int32', 'int64', 'int32'])
    >>> tmp.cleanup()
    """
    parquet_path, json_path = split_paths(dataset_dir, name)
    if not parquet_path.is_file():
        saved = saved_split_names(dataset_dir)
        raise InputError(
            f"split {name}: {parquet_path} not found (saved splits: {', '.join(saved) or 'none'}); make one with "
            f"`hardneg split {dataset_dir} --strategy S --name {name}`",
            parameter="split",
        )
    if not json_path.is_file():
        raise InputError(
            f"split {name}: {json_path} missing next to {parquet_path.name}; re-create it with `hardneg split`",
            parameter="split",
        )
    remake = f"re-create it with `hardneg split {dataset_dir} --name {name} --overwrite`"
    try:
        table = pq.read_table(parquet_path).to_pandas()
    except (pa.ArrowException, OSError) as error:
        raise InputError(
            f"split {name}: {parquet_path} cannot be read ({error}); {remake}", parameter="split"
        ) from None
    frame = check_split_frame(table)
    try:
        info = json.loads(json_path.read_text())
    except json.JSONDecodeError as error:
        raise InputError(
            f"split {name}: {json_path} is not valid JSON ({error}); {remake}",
            parameter="split",
        ) from None
    _check_same_dataset(dataset_dir, name, frame, info, remake)
    return frame, info


def _check_same_dataset(dataset_dir, name: str, frame: pd.DataFrame, info: dict, remake: str) -> None:
    """Refuse a split saved for another dataset (copied over, or the dataset rebuilt since): its window ids
    would silently pick other windows."""
    now = index_fingerprint(dataset_dir)
    if now is None:
        return  # the caller's Dataset.load says what is wrong with the index
    n_windows, positives = now["windows"], now["positives"]
    counts = info.get("counts") if isinstance(info, dict) else None
    saved = (counts.get("windows"), counts.get("positives")) if isinstance(counts, dict) else (None, None)
    too_far = len(frame) and int(frame["window_id"].max()) >= n_windows
    differs = None not in saved and saved != (n_windows, positives)
    recorded = info.get("dataset") if isinstance(info, dict) else None
    if isinstance(recorded, dict) and recorded.get("sha256") not in (None, now["sha256"]):
        differs = True  # same counts, other windows (another window length, other recordings)
    if too_far or differs:
        if None in saved:
            was = "made on another dataset"
        elif saved == (n_windows, positives):
            was = (
                f"made on other windows than {dataset_dir}'s (the counts agree, {n_windows} windows, but not the times)"
            )
        else:
            was = f"made on a dataset of {saved[0]} windows ({saved[1]} positive)"
        raise InputError(
            f"split {name}: {was}"
            + (
                ""
                if saved == (n_windows, positives)
                else f", but {dataset_dir} holds {n_windows} ({positives} positive)"
            )
            + f": it belongs to another dataset, or the dataset was rebuilt since; {remake}",
            parameter="split",
        )


def index_fingerprint(dataset_dir) -> dict | None:
    """Windows, positives and a SHA-256 of a dataset's window index (recording, times, label), which a saved
    split records so that it is never applied to another dataset; None when the index cannot be read."""
    import hashlib

    index_path = Path(dataset_dir) / "index.parquet"
    try:
        names = pq.ParquetFile(index_path).schema_arrow.names
        columns = [name for name in ("recording", "start_ms", "end_ms", "label") if name in names]
        if "label" not in columns:
            return None
        table = pq.read_table(index_path, columns=columns)
    except (pa.ArrowException, OSError):
        return None
    digest = hashlib.sha256()
    for name in columns:
        values = table.column(name).to_pandas()
        if name == "recording":
            digest.update("\0".join(values.astype(str)).encode())
        else:
            digest.update(np.ascontiguousarray(values.to_numpy(np.float64)).tobytes())
    labels = table.column("label").to_numpy()
    return {"windows": len(labels), "positives": int((labels == 1).sum()), "sha256": digest.hexdigest()}
